//! One target's native stacks, sample after sample: its modules kept in step with its mappings,
//! each thread's registers and stack bytes unwound, the frames named, and the result merged with
//! the Python frames the read pipeline found (`python::StackReader`), which carry the entry bits
//! the merge needs (`RawFrame::is_entry`, `c_stack_anchor`). What captures registers and stack
//! bytes is the caller's business: ptrace for a live process, NT_PRSTATUS for a core.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::arch::Arch;
use super::merge::{classify, merge_stacks, MergedRef, NativeMergeFrame, NativeRole, PythonFrameEntry};
use super::modules::{Mapping, ModuleChanges, ModuleId, ModuleMap};
use super::symbols::{SymbolInfo, Symbolizer};
use super::unwind::{NativeStack, StackCopy, UnwindStop, Unwinder};
use super::ModuleProvider;
use crate::maps::MapEntry;
use crate::python::frames::RawFrame;

/// Why a merged stack is not whole. The frames that could be placed are kept; the Python frames
/// that could not are put outermost, past an `Incomplete` marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Incomplete {
    /// No registers or stack bytes for the thread (it could not be stopped, or exited).
    NoStack,
    /// The stack is deeper than the bytes copied of it.
    StackCopyEnded,
    /// A return address in no module known (code mapped and unmapped meanwhile, JIT code, or a
    /// corrupted stack).
    UnknownCode,
    /// The unwind tables (or frame pointers) gave an impossible frame: a corrupted stack, or a
    /// module without unwind information that does not keep frame pointers.
    BadFrame,
    TooDeep,
    /// The native and the Python stacks disagree (more eval-loop frames than Python frames, or
    /// Python frames that no eval-loop frame runs).
    Merge,
}

impl Incomplete {
    /// Shown as the marker frame's file: short, stable, so that markers aggregate.
    pub fn reason(self) -> &'static str {
        match self {
            Incomplete::NoStack => "no registers",
            Incomplete::StackCopyEnded => "stack deeper than copied",
            Incomplete::UnknownCode => "return address outside every module",
            Incomplete::BadFrame => "could not unwind",
            Incomplete::TooDeep => "too deep",
            Incomplete::Merge => "Python and native stacks disagree",
        }
    }

    /// The marker frame's name.
    pub const MARKER: &'static str = "<native stack incomplete>";
}

/// One frame of a merged stack.
#[derive(Debug, Clone)]
pub enum MergedFrame {
    /// Index into the thread's Python frames.
    Python(usize),
    /// A native function; `inline` indexes `symbol.frames` (functions inlined into it come first).
    Native { symbol: Arc<SymbolInfo>, inline: usize },
    /// Past this point the native stack could not be followed: what lies outside are the Python
    /// frames it did not reach.
    Incomplete(Incomplete),
}

#[derive(Debug, Clone, Default)]
pub struct MergedStack {
    /// Innermost first.
    pub frames: Vec<MergedFrame>,
    pub incomplete: Option<Incomplete>,
}

/// How a native frame is shown: `c_inner (hotext.c:7)`, `dgemm_kernel (libopenblas.so)`,
/// `0x1a2b (hotext.so)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeFrameDisplay {
    pub name: String,
    /// The source file when DWARF says so (its full path), else the module's path or name.
    pub file: String,
    /// 0 when unknown.
    pub line: u32,
    /// The function has a name.
    pub resolved: bool,
}

impl NativeFrameDisplay {
    pub fn of(symbol: &SymbolInfo, inline: usize) -> NativeFrameDisplay {
        let module = symbol.module_name.clone().unwrap_or_else(|| "?".to_string());
        if symbol.signal_trampoline {
            return NativeFrameDisplay { name: "<signal handler called>".into(), file: module, line: 0, resolved: true };
        }
        let Some(frame) = symbol.frames.get(inline) else {
            return NativeFrameDisplay { name: unnamed(symbol), file: module, line: 0, resolved: false };
        };
        match (&frame.function, &frame.file, frame.line) {
            (Some(function), Some(file), Some(line)) if line > 0 => {
                NativeFrameDisplay { name: function.clone(), file: file.clone(), line, resolved: true }
            }
            (Some(function), _, _) => NativeFrameDisplay { name: function.clone(), file: module, line: 0, resolved: true },
            _ => NativeFrameDisplay { name: unnamed(symbol), file: module, line: 0, resolved: false },
        }
    }
}

fn unnamed(symbol: &SymbolInfo) -> String {
    format!("{:#x}", symbol.module_offset.unwrap_or(symbol.address))
}

/// The target's mappings as `Mapping`s (the inode tells a file replaced at the same path apart).
pub fn mappings_from_maps(maps: &[MapEntry]) -> Vec<Mapping> {
    maps.iter()
        .filter_map(|m| {
            let path = m.path.as_ref()?;
            Some(Mapping {
                start: m.start,
                end: m.end,
                file_offset: m.offset,
                executable: m.executable,
                path: path.clone(),
                identity: m.inode,
            })
        })
        .collect()
}

/// A thread whose registers or stack could not be had: its Python frames, marked.
pub fn without_native(python_frames: usize) -> MergedStack {
    let mut frames = vec![MergedFrame::Incomplete(Incomplete::NoStack)];
    frames.extend((0..python_frames).map(MergedFrame::Python));
    MergedStack { frames, incomplete: Some(Incomplete::NoStack) }
}

pub struct NativeReader<A: Arch> {
    pub modules: ModuleMap,
    unwinder: Unwinder<A>,
    symbolizer: Symbolizer,
    /// libpython and the executable: the interpreter, whose plumbing is hidden by default.
    interpreter_paths: Vec<String>,
    interpreter_modules: Vec<ModuleId>,
    /// `--native-all`: keep the interpreter's own frames (the eval loop outside the Python
    /// frames it runs, vectorcall, start-up).
    pub show_interpreter_frames: bool,
    /// Each symbol's role, by the symbolizer's `Arc` (one per address): classifying looks at
    /// names, too much to do for every frame of every sample. Entries hold their symbol.
    roles: FxHashMap<usize, (Arc<SymbolInfo>, NativeRole)>,
}

/// Past this many remembered roles, start again (as the symbolizer does with addresses).
const MAX_REMEMBERED_ROLES: usize = 1 << 16;

impl<A: Arch> NativeReader<A> {
    /// `interpreter_paths`: the files of the interpreter as the target names them.
    pub fn new(interpreter_paths: Vec<String>, show_interpreter_frames: bool) -> Self {
        NativeReader {
            modules: ModuleMap::default(),
            unwinder: Unwinder::default(),
            symbolizer: Symbolizer::default(),
            interpreter_paths,
            interpreter_modules: Vec::new(),
            show_interpreter_frames,
            roles: FxHashMap::default(),
        }
    }

    /// Brings modules, unwind tables and symbols in line with the target's mappings: a module
    /// mapped since (a `dlopen`) is known from now on, one unmapped is forgotten.
    pub fn sync(&mut self, mappings: &[Mapping]) -> ModuleChanges {
        let changes = self.modules.sync(mappings);
        self.unwinder.apply(&changes);
        self.symbolizer.apply(&changes);
        if !changes.is_empty() {
            self.roles.clear();
        }
        self.interpreter_modules =
            self.modules.modules().iter().filter(|m| self.interpreter_paths.contains(&m.path)).map(|m| m.id).collect();
        changes
    }

    pub fn unwind(&mut self, registers: &A::Registers, stack: &StackCopy<'_>, provider: &dyn ModuleProvider) -> NativeStack {
        self.unwinder.unwind(registers, stack, provider)
    }

    fn role_of(&self, symbol: &SymbolInfo) -> NativeRole {
        if symbol.signal_trampoline {
            return NativeRole::Shown;
        }
        let in_interpreter = symbol.module.is_some_and(|m| self.interpreter_modules.contains(&m));
        classify(symbol.physical_function(), in_interpreter, self.show_interpreter_frames)
    }

    /// Names the native frames and puts the Python frames in the place of the eval-loop frames
    /// that run them. `stack_end`: the end of the mapping holding the stack; an anchor (the
    /// address of a 3.12+ shim frame) that is not between the stack pointer and it is no local
    /// of this stack, and is ignored.
    pub fn merge(
        &mut self,
        native: &NativeStack,
        python: &[RawFrame],
        stack_end: u64,
        provider: &dyn ModuleProvider,
    ) -> MergedStack {
        let sp = native.frames.first().map_or(0, |f| f.sp);
        let entries: Vec<PythonFrameEntry> = python
            .iter()
            .map(|f| PythonFrameEntry {
                is_entry: f.is_entry,
                c_stack_anchor: f.c_stack_anchor.filter(|a| (sp..stack_end).contains(a)),
                fresh: f.fresh,
            })
            .collect();
        let symbols: Vec<Arc<SymbolInfo>> =
            native.frames.iter().map(|f| self.symbolizer.symbolize(&self.modules, provider, f)).collect();
        if self.roles.len() >= MAX_REMEMBERED_ROLES {
            self.roles.clear();
        }
        let roles: Vec<NativeMergeFrame> = symbols
            .iter()
            .zip(&native.frames)
            .map(|(s, f)| {
                let key = Arc::as_ptr(s) as usize;
                let role = match self.roles.get(&key) {
                    Some((_, role)) => *role,
                    None => {
                        let role = self.role_of(s);
                        self.roles.insert(key, (s.clone(), role));
                        role
                    }
                };
                let in_interpreter = s.module.is_some_and(|m| self.interpreter_modules.contains(&m));
                NativeMergeFrame { role, in_interpreter, sp: f.sp }
            })
            .collect();
        let complete = native.stop == UnwindStop::EndOfStack;
        let outcome = merge_stacks(&roles, &entries, complete, self.show_interpreter_frames);
        let incomplete = match &native.stop {
            UnwindStop::EndOfStack if outcome.is_exact() => None,
            UnwindStop::EndOfStack => Some(Incomplete::Merge),
            UnwindStop::StackCopyEnded { .. } => Some(Incomplete::StackCopyEnded),
            UnwindStop::OutsideModules { .. } => Some(Incomplete::UnknownCode),
            UnwindStop::BadFrame(_) => Some(Incomplete::BadFrame),
            UnwindStop::MaxDepth => Some(Incomplete::TooDeep),
        };
        // The Python frames no eval-loop frame claimed are at the end of `outcome.frames`; the
        // marker goes right inside them (or outermost when all were placed).
        let unclaimed_from = outcome.frames.len() - outcome.python_frames_unclaimed;
        let mut frames = Vec::with_capacity(outcome.frames.len() + 4);
        for (i, r) in outcome.frames.iter().enumerate() {
            if i == unclaimed_from {
                if let Some(reason) = incomplete {
                    frames.push(MergedFrame::Incomplete(reason));
                }
            }
            match *r {
                MergedRef::Python(p) => frames.push(MergedFrame::Python(p)),
                MergedRef::Native(n) => {
                    let symbol = &symbols[n];
                    frames.extend(
                        (0..symbol.frames.len().max(1)).map(|inline| MergedFrame::Native { symbol: symbol.clone(), inline }),
                    );
                }
            }
        }
        if unclaimed_from == outcome.frames.len() {
            if let Some(reason) = incomplete {
                frames.push(MergedFrame::Incomplete(reason));
            }
        }
        MergedStack { frames, incomplete }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::symbols::FrameSymbol;

    fn symbol(frames: Vec<FrameSymbol>) -> SymbolInfo {
        SymbolInfo {
            address: 0x7f00_0000_1234,
            module: None,
            module_name: Some("hotext.so".into()),
            module_offset: Some(0x1234),
            frames,
            signal_trampoline: false,
        }
    }

    #[test]
    fn native_frames_show_a_line_then_the_module_then_the_offset() {
        let full = FrameSymbol { function: Some("c_inner".into()), file: Some("/src/hotext.c".into()), line: Some(7) };
        let named = FrameSymbol { function: Some("c_inner".into()), file: None, line: None };
        let shown = |s: &SymbolInfo| {
            let d = NativeFrameDisplay::of(s, 0);
            (d.name, d.file, d.line, d.resolved)
        };
        assert_eq!(shown(&symbol(vec![full])), ("c_inner".into(), "/src/hotext.c".into(), 7, true));
        assert_eq!(shown(&symbol(vec![named])), ("c_inner".into(), "hotext.so".into(), 0, true));
        assert_eq!(shown(&symbol(vec![])), ("0x1234".into(), "hotext.so".into(), 0, false));
    }

    #[test]
    fn a_thread_without_registers_keeps_its_python_frames_outside_a_marker() {
        let merged = without_native(2);
        assert!(matches!(merged.frames[0], MergedFrame::Incomplete(Incomplete::NoStack)));
        assert!(matches!(merged.frames[2], MergedFrame::Python(1)));
    }
}

//! The read pipeline: threads → frames → code objects → lines (→ locals), over any `Memory`.
//! The one path from bytes to stacks: the sampler, `dump`, core files, the fuzz target and the
//! property tests all call `StackReader::read`, so what is tested is what ships.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::memory::Memory;
use crate::python::code::{CodeCache, CodeInfo};
use crate::python::frames::{self, RawFrame, WalkScratch};
use crate::python::locals::{self, LocalVariable};
use crate::python::locate::Python;
use crate::python::threads::{self, PyThread};
use crate::Result;

#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// Also read each frame's local variables (`dump --locals` only).
    pub locals: bool,
}

#[derive(Debug, Clone)]
pub struct StackFrame {
    pub code: Arc<CodeInfo>,
    /// The line being executed; 0 when unknown.
    pub line: u32,
    pub raw: RawFrame,
    /// With `ReadOptions::locals`: None when the code object's names could not be read.
    pub locals: Option<Vec<LocalVariable>>,
}

#[derive(Debug)]
pub struct ThreadStack {
    /// `native_thread_id` is as CPython stores it: the target's PID namespace's id.
    pub thread: PyThread,
    /// Innermost first. An error for this thread alone: the others may still have been read.
    pub frames: Result<Vec<StackFrame>>,
}

/// Reads stacks sample after sample, keeping what can be kept between them: decoded code objects,
/// lines, and buffers, so that a sample allocates little once the first few are done. One per
/// target: code objects are cached by the target's addresses.
#[derive(Default)]
pub struct StackReader {
    pub codes: CodeCache,
    raw: Vec<RawFrame>,
    scratch: WalkScratch,
    /// Code objects already checked in this read: a recursion, or a function on several threads'
    /// stacks, is checked once a read.
    checked: FxHashMap<u64, Arc<CodeInfo>>,
    /// (decoded code object, byte offset) -> line. Decoding a line table from its start for every
    /// frame of every sample was a third of the cost of a deep sample. Entries hold their code
    /// object so that its address is not reused by another while the entry lives.
    lines: FxHashMap<(usize, i64), (Arc<CodeInfo>, u32)>,
}

/// Past this many remembered lines, start again: a program that generates code endlessly must
/// not grow our memory without bound.
const MAX_REMEMBERED_LINES: usize = 1 << 16;

impl StackReader {
    /// Every thread of every interpreter with its frames. `tids` are the target's kernel thread ids
    /// as its own PID namespace numbers them, which maps pthread ids to them before 3.11. Fails
    /// as a whole only when the thread list itself cannot be read.
    pub fn read(&mut self, memory: &dyn Memory, python: &Python, tids: &[u32], options: ReadOptions) -> Result<Vec<ThreadStack>> {
        let threads = threads::read_threads(memory, &python.layout, python.runtime_addr, tids)?;
        self.checked.clear();
        Ok(threads
            .into_iter()
            .map(|thread| {
                let frames = self.read_frames(memory, python, thread.frame, options);
                ThreadStack { thread, frames }
            })
            .collect())
    }

    fn read_frames(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        innermost: u64,
        options: ReadOptions,
    ) -> Result<Vec<StackFrame>> {
        let layout = &python.layout;
        frames::walk(memory, layout, innermost, &mut self.raw, &mut self.scratch)?;
        let mut resolved: Vec<StackFrame> = Vec::with_capacity(self.raw.len());
        for raw in &self.raw {
            // A recursion runs the same code at the same instruction frame after frame: take the
            // outer frame's code and line without hashing either again.
            if let Some(previous) = resolved.last().filter(|p| p.raw.code_addr == raw.code_addr && !options.locals) {
                if raw.byte_offset(previous.code.instructions_addr) == previous.raw.byte_offset(previous.code.instructions_addr) {
                    let (code, line) = (previous.code.clone(), previous.line);
                    resolved.push(StackFrame { code, line, raw: *raw, locals: None });
                    continue;
                }
            }
            let code = match self.checked.get(&raw.code_addr) {
                Some(code) => code.clone(),
                None => {
                    let code = self.codes.get_by_addr(memory, layout, raw.code_addr)?;
                    self.checked.insert(raw.code_addr, code.clone());
                    code
                }
            };
            let offset = raw.byte_offset(code.instructions_addr);
            let key = (Arc::as_ptr(&code) as usize, offset);
            let line = match self.lines.get(&key) {
                Some(&(_, line)) => line,
                None => {
                    let line = code.line_for(layout.line_table, offset);
                    if self.lines.len() >= MAX_REMEMBERED_LINES {
                        self.lines.clear();
                    }
                    self.lines.insert(key, (code.clone(), line));
                    line
                }
            };
            let locals = if options.locals { locals::read_locals(memory, layout, &code, raw) } else { None };
            resolved.push(StackFrame { code, line, raw: *raw, locals });
        }
        Ok(resolved)
    }
}

//! The read pipeline: threads → frames → code objects → lines (→ locals), over any `Memory`.
//! The one path from bytes to stacks: the sampler, `dump`, core files, the fuzz target and the
//! property tests all call `StackReader::read`, so what is tested is what ships.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::memory::Memory;
use crate::python::code::{CodeCache, CodeInfo};
use crate::python::frames::{self, RawFrame, WalkScratch};
use crate::python::gc;
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
    /// The cyclic GC is running on this thread: it holds the GIL of an interpreter whose
    /// collector is collecting (the `<GC>` pseudo-frame goes on top of `frames`).
    pub gc_collecting: bool,
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
    /// Each thread's frames as its last read resolved them, by thread state (`LastRead`).
    last: FxHashMap<u64, LastRead>,
    /// Reads (`stacks_of` calls) so far: ages the entries of `last`.
    reads: u64,
}

/// A thread's frames as its last read resolved them, outermost first. Between two samples most
/// of a stack stays as it was: a frame found again at the same depth from the outermost, under
/// the same outer frames, at the same address, running the same code object at the same
/// instruction, is on the same line, and is resolved without the two lookups by code object and
/// by line (a tenth of a 200-deep sample's cost).
#[derive(Default)]
struct LastRead {
    frames: Vec<Resolved>,
    /// The `reads` count when this thread was last read.
    read_at: u64,
}

struct Resolved {
    frame_addr: u64,
    code_addr: u64,
    position: u64,
    code: Arc<CodeInfo>,
    line: u32,
}

/// A thread not read for this many reads is forgotten: it ended, or idles out of sight. Its
/// entry holds code objects alive, so this also bounds what ended threads keep.
const LAST_READ_KEPT_FOR: u64 = 1024;

/// Past this many remembered lines, start again: a program that generates code endlessly must
/// not grow our memory without bound.
/// Each entry holds its code object alive, so this is also a bound on the code objects kept.
const MAX_REMEMBERED_LINES: usize = 1 << 14;

impl StackReader {
    /// Every thread of every interpreter with its frames. `tids` are the target's kernel thread ids
    /// as its own PID namespace numbers them, which maps pthread ids to them before 3.11. Fails
    /// as a whole only when the thread list itself cannot be read.
    pub fn read(&mut self, memory: &dyn Memory, python: &Python, tids: &[u32], options: ReadOptions) -> Result<Vec<ThreadStack>> {
        self.read_filtered(memory, python, tids, options, &|_| true)
    }

    /// `read`, of the threads `keep` says yes to: the others are listed (walking the thread
    /// states is how their ids are known) but their frames are not walked, and they are not in
    /// the result. What `--thread-name`, `--tid` and leaving idle threads out go through.
    pub fn read_filtered(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        tids: &[u32],
        options: ReadOptions,
        keep: &dyn Fn(&PyThread) -> bool,
    ) -> Result<Vec<ThreadStack>> {
        let threads = threads::read_threads(memory, &python.layout, python.runtime_addr, python.tstate_current_addr, tids)?;
        Ok(self.stacks_of(memory, python, threads.into_iter().filter(|thread| keep(thread)), options))
    }

    /// `read_filtered` of the threads `known` (from an earlier read), each read again from its own
    /// thread state, without walking the others' at all: a sample of a few threads of many costs
    /// what the few cost. A thread whose state is no longer its own (it ended) is left out, and
    /// the `bool` says so: list the threads again.
    pub fn read_known(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        tids: &[u32],
        options: ReadOptions,
        known: &[PyThread],
        keep: &dyn Fn(&PyThread) -> bool,
    ) -> Result<(Vec<ThreadStack>, bool)> {
        let threads =
            threads::read_known_threads(memory, &python.layout, python.runtime_addr, python.tstate_current_addr, known, tids)?;
        let stale = threads.iter().any(Option::is_none);
        let kept = threads.into_iter().flatten().filter(|thread| keep(thread));
        Ok((self.stacks_of(memory, python, kept, options), stale))
    }

    /// The frames of each thread, and whether the collector runs on it.
    pub fn stacks_of(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        threads: impl Iterator<Item = PyThread>,
        options: ReadOptions,
    ) -> Vec<ThreadStack> {
        self.checked.clear();
        self.reads += 1;
        if self.reads.is_multiple_of(LAST_READ_KEPT_FOR) {
            let reads = self.reads;
            self.last.retain(|_, last| reads - last.read_at < LAST_READ_KEPT_FOR);
        }
        threads
            .map(|thread| {
                let frames = self.read_frames(memory, python, thread.tstate, thread.frame, options);
                let gc_collecting = thread.owns_gil && gc::collecting(memory, &python.layout, python.runtime_addr, thread.interp);
                ThreadStack { thread, frames, gc_collecting }
            })
            .collect()
    }

    /// The frame at `frame_addr` alone, read as `read` reads a thread's: a suspended coroutine's
    /// frame, which links to no caller (`--async`). Call it after a `read` of the same moment,
    /// whose checked code objects it shares. None when the address holds no Python frame.
    pub fn read_frame_at(&mut self, memory: &dyn Memory, python: &Python, frame_addr: u64) -> Result<Option<StackFrame>> {
        frames::walk(memory, &python.layout, frame_addr, &mut self.raw, &mut self.scratch)?;
        match self.raw.first().copied() {
            Some(raw) => {
                let (code, line) = self.code_and_line(memory, python, raw)?;
                Ok(Some(Self::frame(memory, python, code, line, raw, ReadOptions::default())))
            }
            None => Ok(None),
        }
    }

    fn read_frames(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        tstate: u64,
        innermost: u64,
        options: ReadOptions,
    ) -> Result<Vec<StackFrame>> {
        frames::walk(memory, &python.layout, innermost, &mut self.raw, &mut self.scratch)?;
        // Taken out while this read runs: a read that fails leaves the thread with none.
        let mut last = self.last.remove(&tstate).unwrap_or_default();
        let same = self.unchanged_outer(memory, python, &last.frames)?;
        let n = self.raw.len();
        let mut resolved = Vec::with_capacity(n);
        for i in 0..n {
            let raw = self.raw[i];
            let (code, line) = if i >= n - same {
                let known = &last.frames[n - 1 - i];
                (known.code.clone(), known.line)
            } else {
                self.code_and_line(memory, python, raw)?
            };
            resolved.push(Self::frame(memory, python, code, line, raw, options));
        }
        last.frames.truncate(same);
        last.frames.extend(resolved[..n - same].iter().rev().map(|f| Resolved {
            frame_addr: f.raw.frame_addr,
            code_addr: f.raw.code_addr,
            position: f.raw.position.key(),
            code: f.code.clone(),
            line: f.line,
        }));
        last.read_at = self.reads;
        self.last.insert(tstate, last);
        Ok(resolved)
    }

    /// How many of the walked frames, from the outermost, are as `last` resolved them. Their code
    /// objects are checked all the same, once a read like any other (a code object freed and
    /// another made at its address would otherwise go on under the old one's name); a run of
    /// frames of one code object, a recursion, is checked once.
    fn unchanged_outer(&mut self, memory: &dyn Memory, python: &Python, last: &[Resolved]) -> Result<usize> {
        let n = self.raw.len();
        let mut checked_addr = None;
        for (depth, known) in last.iter().enumerate().take(n) {
            let raw = &self.raw[n - 1 - depth];
            if raw.frame_addr != known.frame_addr || raw.code_addr != known.code_addr || raw.position.key() != known.position {
                return Ok(depth);
            }
            if checked_addr != Some(known.code_addr) {
                let same_code = match self.checked.get(&known.code_addr) {
                    Some(code) => Arc::ptr_eq(code, &known.code),
                    None => Arc::ptr_eq(&self.check_code(memory, python, known.code_addr)?, &known.code),
                };
                if !same_code {
                    return Ok(depth);
                }
                checked_addr = Some(known.code_addr);
            }
        }
        Ok(last.len().min(n))
    }

    /// A walked frame with its code object, line and (when asked) locals. Inlined into the
    /// loops above: returned from a call, each frame's 100-byte result made a round trip
    /// through memory.
    #[inline(always)]
    fn frame(
        memory: &dyn Memory,
        python: &Python,
        code: Arc<CodeInfo>,
        line: u32,
        raw: RawFrame,
        options: ReadOptions,
    ) -> StackFrame {
        let locals = if options.locals { locals::read_locals(memory, &python.layout, &code, &raw) } else { None };
        StackFrame { code, line, raw, locals }
    }

    /// The frame's code object and line: two lookups once the code object was checked in this
    /// read and the line met before. This runs for every frame of every sample; the rest is kept
    /// out of line, so that this stays small enough to inline.
    #[inline]
    fn code_and_line(&mut self, memory: &dyn Memory, python: &Python, raw: RawFrame) -> Result<(Arc<CodeInfo>, u32)> {
        let code = match self.checked.get(&raw.code_addr) {
            Some(code) => code.clone(),
            None => self.check_code(memory, python, raw.code_addr)?,
        };
        let offset = raw.byte_offset(code.instructions_addr);
        let line = match self.lines.get(&(Arc::as_ptr(&code) as usize, offset)) {
            Some(&(_, line)) => line,
            None => self.decode_line(python, &code, offset),
        };
        Ok((code, line))
    }

    #[cold]
    #[inline(never)]
    fn check_code(&mut self, memory: &dyn Memory, python: &Python, code_addr: u64) -> Result<Arc<CodeInfo>> {
        let code = self.codes.get_by_addr(memory, &python.layout, code_addr)?;
        self.checked.insert(code_addr, code.clone());
        Ok(code)
    }

    #[cold]
    #[inline(never)]
    fn decode_line(&mut self, python: &Python, code: &Arc<CodeInfo>, offset: i64) -> u32 {
        let line = code.line_for(&python.layout, offset);
        if self.lines.len() >= MAX_REMEMBERED_LINES {
            self.lines.clear();
        }
        self.lines.insert((Arc::as_ptr(code) as usize, offset), (code.clone(), line));
        line
    }
}

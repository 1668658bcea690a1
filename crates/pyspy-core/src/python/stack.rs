//! One consistent read of every thread's Python stack, resolved to code objects and lines.
//! Shared by `dump` and the sampler.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::process::{BlockCache, Memory};
use crate::python::code::{CodeCache, CodeInfo};
use crate::python::frames::{self, RawFrame, WalkScratch};
use crate::python::threads::{self, PyThread};
use crate::python::PythonProcess;
use crate::Result;

pub struct ResolvedFrame {
    pub code: Arc<CodeInfo>,
    pub line: u32,
    pub raw: RawFrame,
}

pub struct ThreadStack {
    pub thread: PyThread,
    /// Innermost first.
    pub frames: Vec<ResolvedFrame>,
}

/// Reads stacks sample after sample, keeping what can be kept between them: decoded code objects,
/// and buffers, so that a sample allocates little once the first few are done.
#[derive(Default)]
pub struct StackReader {
    pub codes: CodeCache,
    pub blocks: BlockCache,
    raw: Vec<RawFrame>,
    scratch: WalkScratch,
    namespace: NamespaceTids,
    /// Code objects already checked in this sample: a recursion, or a function on several
    /// threads' stacks, is checked once a sample.
    checked: FxHashMap<u64, Arc<CodeInfo>>,
    /// (decoded code object, byte offset) -> line. Decoding a line table from its start for every
    /// frame of every sample was a third of the cost of a deep sample. Entries hold their code
    /// object so that its address is not reused by another while the entry lives.
    lines: FxHashMap<(usize, i64), (Arc<CodeInfo>, u32)>,
}

/// Past this many remembered lines, start again: a program that generates code endlessly must
/// not grow our memory without bound.
const MAX_REMEMBERED_LINES: usize = 1 << 16;

/// Thread ids as the target's PID namespace sees them, for a target in a container: CPython
/// stores those, /proc shows ours. Rebuilt only when the set of threads changes.
#[derive(Default)]
struct NamespaceTids {
    /// The outer tids this was built for.
    outer: Vec<u32>,
    /// Inner tid of each outer one, same order.
    inner: Vec<u32>,
}

impl NamespaceTids {
    fn update(&mut self, python: &PythonProcess, tids: &[u32]) {
        if self.outer != tids {
            self.outer = tids.to_vec();
            self.inner = tids.iter().map(|&t| python.process.namespace_tid(t).unwrap_or(0)).collect();
        }
    }

    fn to_outer(&self, inner: u32) -> u32 {
        self.inner.iter().position(|&t| t == inner).map_or(0, |i| self.outer[i])
    }
}

impl StackReader {
    /// `tids` are the target's kernel threads, used to map pthread ids to TIDs before 3.11.
    pub fn read(&mut self, python: &PythonProcess, tids: &[u32]) -> Result<Vec<ThreadStack>> {
        let memory = self.blocks.over(&python.process);
        let memory: &dyn Memory = &memory;
        let layout = &python.layout;
        let threads = if python.other_pid_namespace {
            self.namespace.update(python, tids);
            let mut threads = threads::read_threads(memory, layout, python.runtime_addr, &self.namespace.inner)?;
            for thread in &mut threads {
                thread.native_thread_id = self.namespace.to_outer(thread.native_thread_id);
            }
            threads
        } else {
            threads::read_threads(memory, layout, python.runtime_addr, tids)?
        };
        let mut stacks = Vec::with_capacity(threads.len());
        self.checked.clear();
        for thread in threads {
            frames::walk(memory, layout, thread.frame, &mut self.raw, &mut self.scratch)?;
            let mut resolved = Vec::with_capacity(self.raw.len());
            for raw in &self.raw {
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
                resolved.push(ResolvedFrame { code, line, raw: *raw });
            }
            stacks.push(ThreadStack { thread, frames: resolved });
        }
        Ok(stacks)
    }
}

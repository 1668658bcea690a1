//! One consistent read of every thread's Python stack, resolved to code objects and lines.
//! Shared by `dump` and the sampler.

use std::sync::Arc;

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
}

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
        for thread in threads {
            frames::walk(memory, layout, thread.frame, &mut self.raw, &mut self.scratch)?;
            let mut resolved = Vec::with_capacity(self.raw.len());
            for raw in &self.raw {
                let code = self.codes.get_by_addr(memory, layout, raw.code_addr)?;
                let line = code.line_for(layout.line_table, raw.byte_offset(code.instructions_addr));
                resolved.push(ResolvedFrame { code, line, raw: *raw });
            }
            stacks.push(ThreadStack { thread, frames: resolved });
        }
        Ok(stacks)
    }
}

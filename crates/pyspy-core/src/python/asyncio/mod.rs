//! `--async`: asyncio tasks read from memory, on every minor from 3.8. Which loop each thread
//! runs and which task runs in it, every task of every loop (its name, state, coroutine stack,
//! and the tasks awaiting it), and for a sample, the chain of tasks above the running coroutine.
//!
//! Offsets come from `AsyncioLayout` (generated per minor; on 3.14+ replaced by what the target
//! publishes in its AsyncioDebug section); the frames of coroutines go through the read
//! pipeline's own frame walker (`StackReader::read_frame_at`). Every list walk is bounded and
//! every pointer may be garbage: a walk that fails is an error for the caller to count, and the
//! sample falls back to the plain thread stack.

mod awaiters;
mod coroutines;
mod kinds;
mod published;
mod registry;
mod running;
mod snapshot;
mod tasks;

use rustc_hash::FxHashMap;

pub use published::published_offsets;
pub use snapshot::{LoopSnapshot, Snapshot, TaskSnapshot};
pub use tasks::TaskState;

use crate::memory::Memory;
use crate::python::asyncio_layout::AsyncioLayout;
use crate::python::asyncio_layouts::asyncio_layout;
use crate::python::dicts::DictReader;
use crate::python::locate::Python;
use crate::python::stacks::{StackFrame, StackReader};
use crate::python::threads::PyThread;
use crate::{Error, ErrorKind, Result};
use kinds::TypeKinds;
use registry::Facts;
use tasks::FutureRead;

/// A task as a profile shows it: its name, and whether asyncio made that name up (`Task-N`),
/// which profiles fold to `Task` so that tasks doing the same thing aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskLabel {
    pub name: String,
    pub default_name: bool,
}

/// One step of a path above a sample's frames: a coroutine frame of an awaiting task, or a task.
#[derive(Debug, Clone)]
pub enum PathEntry {
    Frame(StackFrame),
    Task(TaskLabel),
}

/// How a sample of a thread that runs a task is re-rooted: its frames from the innermost to the
/// running task's coroutine frame (`keep` of them), then `above`, innermost first: `Task T`,
/// the frames of the task awaiting T down to where it awaits, `Task P`, and so on. Frames below
/// the task's coroutine (the event loop running it) are dropped, as `asyncio pstree` drops them.
#[derive(Debug, Clone)]
pub struct TaskPath {
    pub keep: usize,
    pub above: Vec<PathEntry>,
}

/// A pending task that is not running, where it waits (`--async --idle`): its coroutine frames,
/// innermost first, then the path above it, as in `TaskPath::above`.
#[derive(Debug, Clone)]
pub struct WaitingTask {
    /// The thread state of the thread running the task's loop.
    pub tstate: u64,
    pub path: Vec<PathEntry>,
}

/// Reads the tasks of one process, keeping what does not change between reads: where the asyncio
/// modules keep their registries, and the kind of each type met.
pub struct TaskReader {
    layout: AsyncioLayout,
    facts: Option<Facts>,
    kinds: TypeKinds,
}

/// What one read borrows: the process, the tables, and a dict reader for its duration.
pub(crate) struct Pass<'a> {
    pub memory: &'a dyn Memory,
    pub python: &'a Python,
    pub layout: &'a AsyncioLayout,
    pub facts: &'a Facts,
    pub dicts: DictReader<'a>,
    pub kinds: &'a mut TypeKinds,
}

impl TaskReader {
    /// A reader for `python`'s minor; an error for the builds `--async` cannot read.
    pub fn new(python: &Python) -> Result<TaskReader> {
        let unsupported = |why: &str| {
            Error::new(ErrorKind::UnsupportedVersion, format!("--async cannot read Python {}: {why}", python.version))
        };
        let layout = asyncio_layout(python.layout.minor).ok_or_else(|| unsupported("it reads CPython 3.8 to 3.15"))?;
        if python.layout.gil_enabled.is_some() {
            return Err(unsupported("free-threaded builds lay out their tasks differently, and are not read yet"));
        }
        Ok(TaskReader { layout: *layout, facts: None, kinds: TypeKinds::default() })
    }

    /// 3.14+: takes the offsets the target publishes (see `published_offsets`) over the table's.
    /// A build whose Task differs from the table's in what the table alone knows (its size, its
    /// coroutine) is refused: the other fields of its Task could not be trusted.
    pub fn use_published_offsets(&mut self, words: &[u64]) -> Result<()> {
        published::apply(&mut self.layout, words)
    }

    /// Finds the asyncio modules; false while `_asyncio` is not imported (nothing to read yet).
    /// Found once: module attributes do not move.
    pub fn find_modules(&mut self, memory: &dyn Memory, python: &Python) -> Result<bool> {
        if self.facts.is_none() {
            let state = self
                .layout
                .module_state
                .map(|s| (s, [self.layout.module_state_non_asyncio_tasks, self.layout.module_state_non_asyncio_eager_tasks]));
            self.facts = registry::find_facts(memory, python, state)?;
            if let Some(facts) = &self.facts {
                self.kinds.set_known(facts.known);
            }
        }
        Ok(self.facts.is_some())
    }

    fn pass<'a>(&'a mut self, memory: &'a dyn Memory, python: &'a Python) -> Result<Pass<'a>> {
        let facts = self.facts.as_ref().ok_or_else(|| Error::read_failed("the asyncio modules were not found"))?;
        Ok(Pass {
            memory,
            python,
            layout: &self.layout,
            facts,
            dicts: DictReader::new(memory, &python.layout),
            kinds: &mut self.kinds,
        })
    }

    /// The path above the frames of `thread` (read now, innermost first) when it runs a task;
    /// None when it runs none, or is between two steps of one.
    pub fn running_path(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        thread: &PyThread,
        frames: &[StackFrame],
        reader: &mut StackReader,
    ) -> Result<Option<TaskPath>> {
        if !self.find_modules(memory, python)? {
            return Ok(None);
        }
        let mut pass = self.pass(memory, python)?;
        let Some(loop_addr) = pass.running_loop(thread.tstate)? else { return Ok(None) };
        let Some(task_addr) = pass.running_task(thread.tstate, loop_addr)? else { return Ok(None) };
        let task = pass.future(task_addr)?;
        let frame = pass.coroutine_frame(task.coro)?;
        let Some(keep) = frames.iter().position(|f| f.raw.frame_addr == frame) else { return Ok(None) };
        let mut above = vec![PathEntry::Task(pass.label(&task)?)];
        let mut memo = FxHashMap::default();
        if let Some(&awaiter) = pass.awaiters(&task)?.first() {
            above.extend(pass.path_from(awaiter, reader, &mut memo, &mut vec![task_addr])?);
        }
        Ok(Some(TaskPath { keep: keep + 1, above }))
    }

    /// Every pending task that is not running, in a loop that a thread runs, with where it waits.
    pub fn waiting(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        threads: &[PyThread],
        reader: &mut StackReader,
    ) -> Result<Vec<WaitingTask>> {
        if !self.find_modules(memory, python)? {
            return Ok(Vec::new());
        }
        let mut pass = self.pass(memory, python)?;
        let mut loops = FxHashMap::default();
        let mut running = Vec::new();
        for thread in threads {
            if let Some(loop_addr) = pass.running_loop(thread.tstate)? {
                loops.insert(loop_addr, thread.tstate);
                running.extend(pass.running_task(thread.tstate, loop_addr)?);
            }
        }
        let (tstates, interps) = thread_states(threads);
        let mut memo = FxHashMap::default();
        let mut out = Vec::new();
        for task_addr in pass.registered_tasks(&tstates, &interps)? {
            if running.contains(&task_addr) {
                continue;
            }
            let task = pass.future(task_addr)?;
            let Some(&tstate) = loops.get(&task.loop_addr) else { continue };
            if task.state != TaskState::Pending {
                continue;
            }
            let path = pass.path_from(task_addr, reader, &mut memo, &mut Vec::new())?;
            out.push(WaitingTask { tstate, path });
        }
        Ok(out)
    }
}

/// Distinct thread states and interpreters of a read, for the 3.14+ task lists.
fn thread_states(threads: &[PyThread]) -> (Vec<u64>, Vec<u64>) {
    let tstates = threads.iter().map(|t| t.tstate).collect();
    let mut interps: Vec<u64> = threads.iter().map(|t| t.interp).collect();
    interps.sort_unstable();
    interps.dedup();
    (tstates, interps)
}

impl Pass<'_> {
    pub(crate) fn label(&mut self, task: &FutureRead) -> Result<TaskLabel> {
        let (name, default_name) = self.task_name(task)?;
        Ok(TaskLabel { name, default_name })
    }

    /// A suspended task's coroutine frames, innermost first.
    pub(crate) fn stack(&mut self, task: &FutureRead, reader: &mut StackReader) -> Result<Vec<StackFrame>> {
        let mut frames = Vec::new();
        for frame in self.coroutine_frames(task.coro)? {
            frames.extend(reader.read_frame_at(self.memory, self.python, frame)?);
        }
        frames.reverse();
        Ok(frames)
    }

    /// Where `task_addr` waits and what is above it: its frames innermost first, `Task` itself,
    /// then the same for the task awaiting it (the first one, when several do), up to a root.
    /// `memo` keeps each task's path for the others under it; `below` the tasks under this one
    /// (an await graph that loops is cut where it comes back).
    fn path_from(
        &mut self,
        task_addr: u64,
        reader: &mut StackReader,
        memo: &mut FxHashMap<u64, Vec<PathEntry>>,
        below: &mut Vec<u64>,
    ) -> Result<Vec<PathEntry>> {
        if let Some(path) = memo.get(&task_addr) {
            return Ok(path.clone());
        }
        let task = self.future(task_addr)?;
        if !task.kind.is_task() {
            return Err(Error::read_failed(format!("{task_addr:#x} is awaited like a task but is not one")));
        }
        let mut path: Vec<PathEntry> = self.stack(&task, reader)?.into_iter().map(PathEntry::Frame).collect();
        path.push(PathEntry::Task(self.label(&task)?));
        below.push(task_addr);
        let awaiter = self.awaiters(&task)?.into_iter().find(|a| !below.contains(a));
        if let Some(awaiter) = awaiter.filter(|_| below.len() < coroutines::MAX_CHAIN) {
            path.extend(self.path_from(awaiter, reader, memo, below)?);
        }
        below.pop();
        memo.insert(task_addr, path.clone());
        Ok(path)
    }
}

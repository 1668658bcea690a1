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

/// The task a thread runs, found in one of its samples: its address, and how many of the sample's
/// frames (innermost first) are that task's, down to its coroutine's frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunningTask {
    pub task: u64,
    pub keep: usize,
}

/// The pending tasks that are not running, where each waits (`--async --idle`), as a forest: a
/// node per task met (the waiting ones and those awaiting them), so that a thousand tasks under one
/// parent share its path instead of each holding a copy.
#[derive(Debug, Clone, Default)]
pub struct Waiting {
    pub nodes: Vec<TaskNode>,
    /// Each waiting task: the thread state of the thread running its loop, and its node.
    pub tasks: Vec<(u64, usize)>,
}

/// A task's own part of a path: its coroutine frames innermost first, then its `Task` entry.
#[derive(Debug, Clone)]
pub struct TaskNode {
    pub entries: Vec<PathEntry>,
    /// The node of the task awaiting this one (the first, when several do).
    pub awaited_by: Option<usize>,
}

impl Waiting {
    /// The whole path of `node`, innermost first: its entries, then its awaiter's, up to a root.
    pub fn path(&self, node: usize) -> impl Iterator<Item = &PathEntry> {
        let mut next = Some(node);
        let mut hops = 0;
        std::iter::from_fn(move || {
            let current = next?;
            hops += 1;
            next = self.nodes[current].awaited_by.filter(|_| hops < coroutines::MAX_CHAIN);
            Some(self.nodes[current].entries.iter())
        })
        .flatten()
    }
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
        // The target is a Python we read, only not with --async: the option is what is refused,
        // as --native on 2.7 and --gil on a free-threaded build are.
        let refused = |why: &str| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("--async cannot be used with Python {} ({}): {why}", python.version, python.build()),
            )
        };
        let build = python.build();
        let layout = asyncio_layout(build.minor)
            .filter(|_| build.major == 3)
            .ok_or_else(|| refused("it reads the asyncio tasks of CPython 3.8 to 3.15"))?;
        if build.free_threaded {
            return Err(refused("a free-threaded build lays out its tasks differently, which is not read yet"));
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
        let Some(running) = self.running_task(memory, python, thread, frames)? else { return Ok(None) };
        let above = self.path_above(memory, python, running.task, reader)?;
        Ok(Some(TaskPath { keep: running.keep, above }))
    }

    /// The task `thread` runs, found in its frames (read at the same moment); None when it runs
    /// none, or is between two steps of one. What must be read while the thread stands still.
    pub fn running_task(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        thread: &PyThread,
        frames: &[StackFrame],
    ) -> Result<Option<RunningTask>> {
        if !self.find_modules(memory, python)? {
            return Ok(None);
        }
        let mut pass = self.pass(memory, python)?;
        let Some(loop_addr) = pass.running_loop(thread.tstate)? else { return Ok(None) };
        let Some(task_addr) = pass.running_task(thread.tstate, loop_addr)? else { return Ok(None) };
        let task = pass.future(task_addr)?;
        let frame = pass.coroutine_frame(task.coro)?;
        Ok(frames.iter().position(|f| f.raw.frame_addr == frame).map(|keep| RunningTask { task: task_addr, keep: keep + 1 }))
    }

    /// What goes above a running task's frames: `Task T`, then the coroutine frames of the task
    /// awaiting it, down to where it awaits, `Task P`, and so on. Those tasks are suspended while
    /// T runs, so this may be read once the thread runs on.
    pub fn path_above(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        task_addr: u64,
        reader: &mut StackReader,
    ) -> Result<Vec<PathEntry>> {
        let mut pass = self.pass(memory, python)?;
        let task = pass.future(task_addr)?;
        let mut above = vec![PathEntry::Task(pass.label(&task)?)];
        if let Some(&awaiter) = pass.awaiters(&task)?.first() {
            let mut forest = Forest::default();
            let node = pass.node(awaiter, None, reader, &mut forest, &mut vec![task_addr])?;
            above.extend(forest.waiting.path(node).cloned());
        }
        Ok(above)
    }

    /// Every pending task that is not running, in a loop that a thread runs, with where it waits.
    pub fn waiting(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        threads: &[PyThread],
        reader: &mut StackReader,
    ) -> Result<Waiting> {
        if !self.find_modules(memory, python)? {
            return Ok(Waiting::default());
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
        let mut forest = Forest::default();
        for task_addr in pass.registered_tasks(&tstates, &interps)? {
            if running.contains(&task_addr) {
                continue;
            }
            let task = pass.future(task_addr)?;
            let Some(&tstate) = loops.get(&task.loop_addr) else { continue };
            if task.state != TaskState::Pending {
                continue;
            }
            let node = pass.node(task_addr, Some(task), reader, &mut forest, &mut Vec::new())?;
            forest.waiting.tasks.push((tstate, node));
        }
        Ok(forest.waiting)
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

    /// The node of `task_addr` (read already, or not) and of the tasks above it: its frames
    /// innermost first and `Task` itself, linked to the node of the task awaiting it (the first,
    /// when several do), up to a root. `below`: the tasks under this one (an await graph that
    /// loops is cut where it comes back).
    fn node(
        &mut self,
        task_addr: u64,
        read: Option<FutureRead>,
        reader: &mut StackReader,
        forest: &mut Forest,
        below: &mut Vec<u64>,
    ) -> Result<usize> {
        if let Some(&node) = forest.index.get(&task_addr) {
            return Ok(node);
        }
        let task = match read {
            Some(task) => task,
            None => self.future(task_addr)?,
        };
        if !task.kind.is_task() {
            return Err(Error::read_failed(format!("{task_addr:#x} is awaited like a task but is not one")));
        }
        let mut entries: Vec<PathEntry> = self.stack(&task, reader)?.into_iter().map(PathEntry::Frame).collect();
        entries.push(PathEntry::Task(self.label(&task)?));
        let node = forest.waiting.nodes.len();
        forest.waiting.nodes.push(TaskNode { entries, awaited_by: None });
        forest.index.insert(task_addr, node);
        below.push(task_addr);
        let awaiter = self.awaiters(&task)?.into_iter().find(|a| !below.contains(a));
        if let Some(awaiter) = awaiter.filter(|_| below.len() < coroutines::MAX_CHAIN) {
            forest.waiting.nodes[node].awaited_by = Some(self.node(awaiter, None, reader, forest, below)?);
        }
        below.pop();
        Ok(node)
    }
}

/// The nodes of one read, and which task each is.
#[derive(Default)]
struct Forest {
    waiting: Waiting,
    index: FxHashMap<u64, usize>,
}

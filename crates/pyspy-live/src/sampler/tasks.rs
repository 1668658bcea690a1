//! `--async` in a record: after the read pipeline has read a sample's threads, and before the
//! target is resumed, the task running on each sampled thread (and with `--idle`, every waiting
//! task) is read, so that the sample is re-rooted under its chain of tasks. Without `--async`
//! none of this runs: a record reads nothing more than before.

use std::time::{Duration, Instant};

use pyspy_core::memory::Memory;
use pyspy_core::profile::{Aggregator, Frame, FrameKind};
use pyspy_core::python::asyncio::{self, PathEntry, RunningTask, TaskLabel, TaskPath, TaskReader, Waiting};
use pyspy_core::python::{Python, StackReader, ThreadStack};
use pyspy_core::Result;
use rustc_hash::FxHashMap;

use crate::process::LinuxProcess;

/// While the target has not imported asyncio, look for it this often.
const FIND_AGAIN: Duration = Duration::from_millis(100);

pub(crate) struct TaskSampling {
    reader: TaskReader,
    /// `--idle`: every waiting task is a sample too.
    idle: bool,
    found: bool,
    next_attempt: Instant,
}

/// What `--async` adds to one read of a target.
#[derive(Default)]
pub(crate) struct TaskRead {
    /// Per stack read (same order): the task its thread runs, found while it stood still.
    running: Vec<Option<RunningTask>>,
    /// Per stack read (same order), once `finish`ed: how to re-root it.
    pub paths: Vec<Option<TaskPath>>,
    /// With `--idle`: every waiting task, with the thread state of the thread running its loop.
    pub waiting: Waiting,
    /// A task walk failed: its sample falls back to the plain thread stack.
    pub errors: bool,
}

impl TaskSampling {
    /// An error for the builds `--async` cannot read, so that a record fails at its start.
    pub fn new(python: &Python, idle: bool) -> Result<TaskSampling> {
        Ok(TaskSampling { reader: TaskReader::new(python)?, idle, found: false, next_attempt: Instant::now() })
    }

    /// `wanted[i]`: whether stack `i` will be sampled (only those are walked).
    pub fn read(
        &mut self,
        memory: &dyn Memory,
        process: &LinuxProcess,
        python: &Python,
        stacks: &[ThreadStack],
        wanted: &[bool],
        reader: &mut StackReader,
    ) -> TaskRead {
        let mut read = TaskRead { running: vec![None; stacks.len()], ..TaskRead::default() };
        if !self.find(memory, process, python, &mut read) {
            return read;
        }
        for (i, stack) in stacks.iter().enumerate() {
            let Ok(frames) = &stack.frames else { continue };
            if !wanted[i] || frames.is_empty() {
                continue;
            }
            match self.reader.running_task(memory, python, &stack.thread, frames) {
                Ok(running) => read.running[i] = running,
                Err(_) => read.errors = true,
            }
        }
        if self.idle {
            let threads: Vec<_> = stacks.iter().map(|s| s.thread.clone()).collect();
            match self.reader.waiting(memory, python, &threads, reader) {
                Ok(waiting) => read.waiting = waiting,
                Err(_) => read.errors = true,
            }
        }
        read
    }

    /// The paths above the running tasks `read` found. The tasks awaiting a running one are
    /// suspended while it runs: this is read after the target was let go, which keeps its pauses
    /// as short as without --async but for the running task's own look-up.
    pub fn finish(&mut self, memory: &dyn Memory, python: &Python, reader: &mut StackReader, read: &mut TaskRead) {
        read.paths = vec![None; read.running.len()];
        for (i, running) in read.running.iter().enumerate() {
            let Some(running) = running else { continue };
            match self.reader.path_above(memory, python, running.task, reader) {
                Ok(above) => read.paths[i] = Some(TaskPath { keep: running.keep, above }),
                Err(_) => read.errors = true,
            }
        }
    }

    /// Whether the asyncio modules are known; looked for again at most once a `FIND_AGAIN`.
    fn find(&mut self, memory: &dyn Memory, process: &LinuxProcess, python: &Python, read: &mut TaskRead) -> bool {
        if self.found {
            return true;
        }
        let now = Instant::now();
        if now < self.next_attempt {
            return false;
        }
        self.next_attempt = now + FIND_AGAIN;
        match self.reader.find_modules(memory, python) {
            Ok(true) => {
                // 3.14+ publishes its offsets in the module now loaded; a build whose Task is not
                // the table's is not read at all.
                // (Before 3.14 there is none to look for, in files that can be large.)
                let published = match python.layout.minor >= 14 {
                    true => asyncio::published_offsets(process).ok().flatten(),
                    false => None,
                };
                match published.map(|words| self.reader.use_published_offsets(&words)) {
                    Some(Err(_)) => read.errors = true,
                    _ => self.found = true,
                }
            }
            Ok(false) => {}
            Err(_) => read.errors = true,
        }
        self.found
    }
}

/// What goes above a sample's frames with `--async`.
#[derive(Default)]
pub(crate) enum Above {
    /// Nothing: the plain thread stack.
    #[default]
    Nothing,
    /// The thread runs a task: its first `keep` frames go under the chain of tasks.
    Running(TaskPath),
    /// A waiting task (`--idle`), by its node in the read's `Waiting`: no frames of the thread.
    Waiting(usize),
}

/// Interns the frames of a task path: `Task <name>` frames (default names folded to `Task`
/// unless `full_task_names`), and coroutine frames through `python_frame`.
pub(crate) struct TaskFrames {
    full_task_names: bool,
    /// By the task's own name (what a sample carries), so that a lookup formats nothing.
    named: FxHashMap<String, u32>,
    /// Default-named tasks: `Task` once, or by name with `full_task_names`.
    folded: Option<u32>,
    defaults: FxHashMap<String, u32>,
    /// The frame ids of each node of the current read's `Waiting`, outermost first: a parent
    /// awaiting a thousand tasks is interned once a tick, not once per task.
    node_ids: FxHashMap<usize, Vec<u32>>,
}

impl TaskFrames {
    pub fn new(full_task_names: bool) -> TaskFrames {
        TaskFrames {
            full_task_names,
            named: FxHashMap::default(),
            folded: None,
            defaults: FxHashMap::default(),
            node_ids: FxHashMap::default(),
        }
    }

    /// Appends to `out` (outermost first) what goes above a sample, and returns how many of the
    /// sample's own frames (innermost first) stay under it. Call `new_read` between two reads.
    pub fn push_above(
        &mut self,
        agg: &mut Aggregator,
        above: &Above,
        waiting: &Waiting,
        out: &mut Vec<u32>,
        mut python_frame: impl FnMut(&mut Aggregator, &pyspy_core::python::StackFrame) -> u32,
    ) -> Option<usize> {
        match above {
            Above::Nothing => None,
            Above::Running(path) => {
                self.push_path(agg, &path.above, out, python_frame);
                Some(path.keep)
            }
            Above::Waiting(node) => {
                out.extend_from_slice(&self.node_ids(agg, waiting, *node, &mut python_frame));
                Some(0)
            }
        }
    }

    /// Forgets the node ids of the last read.
    pub fn new_read(&mut self) {
        self.node_ids.clear();
    }

    fn node_ids(
        &mut self,
        agg: &mut Aggregator,
        waiting: &Waiting,
        node: usize,
        python_frame: &mut impl FnMut(&mut Aggregator, &pyspy_core::python::StackFrame) -> u32,
    ) -> Vec<u32> {
        if let Some(ids) = self.node_ids.get(&node) {
            return ids.clone();
        }
        // Outermost first: the awaiting tasks' ids, then this node's entries from the outside in.
        // The nodes of a read form no cycle (one was cut when read): this recursion ends.
        let mut ids = match waiting.nodes[node].awaited_by {
            Some(parent) => self.node_ids(agg, waiting, parent, python_frame),
            None => Vec::new(),
        };
        self.push_path(agg, &waiting.nodes[node].entries, &mut ids, |agg, f| python_frame(agg, f));
        self.node_ids.insert(node, ids.clone());
        ids
    }

    /// Appends the ids of `above` (innermost first), outermost first, to `out`.
    pub fn push_path(
        &mut self,
        agg: &mut Aggregator,
        above: &[PathEntry],
        out: &mut Vec<u32>,
        mut python_frame: impl FnMut(&mut Aggregator, &pyspy_core::python::StackFrame) -> u32,
    ) {
        for entry in above.iter().rev() {
            let id = match entry {
                PathEntry::Frame(frame) => python_frame(agg, frame),
                PathEntry::Task(label) => self.task(agg, label),
            };
            out.push(id);
        }
    }

    fn task(&mut self, agg: &mut Aggregator, label: &TaskLabel) -> u32 {
        let folded = label.default_name && !self.full_task_names;
        let found = match (folded, label.default_name) {
            (true, _) => self.folded,
            (false, true) => self.defaults.get(&label.name).copied(),
            (false, false) => self.named.get(&label.name).copied(),
        };
        if let Some(id) = found {
            return id;
        }
        let name = task_frame_name(label, self.full_task_names).into_owned();
        let id = agg.intern_frame(Frame { name, file: String::new(), line: 0, kind: FrameKind::Task });
        let memo = match (folded, label.default_name) {
            (true, _) => {
                self.folded = Some(id);
                return id;
            }
            (false, true) => &mut self.defaults,
            (false, false) => &mut self.named,
        };
        // A program that names tasks endlessly must not grow this without bound.
        if memo.len() >= 1 << 16 {
            memo.clear();
        }
        memo.insert(label.name.clone(), id);
        id
    }
}

/// `Task main` for a task the program named; a name asyncio made up (`Task-123`) is `Task`, so
/// that tasks doing the same thing aggregate, or itself with `full_task_names`.
pub(crate) fn task_frame_name(label: &TaskLabel, full_task_names: bool) -> std::borrow::Cow<'_, str> {
    match (label.default_name, full_task_names) {
        (true, false) => "Task".into(),
        (true, true) => label.name.as_str().into(),
        (false, _) => format!("Task {}", label.name).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_task_names_fold_unless_asked_and_named_ones_say_task() {
        let named = TaskLabel { name: "alpha.h0".into(), default_name: false };
        let default = TaskLabel { name: "Task-123".into(), default_name: true };
        assert_eq!(task_frame_name(&named, false), "Task alpha.h0");
        assert_eq!(task_frame_name(&named, true), "Task alpha.h0");
        assert_eq!(task_frame_name(&default, false), "Task");
        assert_eq!(task_frame_name(&default, true), "Task-123");
    }
}

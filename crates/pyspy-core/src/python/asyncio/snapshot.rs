//! Every loop and task of a process at one moment (`dump --async`): what `python -m asyncio
//! pstree` shows, on every minor. Tasks come from the registries; done ones too while 3.8-3.13's
//! WeakSets hold them. 3.14+ takes a task off its list when it finishes, as `asyncio.all_tasks()`
//! forgets it: a done task is then found only where a pending task still refers to it (what its
//! coroutine frames hold, what it waits on, a gather's children). One the program keeps elsewhere
//! (a global, the loop's callbacks) is not found.

use rustc_hash::FxHashMap;

use crate::memory::Memory;
use crate::python::asyncio::kinds::{self, Kind};
use crate::python::asyncio::tasks::FutureRead;
use crate::python::asyncio::{thread_states, Pass, TaskReader, TaskState};
use crate::python::locals;
use crate::python::locate::Python;
use crate::python::stacks::{StackFrame, StackReader, ThreadStack};
use crate::Result;

/// Tasks found by following references, beyond the registries', at most.
const MAX_REFERENCED: usize = 1 << 16;

#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The loops threads run, in thread order, then loops no thread runs now (their tasks are
    /// registered, but `run_forever` has returned), by address.
    pub loops: Vec<LoopSnapshot>,
}

#[derive(Debug, Clone)]
pub struct LoopSnapshot {
    pub addr: u64,
    /// The loop's type, as its `tp_name` says (`_UnixSelectorEventLoop`, `uvloop.Loop`).
    pub type_name: String,
    /// Index into the stacks read, of the thread running this loop.
    pub thread: Option<usize>,
    /// The task running now (its thread is `thread`).
    pub running_task: Option<u64>,
    /// In the order the registry lists them (creation order on 3.14+).
    pub tasks: Vec<TaskSnapshot>,
}

#[derive(Debug, Clone)]
pub struct TaskSnapshot {
    pub addr: u64,
    pub name: String,
    /// `Task-N`: asyncio named it.
    pub default_name: bool,
    pub state: TaskState,
    /// Innermost first, through what each coroutine awaits; the running task's stops at its
    /// executing coroutine. Empty once done.
    pub coroutine_stack: Vec<StackFrame>,
    /// The tasks awaiting this one (addresses of tasks in the snapshot).
    pub awaited_by: Vec<u64>,
}

impl TaskReader {
    /// Every loop and task, with `stacks` (every thread, read by `reader` at this moment).
    pub fn snapshot(
        &mut self,
        memory: &dyn Memory,
        python: &Python,
        stacks: &[ThreadStack],
        reader: &mut StackReader,
    ) -> Result<Snapshot> {
        if !self.find_modules(memory, python)? {
            return Ok(Snapshot { loops: Vec::new() });
        }
        let mut pass = self.pass(memory, python)?;
        let mut loops: Vec<LoopSnapshot> = Vec::new();
        for (index, stack) in stacks.iter().enumerate() {
            let Some(addr) = pass.running_loop(stack.thread.tstate)? else { continue };
            let running_task = pass.running_task(stack.thread.tstate, addr)?;
            loops.push(pass.new_loop(addr, Some(index), running_task));
        }
        let threads: Vec<_> = stacks.iter().map(|s| s.thread.clone()).collect();
        let (tstates, interps) = thread_states(&threads);
        let mut found = pass.registered_tasks(&tstates, &interps)?;
        for l in &loops {
            found.extend(l.running_task.filter(|t| !found.contains(t)));
        }
        let mut reads: Vec<FutureRead> = found.iter().map(|&t| pass.future(t)).collect::<Result<_>>()?;
        let mut stacks_by_task: FxHashMap<u64, Vec<StackFrame>> = FxHashMap::default();
        // Pending tasks first, then the tasks they lead to, which may lead to more.
        let mut next = 0;
        while next < reads.len() {
            let task = reads[next].clone();
            next += 1;
            if task.state != TaskState::Pending {
                continue;
            }
            let stack = pass.stack(&task, reader)?;
            let mut referenced = pass.referenced_tasks(&task, &stack)?;
            referenced.retain(|t| !found.contains(t));
            for t in referenced {
                if found.len() >= MAX_REFERENCED {
                    break;
                }
                found.push(t);
                reads.push(pass.future(t)?);
            }
            stacks_by_task.insert(task.addr, stack);
        }
        for task in reads {
            let (name, default_name) = pass.task_name(&task)?;
            let pending = task.state == TaskState::Pending;
            let awaited_by = if pending { pass.awaiters(&task)? } else { Vec::new() };
            let snapshot = TaskSnapshot {
                addr: task.addr,
                name,
                default_name,
                state: task.state,
                coroutine_stack: stacks_by_task.remove(&task.addr).unwrap_or_default(),
                awaited_by,
            };
            match loops.iter_mut().find(|l| l.addr == task.loop_addr) {
                Some(l) => l.tasks.push(snapshot),
                None => {
                    let mut l = pass.new_loop(task.loop_addr, None, None);
                    l.tasks.push(snapshot);
                    loops.push(l);
                }
            }
        }
        let threaded = loops.iter().filter(|l| l.thread.is_some()).count();
        loops[threaded..].sort_by_key(|l| l.addr);
        Ok(Snapshot { loops })
    }
}

impl Pass<'_> {
    fn new_loop(&mut self, addr: u64, thread: Option<usize>, running_task: Option<u64>) -> LoopSnapshot {
        let layout = &self.python.layout;
        let type_addr = crate::memory::MemoryExt::read_u64(self.memory, addr.wrapping_add(u64::from(layout.object_type)));
        let type_name = type_addr.ok().and_then(|t| kinds::type_name(self.memory, layout, t)).unwrap_or_else(|| "?".into());
        LoopSnapshot { addr, type_name, thread, running_task, tasks: Vec::new() }
    }

    /// Tasks a pending task refers to: what it waits on (a task, or a gather's children), and
    /// what its coroutine frames hold.
    fn referenced_tasks(&mut self, task: &FutureRead, stack: &[StackFrame]) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        if task.fut_waiter != 0 {
            out.push(task.fut_waiter);
            if self.kind(task.fut_waiter).is_future() {
                if let Some(children) = self.dicts.instance_attribute(task.fut_waiter, "_children")? {
                    if self.kind(children) != Kind::NoneValue {
                        out.extend(self.list_items(children)?);
                    }
                }
            }
        }
        for frame in stack {
            out.extend(locals::slot_references(self.memory, &self.python.layout, &frame.code, &frame.raw));
        }
        out.retain(|&t| self.kind(t).is_task());
        Ok(out)
    }
}

//! Who awaits a task. 3.14+ C tasks say so themselves (`fut_awaited_by`, what `asyncio pstree`
//! reads). Before, and for pure-Python tasks, it is worked out from the callbacks the awaiting
//! side leaves on the task, each of which ends at the awaiting task's wakeup:
//!
//! 1. `await task`: the awaiting task's wakeup is one of the task's callbacks;
//! 2. `gather()`, `shield()`, `wait_for()` (3.8-3.11, which runs the coroutine in a task of its
//!    own): a callback holds, in a closure cell (gather's `_done_callback`, shield's
//!    `_inner_done_callback`) or as a `functools.partial` argument (wait_for's
//!    `_release_waiter`), the future the awaiting task waits on, whose callback is its wakeup;
//! 3. `TaskGroup`: the callback is the group's bound `_on_task_done`, and the group knows its
//!    `_parent_task`.
//!
//! Tasks awaited in other ways (`asyncio.wait`, custom futures, third-party combinators) come out
//! as roots. Starting from the awaited task costs a few reads per level and no scan of every task,
//! so a sample can afford it.

use crate::memory::MemoryExt;
use crate::python::asyncio::kinds::Kind;
use crate::python::asyncio::tasks::FutureRead;
use crate::python::asyncio::Pass;
use crate::Result;

/// Callbacks and closure cells looked at per task; more is garbage or not asyncio's.
const MAX_HELD: usize = 64;

impl Pass<'_> {
    /// The tasks awaiting `task`, each once, in the order found.
    pub(crate) fn awaiters(&mut self, task: &FutureRead) -> Result<Vec<u64>> {
        let mut found = Vec::new();
        if self.layout.future_awaited_by.is_some() && task.kind.is_c_future() {
            for awaiter in self.awaited_by(task)? {
                if self.kind(awaiter).is_task() && !found.contains(&awaiter) {
                    found.push(awaiter);
                }
            }
            return Ok(found);
        }
        for callback in self.callbacks(task)?.into_iter().take(MAX_HELD) {
            if let Some(awaiter) = self.wakeup_owner(callback)? {
                found.push(awaiter);
                continue;
            }
            for held in self.held_by_callback(callback)? {
                if self.kind(held).is_future() {
                    let future = self.future(held)?;
                    for inner in self.callbacks(&future)?.into_iter().take(MAX_HELD) {
                        found.extend(self.wakeup_owner(inner)?);
                    }
                }
            }
        }
        let mut seen = Vec::new();
        found.retain(|&t| {
            t != task.addr && !seen.contains(&t) && {
                seen.push(t);
                true
            }
        });
        Ok(found)
    }

    /// The task a callback wakes up (its `__wakeup`, C or Python), or the parent task of the
    /// TaskGroup whose `_on_task_done` it is.
    fn wakeup_owner(&mut self, callback: u64) -> Result<Option<u64>> {
        let l = self.layout;
        let owner = match self.kind(callback) {
            Kind::WakeupWrapper => self.memory.read_u64(callback.wrapping_add(l.task_wakeup_task))?,
            Kind::BuiltinMethod => self.memory.read_u64(callback.wrapping_add(l.cfunction_self))?,
            Kind::Method => {
                let owner = self.memory.read_u64(callback.wrapping_add(l.method_self))?;
                if self.kind(owner) == Kind::TaskGroup {
                    self.dicts.instance_attribute(owner, "_parent_task")?.unwrap_or(0)
                } else {
                    owner
                }
            }
            _ => return Ok(None),
        };
        Ok(self.kind(owner).is_task().then_some(owner))
    }

    /// What a callback holds: the contents of a function's closure cells, a partial's arguments.
    fn held_by_callback(&mut self, callback: u64) -> Result<Vec<u64>> {
        let l = self.layout;
        let mut held = Vec::new();
        let (function, args) = match self.kind(callback) {
            Kind::Partial => (
                self.memory.read_u64(callback.wrapping_add(l.partial_func))?,
                self.memory.read_u64(callback.wrapping_add(l.partial_args))?,
            ),
            _ => (callback, 0),
        };
        if args != 0 {
            held.extend(self.tuple_items(args)?.into_iter().take(MAX_HELD));
        }
        if self.kind(function) == Kind::Function {
            let closure = self.memory.read_u64(function.wrapping_add(l.function_closure))?;
            if closure != 0 && self.kind(closure) != Kind::NoneValue {
                for cell in self.tuple_items(closure)?.into_iter().take(MAX_HELD) {
                    if self.kind(cell) == Kind::Cell {
                        held.push(self.memory.read_u64(cell.wrapping_add(l.cell_ref))?);
                    }
                }
            }
        }
        held.retain(|&a| a != 0);
        Ok(held)
    }
}

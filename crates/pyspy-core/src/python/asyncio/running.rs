//! Which event loop a thread is running, and which of its tasks runs now (`RunningLoop`,
//! `CurrentTask`): the thread state's slots (3.13+, 3.14+), its dict (3.8-3.12) and the
//! `_current_tasks` dicts. uvloop sets the same slots through `asyncio._set_running_loop`.

use crate::memory::MemoryExt;
use crate::python::asyncio::kinds::Kind;
use crate::python::asyncio::Pass;
use crate::python::asyncio_layout::{CurrentTask, RunningLoop};
use crate::Result;

/// `asyncio.events._set_running_loop` keeps the loop under this key of the thread's dict (3.8-3.12).
const RUNNING_LOOP_KEY: &str = "__asyncio_running_event_loop__";

impl Pass<'_> {
    /// The loop thread state `tstate` runs, if any.
    pub(crate) fn running_loop(&mut self, tstate: u64) -> Result<Option<u64>> {
        let l = self.layout;
        let found = match l.running_loop {
            RunningLoop::ThreadState => self.memory.read_u64(tstate.wrapping_add(l.tstate_asyncio_running_loop.unwrap_or(0)))?,
            RunningLoop::ThreadDictHolder | RunningLoop::ThreadDictLoop => {
                let dict = self.memory.read_u64(tstate.wrapping_add(l.tstate_dict))?;
                if dict == 0 {
                    return Ok(None);
                }
                let table = self.dicts.dict(dict)?.table;
                let Some(value) = self.dicts.get_str(&table, RUNNING_LOOP_KEY)? else { return Ok(None) };
                match (l.running_loop, l.running_loop_holder_loop) {
                    // 3.8-3.11: a holder object, whose loop is None once the loop stopped.
                    (RunningLoop::ThreadDictHolder, Some(holder_loop)) => {
                        self.memory.read_u64(value.wrapping_add(holder_loop))?
                    }
                    _ => value,
                }
            }
        };
        Ok((found != 0 && self.kind(found) != Kind::NoneValue).then_some(found))
    }

    /// The task running in `loop_addr`, which thread state `tstate` runs; None between steps.
    pub(crate) fn running_task(&mut self, tstate: u64, loop_addr: u64) -> Result<Option<u64>> {
        let l = self.layout;
        if l.current_task == CurrentTask::ThreadState {
            let task = self.memory.read_u64(tstate.wrapping_add(l.tstate_asyncio_running_task.unwrap_or(0)))?;
            if task != 0 {
                return Ok(Some(task));
            }
        }
        // {loop: task} dicts: before 3.14 every task's, from 3.14 those of `_PyTask`s.
        for dict in self.facts.current_tasks.clone() {
            let table = self.dicts.dict(dict)?.table;
            for (key, task) in self.dicts.items(&table)? {
                if key == loop_addr && self.kind(task).is_task() {
                    return Ok(Some(task));
                }
            }
        }
        Ok(None)
    }
}

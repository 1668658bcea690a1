//! One Task or Future read out of the target: its state, loop, coroutine, what it waits on, its
//! done-callbacks and (3.14+) who awaits it. C ones from the table's offsets in one read;
//! pure-Python ones (`_PyTask`, `_PyFuture`) from their instance attributes.

use crate::memory::{field_i32, field_u64, field_u8, MemoryExt};
use crate::python::asyncio::kinds::Kind;
use crate::python::asyncio::Pass;
use crate::python::strings;
use crate::{Error, Result};

/// A future's callbacks list holds one entry per waiter; thousands would be garbage.
const MAX_CALLBACKS: u64 = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    Pending,
    Cancelled,
    Finished,
}

impl TaskState {
    /// As `asyncio` spells it in `repr(task)`, lower case: "pending", "cancelled", "done".
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "pending",
            TaskState::Cancelled => "cancelled",
            TaskState::Finished => "done",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct FutureRead {
    pub addr: u64,
    pub kind: Kind,
    pub loop_addr: u64,
    pub state: TaskState,
    /// Tasks only (0 otherwise): the coroutine, what it waits on, the name object.
    pub coro: u64,
    pub fut_waiter: u64,
    pub name: u64,
    /// `fut_callback0` and the `fut_callbacks` list (C), or the `_callbacks` list (Python).
    callback0: u64,
    callbacks: u64,
    /// 3.14+ C futures: a task or future awaiting this one, or a set of them.
    awaited_by: u64,
    awaited_by_is_set: bool,
}

impl Pass<'_> {
    pub(crate) fn kind(&mut self, addr: u64) -> Kind {
        self.kinds.of(self.memory, &self.python.layout, self.layout, addr)
    }

    /// The future (or task) at `addr`; an error when it is neither, or does not read as one.
    pub(crate) fn future(&mut self, addr: u64) -> Result<FutureRead> {
        let kind = self.kind(addr);
        match kind {
            Kind::CTask | Kind::CFuture => self.c_future(addr, kind),
            Kind::PyTask | Kind::PyFuture => self.py_future(addr, kind),
            _ => Err(Error::read_failed(format!("{addr:#x} is not an asyncio Task or Future"))),
        }
    }

    fn c_future(&mut self, addr: u64, kind: Kind) -> Result<FutureRead> {
        let l = self.layout;
        let size = if kind == Kind::CTask { l.task_size } else { l.future_size };
        let mut buf = [0u8; 512];
        let buf = buf.get_mut(..size as usize).ok_or_else(|| Error::read_failed("TaskObj larger than expected"))?;
        self.memory.read(addr, buf)?;
        let word = |offset: u64| field_u64(buf, offset as u32);
        let state = match i64::from(field_i32(buf, l.future_state as u32)) {
            s if s == l.state_pending => TaskState::Pending,
            s if s == l.state_cancelled => TaskState::Cancelled,
            s if s == l.state_finished => TaskState::Finished,
            s => return Err(Error::read_failed(format!("future at {addr:#x} has no state {s}"))),
        };
        let task = kind == Kind::CTask;
        Ok(FutureRead {
            addr,
            kind,
            loop_addr: word(l.future_loop),
            state,
            coro: if task { word(l.task_coro) } else { 0 },
            fut_waiter: if task { word(l.task_fut_waiter) } else { 0 },
            name: if task { word(l.task_name) } else { 0 },
            callback0: word(l.future_callback0),
            callbacks: word(l.future_callbacks),
            awaited_by: l.future_awaited_by.map_or(0, word),
            awaited_by_is_set: l.future_awaited_by_is_set.is_some_and(|o| field_u8(buf, o as u32) != 0),
        })
    }

    fn py_future(&mut self, addr: u64, kind: Kind) -> Result<FutureRead> {
        let attr = |pass: &mut Self, name: &'static str| pass.dicts.instance_attribute(addr, name).map(|v| v.unwrap_or(0));
        // A future that never changed state has none of its own: the class says PENDING.
        let state = match self.dicts.instance_attribute(addr, "_state")? {
            None => "PENDING".to_string(),
            Some(state) => strings::read_unicode(self.memory, &self.python.layout, state)?,
        };
        let state = match state.as_str() {
            "PENDING" => TaskState::Pending,
            "CANCELLED" => TaskState::Cancelled,
            "FINISHED" => TaskState::Finished,
            other => return Err(Error::read_failed(format!("future at {addr:#x} has no state {other:?}"))),
        };
        let task = kind == Kind::PyTask;
        let none = |pass: &mut Self, v: u64| if pass.kind(v) == Kind::NoneValue { 0 } else { v };
        let fut_waiter = if task { attr(self, "_fut_waiter")? } else { 0 };
        Ok(FutureRead {
            addr,
            kind,
            loop_addr: attr(self, "_loop")?,
            state,
            coro: if task { attr(self, "_coro")? } else { 0 },
            fut_waiter: none(self, fut_waiter),
            name: if task { attr(self, "_name")? } else { 0 },
            callback0: 0,
            callbacks: attr(self, "_callbacks")?,
            awaited_by: 0,
            awaited_by_is_set: false,
        })
    }

    /// The done-callbacks of a future, in the order they run.
    pub(crate) fn callbacks(&mut self, future: &FutureRead) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        if future.callback0 != 0 {
            out.push(future.callback0);
        }
        if future.callbacks != 0 && self.kind(future.callbacks) != Kind::NoneValue {
            // (callback, context) tuples, in a list.
            for pair in self.list_items(future.callbacks)? {
                out.push(self.memory.read_u64(pair.wrapping_add(u64::from(self.python.layout.tuple_items)))?);
            }
        }
        Ok(out)
    }

    /// 3.14+: what `fut_awaited_by` holds: the tasks and futures awaiting this one.
    pub(crate) fn awaited_by(&mut self, future: &FutureRead) -> Result<Vec<u64>> {
        match (future.awaited_by, future.awaited_by_is_set) {
            (0, _) => Ok(Vec::new()),
            (set, true) => self.set_keys(set),
            (one, false) => Ok(vec![one]),
        }
    }

    /// A task's name, and whether it is a default one (`Task-N`). 3.12+ C tasks keep a default
    /// name as the int N until someone asks for it.
    pub(crate) fn task_name(&mut self, task: &FutureRead) -> Result<(String, bool)> {
        let name = match self.kind(task.name) {
            Kind::Int => {
                let mut head = [0u8; 64];
                let l = &self.python.layout;
                let len = (l.long_digits as usize + 8).min(head.len());
                self.memory.read(task.name, &mut head[..len])?;
                let digits = head.get(l.long_digits as usize..len).unwrap_or(&[]);
                let n = l.long_model.small_value(field_u64(&head, l.long_size_or_tag), digits);
                format!("Task-{}", n.ok_or_else(|| Error::read_failed("task counter out of range"))?)
            }
            _ => strings::read_unicode(self.memory, &self.python.layout, task.name)?,
        };
        let default = is_default_name(&name);
        Ok((name, default))
    }

    /// The items of a list (bounded).
    pub(crate) fn list_items(&mut self, list: u64) -> Result<Vec<u64>> {
        let l = self.layout;
        let size = self.memory.read_u64(list.wrapping_add(l.list_size))?;
        if size > MAX_CALLBACKS {
            return Err(Error::read_failed(format!("list at {list:#x} has implausible size {size}")));
        }
        let items = self.memory.read_u64(list.wrapping_add(l.list_items))?;
        let mut raw = vec![0u8; size as usize * 8];
        self.memory.read(items, &mut raw)?;
        Ok(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).filter(|&a| a != 0).collect())
    }

    /// The items of a tuple (bounded).
    pub(crate) fn tuple_items(&mut self, tuple: u64) -> Result<Vec<u64>> {
        let l = &self.python.layout;
        let size = self.memory.read_u64(tuple.wrapping_add(u64::from(l.tuple_size)))?;
        if size > MAX_CALLBACKS {
            return Err(Error::read_failed(format!("tuple at {tuple:#x} has implausible size {size}")));
        }
        let mut raw = vec![0u8; size as usize * 8];
        self.memory.read(tuple.wrapping_add(u64::from(l.tuple_items)), &mut raw)?;
        Ok(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).filter(|&a| a != 0).collect())
    }
}

/// `Task-N`, the name asyncio gives a task created without one.
pub(crate) fn is_default_name(name: &str) -> bool {
    name.strip_prefix("Task-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::is_default_name;

    #[test]
    fn default_names_are_task_and_a_number() {
        assert!(is_default_name("Task-1") && is_default_name("Task-123456"));
        assert!(!is_default_name("Task-") && !is_default_name("Task-1a") && !is_default_name("main"));
        assert!(!is_default_name("task-1") && !is_default_name("Task-١"));
    }
}

//! Where a process keeps its tasks, per minor (`TaskRegistry`), and walking those places:
//! the `_asyncio` module's WeakSets and sets (3.8-3.13; 3.14+ for tasks that are not
//! `_asyncio.Task`s), and 3.14+'s circular lists of `_asyncio.Task`s, one per thread state plus
//! the interpreter's for threads that ended. Every walk is bounded, and a list that loops or
//! breaks is an error, never a hang.

use crate::memory::{field_u64, Memory, MemoryExt};
use crate::python::asyncio::kinds::{Kind, KnownTypes};
use crate::python::asyncio::Pass;
use crate::python::dicts::DictReader;
use crate::python::locate::Python;
use crate::{Error, Result};

/// The remote unwinder's bound for a task list (`MAX_ITERATIONS`); also ours per list.
pub(crate) const MAX_LIST_TASKS: usize = 1 << 16;
/// A set of more slots than this is garbage (a million tasks is far past any program).
const MAX_SET_SLOTS: u64 = 1 << 21;

/// What the asyncio modules of a process hold, found once (module attributes do not move).
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    pub known: KnownTypes,
    /// WeakSets of tasks: `_all_tasks` (3.8-3.11), `_scheduled_tasks` (3.12+), 3.14's
    /// `non_asyncio_tasks` and the Python-level ones of `asyncio.tasks`.
    pub weak_sets: Vec<u64>,
    /// Plain sets of tasks: 3.12+'s eager tasks.
    pub sets: Vec<u64>,
    /// Dicts {loop: running task}: `_asyncio._current_tasks` (3.8-3.13), and 3.14's Python-level
    /// `asyncio.tasks._current_tasks` (for `_PyTask`s).
    pub current_tasks: Vec<u64>,
}

/// `_asyncio`'s attributes and the pure-Python ones of `asyncio.tasks` and `asyncio.futures`;
/// None while `_asyncio` is not imported (the program has not used asyncio yet).
pub(crate) fn find_facts(
    memory: &dyn Memory,
    python: &Python,
    module_state: Option<(u64, [Option<u64>; 2])>,
) -> Result<Option<Facts>> {
    let layout = &python.layout;
    let mut dicts = DictReader::new(memory, layout);
    let interp = memory.read_u64(python.runtime_addr.wrapping_add(u64::from(layout.runtime_interpreters_head)))?;
    let modules = memory.read_u64(interp.wrapping_add(u64::from(layout.interp_modules)))?;
    let modules = dicts.dict(modules)?.table;
    let Some(c_module) = dicts.get_str(&modules, "_asyncio")? else { return Ok(None) };
    let mut facts = Facts::default();
    let attribute = |dicts: &mut DictReader, module: u64, name: &'static str| -> Result<u64> {
        let globals = memory.read_u64(module.wrapping_add(u64::from(layout.module_dict)))?;
        let globals = dicts.dict(globals)?.table;
        Ok(dicts.get_str(&globals, name)?.unwrap_or(0))
    };
    facts.known.task = attribute(&mut dicts, c_module, "Task")?;
    facts.known.future = attribute(&mut dicts, c_module, "Future")?;
    for name in ["_all_tasks", "_scheduled_tasks"] {
        facts.weak_sets.push(attribute(&mut dicts, c_module, name)?);
    }
    facts.sets.push(attribute(&mut dicts, c_module, "_eager_tasks")?);
    facts.current_tasks.push(attribute(&mut dicts, c_module, "_current_tasks")?);
    // 3.14+: the module state holds the registries of tasks that are not `_asyncio.Task`s.
    if let Some((state_offset, [weak, eager])) = module_state {
        let state = memory.read_u64(c_module.wrapping_add(state_offset))?;
        if state != 0 {
            if let Some(offset) = weak {
                facts.weak_sets.push(memory.read_u64(state.wrapping_add(offset))?);
            }
            if let Some(offset) = eager {
                facts.sets.push(memory.read_u64(state.wrapping_add(offset))?);
            }
        }
    }
    // The pure-Python classes, and 3.14's Python-level registries that `_PyTask` uses; before
    // 3.14 these names are the C module's objects again.
    if let Some(tasks) = dicts.get_str(&modules, "asyncio.tasks")? {
        facts.known.py_task = attribute(&mut dicts, tasks, "_PyTask")?;
        facts.weak_sets.push(attribute(&mut dicts, tasks, "_scheduled_tasks")?);
        facts.weak_sets.push(attribute(&mut dicts, tasks, "_all_tasks")?);
        facts.sets.push(attribute(&mut dicts, tasks, "_eager_tasks")?);
        facts.current_tasks.push(attribute(&mut dicts, tasks, "_current_tasks")?);
    }
    if let Some(futures) = dicts.get_str(&modules, "asyncio.futures")? {
        facts.known.py_future = attribute(&mut dicts, futures, "_PyFuture")?;
    }
    for list in [&mut facts.weak_sets, &mut facts.sets, &mut facts.current_tasks] {
        list.retain(|&a| a != 0);
        let mut seen = Vec::new();
        list.retain(|&a| {
            let new = !seen.contains(&a);
            seen.push(a);
            new
        });
    }
    if facts.known.task == 0 && facts.known.py_task == 0 {
        return Err(Error::read_failed("the _asyncio module has no Task type"));
    }
    Ok(Some(facts))
}

impl Pass<'_> {
    /// Every task the registries hold (pending ones; before 3.14 also done ones still alive),
    /// each once, in the order found.
    pub(crate) fn registered_tasks(&mut self, tstates: &[u64], interps: &[u64]) -> Result<Vec<u64>> {
        let mut tasks = Vec::new();
        let l = self.layout;
        if let (Some(head), Some(node)) = (l.tstate_asyncio_tasks_head, l.task_node) {
            for &tstate in tstates {
                self.task_list(tstate.wrapping_add(head), node, &mut tasks)?;
            }
            if let Some(head) = l.interp_asyncio_tasks_head {
                for &interp in interps {
                    self.task_list(interp.wrapping_add(head), node, &mut tasks)?;
                }
            }
        }
        for weak_set in self.facts.weak_sets.clone() {
            let data = self.dicts.instance_attribute(weak_set, "data")?;
            let Some(data) = data else { continue };
            for weak in self.set_keys(data)? {
                if self.kind(weak) == Kind::WeakRef {
                    let task = self.memory.read_u64(weak.wrapping_add(l.weakref_object))?;
                    if self.kind(task).is_task() {
                        tasks.push(task);
                    }
                }
            }
        }
        for set in self.facts.sets.clone() {
            for task in self.set_keys(set)? {
                if self.kind(task).is_task() {
                    tasks.push(task);
                }
            }
        }
        let mut seen = rustc_hash::FxHashSet::default();
        tasks.retain(|&t| seen.insert(t));
        Ok(tasks)
    }

    /// 3.14+: the tasks on the circular list headed at `head` (an `llist_node` sentinel whose
    /// `next` leads through each task's `task_node` back to it).
    fn task_list(&mut self, head: u64, node_offset: u64, out: &mut Vec<u64>) -> Result<()> {
        let next_offset = self.layout.llist_next.unwrap_or(0);
        let mut node = self.memory.read_u64(head.wrapping_add(next_offset))?;
        let mut count = 0;
        // An empty list points at itself; a list never used (a thread that made no task) is NULL.
        while node != head && node != 0 {
            count += 1;
            if count > MAX_LIST_TASKS {
                return Err(Error::read_failed(format!("the task list at {head:#x} does not end")));
            }
            let task = node.wrapping_sub(node_offset);
            if self.kind(task) != Kind::CTask {
                return Err(Error::read_failed(format!("the task list at {head:#x} leads to a non-task {task:#x}")));
            }
            out.push(task);
            node = self.memory.read_u64(node.wrapping_add(next_offset))?;
        }
        Ok(())
    }

    /// The keys of a `set` (its table's live entries), bounded.
    pub(crate) fn set_keys(&mut self, set: u64) -> Result<Vec<u64>> {
        let l = self.layout;
        let mut head = [0u8; 64];
        let len = (l.set_table.max(l.set_mask).max(l.set_used) + 8) as usize;
        let head = head.get_mut(..len).ok_or_else(|| Error::read_failed("set header larger than expected"))?;
        self.memory.read(set, head)?;
        let slots = field_u64(head, l.set_mask as u32).wrapping_add(1);
        let used = field_u64(head, l.set_used as u32);
        if slots > MAX_SET_SLOTS || !slots.is_power_of_two() || used > slots {
            return Err(Error::read_failed(format!("set at {set:#x} is not plausible")));
        }
        let table = field_u64(head, l.set_table as u32);
        let mut raw = vec![0u8; (slots * l.set_entry_size) as usize];
        self.memory.read(table, &mut raw)?;
        // Deleted entries keep a dummy key; the caller's type checks skip it.
        Ok(raw
            .chunks_exact(l.set_entry_size as usize)
            .map(|e| field_u64(e, l.set_entry_key as u32))
            .filter(|&k| k != 0)
            .collect())
    }
}

//! Plants what python/asyncio reads (a `TasksSpec`), laid out as each minor's asyncio lays it
//! out: the `_asyncio` module with its Task and Future types and its registry (3.8-3.13's WeakSet
//! of weakrefs, 3.14+'s circular list through each Task's `task_node`), a loop the first thread
//! runs (its thread dict or thread state slot), and per task its `TaskObj`, its coroutines with
//! their frames (embedded from 3.11) and what each awaits on top of its value stack, and the
//! callbacks (a wakeup, a gather's closure over a shared future) or 3.14's `fut_awaited_by` that
//! tell who awaits it.

use pyspy_core::memory::at;
use pyspy_core::python::asyncio_layout::{AsyncioLayout, RunningLoop, TaskRegistry, TaskWakeup};
use pyspy_core::python::asyncio_layouts::asyncio_layout;

use super::thread_names::KeysKind;
use crate::builder::Builder;
use crate::tasks::{Await, State, TaskName, TasksSpec};

/// 3.11+ FRAME_OWNED_BY_GENERATOR: a coroutine's frame, embedded in it.
const FRAME_OWNED_BY_GENERATOR: u8 = 1;

/// Where the tasks went, for the read-back check.
#[derive(Debug, Clone)]
pub struct PlantedTasks {
    pub loop_addr: u64,
    /// One per `TaskSpec`, in order.
    pub tasks: Vec<u64>,
    /// Done tasks a 3.14+ reader can find (a pending coroutine's local holds them); all of them before.
    pub findable_done: Vec<usize>,
}

/// How big a thread state and an interpreter state must be for what `--async` reads of them.
pub(crate) fn state_sizes(minor: u8) -> (u32, u32) {
    let Some(a) = asyncio_layout(minor) else { return (0, 0) };
    let tstate = [Some(a.tstate_dict), a.tstate_asyncio_running_loop, a.tstate_asyncio_running_task, a.tstate_asyncio_tasks_head];
    let tstate = tstate.into_iter().flatten().max().unwrap_or(0) + 16;
    (tstate as u32, a.interp_asyncio_tasks_head.map_or(0, |o| o as u32 + 16))
}

impl Builder<'_> {
    /// Plants `spec`'s tasks, their loop run by the thread state `tstate`; returns where they are
    /// and the `_asyncio` module, for `sys.modules`.
    pub(crate) fn asyncio(&mut self, spec: &TasksSpec, codes: &[u64], tstate: u64, interp: u64) -> (PlantedTasks, u64) {
        let a = *asyncio_layout(self.layout.minor).expect("an asyncio layout for every planted minor");
        let future_type = self.type_object("_asyncio.Future");
        let task_type = self.type_object("_asyncio.Task");
        self.memory.put_u64(task_type + a.type_base, future_type);
        let loop_addr = self.object("_UnixSelectorEventLoop", 32);
        let tasks: Vec<u64> = spec.tasks.iter().map(|_| self.object("_asyncio.Task", a.task_size as u32)).collect();

        // Done tasks stay in 3.8-3.13's registry; 3.14+ finds one only through a pending coroutine's
        // local: the first coroutine with a local slot holds the done tasks.
        let done: Vec<usize> = (0..tasks.len()).filter(|&i| spec.tasks[i].state != State::Pending).collect();
        let holder = spec.tasks.iter().enumerate().find_map(|(i, t)| {
            t.coroutines.iter().enumerate().find_map(|(c, coro)| {
                let slots = self.code_varnames(codes[coro.code]).len();
                (slots > 0).then_some((i, c, slots))
            })
        });
        let lists = a.task_registry == TaskRegistry::ThreadTaskLists;
        let findable_done = match holder {
            _ if !lists => done.clone(),
            Some((_, _, slots)) => done.iter().copied().take(slots).collect(),
            None => Vec::new(),
        };
        let holder = holder.map(|(i, c, _)| (i, c));

        for (i, task) in spec.tasks.iter().enumerate() {
            let addr = tasks[i];
            let state = match task.state {
                State::Pending => a.state_pending,
                State::Finished => a.state_finished,
                State::Cancelled => a.state_cancelled,
            };
            self.memory.put(addr + a.future_state, &(state as i32).to_le_bytes());
            self.memory.put_u64(addr + a.future_loop, loop_addr);
            let name = match task.name {
                TaskName::Default { n, as_int: true } => self.long("int", i64::from(n)),
                name => self.str(&name.text()),
            };
            self.memory.put_u64(addr + a.task_name, name);
            if let Some(is_task) = a.future_is_task {
                self.memory.put(addr + is_task, &[1]);
            }
            if task.state != State::Pending {
                continue;
            }
            // What the innermost coroutine awaits: the one child it awaits, a gather's future, or a future.
            let children: Vec<usize> = spec.children(i).collect();
            let awaited = match (task.awaits, children.as_slice()) {
                (Await::Task, [child]) => tasks[*child],
                _ => self.object("_asyncio.Future", a.future_size as u32),
            };
            let held: Vec<u64> = match holder {
                Some((h, _)) if h == i => done.iter().map(|&d| tasks[d]).collect(),
                _ => Vec::new(),
            };
            let held_at = holder.filter(|&(h, _)| h == i).map(|(_, c)| c);
            let coro = self.coroutine_chain(&a, task, codes, awaited, held_at.map(|c| (c, held.as_slice())));
            self.memory.put_u64(addr + a.task_coro, coro);
            if task.awaits == Await::Gather && !children.is_empty() && a.future_awaited_by.is_none() {
                self.gather(&a, &children.iter().map(|&c| tasks[c]).collect::<Vec<_>>(), addr, awaited, &spec.tasks, &children);
            }
        }
        for (i, task) in spec.tasks.iter().enumerate() {
            let Some(parent) = task.parent else { continue };
            match a.future_awaited_by {
                Some(awaited_by) => {
                    let value = if task.awaited_by_set { self.task_set(&a, &[tasks[parent]]) } else { tasks[parent] };
                    self.memory.put_u64(tasks[i] + awaited_by, value);
                    if let Some(is_set) = a.future_awaited_by_is_set {
                        self.memory.put(tasks[i] + is_set, &[u8::from(task.awaited_by_set)]);
                    }
                }
                None if spec.tasks[parent].awaits == Await::Task => {
                    let wakeup = self.wakeup(&a, tasks[parent]);
                    self.callback(&a, tasks[i], wakeup, task.callbacks_in_list);
                }
                // Gathered: gather() above set the child's callback.
                None => {}
            }
        }
        let module = self.registry(&a, spec, &tasks, task_type, future_type, tstate, interp);
        self.running_loop(&a, tstate, loop_addr);
        (PlantedTasks { loop_addr, tasks, findable_done }, module)
    }

    fn code_varnames(&self, code: u64) -> Vec<u64> {
        let l = self.layout;
        let tuple = self.memory.get_u64(at(code, l.code_varnames));
        let size = self.memory.get_u64(at(tuple, l.tuple_size));
        (0..size).map(|i| self.memory.get_u64(at(tuple, l.tuple_items) + 8 * i)).collect()
    }

    /// The coroutines of a task, innermost first planted (each awaits the next inner one); returns
    /// the outermost. `held`: (which coroutine, the tasks its first local slots hold).
    fn coroutine_chain(
        &mut self,
        a: &AsyncioLayout,
        task: &crate::tasks::TaskSpec,
        codes: &[u64],
        innermost_awaits: u64,
        held: Option<(usize, &[u64])>,
    ) -> u64 {
        let mut awaited = innermost_awaits;
        for (depth, spec) in task.coroutines.iter().enumerate().rev() {
            let code = codes[spec.code];
            let nlocals = self.code_varnames(code).len();
            let mut locals = vec![0u64; nlocals];
            if let Some((_, tasks)) = held.filter(|(d, _)| *d == depth) {
                for (slot, &t) in locals.iter_mut().zip(tasks) {
                    *slot = t;
                }
            }
            let kind = if spec.async_generator { "async_generator" } else { "coroutine" };
            let coro = self.coroutine(a, kind, code, spec.instruction, &locals, awaited);
            // `async for` awaits the generator's __anext__() object, not the generator.
            awaited = if spec.async_generator {
                let asend = self.object("async_generator_asend", a.asend_gen as u32 + 8);
                self.memory.put_u64(asend + a.asend_gen, coro);
                asend
            } else {
                coro
            };
        }
        // The task's own coroutine is never an async generator's __anext__(): the outermost is a coroutine.
        awaited
    }

    /// One suspended coroutine (or async generator) awaiting `awaited`, its frame at `instruction`.
    fn coroutine(
        &mut self,
        a: &AsyncioLayout,
        kind: &'static str,
        code: u64,
        instruction: u32,
        locals: &[u64],
        awaited: u64,
    ) -> u64 {
        let l = self.layout;
        match (a.gen_iframe, a.gen_frame) {
            (Some(iframe_offset), _) => {
                // 3.11+: the frame lives inside the coroutine, its value stack above its locals.
                let depth = a.awaited_depth as usize;
                let slots = locals.len() + depth;
                let size = iframe_offset as u32 + l.frame_size.max(l.frame_localsplus + 8 * slots as u32);
                let coro = self.object(kind, size);
                let frame = coro + iframe_offset;
                let tag = u64::from(l.minor >= 14);
                self.memory.put_u64(at(frame, l.frame_code), code | tag);
                let pointer = self.instructions_addr(code) + 2 * u64::from(instruction);
                self.memory.put_u64(at(frame, l.frame_instr), pointer);
                if let Some(owner) = l.frame_owner {
                    self.memory.put(at(frame, owner), &[FRAME_OWNED_BY_GENERATOR]);
                }
                let state = a.frame_state_suspended_yield_from.or(a.frame_state_suspended).expect("a suspended state");
                self.memory.put(coro + a.gen_frame_state.expect("3.11+"), &[state as i8 as u8]);
                let base = at(frame, l.frame_localsplus);
                for (i, &local) in locals.iter().enumerate() {
                    self.memory.put_u64(base + 8 * i as u64, local);
                }
                let slot = base + 8 * locals.len() as u64;
                self.memory.put_u64(slot, awaited | tag);
                match (a.iframe_stackpointer, a.iframe_stacktop) {
                    (Some(stackpointer), _) => self.memory.put_u64(frame + stackpointer, slot + 8 * depth as u64),
                    (None, Some(stacktop)) => {
                        self.memory.put(frame + stacktop, &((locals.len() + depth) as i32).to_le_bytes());
                    }
                    (None, None) => unreachable!("3.11+ keeps a stack top"),
                }
                coro
            }
            (None, Some(gen_frame)) => {
                // 3.8-3.10: a frame object, suspended with what it awaits on its value stack.
                let coro = self.object(kind, gen_frame as u32 + 8);
                let frame = self.frame(code, Some(instruction), 0, 0, locals, false);
                self.memory.put_u64(coro + gen_frame, frame);
                let slot = self.alloc(16);
                self.memory.put_u64(slot, awaited);
                if let Some(stacktop) = a.frame_stacktop {
                    self.memory.put_u64(frame + stacktop, slot + 8);
                } else {
                    self.memory.put_u64(frame + a.frame_valuestack.expect("3.10"), slot);
                    self.memory.put(frame + a.frame_stackdepth.expect("3.10"), &1i32.to_le_bytes());
                    let suspended = a.frame_state_suspended.expect("3.10") as i8 as u8;
                    self.memory.put(frame + a.frame_state.expect("3.10"), &[suspended]);
                }
                coro
            }
            (None, None) => unreachable!("every minor has a coroutine frame"),
        }
    }

    /// The wakeup callback a task leaves on what it awaits.
    fn wakeup(&mut self, a: &AsyncioLayout, task: u64) -> u64 {
        match a.task_wakeup {
            TaskWakeup::MethWrapper => {
                let w = self.object("TaskWakeupMethWrapper", a.task_wakeup_task as u32 + 8);
                self.memory.put_u64(w + a.task_wakeup_task, task);
                w
            }
            TaskWakeup::BuiltinFunction => {
                let w = self.object("builtin_function_or_method", a.cfunction_self as u32 + 8);
                self.memory.put_u64(w + a.cfunction_self, task);
                w
            }
        }
    }

    /// Adds `callback` to a future's callbacks: as its first, or in its list of (callback, context) pairs.
    fn callback(&mut self, a: &AsyncioLayout, future: u64, callback: u64, in_list: bool) {
        if !in_list {
            self.memory.put_u64(future + a.future_callback0, callback);
            return;
        }
        let none = self.object("NoneType", 16);
        let pair = self.tuple(&[callback, none]);
        let items = self.alloc(8);
        self.memory.put_u64(items, pair);
        let list = self.object("list", a.list_items.max(a.list_size) as u32 + 8);
        self.memory.put_u64(list + a.list_size, 1);
        self.memory.put_u64(list + a.list_items, items);
        self.memory.put_u64(future + a.future_callbacks, list);
    }

    /// gather(): the parent awaits `outer`, whose callback wakes it; each child's callback is one
    /// function whose closure holds `outer`.
    fn gather(
        &mut self,
        a: &AsyncioLayout,
        children: &[u64],
        parent: u64,
        outer: u64,
        specs: &[crate::tasks::TaskSpec],
        which: &[usize],
    ) {
        let wakeup = self.wakeup(a, parent);
        self.callback(a, outer, wakeup, false);
        let cell = self.object("cell", a.cell_ref as u32 + 8);
        self.memory.put_u64(cell + a.cell_ref, outer);
        let closure = self.tuple(&[cell]);
        let function = self.object("function", a.function_closure as u32 + 8);
        self.memory.put_u64(function + a.function_closure, closure);
        for (&child, &i) in children.iter().zip(which) {
            self.callback(a, child, function, specs[i].callbacks_in_list);
        }
    }

    /// A `set` holding `keys`, in a table twice as large (at least 8 slots), keys in order.
    fn task_set(&mut self, a: &AsyncioLayout, keys: &[u64]) -> u64 {
        let slots = (2 * keys.len()).next_power_of_two().max(8) as u64;
        let table = self.alloc((slots * a.set_entry_size) as u32);
        for (i, &key) in keys.iter().enumerate() {
            self.memory.put_u64(table + i as u64 * a.set_entry_size + a.set_entry_key, key);
        }
        let set = self.object("set", [a.set_mask, a.set_table, a.set_used].into_iter().max().unwrap() as u32 + 8);
        self.memory.put_u64(set + a.set_mask, slots - 1);
        self.memory.put_u64(set + a.set_used, keys.len() as u64);
        self.memory.put_u64(set + a.set_table, table);
        set
    }

    /// The `_asyncio` module and the registry its minor keeps tasks in.
    #[allow(clippy::too_many_arguments)]
    fn registry(
        &mut self,
        a: &AsyncioLayout,
        spec: &TasksSpec,
        tasks: &[u64],
        task_type: u64,
        future_type: u64,
        tstate: u64,
        interp: u64,
    ) -> u64 {
        let mut globals = vec![(self.str("Task"), task_type), (self.str("Future"), future_type)];
        let current_tasks = self.dict(&[], KeysKind::General);
        match a.task_registry {
            TaskRegistry::AllTasksWeakSet | TaskRegistry::ScheduledWeakSetAndEagerSet => {
                let weakref = if self.layout.minor <= 11 { "weakref" } else { "weakref.ReferenceType" };
                let refs: Vec<u64> = tasks
                    .iter()
                    .map(|&t| {
                        let r = self.object(weakref, a.weakref_object as u32 + 8);
                        self.memory.put_u64(r + a.weakref_object, t);
                        r
                    })
                    .collect();
                let data = self.task_set(a, &refs);
                let entries = [(self.str("data"), data)];
                let weak_set = self.attributes_instance(&entries);
                let name = if a.task_registry == TaskRegistry::AllTasksWeakSet { "_all_tasks" } else { "_scheduled_tasks" };
                globals.push((self.str(name), weak_set));
                if a.task_registry == TaskRegistry::ScheduledWeakSetAndEagerSet {
                    let eager = self.task_set(a, &[]);
                    globals.push((self.str("_eager_tasks"), eager));
                }
                globals.push((self.str("_current_tasks"), current_tasks));
            }
            TaskRegistry::ThreadTaskLists => {
                let node = a.task_node.expect("3.14+");
                let head = tstate + a.tstate_asyncio_tasks_head.expect("3.14+");
                let pending: Vec<u64> =
                    tasks.iter().zip(&spec.tasks).filter(|(_, s)| s.state == State::Pending).map(|(&t, _)| t).collect();
                let nodes: Vec<u64> = std::iter::once(head).chain(pending.iter().map(|&t| t + node)).collect();
                for (i, &n) in nodes.iter().enumerate() {
                    self.memory.put_u64(n, nodes[(i + 1) % nodes.len()]);
                    self.memory.put_u64(n + 8, nodes[(i + nodes.len() - 1) % nodes.len()]);
                }
                // The interpreter's list (tasks of threads that ended) is empty: it points at itself.
                let interp_head = interp + a.interp_asyncio_tasks_head.expect("3.14+");
                self.memory.put_u64(interp_head, interp_head);
                self.memory.put_u64(interp_head + 8, interp_head);
            }
        }
        let globals = self.dict(&globals, KeysKind::Unicode);
        let l = self.layout;
        let module = self.object("module", l.module_dict.max(a.module_state.unwrap_or(0) as u32) + 8);
        self.memory.put_u64(at(module, l.module_dict), globals);
        if let Some(state_offset) = a.module_state {
            // 3.14+'s registries of other task types, empty here.
            let state = self.alloc(64);
            self.memory.put_u64(module + state_offset, state);
        }
        module
    }

    /// Makes thread state `tstate` run `loop_addr`, as `asyncio._set_running_loop` does.
    fn running_loop(&mut self, a: &AsyncioLayout, tstate: u64, loop_addr: u64) {
        let value = match a.running_loop {
            RunningLoop::ThreadState => {
                self.memory.put_u64(tstate + a.tstate_asyncio_running_loop.expect("3.13+"), loop_addr);
                return;
            }
            RunningLoop::ThreadDictLoop => loop_addr,
            RunningLoop::ThreadDictHolder => {
                let offset = a.running_loop_holder_loop.expect("3.8-3.11");
                let holder = self.object("_RunningLoopHolder", offset as u32 + 8);
                self.memory.put_u64(holder + offset, loop_addr);
                holder
            }
        };
        let entries = [(self.str("__asyncio_running_event_loop__"), value)];
        let dict = self.dict(&entries, KeysKind::Unicode);
        self.memory.put_u64(tstate + a.tstate_dict, dict);
    }
}

//! What an image plants for `--async` (for the fuzz target: what its seed picks): one event loop,
//! run by the first thread, with a tree of suspended tasks. Each task has a name (its own, or a
//! default one, which 3.12+ keeps as the int counter), a chain of coroutines (some reached through
//! an async generator's `__anext__()`), and the task that awaits it, linked as asyncio links them
//! (`await task`, a gather's shared future, or 3.14's `fut_awaited_by`). Done tasks too: kept by
//! 3.8-3.13's registry, by a pending coroutine's local on 3.14+.

use crate::rng::Rng;

pub const MAX_TASKS: usize = 6;
pub const MAX_COROUTINES: usize = 3;

const NAMES: &[&str] = &["main", "server", "handler-1", "función_ñ", "関数", "𝔱𝔞𝔰𝔨"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskName {
    Named(&'static str),
    /// `Task-N`; 3.12+ may keep it as the int N (`as_int`).
    Default {
        n: u32,
        as_int: bool,
    },
}

impl TaskName {
    pub fn text(&self) -> String {
        match self {
            TaskName::Named(name) => name.to_string(),
            TaskName::Default { n, .. } => format!("Task-{n}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Finished,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoroutineSpec {
    /// Index into the program's code objects.
    pub code: usize,
    pub instruction: u32,
    /// An async generator, awaited through the `__anext__()` object of `async for`.
    pub async_generator: bool,
}

/// How a task waits for the task(s) it awaits (before 3.14; 3.14+ links them by `fut_awaited_by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Await {
    /// `await child`: the child's first callback is this task's wakeup.
    Task,
    /// `gather(...)`: each child's callback is one closure holding the future this task awaits.
    Gather,
}

#[derive(Debug, Clone)]
pub struct TaskSpec {
    pub name: TaskName,
    pub state: State,
    /// Outermost first; empty for a done task.
    pub coroutines: Vec<CoroutineSpec>,
    /// The task awaiting this one (an earlier one).
    pub parent: Option<usize>,
    /// How this task awaits its children, if it has any.
    pub awaits: Await,
    /// Its callbacks sit in `fut_callbacks` (a list of pairs) rather than `fut_callback0`.
    pub callbacks_in_list: bool,
    /// 3.14+: `fut_awaited_by` is a set, not the one awaiting task.
    pub awaited_by_set: bool,
}

#[derive(Debug, Clone)]
pub struct TasksSpec {
    pub tasks: Vec<TaskSpec>,
}

impl TasksSpec {
    pub fn children(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        self.tasks.iter().enumerate().filter(move |(_, t)| t.parent == Some(parent)).map(|(i, _)| i)
    }
}

/// A tree of 1 to `MAX_TASKS` tasks over `codes` code objects; None for some seeds (an image
/// without asyncio, as most programs are).
pub fn generate(rng: &mut Rng, minor: u8, codes: usize) -> Option<TasksSpec> {
    if rng.below(4) == 0 {
        return None;
    }
    let count = 1 + rng.below(MAX_TASKS);
    let mut tasks: Vec<TaskSpec> = Vec::with_capacity(count);
    for i in 0..count {
        let done = i > 0 && rng.below(5) == 0;
        let name = if rng.below(3) == 0 {
            TaskName::Default { n: 1 + rng.below(100_000) as u32, as_int: minor >= 12 && rng.below(2) == 0 }
        } else {
            TaskName::Named(rng.pick(NAMES))
        };
        let coroutines = if done {
            Vec::new()
        } else {
            (0..1 + rng.below(MAX_COROUTINES))
                .map(|depth| CoroutineSpec {
                    code: rng.below(codes),
                    instruction: rng.below(crate::program::INSTRUCTIONS as usize) as u32,
                    async_generator: depth > 0 && rng.below(3) == 0,
                })
                .collect()
        };
        // Only pending tasks await (a done task awaits nothing, and nothing waits on it here).
        let parents: Vec<usize> = (0..i).filter(|&p| tasks[p].state == State::Pending).collect();
        let parent = if done || parents.is_empty() || rng.below(4) == 0 { None } else { Some(rng.pick(&parents)) };
        tasks.push(TaskSpec {
            name,
            state: if !done {
                State::Pending
            } else if rng.below(2) == 0 {
                State::Finished
            } else {
                State::Cancelled
            },
            coroutines,
            parent,
            awaits: if rng.below(2) == 0 { Await::Task } else { Await::Gather },
            callbacks_in_list: rng.below(3) == 0,
            awaited_by_set: rng.below(2) == 0,
        });
    }
    // `await task` awaits one task: a task with more children gathers them.
    for p in 0..tasks.len() {
        if tasks.iter().filter(|t| t.parent == Some(p)).count() > 1 {
            tasks[p].awaits = Await::Gather;
        }
    }
    Some(TasksSpec { tasks })
}

//! Reading an image's asyncio tasks back through pyspy-core's `TaskReader` (what `dump --async`
//! and `record --async --idle` call), and what that must give.

use pyspy_core::memory::Memory;
use pyspy_core::python::asyncio::{PathEntry, TaskReader};
use pyspy_core::python::layout::Layout;
use pyspy_core::python::{Python, ReadOptions, StackReader};
use pyspy_core::Result;

use crate::builder::Planted;
use crate::line_tables;
use crate::program::Program;
use crate::tasks::{State, TasksSpec};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRead {
    pub addr: u64,
    pub name: String,
    pub default_name: bool,
    pub state: &'static str,
    /// (function, file, line), innermost first.
    pub stack: Vec<(String, String, u32)>,
    /// Sorted.
    pub awaited_by: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopRead {
    pub addr: u64,
    pub type_name: String,
    /// Index of the thread running it.
    pub thread: Option<usize>,
    /// Sorted by address.
    pub tasks: Vec<TaskRead>,
}

/// Every loop and task, as `dump --async` reads them; and each waiting task's path as
/// `record --async --idle` samples it (labels, innermost first: `name:line` or `Task name`).
pub fn read_tasks(
    memory: &dyn Memory,
    python: &Python,
    tids: &[u32],
    reader: &mut StackReader,
) -> Result<(Vec<LoopRead>, Vec<Vec<String>>)> {
    let stacks = reader.read(memory, python, tids, ReadOptions::default())?;
    let mut tasks = TaskReader::new(python)?;
    let snapshot = tasks.snapshot(memory, python, &stacks, reader)?;
    let loops = snapshot
        .loops
        .into_iter()
        .map(|l| {
            let mut tasks: Vec<TaskRead> = l
                .tasks
                .into_iter()
                .map(|t| {
                    let mut awaited_by = t.awaited_by;
                    awaited_by.sort_unstable();
                    TaskRead {
                        addr: t.addr,
                        name: t.name,
                        default_name: t.default_name,
                        state: t.state.as_str(),
                        stack: t.coroutine_stack.iter().map(|f| (f.code.name.clone(), f.code.filename.clone(), f.line)).collect(),
                        awaited_by,
                    }
                })
                .collect();
            tasks.sort_by_key(|t| t.addr);
            LoopRead { addr: l.addr, type_name: l.type_name, thread: l.thread, tasks }
        })
        .collect();
    let threads: Vec<_> = stacks.iter().map(|s| s.thread.clone()).collect();
    let forest = tasks.waiting(memory, python, &threads, reader)?;
    let mut waiting: Vec<Vec<String>> = forest
        .tasks
        .iter()
        .map(|&(_, node)| {
            forest
                .path(node)
                .map(|e| match e {
                    PathEntry::Frame(f) => format!("{}:{}", f.code.name, f.line),
                    PathEntry::Task(t) => format!("Task {}", t.name),
                })
                .collect()
        })
        .collect();
    waiting.sort();
    Ok((loops, waiting))
}

/// What an intact image's tasks must read back as.
pub fn expected_tasks(program: &Program, planted: &Planted, layout: &Layout) -> (Vec<LoopRead>, Vec<Vec<String>>) {
    let (Some(spec), Some(where_)) = (&program.tasks, &planted.tasks) else { return (Vec::new(), Vec::new()) };
    let stack = |i: usize| -> Vec<(String, String, u32)> {
        spec.tasks[i]
            .coroutines
            .iter()
            .rev()
            .map(|c| {
                let code = &program.codes[c.code];
                let name = if layout.code_qualname.is_some() { code.qualname } else { code.name };
                (
                    name.to_string(),
                    code.filename.to_string(),
                    line_tables::expected_line(&code.lines, code.first_line, Some(c.instruction)),
                )
            })
            .collect()
    };
    let mut tasks: Vec<TaskRead> = spec
        .tasks
        .iter()
        .enumerate()
        .filter(|(i, t)| t.state == State::Pending || where_.findable_done.contains(i))
        .map(|(i, t)| TaskRead {
            addr: where_.tasks[i],
            name: t.name.text(),
            default_name: matches!(t.name, crate::tasks::TaskName::Default { .. }),
            state: match t.state {
                State::Pending => "pending",
                State::Finished => "done",
                State::Cancelled => "cancelled",
            },
            stack: stack(i),
            awaited_by: t.parent.filter(|_| t.state == State::Pending).map(|p| where_.tasks[p]).into_iter().collect(),
        })
        .collect();
    tasks.sort_by_key(|t| t.addr);
    let loops = vec![LoopRead { addr: where_.loop_addr, type_name: "_UnixSelectorEventLoop".into(), thread: Some(0), tasks }];
    let mut waiting: Vec<Vec<String>> =
        (0..spec.tasks.len()).filter(|&i| spec.tasks[i].state == State::Pending).map(|i| path(spec, i, &|j| stack(j))).collect();
    waiting.sort();
    (loops, waiting)
}

fn path(spec: &TasksSpec, task: usize, stack: &dyn Fn(usize) -> Vec<(String, String, u32)>) -> Vec<String> {
    let mut out: Vec<String> = stack(task).into_iter().map(|(name, _, line)| format!("{name}:{line}")).collect();
    out.push(format!("Task {}", spec.tasks[task].name.text()));
    if let Some(parent) = spec.tasks[task].parent {
        out.extend(path(spec, parent, stack));
    }
    out
}

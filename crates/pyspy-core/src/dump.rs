//! `dump`: every thread's stack of a process at one moment, read from any `ProcessSource`. A live
//! process is paused around this by `pyspy-live`; a core file is a moment already.

use crate::native::{MergedFrame, NativeFrameDisplay, NativeThreads};
use crate::paths::short_filename;
use crate::process::{ProcessSource, ThreadEntry, ThreadState, TidMap};
use crate::profile::FrameKind;
use crate::python::asyncio::{self, TaskReader};
use crate::python::locals::LocalVariable;
use crate::python::thread_filter::ThreadFilter;
use crate::python::thread_names::{self, ThreadNames};
use crate::python::threads::{self, PyThread};
use crate::python::{Python, ReadOptions, StackFrame, StackReader, ThreadStack};
use crate::{Error, Result};
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, Default)]
pub struct DumpOptions {
    /// Also read each frame's local variables (short previews: see `python::objects`).
    pub locals: bool,
    /// Also read every asyncio event loop and its tasks (`ProcessDump::loops`).
    pub asyncio: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FrameDump {
    /// Qualified name where CPython has one (3.11+), else the code object's name.
    pub name: String,
    /// Path of the source file as the code object has it.
    pub filename: String,
    /// The path as people read it: after site-packages or the stdlib directory, or relative to the target's cwd.
    pub short_filename: String,
    /// Line number being executed; 0 when unknown.
    pub line: u32,
    pub locals: Option<Vec<LocalVariable>>,
    /// `Native` for a C/C++/Cython/Rust frame (`--native`); a native stack that could not be
    /// followed to its end says so in a `native` frame named `<native stack incomplete>`.
    pub kind: FrameKind,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadDump {
    /// Kernel thread id (TID) as we see it; 0 when it could not be mapped.
    pub native_thread_id: u64,
    /// `threading.get_ident()` of the thread (the pthread_t).
    pub python_thread_id: u64,
    pub name: Option<String>,
    /// The OS thread is running or runnable (not sleeping or waiting).
    pub active: bool,
    pub owns_gil: bool,
    /// Innermost frame first.
    pub frames: Vec<FrameDump>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessDump {
    pub pid: u32,
    /// e.g. "3.11.2".
    pub python_version: String,
    /// A free-threaded build (3.13t): no thread holds a GIL unless one was turned on.
    pub free_threaded: bool,
    /// The target's executable, as it sees it.
    pub executable: String,
    pub command_line: Vec<String>,
    pub threads: Vec<ThreadDump>,
    /// With `DumpOptions::asyncio`: every event loop a thread runs, then those no thread runs now.
    pub loops: Option<Vec<LoopDump>>,
}

/// An asyncio event loop and its tasks, as `python -m asyncio pstree` shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopDump {
    /// The loop object's address.
    pub address: u64,
    /// Its type's name: `_UnixSelectorEventLoop`, `uvloop.Loop`, ...
    pub loop_type: String,
    /// Kernel thread id of the thread running it (as in `ThreadDump`); None when no thread runs it now.
    pub native_thread_id: Option<u64>,
    /// The task running now, by address.
    pub running_task: Option<u64>,
    pub tasks: Vec<TaskDump>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDump {
    /// The task object's address (what `id(task)` returns): how `awaited_by` names tasks.
    pub address: u64,
    pub name: String,
    /// Named by asyncio (`Task-N`), not by the program.
    pub default_name: bool,
    /// "pending", "done" or "cancelled".
    pub state: &'static str,
    /// Innermost first, through what each coroutine awaits; empty once done.
    pub coroutine_stack: Vec<FrameDump>,
    /// Addresses of the tasks awaiting this one.
    pub awaited_by: Vec<u64>,
}

/// Reads every thread's stack from `source`. `threads` is the source's thread list, taken before
/// a live target was paused (a paused thread's state reads as traced, not as what it was doing).
/// With `native`, each thread's native frames are merged in.
pub fn read_dump(
    source: &dyn ProcessSource,
    python: &Python,
    threads: &[ThreadEntry],
    options: DumpOptions,
    native: Option<&mut dyn NativeThreads>,
) -> Result<ProcessDump> {
    read_dump_filtered(source, python, threads, options, native, None)
}

/// `read_dump` of the threads `filter` keeps (`--thread-name`, `--tid`): the others' frames are
/// not walked, and they are not in the dump.
pub fn read_dump_filtered(
    source: &dyn ProcessSource,
    python: &Python,
    threads: &[ThreadEntry],
    options: DumpOptions,
    mut native: Option<&mut dyn NativeThreads>,
    filter: Option<&ThreadFilter>,
) -> Result<ProcessDump> {
    let memory = source.memory();
    let tid_map = TidMap::new(threads);
    let python_names = ThreadNames::default().read(memory, &python.layout, python.runtime_addr);
    let keep = |thread: &PyThread| filter.is_none_or(|f| keeps(f, thread, &tid_map, threads, &python_names));
    let mut reader = StackReader::default();
    let stacks = reader.read_filtered(memory, python, tid_map.inner(), ReadOptions { locals: options.locals }, &keep)?;
    let cwd = source.cwd().unwrap_or_default();
    let frame_dump = |f: StackFrame| FrameDump {
        name: f.code.name.clone(),
        filename: f.code.filename.clone(),
        short_filename: short_filename(&f.code.filename, &cwd),
        line: f.line,
        locals: options.locals.then(|| f.locals.unwrap_or_default()),
        kind: FrameKind::Python,
    };
    let loops = match options.asyncio {
        true => {
            let loops =
                read_loops(source, python, &stacks, &mut reader, &tid_map, |f| FrameDump { locals: None, ..frame_dump(f) })?;
            // `stacks` holds only the threads a filter kept: a loop no kept thread runs is another
            // thread's or none's, and a thread filter shows neither.
            Some(loops.into_iter().filter(|l| filter.is_none() || l.native_thread_id.is_some()).collect())
        }
        false => None,
    };
    let mut dumps = Vec::with_capacity(stacks.len());
    for stack in stacks {
        // A thread whose frames cannot be read fails the dump: a dump is a picture of one moment,
        // and leaving a thread out would misstate it.
        let frames = stack.frames?;
        let tid = tid_map.to_outer(stack.thread.native_thread_id);
        let entry = threads.iter().find(|t| t.tid == tid && tid != 0);
        let frames = match native.as_deref_mut() {
            None => frames.into_iter().map(&frame_dump).collect(),
            Some(native) => {
                let raw: Vec<_> = frames.iter().map(|f| f.raw).collect();
                let merged = native.merged(tid, &raw);
                let mut python: Vec<Option<StackFrame>> = frames.into_iter().map(Some).collect();
                merged
                    .frames
                    .into_iter()
                    .filter_map(|m| match m {
                        MergedFrame::Python(i) => python.get_mut(i).and_then(Option::take).map(&frame_dump),
                        MergedFrame::Native { symbol, inline } => Some(native_frame(NativeFrameDisplay::of(&symbol, inline))),
                        MergedFrame::Incomplete(reason) => Some(native_frame(NativeFrameDisplay {
                            name: crate::native::Incomplete::MARKER.into(),
                            file: reason.reason().into(),
                            line: 0,
                            resolved: true,
                        })),
                    })
                    .collect()
            }
        };
        dumps.push(ThreadDump {
            native_thread_id: u64::from(tid),
            python_thread_id: stack.thread.python_thread_id,
            name: thread_names::display_name(
                python_names.get(&stack.thread.python_thread_id).map(String::as_str),
                entry.and_then(|e| e.kernel_name.as_deref()),
            ),
            active: entry.is_some_and(|e| e.state == ThreadState::Running),
            owns_gil: stack.thread.owns_gil,
            frames,
        });
    }
    Ok(ProcessDump {
        pid: source.pid(),
        python_version: python.version.to_string(),
        free_threaded: python.build().free_threaded,
        executable: source.executable()?,
        command_line: source.command_line(),
        threads: dumps,
        loops,
    })
}

/// Every event loop and its tasks, from the stacks just read.
fn read_loops(
    source: &dyn ProcessSource,
    python: &Python,
    stacks: &[ThreadStack],
    reader: &mut StackReader,
    tid_map: &TidMap,
    frame_dump: impl Fn(StackFrame) -> FrameDump,
) -> Result<Vec<LoopDump>> {
    let failed = |e: Error| Error::new(e.kind, format!("--async: {e}"));
    let mut tasks = TaskReader::new(python)?;
    if let Some(words) = asyncio::published_offsets(source)?.filter(|_| python.layout.minor >= 14) {
        tasks.use_published_offsets(&words).map_err(failed)?;
    }
    let snapshot = tasks.snapshot(source.memory(), python, stacks, reader).map_err(failed)?;
    Ok(snapshot
        .loops
        .into_iter()
        .map(|l| LoopDump {
            address: l.addr,
            loop_type: l.type_name,
            native_thread_id: l.thread.map(|i| u64::from(tid_map.to_outer(stacks[i].thread.native_thread_id))),
            running_task: l.running_task,
            tasks: l
                .tasks
                .into_iter()
                .map(|t| TaskDump {
                    address: t.addr,
                    name: t.name,
                    default_name: t.default_name,
                    state: t.state.as_str(),
                    coroutine_stack: t.coroutine_stack.into_iter().map(&frame_dump).collect(),
                    awaited_by: t.awaited_by,
                })
                .collect(),
        })
        .collect())
}

/// Whether `filter` keeps `thread`, by its TID and by its name now: Python's, else the kernel's.
fn keeps(
    filter: &ThreadFilter,
    thread: &PyThread,
    tid_map: &TidMap,
    threads: &[ThreadEntry],
    python_names: &FxHashMap<u64, String>,
) -> bool {
    let tid = tid_map.to_outer(thread.native_thread_id);
    let kernel_name = threads.iter().find(|t| t.tid == tid && tid != 0).and_then(|t| t.kernel_name.as_deref());
    let name = python_names.get(&thread.python_thread_id).map(String::as_str).or(kernel_name);
    tid != 0 && filter.keeps(tid, name)
}

/// The threads (our ids, sorted) `filter` keeps, read without walking any frame: for pausing only
/// those before a dump.
pub fn threads_kept(
    source: &dyn ProcessSource,
    python: &Python,
    threads: &[ThreadEntry],
    filter: &ThreadFilter,
) -> Result<Vec<u32>> {
    let memory = source.memory();
    let tid_map = TidMap::new(threads);
    let names = ThreadNames::default().read(memory, &python.layout, python.runtime_addr);
    let mut kept: Vec<u32> =
        threads::read_threads(memory, &python.layout, python.runtime_addr, python.tstate_current_addr, tid_map.inner())?
            .iter()
            .filter(|t| keeps(filter, t, &tid_map, threads, &names))
            .map(|t| tid_map.to_outer(t.native_thread_id))
            .collect();
    kept.sort_unstable();
    kept.dedup();
    Ok(kept)
}

fn native_frame(shown: NativeFrameDisplay) -> FrameDump {
    let short = shown.file.rsplit('/').next().unwrap_or(&shown.file).to_string();
    FrameDump {
        name: shown.name,
        filename: shown.file,
        short_filename: short,
        line: shown.line,
        locals: None,
        kind: FrameKind::Native,
    }
}

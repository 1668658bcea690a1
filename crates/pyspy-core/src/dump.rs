//! `dump`: every thread's stack of a process at one moment, read from any `ProcessSource`. A live
//! process is paused around this by `pyspy-live`; a core file is a moment already.

use crate::native::{MergedFrame, NativeFrameDisplay, NativeThreads};
use crate::paths::short_filename;
use crate::process::{ProcessSource, ThreadEntry, ThreadState, TidMap};
use crate::profile::FrameKind;
use crate::python::locals::LocalVariable;
use crate::python::thread_filter::ThreadFilter;
use crate::python::thread_names::{self, ThreadNames};
use crate::python::threads::{self, PyThread};
use crate::python::{Python, ReadOptions, StackReader};
use crate::Result;
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, Default)]
pub struct DumpOptions {
    /// Also read each frame's local variables (short previews: see `python::objects`).
    pub locals: bool,
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
    let stacks =
        StackReader::default().read_filtered(memory, python, tid_map.inner(), ReadOptions { locals: options.locals }, &keep)?;
    let cwd = source.cwd().unwrap_or_default();
    let mut dumps = Vec::with_capacity(stacks.len());
    for stack in stacks {
        // A thread whose frames cannot be read fails the dump: a dump is a picture of one moment,
        // and leaving a thread out would misstate it.
        let frames = stack.frames?;
        let tid = tid_map.to_outer(stack.thread.native_thread_id);
        let entry = threads.iter().find(|t| t.tid == tid && tid != 0);
        let python_frame = |f: crate::python::StackFrame| FrameDump {
            name: f.code.name.clone(),
            filename: f.code.filename.clone(),
            short_filename: short_filename(&f.code.filename, &cwd),
            line: f.line,
            locals: options.locals.then(|| f.locals.unwrap_or_default()),
            kind: FrameKind::Python,
        };
        let frames = match native.as_deref_mut() {
            None => frames.into_iter().map(python_frame).collect(),
            Some(native) => {
                let raw: Vec<_> = frames.iter().map(|f| f.raw).collect();
                let merged = native.merged(tid, &raw);
                let mut python: Vec<Option<crate::python::StackFrame>> = frames.into_iter().map(Some).collect();
                merged
                    .frames
                    .into_iter()
                    .filter_map(|m| match m {
                        MergedFrame::Python(i) => python.get_mut(i).and_then(Option::take).map(python_frame),
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
    })
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

//! `dump` of a live process: its threads' states first, then every thread paused (unless
//! nonblocking) while pyspy-core reads the stacks. With `--subprocesses`, every Python process
//! descended from it too; with `--thread-name`/`--tid`, only the threads kept are paused and read
//! (all are paused for `--async`, whose tasks any thread may change).

use pyspy_core::dump::{read_dump_filtered, threads_kept, DumpOptions, ProcessDump};
use pyspy_core::process::ProcessSource;
use pyspy_core::python::thread_filter::ThreadFilter;
use pyspy_core::{ErrorKind, Result};

use crate::process::{linux, PausedProcess};
use crate::python::PythonProcess;

/// `native`: merge each thread's native frames in (`--native`), showing the interpreter's own
/// too with `native_all`; needs `blocking`.
pub fn dump(pid: u32, options: DumpOptions, blocking: bool, native: bool, native_all: bool) -> Result<ProcessDump> {
    dump_filtered(pid, options, blocking, native, native_all, None)
}

/// `dump` of the threads `filter` keeps.
pub fn dump_filtered(
    pid: u32,
    options: DumpOptions,
    blocking: bool,
    native: bool,
    native_all: bool,
    filter: Option<&ThreadFilter>,
) -> Result<ProcessDump> {
    crate::sampler::check_native(native, native_all, !blocking)?;
    let target = PythonProcess::open(pid)?;
    if native {
        crate::sampler::check_native_against(&target.python)?;
    }
    // Scheduler states first: once we pause the threads they all read as "traced".
    let threads = target.process.threads()?;
    let mut live_native = native.then(|| {
        let mut live = crate::native::LiveNative::new(&target, native_all);
        live.begin();
        live
    });
    let _paused = match (blocking, filter) {
        (false, _) => None,
        // The task registry and the loops are the whole process's, and a running thread of
        // another loop changes them under the read: --async pauses every thread, filter or not.
        (true, Some(filter)) if !options.asyncio => {
            let kept = threads_kept(&target.process, &target.python, &threads, filter)?;
            Some(PausedProcess::pause_threads(&target.process, &kept)?)
        }
        (true, _) => Some(PausedProcess::pause(&target.process)?),
    };
    // Only the threads read are captured: the native stage asks for a thread's registers when
    // the read pipeline hands it that thread's frames, and the filter hands it only those kept.
    let mut stage = live_native.as_mut().map(|native| crate::native::DumpNative { native });
    let stage = stage.as_mut().map(|s| s as &mut dyn pyspy_core::native::NativeThreads);
    read_dump_filtered(&target.process, &target.python, &threads, options, stage, filter)
}

/// `dump --subprocesses`: the process, then each Python process descended from it (by PID),
/// each paused on its own while it is read. Descendants that are not Python (a shell in between,
/// a helper binary, an interpreter too old), or that end while we get to them, are left out.
pub fn dump_tree(
    pid: u32,
    options: DumpOptions,
    blocking: bool,
    native: bool,
    native_all: bool,
    filter: Option<&ThreadFilter>,
) -> Result<Vec<ProcessDump>> {
    let mut dumps = vec![dump_filtered(pid, options, blocking, native, native_all, filter)?];
    for child in linux::descendants(pid) {
        match dump_filtered(child, options, blocking, native, native_all, filter) {
            Ok(d) => dumps.push(d),
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::NotPython | ErrorKind::ProcessNotFound | ErrorKind::ProcessExited | ErrorKind::UnsupportedVersion
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(dumps)
}

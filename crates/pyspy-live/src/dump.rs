//! `dump` of a live process: its threads' states first, then every thread paused (unless
//! nonblocking) while pyspy-core reads the stacks. With `--subprocesses`, every Python process
//! descended from it too; with `--thread-name`/`--tid`, only the threads kept are paused and read.

use pyspy_core::dump::{read_dump_filtered, threads_kept, DumpOptions, ProcessDump};
use pyspy_core::process::ProcessSource;
use pyspy_core::python::thread_filter::ThreadFilter;
use pyspy_core::{ErrorKind, Result};

use crate::process::{linux, PausedProcess};
use crate::python::PythonProcess;

pub fn dump(pid: u32, options: DumpOptions, blocking: bool) -> Result<ProcessDump> {
    dump_filtered(pid, options, blocking, None)
}

/// `dump` of the threads `filter` keeps.
pub fn dump_filtered(pid: u32, options: DumpOptions, blocking: bool, filter: Option<&ThreadFilter>) -> Result<ProcessDump> {
    let target = PythonProcess::open(pid)?;
    // Scheduler states first: once we pause the threads they all read as "traced".
    let threads = target.process.threads()?;
    let _paused = match (blocking, filter) {
        (false, _) => None,
        (true, None) => Some(PausedProcess::pause(&target.process)?),
        (true, Some(filter)) => {
            let kept = threads_kept(&target.process, &target.python, &threads, filter)?;
            Some(PausedProcess::pause_threads(&target.process, &kept)?)
        }
    };
    read_dump_filtered(&target.process, &target.python, &threads, options, filter)
}

/// `dump --subprocesses`: the process, then each Python process descended from it (by PID),
/// each paused on its own while it is read. Descendants that are not Python (a shell in between,
/// a helper binary, an interpreter too old), or that end while we get to them, are left out.
pub fn dump_tree(pid: u32, options: DumpOptions, blocking: bool, filter: Option<&ThreadFilter>) -> Result<Vec<ProcessDump>> {
    let mut dumps = vec![dump_filtered(pid, options, blocking, filter)?];
    for child in linux::descendants(pid) {
        match dump_filtered(child, options, blocking, filter) {
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

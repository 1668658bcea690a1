//! `dump` of a live process: its threads' states first, then every thread paused (unless
//! nonblocking) while pyspy-core reads the stacks.

use pyspy_core::dump::{read_dump, DumpOptions, ProcessDump};
use pyspy_core::process::ProcessSource;
use pyspy_core::Result;

use crate::process::PausedProcess;
use crate::python::PythonProcess;

pub fn dump(pid: u32, options: DumpOptions, blocking: bool) -> Result<ProcessDump> {
    let target = PythonProcess::open(pid)?;
    // Scheduler states first: once we pause the threads they all read as "traced".
    let threads = target.process.threads()?;
    let _paused = if blocking { Some(PausedProcess::pause(&target.process)?) } else { None };
    read_dump(&target.process, &target.python, &threads, options)
}

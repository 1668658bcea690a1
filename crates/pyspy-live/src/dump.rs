//! `dump` of a live process: its threads' states first, then every thread paused (unless
//! nonblocking) while pyspy-core reads the stacks.

use pyspy_core::dump::{read_dump, DumpOptions, ProcessDump};
use pyspy_core::process::ProcessSource;
use pyspy_core::Result;

use crate::process::PausedProcess;
use crate::python::PythonProcess;

/// `native`: merge each thread's native frames in (`--native`), showing the interpreter's own
/// too with `native_all`; needs `blocking`.
pub fn dump(pid: u32, options: DumpOptions, blocking: bool, native: bool, native_all: bool) -> Result<ProcessDump> {
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
    let _paused = if blocking { Some(PausedProcess::pause(&target.process)?) } else { None };
    let mut stage = live_native.as_mut().map(|native| crate::native::DumpNative { native });
    let stage = stage.as_mut().map(|s| s as &mut dyn pyspy_core::native::NativeThreads);
    read_dump(&target.process, &target.python, &threads, options, stage)
}

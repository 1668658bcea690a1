//! Linux processes from outside: memory through `process_vm_readv`, everything else through
//! `/proc` (mappings, threads and their states, names, children, the working directory), and
//! pausing with ptrace. Nothing here knows CPython; pyspy-core does, through `ProcessSource`.

pub mod linux;
pub mod native_thread;
pub mod pause;
pub mod run_watch;
pub mod sched;
pub mod stat;

pub use linux::LinuxProcess;
pub use pause::PausedProcess;
pub use run_watch::RunWatch;
pub use stat::{SchedstatFiles, StatFiles, ThreadStates};

use pyspy_core::maps::MapEntry;
use pyspy_core::memory::Memory;
use pyspy_core::process::{MappedFile, ProcessSource, ThreadEntry, ThreadState};
use pyspy_core::{Error, Result};

impl ProcessSource for LinuxProcess {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn memory(&self) -> &dyn Memory {
        self
    }

    fn maps(&self) -> Result<Vec<MapEntry>> {
        LinuxProcess::maps(self)
    }

    fn executable(&self) -> Result<String> {
        self.exe()
    }

    /// Through `/proc/PID/root`, so that a target in a container (another mount namespace) works.
    fn read_mapped_file(&self, path: &str) -> Result<MappedFile> {
        let file = self.root_path(path);
        std::fs::File::open(&file)
            .map(MappedFile::File)
            .map_err(|e| Error::read_failed(format!("could not read {}: {e}", file.display())))
    }

    fn threads(&self) -> Result<Vec<ThreadEntry>> {
        let other_namespace = self.in_other_pid_namespace();
        Ok(self
            .tids()?
            .into_iter()
            .map(|tid| ThreadEntry {
                tid,
                namespace_tid: if other_namespace { self.namespace_tid(tid).unwrap_or(0) } else { tid },
                state: self.thread_state(tid).unwrap_or(ThreadState::Other),
                kernel_name: self.thread_name(tid),
            })
            .collect())
    }

    fn namespace_tids(&self) -> Result<Vec<u32>> {
        let tids = self.tids()?;
        if !self.in_other_pid_namespace() {
            return Ok(tids);
        }
        Ok(tids.iter().filter_map(|&t| self.namespace_tid(t)).collect())
    }

    fn command_line(&self) -> Vec<String> {
        self.cmdline().unwrap_or_default()
    }

    fn cwd(&self) -> Option<String> {
        LinuxProcess::cwd(self)
    }
}

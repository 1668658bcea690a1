//! A live Linux process opened as a Python process: the OS handle plus what pyspy-core located.

use pyspy_core::python::{self, Python};
use pyspy_core::Result;

use crate::process::LinuxProcess;

pub struct PythonProcess {
    pub process: LinuxProcess,
    pub python: Python,
    /// In a container: thread ids in the target's memory are its namespace's, not ours.
    pub other_pid_namespace: bool,
}

impl PythonProcess {
    /// `NotPython` also means "not yet": a launched program still exec'ing or loading libpython.
    pub fn open(pid: u32) -> Result<PythonProcess> {
        let process = LinuxProcess::open(pid)?;
        let python = python::locate(&process)?;
        let other_pid_namespace = process.in_other_pid_namespace();
        Ok(PythonProcess { process, python, other_pid_namespace })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid
    }
}

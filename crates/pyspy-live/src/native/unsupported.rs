//! Where `--native` has no unwinder yet (`RecordOptions::check` refuses it there): the same
//! interface, capturing nothing.

use pyspy_core::native::{without_native, MergedStack};
use pyspy_core::python::frames::RawFrame;
use pyspy_core::{Error, Result};

use crate::python::PythonProcess;

pub struct LiveNative;

impl LiveNative {
    pub fn new(_target: &PythonProcess, _show_interpreter_frames: bool) -> LiveNative {
        LiveNative
    }

    pub fn begin(&mut self) {}

    pub fn capture(&mut self, _tid: u32) -> Result<usize> {
        Err(Error::read_failed("--native is supported on x86_64 Linux only, for now"))
    }

    pub fn merge(&mut self, _capture: Option<usize>, python: &[RawFrame]) -> MergedStack {
        without_native(python.len())
    }
}

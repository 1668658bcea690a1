//! `LiveNative` on x86_64: registers from PTRACE_GETREGS, unwound with `native::X86_64`.

use std::time::{Duration, Instant};

use pyspy_core::maps::MapEntry;
use pyspy_core::native::{
    mappings_from_maps, without_native, MergedStack, NativeReader, NativeStack, RegistersX86_64, StackCopy, UnwindStop, X86_64,
};
use pyspy_core::python::frames::RawFrame;
use pyspy_core::{Error, Result};

use crate::process::native_thread::{thread_registers, LinuxModuleProvider};
use crate::process::LinuxProcess;
use crate::python::PythonProcess;

/// How much of a stack is copied at most. A copy ends at the end of the stack's mapping, which
/// for the main thread and for pthreads lies just past the frames in use (their environment, or
/// the thread's TLS), so a sample copies what the thread uses, up to this.
pub const MAX_STACK_COPY_BYTES: usize = 512 << 10;

/// How often the mappings are read again even when nothing asks for it.
const MAPS_REFRESH: Duration = Duration::from_secs(1);

/// How soon after a read unknown code may make us read the mappings again: a corrupted stack
/// or JIT code would otherwise have them read at every sample.
const MAPS_REFRESH_ON_UNKNOWN_CODE: Duration = Duration::from_millis(20);

struct Capture {
    registers: RegistersX86_64,
    base: u64,
    /// End of the mapping that holds the stack.
    stack_end: u64,
    bytes: Vec<u8>,
}

pub struct LiveNative {
    process: LinuxProcess,
    reader: NativeReader<X86_64>,
    provider: LinuxModuleProvider,
    /// As last read, sorted by address.
    maps: Vec<MapEntry>,
    maps_read_at: Option<Instant>,
    captures: Vec<Capture>,
    used: usize,
}

impl LiveNative {
    /// `show_interpreter_frames`: `--native-all`.
    pub fn new(target: &PythonProcess, show_interpreter_frames: bool) -> LiveNative {
        let process = target.process.clone();
        let mut interpreter = vec![target.python.runtime_binary.clone()];
        interpreter.extend(process.exe().ok());
        LiveNative {
            reader: NativeReader::new(interpreter, show_interpreter_frames),
            provider: LinuxModuleProvider::new(process.clone()),
            process,
            maps: Vec::new(),
            maps_read_at: None,
            captures: Vec::new(),
            used: 0,
        }
    }

    /// Starts a tick (call it before pausing: it may read the mappings).
    pub fn begin(&mut self) {
        self.used = 0;
        if self.maps_read_at.is_none_or(|at| at.elapsed() >= MAPS_REFRESH) {
            let _ = self.refresh_maps();
        }
    }

    fn refresh_maps(&mut self) -> Result<()> {
        let mut maps = self.process.maps()?;
        maps.sort_by_key(|m| m.start);
        self.reader.sync(&mappings_from_maps(&maps));
        self.maps = maps;
        self.maps_read_at = Some(Instant::now());
        Ok(())
    }

    fn mapping_end(&self, address: u64) -> Option<u64> {
        let i = self.maps.partition_point(|m| m.start <= address);
        self.maps[..i].last().filter(|m| m.contains(address)).map(|m| m.end)
    }

    /// While `tid` is held by this thread: its registers and the top of its stack. Returns the
    /// capture to give `merge`.
    pub fn capture(&mut self, tid: u32) -> Result<usize> {
        let registers = thread_registers(tid)?;
        let sp = registers.rsp;
        let stack_end = match self.mapping_end(sp) {
            Some(end) => end,
            None => {
                // A thread started since the mappings were read: its stack is new.
                self.refresh_maps()?;
                self.mapping_end(sp)
                    .ok_or_else(|| Error::read_failed(format!("stack pointer {sp:#x} of thread {tid} is in no mapping")))?
            }
        };
        if self.used == self.captures.len() {
            self.captures.push(Capture { registers, base: 0, stack_end: 0, bytes: Vec::new() });
        }
        let capture = &mut self.captures[self.used];
        capture.registers = registers;
        capture.base = sp;
        capture.stack_end = stack_end;
        let len = (stack_end - sp).min(MAX_STACK_COPY_BYTES as u64) as usize;
        capture.bytes.resize(len, 0);
        // The mappings are re-read only now and then, and a library loaded and unloaded beside
        // the stack changes where its mapping ends: keep what could be read (the unwind says
        // so if it needed more) and read the mappings again on the next tick.
        let read = self.process.read_prefix(sp, &mut capture.bytes)?;
        if read < len {
            capture.bytes.truncate(read);
            self.maps_read_at = None;
        }
        self.used += 1;
        Ok(self.used - 1)
    }

    /// The captured stack merged with the thread's Python frames (innermost first); `capture`
    /// None: the thread could not be captured, and its Python frames are kept, marked.
    pub fn merge(&mut self, capture: Option<usize>, python: &[RawFrame]) -> MergedStack {
        let Some(index) = capture.filter(|&c| c < self.used) else {
            return without_native(python.len());
        };
        let mut native = self.unwind(index);
        let unknown_code =
            matches!(native.stop, UnwindStop::OutsideModules { .. }) || native.frames.iter().any(|f| f.module.is_none());
        let may_refresh = self.maps_read_at.is_none_or(|at| at.elapsed() >= MAPS_REFRESH_ON_UNKNOWN_CODE);
        if unknown_code && may_refresh && self.refresh_maps().is_ok() {
            // Perhaps a module mapped since the last read (an import that loaded an extension):
            // the copy is ours, unwind it again.
            native = self.unwind(index);
        }
        let stack_end = self.captures[index].stack_end;
        self.reader.merge(&native, python, stack_end, &self.provider)
    }

    fn unwind(&mut self, index: usize) -> NativeStack {
        let LiveNative { reader, provider, captures, .. } = self;
        let capture = &captures[index];
        reader.unwind(&capture.registers, &StackCopy { base: capture.base, bytes: &capture.bytes }, provider)
    }
}

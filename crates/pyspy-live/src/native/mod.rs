//! `--native` for a live process: while a thread is held, its registers and the top of its stack
//! are copied (`capture`); once the target runs again, the copy is unwound and merged with the
//! thread's Python frames (`merge`), so the target is stopped only for the copy.
//!
//! The target's mappings are read again when an unwind reaches code outside every known module
//! (a `dlopen` since the last read: the same copy is then unwound again), when a stack pointer is
//! in no known mapping (a new thread), and once a second (a `dlclose`, a library replaced).

#[cfg(not(target_arch = "x86_64"))]
mod unsupported;
#[cfg(target_arch = "x86_64")]
mod x86_64;

use pyspy_core::native::{MergedStack, NativeThreads};
use pyspy_core::python::frames::RawFrame;

#[cfg(not(target_arch = "x86_64"))]
pub use unsupported::LiveNative;
#[cfg(target_arch = "x86_64")]
pub use x86_64::{LiveNative, MAX_STACK_COPY_BYTES};

/// For `dump --native`: every thread is held for the whole read, so each is captured when asked.
pub struct DumpNative<'a> {
    pub native: &'a mut LiveNative,
}

impl NativeThreads for DumpNative<'_> {
    fn merged(&mut self, tid: u32, python: &[RawFrame]) -> MergedStack {
        let capture = self.native.capture(tid).ok();
        self.native.merge(capture, python)
    }
}

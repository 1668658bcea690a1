//! pyspy-live: reads live CPython processes on Linux and samples them. The operating system's
//! part of pyspy-ts (process_vm_readv, /proc, ptrace); what the bytes mean is pyspy-core's.

pub mod core_dump;
pub mod dump;
pub mod native;
pub mod process;
pub mod python;
pub mod sampler;

pub use core_dump::dump_core_file;
pub use dump::{dump, dump_filtered, dump_tree};
pub use python::PythonProcess;
pub use sampler::{RecordOptions, Sampler};

/// Gives the operating system back the memory freed since the last call, such as a finished
/// record's once its profile has been handed over. glibc keeps freed memory in the arena of the
/// thread that allocated it, here the sampling thread's, and returns little of it on its own: a
/// record of 77,000 stacks left about 20 MB resident and unused while the profile was rendered.
pub fn release_freed_memory() {
    // SAFETY: malloc_trim has no preconditions; it only returns free pages of glibc's arenas.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
}

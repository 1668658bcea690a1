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

//! pyspy-live: reads live CPython processes on Linux and samples them. The operating system's
//! part of pyspy-ts (process_vm_readv, /proc, ptrace); what the bytes mean is pyspy-core's.

pub mod dump;
pub mod process;
pub mod python;
pub mod sampler;

pub use dump::{dump, dump_filtered, dump_tree};
pub use python::PythonProcess;
pub use sampler::{RecordOptions, Sampler};

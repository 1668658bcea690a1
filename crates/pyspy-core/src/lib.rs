//! pyspy-core: reads a running CPython process's thread stacks from outside, without running any
//! code in it. Pure Rust; the napi binding in `crates/pyspy-napi` only converts types.

pub mod binary;
pub mod error;
pub mod process;
pub mod profile;
pub mod python;
pub mod sampler;

pub use error::{Error, ErrorKind, Result};
pub use profile::Profile;
pub use python::dump::{dump, DumpOptions, FrameDump, LocalVariable, ProcessDump, ThreadDump};
pub use sampler::{RecordOptions, Sampler};

//! pyspy-core: turns the memory of a CPython process into thread stacks, and stacks into profiles.
//! No operating system here (no /proc, no ptrace, no libc): it reads through the `Memory` and
//! `ProcessSource` traits, so it serves live processes (`pyspy-live`), core files, and WASM.

pub mod binary;
pub mod core_file;
pub mod dump;
pub mod error;
pub mod maps;
pub mod memory;
pub mod native;
pub mod paths;
pub mod process;
pub mod profile;
pub mod python;

pub use dump::{read_dump, read_dump_filtered, DumpOptions, FrameDump, LoopDump, ProcessDump, TaskDump, ThreadDump};
pub use error::{Error, ErrorKind, Result};
pub use profile::Profile;
pub use python::locals::LocalVariable;

//! Understanding CPython from outside: which version, where its runtime lives, and how to walk
//! its interpreters, threads, frames and code objects.

pub mod asyncio;
pub mod asyncio_layout;
pub mod asyncio_layouts;
pub mod builds;
pub mod code;
pub mod debug_offsets;
pub mod debug_offsets_positions;
pub mod dicts;
pub mod frames;
pub mod gc;
pub mod layout;
pub mod layouts;
pub mod line_table;
pub mod locals;
pub mod locate;
pub mod objects;
pub mod runtime_scan;
pub mod scalar_reprs;
pub mod stacks;
pub mod strings;
pub mod thread_filter;
pub mod thread_names;
pub mod threads;
pub mod version;

pub use locate::{locate, Python};
pub use stacks::{ReadOptions, StackFrame, StackReader, ThreadStack};
pub use version::Version;

//! Native stacks without an operating system: registers + a copy of the top of the stack + the
//! mapped modules' images in, return addresses out (`unwind`), then names, files and lines for
//! them (`symbols`), then the CPython eval-loop frames replaced by the Python frames they run
//! (`merge`). The same code serves a live process, a core dump and WASM: whoever calls it reads
//! registers, stack bytes and module images (see `ModuleProvider`); nothing here touches /proc,
//! ptrace or libc.
//!
//! Shaped like samply's framehop/wholesym split: `Unwinder` knows only unwind tables, `Symbolizer`
//! only symbols and DWARF; both are kept in step with the target's mappings by `ModuleMap`.

pub mod arch;
mod cfa_expression;
mod elf;
pub mod merge;
pub mod modules;
pub mod reader;
pub mod symbols;
pub mod unwind;

pub use arch::x86_64::{RegistersX86_64, X86_64};
pub use arch::Arch;
pub use merge::{classify, merge_stacks, MergeOutcome, MergedRef, NativeMergeFrame, NativeRole, PythonFrameEntry};
pub use modules::{Mapping, ModuleChanges, ModuleId, ModuleInfo, ModuleMap};
pub use reader::{mappings_from_maps, without_native, Incomplete, MergedFrame, MergedStack, NativeFrameDisplay, NativeReader};
pub use symbols::{FrameSymbol, SymbolInfo, Symbolizer};
pub use unwind::{FrameMethod, NativeFrame, NativeStack, StackCopy, UnwindStop, Unwinder};

/// Random access to one module's bytes: an ELF file on disk, the vdso in target memory, a file
/// inside a core dump. Only the parts that are needed are read (headers, unwind tables, symbols;
/// DWARF once a line is asked for), so a multi-megabyte library is never copied whole.
pub trait ImageBytes {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fill `buf` from `offset`; false when that range cannot be read.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> bool;
}

impl ImageBytes for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> bool {
        let Ok(start) = usize::try_from(offset) else { return false };
        match self.get(start..start.saturating_add(buf.len())) {
            Some(src) if src.len() == buf.len() => {
                buf.copy_from_slice(src);
                true
            }
            _ => false,
        }
    }
}

/// What the caller knows how to open. Implemented by the Linux glue for live processes (files
/// through /proc/PID/root, the vdso from target memory) and, later, by the core-dump reader.
pub trait ModuleProvider {
    /// The image of a mapped module.
    fn open_image(&self, module: &ModuleInfo) -> Option<Box<dyn ImageBytes>>;
    /// A separate debug file, tried in the order given: paths as the target would see them,
    /// e.g. `/usr/lib/debug/.build-id/ab/cdef….debug` (see `symbols::debug_file_candidates`).
    fn open_debug_file(&self, path: &str) -> Option<Box<dyn ImageBytes>>;
}

/// A thread's native stack merged with its Python frames, from whatever holds its registers and
/// stack (a live process's held threads, a core's notes). `dump --native` asks through this.
pub trait NativeThreads {
    /// `tid` as we see it; `python`: its Python frames, innermost first.
    fn merged(&mut self, tid: u32, python: &[crate::python::frames::RawFrame]) -> MergedStack;
}

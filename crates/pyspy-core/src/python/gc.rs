//! The cyclic garbage collector running, for the `<GC>` pseudo-frame: each interpreter (3.7-3.8:
//! the runtime) has a `collecting` flag, set from the start of a collection to its end, callbacks
//! included. A collection runs on the thread holding the GIL, on top of whatever Python code
//! allocated the object that started it.

use crate::memory::{at, Memory, MemoryExt};
use crate::python::layout::Layout;

/// Whether the collector of interpreter `interp` is running. A flag that cannot be read (or a build
/// whose table has no place for it) says no: a sample is not lost over it.
pub fn collecting(memory: &dyn Memory, layout: &Layout, runtime_addr: u64, interp: u64) -> bool {
    let addr = match (layout.interp_gc_collecting, layout.runtime_gc_collecting) {
        (Some(offset), _) => at(interp, offset),
        (None, Some(offset)) => at(runtime_addr, offset),
        (None, None) => return false,
    };
    memory.read_i32(addr).is_ok_and(|flag| flag != 0)
}

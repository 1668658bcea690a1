//! Well-formed CPython memory images of every build pyspy-ts reads (`layouts::BUILDS`: 2.7 to
//! 3.15, free-threaded ones too), planted from a small `Program` (threads, frames, code objects
//! with line tables, locals, `threading._active`, 3.13+ `_Py_DebugOffsets`), and what reading one
//! back through pyspy-core must give. pyspy-core's tests check that every build's image reads
//! back exactly; the fuzz target patches images and checks that nothing breaks.
//!
//! Modules depend one way: `rng` ← `line_tables` ← `program` (← `values`) ← `builder` → `memory`.

pub mod builder;
pub mod line_tables;
pub mod memory;
pub mod program;
pub mod readback;
pub mod rng;
pub mod task_readback;
pub mod tasks;
pub mod values;

pub use builder::{build, Planted};
pub use memory::PlantedMemory;
pub use program::{generate, Program};
use pyspy_core::python::layout::Build;
pub use readback::{assert_bounded, expected, python_of, read_back, FrameRead, ThreadRead};

/// A planted image with the program it holds.
pub struct Image {
    pub program: Program,
    pub memory: PlantedMemory,
    pub planted: Planted,
}

impl Image {
    /// The image `generate(build, threads_and_depth, seed)` describes; `at_the_top` maps it at the
    /// very top of the address space, where any unchecked `addr + offset` overflows.
    pub fn new(build: Build, threads_and_depth: u8, seed: u16, at_the_top: bool) -> Image {
        let program = generate(build, threads_and_depth, seed);
        let (memory, planted) = builder::build(&program, at_the_top);
        Image { program, memory, planted }
    }
}

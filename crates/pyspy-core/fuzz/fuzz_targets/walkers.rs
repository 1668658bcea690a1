//! See src/lib.rs for what an input means and what must hold.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pyspy_core_fuzz::run(data));

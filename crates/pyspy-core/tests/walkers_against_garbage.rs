//! The walkers against memory that is not a CPython: random bytes whose words often point back
//! into the same region, so every list and chain they follow can loop, branch or end anywhere.
//! What must hold for every layout: no panic (debug builds check arithmetic overflow too), an end
//! in bounded time, and bounded allocations (strings, tuples and line tables have caps).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use pyspy_core::memory::Memory;
use pyspy_core::python::layout::Build;
use pyspy_core::python::thread_names::{self, ThreadNames};
use pyspy_core::python::version::{Release, Version};
use pyspy_core::python::{layouts, objects, Python, StackReader};
use pyspy_core::{Error, ErrorKind, Result};
use pyspy_testkit::readback;

/// A mapped region of pseudo-random words; anything outside it is unmapped.
struct Garbage {
    seed: u64,
    base: u64,
    len: u64,
    /// Share of words (out of 256) that point into the region.
    pointer_share: u64,
}

fn mix(mut x: u64) -> u64 {
    // splitmix64: cheap, well spread, deterministic per address.
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Garbage {
    fn word(&self, aligned: u64) -> u64 {
        let h = mix(self.seed ^ aligned);
        if h & 0xff < self.pointer_share {
            self.base + ((mix(h) % self.len) & !7)
        } else if h & 0x100 != 0 {
            // Small integers: sizes, lengths, flags and kinds that look almost plausible.
            mix(h) % 64
        } else {
            mix(h)
        }
    }
}

impl Memory for Garbage {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let inside = addr.checked_sub(self.base).is_some_and(|offset| offset.saturating_add(buf.len() as u64) <= self.len);
        if !inside {
            return Err(Error::new(ErrorKind::ReadFailed, "unmapped"));
        }
        for (i, byte) in buf.iter_mut().enumerate() {
            let at = addr.wrapping_add(i as u64);
            *byte = self.word(at & !7).to_le_bytes()[(at & 7) as usize];
        }
        Ok(())
    }
}

/// What a dump does, through the same read pipeline: threads, frames, code objects, lines and
/// locals; then a few reprs of whatever the frames point at.
fn walk_everything(memory: &Garbage, build: Build, runtime_offset: u64) {
    let runtime_addr = memory.base + ((runtime_offset % memory.len) & !7);
    let version = Version { major: build.major, minor: build.minor, patch: 0, release: Release::Final };
    // 2.7 and 3.6 also read the GIL holder from a global: anywhere, here.
    let tstate_current_addr = build.layout().unwrap().tstate_current_symbol.map(|_| runtime_addr ^ 0x18);
    let python =
        Python { version, layout: *build.layout().unwrap(), runtime_addr, runtime_binary: String::new(), tstate_current_addr };
    let Ok(read) = readback::read_back(memory, &python, &[4242], &mut StackReader::default()) else { return };
    readback::assert_bounded(&read);
    for frame in read.iter().filter_map(|t| t.frames.as_ref()).flatten().take(256) {
        let _ = objects::short_repr(memory, &python.layout, frame.code_addr);
    }
}

/// Any of the builds pyspy-ts reads.
fn any_build() -> impl Strategy<Value = Build> {
    proptest::sample::select(layouts::BUILDS)
}

proptest! {
    // Cases per property: 256, or PROPTEST_CASES when set (scripts/test.sh raises it: a bounded fuzz
    // pass in CI). Proptest applies the variable to its default config only, so a `cases` written
    // here would silently override it.
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn walkers_survive_random_memory(
        seed in any::<u64>(),
        build in any_build(),
        len_pages in 1u64..64,
        pointer_share in 0u64..256,
        runtime_offset in any::<u64>(),
    ) {
        let memory = Garbage { seed, base: 0x5555_0000_0000, len: len_pages * 4096, pointer_share };
        let started = Instant::now();
        walk_everything(&memory, build, runtime_offset);
        prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    /// Thread names cross dicts of every layout and instances' attributes: from the runtime (as
    /// `dump` and `record` start), and from a random address taken for `threading._active`, since
    /// garbage never holds a "threading" key to get that far.
    #[test]
    fn thread_names_survive_random_memory(
        seed in any::<u64>(),
        build in any_build(),
        len_pages in 1u64..64,
        pointer_share in 0u64..256,
        start_offset in any::<u64>(),
    ) {
        let memory = Garbage { seed, base: 0x5555_0000_0000, len: len_pages * 4096, pointer_share };
        let layout = build.layout().unwrap();
        let start = memory.base + ((start_offset % memory.len) & !7);
        let started = Instant::now();
        let _ = ThreadNames::default().read(&memory, layout, start);
        let _ = thread_names::names_in_active_dict(&memory, layout, start);
        prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    /// The region at the very top of the address space: any unchecked `addr + offset` overflows.
    #[test]
    fn walkers_survive_pointers_near_the_top_of_the_address_space(seed in any::<u64>(), build in any_build()) {
        let len = 16 * 4096;
        let memory = Garbage { seed, base: u64::MAX - len + 1, len, pointer_share: 200 };
        walk_everything(&memory, build, seed);
    }
}

//! The `walkers` fuzz target: a fuzz input is a small header that picks a CPython build and a
//! program to plant (threads, frames, code objects, locals), then patches applied on top of that
//! well-formed image. Starting from a valid image is what lets libFuzzer reach deep paths: random
//! memory almost never gets past the first pointer (tests/walkers_against_garbage.rs shows it).
//! Each input is read as a dump reads a process: threads, frames, code objects, lines, locals and
//! thread names, and (3.13+) the layout from the image's own `_Py_DebugOffsets`; and when the
//! program has asyncio tasks, as `dump --async` and `record --async --idle` read them.
//!
//! The images come from `pyspy-testkit`, and are read through pyspy-core's own read pipeline
//! (`StackReader::read`, as the sampler and `dump` do), so the fuzzer tests what ships.
//!
//! Input: `[build: index into layouts::BUILDS] [flags] [threads and depth] [seed: 2 bytes LE]`, then 12-byte patches
//! (`[op] [position: 3 bytes LE] [value: 8 bytes LE]`, see `memory::Patch`); a short header reads
//! as zeros, so every input is valid. Flags: bit 0 puts the image at the very top of the address
//! space, bit 1 reads it again through the sampler's block cache (two samples), bit 2 searches it
//! for `_PyRuntime` as for a stripped binary, bit 3 does that search without a known version.
//!
//! What must hold for any input: no panic (overflow checks are on), an end in bounded time and
//! bounded memory (libFuzzer's -timeout and -rss_limit_mb), and bounded results. An input without
//! patches must also read back exactly as planted: names, lines, locals, through every path.

use std::collections::BTreeMap;

use pyspy_core::maps::parse_maps;
use pyspy_core::memory::BlockCache;
use pyspy_core::python::thread_names::ThreadNames;
use pyspy_core::python::{layouts, runtime_scan, StackReader};
use pyspy_testkit::memory::{Patch, PATCH_LEN};
use pyspy_testkit::Image;
use pyspy_testkit::{readback, task_readback};

pub const HEADER_LEN: usize = 5;

const AT_THE_TOP: u8 = 1;
const THROUGH_THE_BLOCK_CACHE: u8 = 2;
const SEARCH_FOR_THE_RUNTIME: u8 = 4;
const SEARCH_WITHOUT_A_VERSION: u8 = 8;

/// Where the scan is told the runtime's binary is mapped.
const BINARY_PATH: &str = "/usr/bin/python3";

pub fn run(data: &[u8]) {
    let mut header = [0u8; HEADER_LEN];
    let header_len = data.len().min(HEADER_LEN);
    header[..header_len].copy_from_slice(&data[..header_len]);
    let [build, flags, threads_and_depth, seed_low, seed_high] = header;
    let build = layouts::BUILDS[build as usize % layouts::BUILDS.len()];
    let Image { program, mut memory, planted } =
        Image::new(build, threads_and_depth, u16::from_le_bytes([seed_low, seed_high]), flags & AT_THE_TOP != 0);
    let patches = data[header_len..].chunks_exact(PATCH_LEN);
    let intact = patches.len() == 0;
    for raw in patches {
        memory.apply(&Patch::decode(raw.try_into().unwrap()));
    }

    // 3.13+ read their layout from the target, as `python::locate` does; one it refuses still
    // gets walked with the static table, for the fuzzer's sake.
    let python = readback::python_of(&memory, &planted, build).unwrap_or_else(|e| {
        assert!(!intact, "planted _Py_DebugOffsets refused: {e}");
        readback::python_with_static_layout(&planted, build)
    });

    // One reader across every read, as the sampler keeps one: its caches are checked by fingerprint.
    let mut reader = StackReader::default();
    let direct = readback::read_back(&memory, &python, &planted.tids, &mut reader);
    if let Ok(read) = &direct {
        readback::assert_bounded(read);
    }
    if intact {
        let direct = direct.as_ref().expect("an intact image is readable");
        assert_eq!(direct, &readback::expected(&program, &planted, &python.layout), "{build} read back");
    }
    if program.tasks.is_some() {
        // Loops and tasks, every waiting task's path: bounded whatever the patches did.
        let read = task_readback::read_tasks(&memory, &python, &planted.tids, &mut reader);
        if intact {
            let expected = task_readback::expected_tasks(&program, &planted, &python.layout);
            assert_eq!(read.expect("an intact image's tasks are readable"), expected, "{build} tasks read back");
        }
    }
    // Twice, as the sampler reads them again every second: the second read starts from the
    // `_active` dict the first one found.
    let mut thread_names = ThreadNames::default();
    for _ in 0..2 {
        let names = thread_names.read(&memory, &python.layout, planted.runtime);
        if intact {
            assert_eq!(names.into_iter().collect::<BTreeMap<_, _>>(), planted.thread_names, "thread names of {build}");
        }
    }

    if flags & THROUGH_THE_BLOCK_CACHE != 0 {
        let mut blocks = BlockCache::default();
        // The second sample starts by reading ahead the blocks the first one touched.
        for _ in 0..2 {
            let cached = readback::read_back(&blocks.over(&memory), &python, &planted.tids, &mut reader);
            if intact {
                assert_eq!(cached.as_ref().ok(), direct.as_ref().ok(), "the block cache changed what was read");
            }
        }
    }

    if flags & SEARCH_FOR_THE_RUNTIME != 0 {
        let end = memory.base.saturating_add(memory.mapped_len);
        let maps = parse_maps(&format!("{:x}-{end:x} rw-p 00000000 08:01 7 {BINARY_PATH}\n", memory.base));
        let detected = (flags & SEARCH_WITHOUT_A_VERSION == 0).then_some(python.version);
        let found = runtime_scan::find_runtime(&memory, &maps, BINARY_PATH, detected, &planted.tids);
        // Without a version, only 3.13+ can be found: by the cookie, which also tells the version.
        if intact && (detected.is_some() || build.debug_offsets_positions().is_some()) {
            assert_eq!(found.map(|(runtime, _)| runtime), Some(planted.runtime), "the scan missed the planted runtime");
        }
    }
}

//! A planted CPython image of every build (`layouts::BUILDS`: 2.7 to 3.15, free-threaded ones
//! too) reads back exactly through the read pipeline the sampler and `dump` use: threads, frames,
//! names, lines, locals, thread names, and (3.13+) the layout from the image's own
//! `_Py_DebugOffsets`. No interpreter needed: milliseconds per build.

use std::collections::BTreeMap;

use pyspy_core::maps::parse_maps;
use pyspy_core::memory::BlockCache;
use pyspy_core::python::layout::Build;
use pyspy_core::python::thread_names::ThreadNames;
use pyspy_core::python::{layouts, runtime_scan, StackReader};
use pyspy_testkit::{readback, task_readback, Image};

/// Programs of one to four threads, shallow and deep, with different seeds (names of every string
/// width, line tables with and without "no line" entries, every kind of local value).
const PROGRAMS: &[(u8, u16)] = &[(0x00, 1), (0x03, 2), (0x7d, 3), (0xfe, 4), (0x41, 5), (0xc2, 6)];

fn each_image(check: impl Fn(&Image, Build)) {
    for &build in layouts::BUILDS {
        for &(threads_and_depth, seed) in PROGRAMS {
            for at_the_top in [false, true] {
                check(&Image::new(build, threads_and_depth, seed, at_the_top), build);
            }
        }
    }
}

#[test]
fn every_build_reads_back_as_planted() {
    each_image(|image, build| {
        let python = readback::python_of(&image.memory, &image.planted, build).expect("the planted debug offsets");
        let read = readback::read_back(&image.memory, &python, &image.planted.tids, &mut StackReader::default()).unwrap();
        assert_eq!(read, readback::expected(&image.program, &image.planted, &python.layout), "{build}");
    });
}

#[test]
fn the_block_cache_changes_nothing_that_is_read() {
    each_image(|image, build| {
        let python = readback::python_of(&image.memory, &image.planted, build).unwrap();
        let expected = readback::expected(&image.program, &image.planted, &python.layout);
        let (mut blocks, mut reader) = (BlockCache::default(), StackReader::default());
        // The second read starts by reading ahead the blocks the first one touched, and finds
        // its code objects and lines in the reader's caches.
        for _ in 0..2 {
            let read = readback::read_back(&blocks.over(&image.memory), &python, &image.planted.tids, &mut reader).unwrap();
            assert_eq!(read, expected, "{build} through the block cache");
        }
    });
}

#[test]
fn thread_names_read_back_as_planted() {
    each_image(|image, build| {
        let python = readback::python_of(&image.memory, &image.planted, build).unwrap();
        let mut names = ThreadNames::default();
        for _ in 0..2 {
            let read: BTreeMap<_, _> = names.read(&image.memory, &python.layout, python.runtime_addr).into_iter().collect();
            assert_eq!(read, image.planted.thread_names, "{build}");
        }
    });
}

#[test]
fn the_runtime_is_found_in_a_stripped_binarys_data() {
    each_image(|image, build| {
        let memory = &image.memory;
        let end = memory.base.saturating_add(memory.mapped_len);
        let maps = parse_maps(&format!("{:x}-{end:x} rw-p 00000000 08:01 7 /usr/bin/python3\n", memory.base));
        let version = readback::planted_version(build);
        let found = runtime_scan::find_runtime(memory, &maps, "/usr/bin/python3", Some(version), &image.planted.tids);
        assert_eq!(found, Some((image.planted.runtime, version)), "{build}");
        // Without a version to go by, only the 3.13+ cookie can be found; it tells the version.
        let found = runtime_scan::find_runtime(memory, &maps, "/usr/bin/python3", None, &image.planted.tids);
        let has_cookie = build.debug_offsets_positions().is_some();
        assert_eq!(found.map(|(runtime, _)| runtime), has_cookie.then_some(image.planted.runtime), "{build}");
    });
}

#[test]
fn every_minors_asyncio_tasks_read_back_as_planted() {
    let mut with_tasks = 0;
    // Builds --async cannot read (before 3.8, free-threaded) are planted without tasks.
    for &build in layouts::BUILDS {
        for seed in 0..24u16 {
            for at_the_top in [false, true] {
                let image = Image::new(build, 0x09, seed, at_the_top);
                if image.program.tasks.is_none() {
                    continue;
                }
                with_tasks += 1;
                let python = readback::python_of(&image.memory, &image.planted, build).unwrap();
                let read = task_readback::read_tasks(&image.memory, &python, &image.planted.tids, &mut StackReader::default());
                let expected = task_readback::expected_tasks(&image.program, &image.planted, &python.layout);
                assert_eq!(read.unwrap(), expected, "{build}, seed {seed}: {:#?}", image.program.tasks);
            }
        }
    }
    assert!(with_tasks > 100, "only {with_tasks} images had tasks");
}

#[test]
fn a_code_object_replaced_at_its_address_is_read_anew_by_a_reader_that_read_it_before() {
    for &build in layouts::BUILDS {
        let mut image = Image::new(build, 0x7d, 3, false);
        let python = readback::python_of(&image.memory, &image.planted, build).unwrap();
        let mut reader = StackReader::default();
        let before = readback::read_back(&image.memory, &python, &image.planted.tids, &mut reader).unwrap();
        // The outermost frame of a thread: its code object is made another one, named as its
        // file is, at the same address. Frames, addresses and instructions stay as they were.
        let outermost = before.iter().filter_map(|t| t.frames.as_ref()?.last()).next().expect("a thread with frames").clone();
        let layout = &python.layout;
        let offset_of = |addr: u64| (addr - image.memory.base) as usize;
        let field = offset_of(outermost.code_addr + u64::from(layout.code_filename));
        let filename_addr: [u8; 8] = image.memory.bytes[field..field + 8].try_into().unwrap();
        for name_field in [Some(layout.code_name), layout.code_qualname].into_iter().flatten() {
            let at = offset_of(outermost.code_addr + u64::from(name_field));
            image.memory.bytes[at..at + 8].copy_from_slice(&filename_addr);
        }
        let mut expected = before.clone();
        for frame in expected.iter_mut().filter_map(|t| t.frames.as_mut()).flatten() {
            if frame.code_addr == outermost.code_addr {
                frame.name = frame.filename.clone();
            }
        }
        assert_ne!(expected, before, "{build}: the test changed nothing");
        let after = readback::read_back(&image.memory, &python, &image.planted.tids, &mut reader).unwrap();
        assert_eq!(after, expected, "{build}");
    }
}

//! Finding `_PyRuntime` when no symbol or section names it: CPython linked statically into a
//! stripped program (no `.symtab`, nothing exported in `.dynsym`), or built so that `_PyRuntime`
//! landed in plain `.data`. The runtime lives in the binary's own writable data, so we search the
//! file's rw mappings and the anonymous mapping right after them (its `.bss`) for:
//! - 3.13+: the `_Py_DebugOffsets` cookie that starts `_PyRuntime`, which also gives the version;
//! - 2.7-3.12: a word pointing at an interpreter state whose first thread state points back to
//!   it: that word is `_PyRuntime.interpreters.head` (2.7 and 3.6: the `interp_head` static, which
//!   stands in for the runtime there).
//!
//! Memory only, nothing runs in the target; one read per MiB, and both bytes and candidates are capped.

use std::collections::HashSet;

use crate::maps::MapEntry;
use crate::memory::{at, read_words, Memory, MemoryExt};
use crate::python::debug_offsets::{self, COOKIE};
use crate::python::layout::{Build, Layout};
use crate::python::version::Version;
use crate::python::{builds, threads};

const CHUNK_BYTES: usize = 1 << 20;
/// CPython's data and bss take a few MiB; a program with far more is searched this far only.
const MAX_SCAN_BYTES: u64 = 64 << 20;
/// Words that look like pointers into writable memory, kept for the back-pointer test.
const MAX_POINTER_WORDS: usize = 1 << 19;
/// Words that pass the back-pointer test and get a full walk of their threads.
const MAX_FULL_CHECKS: usize = 32;
/// Every minor's `_Py_DebugOffsets` starts with `char cookie[8]; uint64_t version;`: that much is
/// fixed so that a debugger can tell which layout follows.
const DEBUG_OFFSETS_VERSION: u32 = 8;

/// `_PyRuntime`'s address (2.7, 3.6: `interp_head`'s) and the version it reveals (3.13+) or was
/// searched as (2.7-3.12).
/// `detected` is the version told by the binary's strings, if any; `tids` are the target's
/// threads as its PID namespace numbers them.
pub fn find_runtime(
    memory: &dyn Memory,
    maps: &[MapEntry],
    binary_path: &str,
    detected: Option<Version>,
    tids: &[u32],
) -> Option<(u64, Version)> {
    let regions = data_regions(maps, binary_path);
    let has_debug_offsets = |v: &Version| builds::has_debug_offsets(v.major, v.minor);
    if detected.as_ref().is_none_or(has_debug_offsets) {
        if let Some(found) = find_by_cookie(memory, &regions) {
            return Some(found);
        }
    }
    let version = detected.filter(|v| !has_debug_offsets(v))?;
    // Builds without debug offsets have no free-threaded twin.
    let layout = Build { major: version.major, minor: version.minor, free_threaded: false }.layout()?;
    let runtime = find_by_interpreter_pointer(memory, &writable_ranges(maps), &regions, layout, tids)?;
    Some((runtime, version))
}

/// The writable mappings of the binary, then the anonymous mapping that directly follows them:
/// the kernel maps `.bss` past the end of the file's last page as anonymous memory.
pub fn data_regions(maps: &[MapEntry], binary_path: &str) -> Vec<(u64, u64)> {
    let mut regions: Vec<(u64, u64)> = maps
        .iter()
        .filter(|m| m.readable && m.writable && m.path.as_deref() == Some(binary_path))
        .map(|m| (m.start, m.end))
        .collect();
    if let Some(&(_, end)) = regions.last() {
        if let Some(bss) = maps.iter().find(|m| m.start == end && m.path.is_none() && m.readable && m.writable) {
            regions.push((bss.start, bss.end));
        }
    }
    regions
}

/// Sorted, as /proc/PID/maps lists them.
fn writable_ranges(maps: &[MapEntry]) -> Vec<(u64, u64)> {
    maps.iter().filter(|m| m.readable && m.writable).map(|m| (m.start, m.end)).collect()
}

fn in_ranges(ranges: &[(u64, u64)], addr: u64) -> bool {
    let i = ranges.partition_point(|&(_, end)| end <= addr);
    ranges.get(i).is_some_and(|&(start, _)| start <= addr)
}

/// Hands each 8-aligned word of the regions to `visit`, in address order, reading a MiB at a time.
fn for_each_word(memory: &dyn Memory, regions: &[(u64, u64)], mut visit: impl FnMut(u64, u64)) {
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut budget = MAX_SCAN_BYTES;
    for &(start, end) in regions {
        let mut addr = start & !7;
        while addr < end && budget > 0 {
            let len = (end - addr).min(CHUNK_BYTES as u64).min(budget) as usize & !7;
            if len == 0 {
                break;
            }
            // A chunk that cannot be read (unmapped since we read the maps) is skipped, not fatal.
            if memory.read(addr, &mut buf[..len]).is_ok() {
                for (i, word) in buf[..len].chunks_exact(8).enumerate() {
                    visit(addr + 8 * i as u64, u64::from_le_bytes(word.try_into().unwrap()));
                }
            }
            addr += len as u64;
            budget -= len as u64;
        }
    }
}

fn find_by_cookie(memory: &dyn Memory, regions: &[(u64, u64)]) -> Option<(u64, Version)> {
    let cookie = u64::from_le_bytes(*COOKIE);
    let mut hits = Vec::new();
    for_each_word(memory, regions, |addr, word| {
        if word == cookie {
            hits.push(addr);
        }
    });
    hits.into_iter().find_map(|runtime| {
        let hex = memory.read_u64(at(runtime, DEBUG_OFFSETS_VERSION)).ok()?;
        let version = Version::from_hex(u32::try_from(hex).ok()?)?;
        if !builds::has_debug_offsets(version.major, version.minor) {
            // A minor we have no layout for: found all the same, so that the caller names it.
            return Some((runtime, version));
        }
        let layout = debug_offsets::read_layout(memory, runtime, &version).ok()?;
        interpreters_point_back(memory, &layout, runtime).then_some((runtime, version))
    })
}

/// A runtime not yet initialised has no interpreter and passes, as it does when found by symbol.
fn interpreters_point_back(memory: &dyn Memory, layout: &Layout, runtime: u64) -> bool {
    let Ok(interp) = memory.read_u64(at(runtime, layout.runtime_interpreters_head)) else { return false };
    if interp == 0 {
        return true;
    }
    match memory.read_u64(at(interp, layout.interp_threads_head)) {
        Ok(0) => true,
        Ok(tstate) => memory.read_u64(at(tstate, layout.tstate_interp)).is_ok_and(|back| back == interp),
        Err(_) => false,
    }
}

fn find_by_interpreter_pointer(
    memory: &dyn Memory,
    writable: &[(u64, u64)],
    regions: &[(u64, u64)],
    layout: &Layout,
    tids: &[u32],
) -> Option<u64> {
    let plausible = |p: u64| p != 0 && p.is_multiple_of(8) && in_ranges(writable, p);
    // (address of the word, the would-be interpreter it points at), in address order.
    let mut words = Vec::new();
    for_each_word(memory, regions, |addr, word| {
        if words.len() < MAX_POINTER_WORDS && plausible(word) {
            words.push((addr, word));
        }
    });
    let mut interps: Vec<u64> = words.iter().map(|&(_, interp)| interp).collect();
    interps.sort_unstable();
    interps.dedup();

    // Two batched rounds: each interpreter's first thread, then that thread's interpreter.
    let heads = read_words(memory, interps.iter().map(|&i| at(i, layout.interp_threads_head)));
    // A thread state is never its interpreter. Without this, in 2.7 (both links at offset 8) every
    // word pointing at PyType_Type passes: its ob_type, at 8, is itself. Its .data has hundreds.
    let (interps, tstates): (Vec<u64>, Vec<u64>) =
        interps.into_iter().zip(heads).filter_map(|(i, t)| t.filter(|&t| plausible(t) && t != i).map(|t| (i, t))).unzip();
    let backs = read_words(memory, tstates.iter().map(|&t| at(t, layout.tstate_interp)));
    let confirmed: HashSet<u64> = interps.into_iter().zip(backs).filter(|&(i, back)| back == Some(i)).map(|(i, _)| i).collect();

    // `interpreters.head` comes before `interpreters.main` and everything else in `_PyRuntime` that
    // points at the interpreter, so the lowest word that checks out is the head.
    words
        .into_iter()
        .filter(|(_, interp)| confirmed.contains(interp))
        .take(MAX_FULL_CHECKS)
        .map(|(addr, _)| addr.wrapping_sub(u64::from(layout.runtime_interpreters_head)))
        .find(|&runtime| runtime_is_live(memory, layout, runtime, tids))
}

/// The threads read through this runtime are the target's own, and (<= 3.11) its GIL holder is one
/// of them: a word elsewhere that merely points at the interpreter fails the second test.
fn runtime_is_live(memory: &dyn Memory, layout: &Layout, runtime: u64, tids: &[u32]) -> bool {
    let Ok(threads) = threads::read_threads(memory, layout, runtime, None, tids) else { return false };
    if !threads.iter().any(|t| tids.contains(&t.native_thread_id)) {
        return false;
    }
    match layout.runtime_tstate_current {
        Some(offset) => match memory.read_u64(at(runtime, offset)) {
            Ok(holder) => holder == 0 || threads.iter().any(|t| t.tstate == holder),
            Err(_) => false,
        },
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maps::parse_maps;
    use crate::{Error, ErrorKind, Result};

    /// Sparse memory: a few writable pages, zeros unless written.
    struct Image {
        pages: Vec<(u64, Vec<u8>)>,
    }

    impl Image {
        fn new(ranges: &[(u64, usize)]) -> Image {
            Image { pages: ranges.iter().map(|&(start, len)| (start, vec![0u8; len])).collect() }
        }
        fn put(&mut self, addr: u64, value: u64) {
            let (start, bytes) = self.pages.iter_mut().find(|(s, b)| *s <= addr && addr + 8 <= *s + b.len() as u64).unwrap();
            let o = (addr - *start) as usize;
            bytes[o..o + 8].copy_from_slice(&value.to_le_bytes());
        }
    }

    impl Memory for Image {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let (start, bytes) = self
                .pages
                .iter()
                .find(|(s, b)| *s <= addr && addr + buf.len() as u64 <= *s + b.len() as u64)
                .ok_or_else(|| Error::new(ErrorKind::ReadFailed, "unmapped"))?;
            let o = (addr - start) as usize;
            buf.copy_from_slice(&bytes[o..o + buf.len()]);
            Ok(())
        }
    }

    const DATA: u64 = 0x60_0000;
    const BSS: u64 = 0x61_0000;
    const HEAP: u64 = 0x100_0000;
    const MAPS: &str = "400000-500000 r-xp 00000000 08:01 7 /opt/app\n\
                        600000-610000 rw-p 00200000 08:01 7 /opt/app\n\
                        610000-620000 rw-p 00000000 00:00 0 \n\
                        1000000-1010000 rw-p 00000000 00:00 0 [heap]\n";

    fn image() -> Image {
        Image::new(&[(DATA, 0x10000), (BSS, 0x10000), (HEAP, 0x10000)])
    }

    /// A 3.9 runtime in .bss whose interpreter and one thread (pthread with TID 77) are on the heap.
    fn with_python39(image: &mut Image, runtime: u64) {
        let layout = layout(9);
        let (interp, tstate, pthread) = (HEAP + 0x100, HEAP + 0x800, HEAP + 0x2000);
        image.put(at(runtime, layout.runtime_interpreters_head), interp);
        image.put(at(interp, layout.interp_threads_head), tstate);
        image.put(at(tstate, layout.tstate_interp), interp);
        image.put(at(tstate, layout.tstate_thread_id), pthread);
        image.put(pthread + 0x2d0, 77);
    }

    fn layout(minor: u8) -> &'static Layout {
        Build { major: 3, minor, free_threaded: false }.layout().unwrap()
    }

    fn v(s: &str) -> Option<Version> {
        Version::from_string(s)
    }

    #[test]
    fn bss_follows_the_binarys_writable_mappings() {
        let maps = parse_maps(MAPS);
        assert_eq!(data_regions(&maps, "/opt/app"), vec![(0x60_0000, 0x61_0000), (0x61_0000, 0x62_0000)]);
        assert_eq!(data_regions(&maps, "/bin/other"), vec![]);
    }

    #[test]
    fn a_39_runtime_in_bss_is_found_by_its_interpreter() {
        let mut image = image();
        let runtime = BSS + 0x1000;
        with_python39(&mut image, runtime);
        let found = find_runtime(&image, &parse_maps(MAPS), "/opt/app", v("3.9.2"), &[77]);
        assert_eq!(found, Some((runtime, v("3.9.2").unwrap())));
    }

    #[test]
    fn a_pointer_to_the_interpreter_outside_the_runtime_is_not_taken_for_it() {
        let mut image = image();
        let runtime = BSS + 0x1000;
        with_python39(&mut image, runtime);
        // Lower in memory than the runtime, so tried first; its would-be GIL holder is garbage.
        let layout = layout(9);
        let decoy = DATA + 0x40;
        image.put(decoy, HEAP + 0x100);
        image.put(at(decoy - u64::from(layout.runtime_interpreters_head), layout.runtime_tstate_current.unwrap()), HEAP + 0x10);
        let found = find_runtime(&image, &parse_maps(MAPS), "/opt/app", v("3.9.2"), &[77]);
        assert_eq!(found.map(|f| f.0), Some(runtime));
    }

    #[test]
    fn a_27_interp_head_is_found_past_words_pointing_at_a_type_that_is_its_own_type() {
        let layout = Build { major: 2, minor: 7, free_threaded: false }.layout().unwrap();
        let mut image = image();
        // PyType_Type: its ob_type (offset 8, where 2.7 keeps both interp->tstate_head and
        // tstate->interp) is itself; static types in .data point at it, below interp_head in .bss.
        let type_type = DATA + 0x8000;
        image.put(type_type + 8, type_type);
        for i in 0..64 {
            image.put(DATA + 0x100 + 0x40 * i + 8, type_type);
        }
        let (interp_head, interp, tstate, pthread) = (BSS + 0x800, HEAP + 0x100, HEAP + 0x800, HEAP + 0x2000);
        image.put(interp_head, interp);
        image.put(at(interp, layout.interp_threads_head), tstate);
        image.put(at(tstate, layout.tstate_interp), interp);
        image.put(at(tstate, layout.tstate_thread_id), pthread);
        image.put(pthread + 0x2d0, 77);
        let found = find_runtime(&image, &parse_maps(MAPS), "/opt/app", v("2.7.18"), &[77]);
        assert_eq!(found, Some((interp_head, v("2.7.18").unwrap())));
    }

    #[test]
    fn threads_that_are_not_the_targets_do_not_make_a_runtime() {
        let mut image = image();
        with_python39(&mut image, BSS + 0x1000);
        assert_eq!(find_runtime(&image, &parse_maps(MAPS), "/opt/app", v("3.9.2"), &[78]), None);
    }

    /// A 3.14 `_Py_DebugOffsets` that describes the fields the scan checks and the object header;
    /// the rest read as 0.
    fn with_debug_offsets_314(image: &mut Image, runtime: u64, hex: u64, free_threaded: u64) {
        let positions = Build { major: 3, minor: 14, free_threaded: false }.debug_offsets_positions().unwrap();
        let layout = layout(14);
        image.put(runtime, u64::from_le_bytes(*COOKIE));
        image.put(at(runtime, positions.version), hex);
        image.put(at(runtime, positions.free_threaded.unwrap()), free_threaded);
        image.put(at(runtime, positions.runtime_interpreters_head), layout.runtime_interpreters_head.into());
        image.put(at(runtime, positions.interp_threads_head), layout.interp_threads_head.into());
        image.put(at(runtime, positions.tstate_interp), layout.tstate_interp.into());
        // The object header says which ABI the table must be.
        image.put(at(runtime, positions.pyobject_ob_type), layout.object_type.into());
    }

    #[test]
    fn the_debug_offsets_cookie_gives_runtime_and_version() {
        let mut image = image();
        let layout = layout(14);
        // A free-threaded copy first: its cookie is right, but we cannot read that build.
        with_debug_offsets_314(&mut image, DATA + 0x1000, 0x030E_0AF0, 1);
        let runtime = DATA + 0x4000;
        with_debug_offsets_314(&mut image, runtime, 0x030E_0AF0, 0);
        let (interp, tstate) = (HEAP + 0x100, HEAP + 0x4000);
        image.put(at(runtime, layout.runtime_interpreters_head), interp);
        image.put(at(interp, layout.interp_threads_head), tstate);
        image.put(at(tstate, layout.tstate_interp), interp);
        let found = find_runtime(&image, &parse_maps(MAPS), "/opt/app", None, &[77]);
        assert_eq!(found, Some((runtime, v("3.14.10").unwrap())));

        // A thread that belongs to another interpreter means this is not a runtime.
        image.put(at(tstate, layout.tstate_interp), interp + 8);
        assert_eq!(find_runtime(&image, &parse_maps(MAPS), "/opt/app", None, &[77]), None);
    }

    #[test]
    fn an_uninitialised_313_plus_runtime_is_found_like_a_symbol_would_be() {
        let mut image = image();
        with_debug_offsets_314(&mut image, BSS + 0x20, 0x030E_00F0, 0);
        let found = find_runtime(&image, &parse_maps(MAPS), "/opt/app", v("3.14.0"), &[77]);
        assert_eq!(found.map(|f| f.0), Some(BSS + 0x20));
    }

    #[test]
    fn memory_without_python_gives_nothing() {
        let mut image = image();
        // Pointers everywhere, into the data and the heap, and from the heap back into both.
        for i in 0..0x2000 {
            image.put(DATA + 8 * i, HEAP + (i * 0x48) % 0x10000);
            image.put(HEAP + 8 * i, [DATA, HEAP][i as usize % 2] + (i * 0x38) % 0x10000);
        }
        for version in [None, v("3.9.2"), v("3.12.1"), v("3.13.5")] {
            assert_eq!(find_runtime(&image, &parse_maps(MAPS), "/opt/app", version, &[77]), None);
        }
    }
}

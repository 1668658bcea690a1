//! The walkers against images of a real-looking CPython (a runtime, an interpreter, thread states,
//! frames, code objects, strings, bytes, tuples, laid out with each minor's own offsets) that are
//! then corrupted a few words at a time, as a target rewriting its memory under us would.
//!
//! Random memory alone (walkers_against_garbage.rs) almost never gets past the first pointer: when
//! this file was written, 20,000 of its cases found a thread list 8 times and decoded no code
//! object at all; here about 94% of corrupted cases still decode some. Starting from a valid
//! image reaches every walker and decoder, and the intact image doubles as the oracle that the
//! image is valid: it must read back exactly as planted, directly and through the per-sample
//! block cache.
//!
//! What must hold once it is corrupted: no panic (debug builds check arithmetic overflow too), an
//! end in bounded time, and bounded results (depth, string and tuple caps).

use std::time::{Duration, Instant};

use proptest::prelude::*;
use pyspy_core::process::{at, BlockCache, Memory};
use pyspy_core::python::code::CodeCache;
use pyspy_core::python::frames::{self, WalkScratch, MAX_DEPTH};
use pyspy_core::python::layout::{FrameModel, Layout};
use pyspy_core::python::strings::{self, MAX_STRING_BYTES};
use pyspy_core::python::{layouts, objects, threads};
use pyspy_core::{Error, ErrorKind, Result};

/// Where the image sits: the address range of a typical x86_64 heap.
const BASE: u64 = 0x7f3a_0000_0000;

/// glibc keeps the kernel TID at this offset of `struct pthread` (see python/threads.rs).
const GLIBC_PTHREAD_TID_OFFSET: u64 = 0x2d0;

/// 3.12+ frames owned by the C stack (interpreter entry shims): the walk skips them.
const FRAME_OWNED_BY_CSTACK: u8 = 3;

struct Image {
    bytes: Vec<u8>,
    /// Start of every struct planted, for corruptions that make pointers point at the wrong one.
    planted: Vec<u64>,
}

impl Memory for Image {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let start = addr.checked_sub(BASE).filter(|&o| o.saturating_add(buf.len() as u64) <= self.bytes.len() as u64);
        let Some(start) = start else { return Err(Error::new(ErrorKind::ReadFailed, "unmapped")) };
        buf.copy_from_slice(&self.bytes[start as usize..start as usize + buf.len()]);
        Ok(())
    }
}

impl Image {
    fn alloc(&mut self, size: u32) -> u64 {
        let addr = BASE + self.bytes.len() as u64;
        // 16-aligned like pymalloc, so that words stay aligned.
        self.bytes.resize(self.bytes.len() + (size as usize).div_ceil(16) * 16, 0);
        self.planted.push(addr);
        addr
    }

    fn put(&mut self, addr: u64, value: &[u8]) {
        let start = (addr - BASE) as usize;
        self.bytes[start..start + value.len()].copy_from_slice(value);
    }

    fn put_u64(&mut self, addr: u64, value: u64) {
        self.put(addr, &value.to_le_bytes());
    }

    fn read_u64(&self, addr: u64) -> u64 {
        let start = (addr - BASE) as usize;
        u64::from_le_bytes(self.bytes[start..start + 8].try_into().unwrap())
    }
}

#[derive(Debug, Clone)]
struct CodeSpec {
    name: String,
    qualname: String,
    filename: String,
    first_line: u32,
    line_table: Vec<u8>,
    varnames: Vec<String>,
}

#[derive(Debug, Clone)]
struct Program {
    minor: u8,
    codes: Vec<CodeSpec>,
    /// Per thread, the code index of each frame, innermost first.
    threads: Vec<Vec<usize>>,
    /// Instruction positions (lasti, or an index into the instructions), handed to the frames in turn.
    positions: Vec<i32>,
}

/// Addresses of what was planted, for the round-trip check.
struct Planted {
    runtime: u64,
    tids: Vec<u32>,
    tstates: Vec<u64>,
    innermost_frames: Vec<u64>,
    code_addrs: Vec<u64>,
}

/// Writes CPython's structures for `program` with `layout`'s offsets.
struct Builder<'a> {
    image: Image,
    layout: &'a Layout,
    types: Vec<(&'static str, u64)>,
}

impl<'a> Builder<'a> {
    fn type_object(&mut self, name: &'static str) -> u64 {
        if let Some((_, addr)) = self.types.iter().find(|(n, _)| *n == name) {
            return *addr;
        }
        let l = self.layout;
        let type_addr = self.image.alloc(l.type_name.max(l.type_flags) + 8);
        let name_addr = self.image.alloc(name.len() as u32 + 1);
        self.image.put(name_addr, name.as_bytes());
        self.image.put_u64(at(type_addr, l.type_name), name_addr);
        self.types.push((name, type_addr));
        type_addr
    }

    fn object(&mut self, type_name: &'static str, size: u32) -> u64 {
        let type_addr = self.type_object(type_name);
        let addr = self.image.alloc(size);
        self.image.put_u64(at(addr, self.layout.object_type), type_addr);
        addr
    }

    /// A compact str of the narrowest kind, as CPython makes them.
    fn str(&mut self, text: &str) -> u64 {
        let l = self.layout;
        let chars: Vec<u32> = text.chars().map(u32::from).collect();
        let widest = chars.iter().copied().max().unwrap_or(0);
        let (kind, ascii) = match widest {
            0..=0x7f => (1, true),
            0x80..=0xff => (1, false),
            0x100..=0xffff => (2, false),
            _ => (4, false),
        };
        let data_offset = if ascii { l.unicode_ascii_size } else { l.unicode_compact_size };
        let addr = self.object("str", data_offset + (chars.len() as u32 + 1) * kind);
        self.image.put(at(addr, l.unicode_length), &(chars.len() as i64).to_le_bytes());
        let state: u32 = (kind << 2) | (1 << 5) | (u32::from(ascii) << 6);
        self.image.put(at(addr, l.unicode_state), &state.to_le_bytes());
        for (i, c) in chars.iter().enumerate() {
            self.image.put(at(addr, data_offset) + i as u64 * u64::from(kind), &c.to_le_bytes()[..kind as usize]);
        }
        addr
    }

    fn bytes(&mut self, data: &[u8]) -> u64 {
        let l = self.layout;
        let addr = self.object("bytes", l.bytes_data + data.len() as u32 + 1);
        self.image.put(at(addr, l.bytes_size), &(data.len() as i64).to_le_bytes());
        self.image.put(at(addr, l.bytes_data), data);
        addr
    }

    fn tuple(&mut self, items: &[u64]) -> u64 {
        let l = self.layout;
        let addr = self.object("tuple", l.tuple_items + items.len() as u32 * 8);
        self.image.put(at(addr, l.tuple_size), &(items.len() as i64).to_le_bytes());
        for (i, &item) in items.iter().enumerate() {
            self.image.put_u64(at(addr, l.tuple_items) + i as u64 * 8, item);
        }
        addr
    }

    /// Instructions count: enough for every position a frame may be at.
    const INSTRUCTIONS: u32 = 64;

    fn code(&mut self, spec: &CodeSpec) -> u64 {
        let l = self.layout;
        let instructions_len = 2 * Self::INSTRUCTIONS;
        let size = l.code_size.max(l.code_code_adaptive.map_or(0, |o| o + instructions_len));
        let addr = self.object("code", size);
        let name = self.str(&spec.name);
        let filename = self.str(&spec.filename);
        let line_table = self.bytes(&spec.line_table);
        let varnames: Vec<u64> = spec.varnames.iter().map(|v| self.str(v)).collect();
        let varnames = self.tuple(&varnames);
        self.image.put_u64(at(addr, l.code_name), name);
        self.image.put_u64(at(addr, l.code_filename), filename);
        self.image.put_u64(at(addr, l.code_linetable), line_table);
        self.image.put_u64(at(addr, l.code_varnames), varnames);
        self.image.put(at(addr, l.code_firstlineno), &(spec.first_line as i32).to_le_bytes());
        self.image.put(at(addr, l.code_argcount), &(spec.varnames.len().min(3) as i32).to_le_bytes());
        if let Some(offset) = l.code_qualname {
            let qualname = self.str(&spec.qualname);
            self.image.put_u64(at(addr, offset), qualname);
        }
        if let Some(offset) = l.code_code {
            let co_code = self.bytes(&vec![0u8; instructions_len as usize]);
            self.image.put_u64(at(addr, offset), co_code);
        }
        addr
    }

    fn instructions_addr(&self, code: u64) -> u64 {
        match (self.layout.code_code_adaptive, self.layout.code_code) {
            (Some(inline), _) => at(code, inline),
            (None, Some(co_code)) => at(self.image.read_u64(at(code, co_code)), self.layout.bytes_data),
            (None, None) => 0,
        }
    }

    fn frame(&mut self, code: u64, position: i32, back: u64, owner: u8) -> u64 {
        let l = self.layout;
        let addr = self.image.alloc(l.frame_size.max(l.frame_back + 8).max(l.frame_code + 8).max(l.frame_instr + 8));
        // 3.14+ f_executable is a _PyStackRef: a deferred reference carries tag bit 0.
        let tag = u64::from(l.minor >= 14 && position % 2 == 0);
        self.image.put_u64(at(addr, l.frame_code), code | tag);
        self.image.put_u64(at(addr, l.frame_back), back);
        match l.frame_model {
            FrameModel::FrameObject => self.image.put(at(addr, l.frame_instr), &position.to_le_bytes()),
            FrameModel::InterpreterFrame => {
                let index = position.rem_euclid(Self::INSTRUCTIONS as i32) as u64;
                let pointer = self.instructions_addr(code) + 2 * index;
                self.image.put_u64(at(addr, l.frame_instr), pointer);
            }
        }
        if let Some(offset) = l.frame_owner {
            self.image.put(at(addr, offset), &[owner]);
        }
        addr
    }

    fn build(mut self, program: &Program) -> (Image, Planted) {
        let l = self.layout;
        let code_addrs: Vec<u64> = program.codes.iter().map(|c| self.code(c)).collect();
        let runtime = self.image.alloc(
            [Some(l.runtime_interpreters_head), l.runtime_tstate_current].into_iter().flatten().max().unwrap() + 8,
        );
        let interp = self.image.alloc([l.interp_next, l.interp_threads_head, l.interp_gil_ptr.unwrap_or(0)].into_iter().max().unwrap() + 8);
        self.image.put_u64(at(runtime, l.runtime_interpreters_head), interp);

        let tstate_size = [l.tstate_next, l.tstate_interp, l.tstate_frame, l.tstate_thread_id, l.tstate_native_thread_id.unwrap_or(0)]
            .into_iter()
            .max()
            .unwrap()
            + 8;
        let mut tstates = Vec::new();
        let mut innermost_frames = Vec::new();
        let mut tids = Vec::new();
        let mut positions = program.positions.iter().copied().cycle();
        for (i, frames) in program.threads.iter().enumerate() {
            let tstate = self.image.alloc(tstate_size);
            let tid = 4242 + i as u32;
            // Outermost first, so each frame knows the one it returns to.
            let mut back = 0;
            for (depth, &code) in frames.iter().enumerate().rev() {
                back = self.frame(code_addrs[code], positions.next().unwrap_or(0), back, 0);
                // 3.12+ put a C-stack shim frame at each entry into the interpreter.
                if l.minor >= 12 && depth == frames.len() / 2 {
                    back = self.frame(code_addrs[code], 0, back, FRAME_OWNED_BY_CSTACK);
                }
            }
            let innermost = back;
            let frame_field = match l.cframe_current_frame {
                // 3.11-3.12: the thread state points at a _PyCFrame that points at the frame.
                Some(current_frame) if innermost != 0 => {
                    let cframe = self.image.alloc(current_frame + 8);
                    self.image.put_u64(at(cframe, current_frame), innermost);
                    cframe
                }
                _ => innermost,
            };
            self.image.put_u64(at(tstate, l.tstate_frame), frame_field);
            self.image.put_u64(at(tstate, l.tstate_interp), interp);
            match l.tstate_native_thread_id {
                Some(offset) => {
                    self.image.put_u64(at(tstate, l.tstate_thread_id), 0x7f00_dead_0000 + i as u64 * 0x1000);
                    self.image.put_u64(at(tstate, offset), u64::from(tid));
                }
                None => {
                    // Before 3.11 the TID is found inside glibc's struct pthread.
                    let pthread = self.image.alloc(GLIBC_PTHREAD_TID_OFFSET as u32 + 8);
                    self.image.put(pthread + GLIBC_PTHREAD_TID_OFFSET, &tid.to_le_bytes());
                    self.image.put_u64(at(tstate, l.tstate_thread_id), pthread);
                }
            }
            if let Some(&previous) = tstates.last() {
                self.image.put_u64(at(previous, l.tstate_next), tstate);
            }
            tstates.push(tstate);
            innermost_frames.push(innermost);
            tids.push(tid);
        }
        self.image.put_u64(at(interp, l.interp_threads_head), tstates.first().copied().unwrap_or(0));
        // The first thread holds the GIL.
        if let Some(offset) = l.runtime_tstate_current {
            self.image.put_u64(at(runtime, offset), tstates[0]);
        }
        if let Some(offset) = l.interp_gil_ptr {
            let gil = self.image.alloc(l.gil_locked.max(l.gil_last_holder) + 8);
            self.image.put(at(gil, l.gil_locked), &1i32.to_le_bytes());
            self.image.put_u64(at(gil, l.gil_last_holder), tstates[0]);
            self.image.put_u64(at(interp, offset), gil);
        }
        // Room past the last struct, so that reads running off its end still find mapped memory.
        self.image.bytes.resize(self.image.bytes.len() + 4096, 0);
        (self.image, Planted { runtime, tids, tstates, innermost_frames, code_addrs })
    }
}

fn build(program: &Program) -> (Image, Planted) {
    let layout = layouts::static_layout(program.minor).unwrap();
    Builder { image: Image { bytes: Vec::new(), planted: Vec::new() }, layout, types: Vec::new() }.build(program)
}

/// One word of the image overwritten.
#[derive(Debug, Clone)]
struct Corruption {
    /// Which word (modulo the image size).
    word: u64,
    kind: u8,
    value: u64,
}

fn corrupt(image: &mut Image, corruption: &Corruption) {
    let words = image.bytes.len() as u64 / 8;
    let addr = BASE + (corruption.word % words) * 8;
    let old = image.read_u64(addr);
    let new = match corruption.kind % 6 {
        0 => corruption.value,
        1 => 0,
        // A pointer to another struct's start: lists that loop, frames whose code is a frame.
        2 => image.planted[(corruption.value % image.planted.len() as u64) as usize],
        // A pointer anywhere in the image, aligned or not.
        3 => BASE + corruption.value % image.bytes.len() as u64,
        // A small number where a pointer, a length or a kind was.
        4 => corruption.value % 300,
        _ => old ^ (1 << (corruption.value % 64)),
    };
    image.put_u64(addr, new);
}

/// One frame as read: its code object and what was decoded from it.
#[derive(Debug, PartialEq)]
struct FrameRead {
    code_addr: u64,
    name: String,
    filename: String,
    first_line: u32,
    line: u32,
}

/// What one sample would read: threads, each thread's frames, each frame's code, line, local names.
#[derive(Debug, PartialEq)]
struct Walked {
    /// (thread state, TID, innermost frame, holds the GIL) per thread.
    threads: Vec<(u64, u32, u64, bool)>,
    frames: Vec<Vec<FrameRead>>,
    varnames: Vec<Vec<String>>,
}

fn walk_everything(memory: &dyn Memory, layout: &Layout, planted: &Planted) -> Result<Walked> {
    let found = threads::read_threads(memory, layout, planted.runtime, &planted.tids)?;
    let mut walked = Walked { threads: Vec::new(), frames: Vec::new(), varnames: Vec::new() };
    let mut codes = CodeCache::default();
    let mut scratch = WalkScratch::default();
    let mut raw = Vec::new();
    for thread in &found {
        walked.threads.push((thread.tstate, thread.native_thread_id, thread.frame, thread.owns_gil));
        let mut frames_read = Vec::new();
        if frames::walk(memory, layout, thread.frame, &mut raw, &mut scratch).is_ok() {
            assert!(raw.len() <= MAX_DEPTH, "walked {} frames", raw.len());
            for frame in &raw {
                let Ok(code) = codes.get_by_addr(memory, layout, frame.code_addr) else { continue };
                assert!(code.name.len() <= 4 * MAX_STRING_BYTES && code.filename.len() <= 4 * MAX_STRING_BYTES);
                let line = code.line_for(layout.line_table, frame.byte_offset(code.instructions_addr));
                frames_read.push(FrameRead {
                    code_addr: frame.code_addr,
                    name: code.name.clone(),
                    filename: code.filename.clone(),
                    first_line: code.first_line,
                    line,
                });
                let names = objects::tuple_items(memory, layout, code.varnames_addr).unwrap_or_default();
                walked.varnames.push(
                    names.iter().map(|&n| strings::read_unicode(memory, layout, n).unwrap_or_else(|_| "?".into())).collect(),
                );
                for &name in names.iter().take(16) {
                    let _ = objects::short_repr(memory, layout, name);
                }
                let _ = objects::short_repr(memory, layout, frame.code_addr);
            }
        }
        walked.frames.push(frames_read);
    }
    Ok(walked)
}

/// As the sampler reads: through the block cache, one sample and then a second that prefetches.
fn walk_through_the_cache(image: &Image, layout: &Layout, planted: &Planted) -> (Result<Walked>, Result<Walked>) {
    let mut cache = BlockCache::default();
    let first = walk_everything(&cache.over(image), layout, planted);
    let second = walk_everything(&cache.over(image), layout, planted);
    (first, second)
}

/// Any text up to `max_chars`, of every width CPython stores (1, 2 and 4 bytes a character).
fn text(max_chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=max_chars).prop_map(String::from_iter)
}

fn code_spec() -> impl Strategy<Value = CodeSpec> {
    (
        text(24),
        text(40),
        text(60),
        0u32..100_000,
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(text(12), 0..6),
    )
        .prop_map(|(name, qualname, filename, first_line, line_table, varnames)| CodeSpec {
            name,
            qualname,
            filename,
            first_line,
            line_table,
            varnames,
        })
}

fn program() -> impl Strategy<Value = Program> {
    (8u8..=15, proptest::collection::vec(code_spec(), 1..6))
        .prop_flat_map(|(minor, codes)| {
            let n = codes.len();
            (
                Just(minor),
                Just(codes),
                proptest::collection::vec(proptest::collection::vec(0..n, 0..24), 1..5),
                proptest::collection::vec(-1i32..200, 1..16),
            )
        })
        .prop_map(|(minor, codes, threads, positions)| Program { minor, codes, threads, positions })
}

fn corruptions() -> impl Strategy<Value = Vec<Corruption>> {
    proptest::collection::vec(
        (any::<u64>(), any::<u8>(), any::<u64>()).prop_map(|(word, kind, value)| Corruption { word, kind, value }),
        1..24,
    )
}

proptest! {
    // Cases per property: 256, or PROPTEST_CASES when set (scripts/test.sh raises it: a bounded fuzz
    // pass in CI). Proptest applies the variable to its default config only, so a `cases` written
    // here would silently override it.
    #![proptest_config(ProptestConfig::default())]

    /// The oracle for the image builder, and a check of the walkers on well-formed input.
    #[test]
    fn an_intact_image_reads_back_as_planted(program in program()) {
        let layout = layouts::static_layout(program.minor).unwrap();
        let (image, planted) = build(&program);
        let walked = walk_everything(&image, layout, &planted).expect("an intact image is readable");
        prop_assert_eq!(walked.threads.len(), program.threads.len());
        for (i, frames) in program.threads.iter().enumerate() {
            let (tstate, tid, frame, owns_gil) = walked.threads[i];
            prop_assert_eq!(tstate, planted.tstates[i]);
            prop_assert_eq!(tid, planted.tids[i]);
            prop_assert_eq!(frame, planted.innermost_frames[i]);
            prop_assert_eq!(owns_gil, i == 0);
            let expected: Vec<(u64, String, String, u32)> = frames
                .iter()
                .map(|&c| {
                    let spec = &program.codes[c];
                    let name = if layout.code_qualname.is_some() { &spec.qualname } else { &spec.name };
                    (planted.code_addrs[c], name.clone(), spec.filename.clone(), spec.first_line)
                })
                .collect();
            let read: Vec<(u64, String, String, u32)> =
                walked.frames[i].iter().map(|f| (f.code_addr, f.name.clone(), f.filename.clone(), f.first_line)).collect();
            prop_assert_eq!(read, expected);
        }
        let expected_varnames: Vec<Vec<String>> =
            program.threads.iter().flatten().map(|&c| program.codes[c].varnames.clone()).collect();
        prop_assert_eq!(&walked.varnames, &expected_varnames);

        let (first, second) = walk_through_the_cache(&image, layout, &planted);
        prop_assert_eq!(first.as_ref().ok(), Some(&walked));
        prop_assert_eq!(second.as_ref().ok(), Some(&walked));
    }

    #[test]
    fn a_corrupted_image_never_panics_nor_hangs(program in program(), corruptions in corruptions()) {
        let layout = layouts::static_layout(program.minor).unwrap();
        let (mut image, planted) = build(&program);
        for corruption in &corruptions {
            corrupt(&mut image, corruption);
        }
        let started = Instant::now();
        let _ = walk_everything(&image, layout, &planted);
        let _ = walk_through_the_cache(&image, layout, &planted);
        prop_assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }
}

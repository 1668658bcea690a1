//! What `dump --locals` and a sample read, over any `Memory`: the threads, each thread's frames,
//! each frame's code object (names, line table, line) and its local variables' names and reprs.
//! python/dump.rs does the same over a live process; this one goes on where a dump would stop at
//! the first error, so that one unreadable thread does not hide the others from the fuzzer.

use pyspy_core::process::{at, field_u64, Memory};
use pyspy_core::python::code::CodeCache;
use pyspy_core::python::frames::{self, WalkScratch, MAX_DEPTH};
use pyspy_core::python::layout::{FrameModel, Layout};
use pyspy_core::python::strings::{self, MAX_STRING_BYTES};
use pyspy_core::python::{objects, threads};
use pyspy_core::Result;

/// Reprs are capped at 80 characters (floats, in Python's shortest form, take at most 24).
const MAX_REPR_CHARS: usize = 80;

#[derive(Debug, PartialEq)]
pub struct LocalRead {
    pub name: String,
    pub repr: String,
    pub is_arg: bool,
}

#[derive(Debug, PartialEq)]
pub struct FrameRead {
    pub code_addr: u64,
    pub name: String,
    pub filename: String,
    pub first_line: u32,
    pub line: u32,
    /// `None` where the names tuple could not be read.
    pub locals: Option<Vec<LocalRead>>,
}

#[derive(Debug, PartialEq)]
pub struct ThreadRead {
    pub tstate: u64,
    pub native_thread_id: u32,
    pub frame: u64,
    pub owns_gil: bool,
    /// `None` where the frame chain could not be walked.
    pub frames: Option<Vec<FrameRead>>,
}

/// `codes` lives as long as the sampler's would: across samples, with entries checked by fingerprint.
pub fn read_all(
    memory: &dyn Memory,
    layout: &Layout,
    runtime: u64,
    tids: &[u32],
    codes: &mut CodeCache,
) -> Result<Vec<ThreadRead>> {
    let found = threads::read_threads(memory, layout, runtime, tids)?;
    let mut scratch = WalkScratch::default();
    let mut raw = Vec::new();
    let mut read = Vec::with_capacity(found.len());
    for thread in &found {
        let frames = frames::walk(memory, layout, thread.frame, &mut raw, &mut scratch).ok().map(|()| {
            assert!(raw.len() <= MAX_DEPTH, "walked {} frames", raw.len());
            raw.iter()
                .filter_map(|frame| {
                    let code = codes.get_by_addr(memory, layout, frame.code_addr).ok()?;
                    assert!(code.name.len() <= 4 * MAX_STRING_BYTES && code.filename.len() <= 4 * MAX_STRING_BYTES);
                    Some(FrameRead {
                        code_addr: frame.code_addr,
                        name: code.name.clone(),
                        filename: code.filename.clone(),
                        first_line: code.first_line,
                        line: code.line_for(layout.line_table, frame.byte_offset(code.instructions_addr)),
                        locals: read_locals(memory, layout, code.varnames_addr, code.argcount, frame.frame_addr),
                    })
                })
                .collect()
        });
        read.push(ThreadRead {
            tstate: thread.tstate,
            native_thread_id: thread.native_thread_id,
            frame: thread.frame,
            owns_gil: thread.owns_gil,
            frames,
        });
    }
    Ok(read)
}

/// As python/dump.rs reads locals: names from the code's tuple, values from the frame's slots.
fn read_locals(memory: &dyn Memory, layout: &Layout, varnames: u64, argcount: u32, frame: u64) -> Option<Vec<LocalRead>> {
    let names = objects::tuple_items(memory, layout, varnames).ok()?;
    let mut values = vec![0u8; names.len() * 8];
    let have_values = memory.read(at(frame, layout.frame_localsplus), &mut values).is_ok();
    let locals = names
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            let name = strings::read_unicode(memory, layout, name).unwrap_or_else(|_| "?".into());
            let mut value = if have_values { field_u64(&values, (i * 8) as u32) } else { 0 };
            if layout.frame_model == FrameModel::InterpreterFrame {
                value &= !0b11; // 3.14+ _PyStackRef tag bits
            }
            let repr = match value {
                0 => "<unset>".to_string(),
                _ => objects::short_repr(memory, layout, value).unwrap_or_else(|_| "<unreadable>".into()),
            };
            assert!(repr.chars().count() <= MAX_REPR_CHARS, "a repr of {} characters", repr.chars().count());
            LocalRead { name, repr, is_arg: (i as u32) < argcount }
        })
        .collect();
    Some(locals)
}

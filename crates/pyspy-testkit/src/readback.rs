//! Reading an image back through pyspy-core's own read pipeline, and what that must give.

use pyspy_core::memory::Memory;
use pyspy_core::python::frames::MAX_DEPTH;
use pyspy_core::python::layout::{Build, Layout};
use pyspy_core::python::objects::MAX_REPR_CHARS;
use pyspy_core::python::strings::MAX_STRING_BYTES;
use pyspy_core::python::version::{Release, Version};
use pyspy_core::python::{debug_offsets, Python, ReadOptions, StackReader};
use pyspy_core::{LocalVariable, Result};

use crate::builder::Planted;
use crate::line_tables;
use crate::program::{Program, VALUES};

/// One frame as read, with what identifies its code object.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameRead {
    pub code_addr: u64,
    pub name: String,
    pub filename: String,
    pub first_line: u32,
    pub line: u32,
    /// `None` where the names tuple could not be read.
    pub locals: Option<Vec<LocalVariable>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ThreadRead {
    pub tstate: u64,
    pub native_thread_id: u32,
    pub frame: u64,
    pub owns_gil: bool,
    /// `None` where this thread's frames could not be read.
    pub frames: Option<Vec<FrameRead>>,
}

/// `major.minor.2` final, as the builder plants it in `_Py_DebugOffsets` (3.13+).
pub fn planted_version(build: Build) -> Version {
    Version { major: build.major, minor: build.minor, patch: 2, release: Release::Final }
}

/// What `python::locate` finds in a process holding this image: on 3.13+ the layout comes from
/// the image's own `_Py_DebugOffsets`, as from a real target's (which also say free-threaded or not).
pub fn python_of(memory: &dyn Memory, planted: &Planted, build: Build) -> Result<Python> {
    let mut python = python_with_static_layout(planted, build);
    if build.debug_offsets_positions().is_some() {
        python.layout = debug_offsets::read_layout(memory, planted.runtime, &python.version)?;
    }
    Ok(python)
}

/// The image's Python with the layout compiled from headers, whatever its `_Py_DebugOffsets` say.
pub fn python_with_static_layout(planted: &Planted, build: Build) -> Python {
    let layout = *build.layout().expect("a supported build");
    Python {
        version: planted_version(build),
        layout,
        runtime_addr: planted.runtime,
        runtime_binary: "/usr/bin/python3".into(),
        tstate_current_addr: planted.tstate_current,
    }
}

/// Every thread with frames, lines and locals, through `StackReader::read`: what the sampler and
/// `dump` call. `reader` may come from earlier reads, as the sampler's does.
pub fn read_back(memory: &dyn Memory, python: &Python, tids: &[u32], reader: &mut StackReader) -> Result<Vec<ThreadRead>> {
    let stacks = reader.read(memory, python, tids, ReadOptions { locals: true })?;
    Ok(stacks
        .into_iter()
        .map(|stack| ThreadRead {
            tstate: stack.thread.tstate,
            native_thread_id: stack.thread.native_thread_id,
            frame: stack.thread.frame,
            owns_gil: stack.thread.owns_gil,
            frames: stack.frames.ok().map(|frames| {
                frames
                    .into_iter()
                    .map(|f| FrameRead {
                        code_addr: f.raw.code_addr,
                        name: f.code.name.clone(),
                        filename: f.code.filename.clone(),
                        first_line: f.code.first_line,
                        line: f.line,
                        locals: f.locals,
                    })
                    .collect()
            }),
        })
        .collect())
}

/// What must hold of anything read, however corrupt the memory: bounded depth, strings and reprs.
pub fn assert_bounded(read: &[ThreadRead]) {
    for frames in read.iter().filter_map(|t| t.frames.as_ref()) {
        assert!(frames.len() <= MAX_DEPTH, "walked {} frames", frames.len());
        for frame in frames {
            assert!(frame.name.len() <= 4 * MAX_STRING_BYTES && frame.filename.len() <= 4 * MAX_STRING_BYTES);
            for local in frame.locals.iter().flatten() {
                assert!(local.repr.chars().count() <= MAX_REPR_CHARS, "a repr of {} characters", local.repr.chars().count());
            }
        }
    }
}

/// What an intact image must read back as.
pub fn expected(program: &Program, planted: &Planted, layout: &Layout) -> Vec<ThreadRead> {
    program
        .threads
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let frames = spec
                .frames
                .iter()
                .map(|frame| {
                    let code = &program.codes[frame.code];
                    FrameRead {
                        code_addr: planted.code_addrs[frame.code],
                        name: (if layout.code_qualname.is_some() { code.qualname } else { code.name }).to_string(),
                        filename: code.filename.to_string(),
                        first_line: code.first_line,
                        line: line_tables::expected_line(&code.lines, code.first_line, frame.instruction),
                        locals: Some(
                            code.varnames
                                .iter()
                                .zip(&frame.locals)
                                .enumerate()
                                .map(|(slot, (name, &value))| LocalVariable {
                                    name: name.to_string(),
                                    repr: VALUES[value].expected_repr(&planted.values[value], layout),
                                    is_arg: (slot as u32) < code.argcount,
                                })
                                .collect(),
                        ),
                    }
                })
                .collect();
            ThreadRead {
                tstate: planted.tstates[i],
                native_thread_id: planted.tids[i],
                frame: planted.innermost_frames[i],
                owns_gil: i == 0 && (!program.build.free_threaded || program.gil_enabled),
                frames: Some(frames),
            }
        })
        .collect()
}

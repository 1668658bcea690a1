//! `dump`: every thread's stack of a process, now.

use crate::process::{at, Memory, PausedProcess, ThreadState};
use crate::python::code::CodeInfo;
use crate::python::frames::RawFrame;
use crate::python::layout::{FrameModel, Layout};
use crate::python::stack::StackReader;
use crate::python::thread_names::ThreadNames;
use crate::python::{objects, PythonProcess};
use crate::Result;

#[derive(Debug, Clone)]
pub struct DumpOptions {
    /// Also read each frame's local variables (short reprs of simple values, type names otherwise).
    pub locals: bool,
    /// Pause the target while reading so the stacks are consistent.
    pub blocking: bool,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions { locals: false, blocking: true }
    }
}

#[derive(Debug, Clone)]
pub struct LocalVariable {
    pub name: String,
    /// A short repr for None/bool/int/float/str/bytes, `<TypeName>` for anything else.
    pub repr: String,
    /// True for the function's parameters.
    pub is_arg: bool,
}

#[derive(Debug, Clone)]
pub struct FrameDump {
    /// Qualified name where CPython has one (3.11+), else the code object's name.
    pub name: String,
    /// Path of the source file as the code object has it.
    pub filename: String,
    /// The path as people read it: after site-packages or the stdlib directory, or relative to the target's cwd.
    pub short_filename: String,
    /// Line number being executed; 0 when unknown.
    pub line: u32,
    pub locals: Option<Vec<LocalVariable>>,
}

#[derive(Debug, Clone)]
pub struct ThreadDump {
    /// Kernel thread id (TID); 0 when it could not be mapped.
    pub native_thread_id: u64,
    /// `threading.get_ident()` of the thread (the pthread_t).
    pub python_thread_id: u64,
    pub name: Option<String>,
    /// The OS thread is running or runnable (not sleeping or waiting).
    pub active: bool,
    pub owns_gil: bool,
    /// Innermost frame first.
    pub frames: Vec<FrameDump>,
}

#[derive(Debug, Clone)]
pub struct ProcessDump {
    pub pid: u32,
    /// e.g. "3.11.2".
    pub python_version: String,
    /// The target's executable, as it sees it.
    pub executable: String,
    pub command_line: Vec<String>,
    pub threads: Vec<ThreadDump>,
}

pub fn dump(pid: u32, options: &DumpOptions) -> Result<ProcessDump> {
    let python = PythonProcess::open(pid)?;
    let process = &python.process;
    let tids = process.threads()?;
    // Scheduler states first: once we pause the threads they all read as "traced".
    let states: Vec<(u32, ThreadState)> =
        tids.iter().map(|&tid| (tid, process.thread_state(tid).unwrap_or(ThreadState::Other))).collect();
    let _paused = if options.blocking { Some(PausedProcess::pause(process)?) } else { None };

    let mut reader = StackReader::default();
    let stacks = reader.read(&python, &tids)?;
    let memory: &dyn Memory = process;
    let python_names = ThreadNames::default().read(memory, &python.layout, python.runtime_addr);
    let cwd = std::fs::read_link(process.proc_path("cwd")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    let mut threads = Vec::with_capacity(stacks.len());
    for stack in stacks {
        let tid = stack.thread.native_thread_id;
        let state = states.iter().find(|(t, _)| *t == tid).map(|(_, s)| *s);
        let frames = stack
            .frames
            .iter()
            .map(|f| FrameDump {
                name: f.code.name.clone(),
                filename: f.code.filename.clone(),
                short_filename: crate::sampler::short_filename(&f.code.filename, &cwd),
                line: f.line,
                locals: options.locals.then(|| read_locals(memory, &python.layout, &f.code, &f.raw)),
            })
            .collect();
        threads.push(ThreadDump {
            native_thread_id: u64::from(tid),
            python_thread_id: stack.thread.python_thread_id,
            // Threads the threading module does not know (started from C) keep the kernel's name.
            name: python_names.get(&stack.thread.python_thread_id).cloned().or_else(|| {
                if tid != 0 {
                    process.thread_name(tid)
                } else {
                    None
                }
            }),
            active: state == Some(ThreadState::Running),
            owns_gil: stack.thread.owns_gil,
            frames,
        });
    }
    Ok(ProcessDump {
        pid,
        python_version: python.version.to_string(),
        executable: python.exe.clone(),
        command_line: process.cmdline().unwrap_or_default(),
        threads,
    })
}

/// Locals that cannot be read show as `<unreadable>` rather than failing the whole dump.
fn read_locals(memory: &dyn Memory, layout: &Layout, code: &CodeInfo, frame: &RawFrame) -> Vec<LocalVariable> {
    let names = match objects::tuple_items(memory, layout, code.varnames_addr) {
        Ok(items) => items,
        Err(_) => return Vec::new(),
    };
    let slots_addr = at(frame.frame_addr, layout.frame_localsplus);
    let mut values = vec![0u8; names.len() * 8];
    let have_values = memory.read(slots_addr, &mut values).is_ok();
    names
        .iter()
        .enumerate()
        .map(|(i, &name_addr)| {
            let name = crate::python::strings::read_unicode(memory, layout, name_addr).unwrap_or_else(|_| "?".into());
            let mut value = if have_values { crate::process::field_u64(&values, (i * 8) as u32) } else { 0 };
            if layout.frame_model == FrameModel::InterpreterFrame {
                value &= !0b11; // 3.14+ _PyStackRef tag bits; real objects are at least 8-aligned
            }
            let repr = if value == 0 {
                "<unset>".to_string()
            } else {
                objects::short_repr(memory, layout, value).unwrap_or_else(|_| "<unreadable>".into())
            };
            LocalVariable { name, repr, is_arg: (i as u32) < code.argcount }
        })
        .collect()
}

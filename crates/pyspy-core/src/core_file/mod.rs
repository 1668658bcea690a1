//! ELF core files (the kernel's, on a crash; gdb's `gcore`, of a running process) as a
//! `ProcessSource`: the memory is the core's segments, with the mapped files behind them for the
//! pages the core left out; the threads and their registers, the process, its mapped files and
//! its auxiliary vector come from the notes. The file is read through a `ByteSource`, in pieces,
//! never whole: a core of several GiB is read within the 4 GiB of wasm32.
//!
//! What a core does not tell, and what we say instead:
//! - Scheduler states. A thread whose registers show it inside a system call (x86_64's
//!   `orig_rax` is a system call number, not -1) was waiting in the kernel: sleeping, so idle.
//!   A thread in user code was running: active. A crash's own thread is inside the `tgkill` of
//!   `abort()` or running user code at a fault; gcore stops every thread where it was.
//! - The working directory: short file names are not made relative to it.
//! - Other threads' kernel names: only the main thread's (`NT_PRPSINFO`) is kept; Python's own
//!   names are in memory, as for a live process.

pub mod argv;
pub mod elf;
pub mod files;
pub mod locate;
pub mod memory;
pub mod notes;
pub mod source;

pub use files::{FileOpener, NoFiles, SuppliedFile};
pub use notes::{CoreThread, Registers};
pub use source::ByteSource;

use crate::dump::{read_dump, DumpOptions, ProcessDump};
use crate::maps::MapEntry;
use crate::memory::{Memory, MemoryExt};
use crate::process::{MappedFile, ProcessSource, ThreadEntry, ThreadState};
use crate::{Error, Result};

use files::MappedFiles;
use memory::CoreMemory;
use notes::{CoreNotes, ProcessInfo, AT_ENTRY, AT_EXECFN, AT_PHDR};

pub struct CoreFile {
    /// How the caller names the core (a path, a file name), for messages.
    pub name: String,
    memory: CoreMemory,
    threads: Vec<CoreThread>,
    process: ProcessInfo,
    maps: Vec<MapEntry>,
    executable: String,
    command_line: Vec<String>,
}

impl CoreFile {
    /// Reads the headers and notes of `core`. `supplied` are files the user handed over for files
    /// the core maps (matched by file name); `opener` opens the others where they exist.
    pub fn open(
        name: &str,
        core: Box<dyn ByteSource>,
        supplied: Vec<SuppliedFile>,
        opener: Box<dyn FileOpener>,
    ) -> Result<CoreFile> {
        let elf = elf::read_core_elf(core.as_ref(), name)?;
        let CoreNotes { mut threads, process, files, auxv } = notes::decode(&elf.notes);
        if threads.is_empty() {
            return Err(Error::new(
                crate::ErrorKind::NotACore,
                format!("{name} is not a core file: it has no thread status notes"),
            ));
        }
        let mapped = MappedFiles::new(&files, supplied, opener)?;
        let memory = CoreMemory::new(core, elf.segments, files, mapped);
        let maps = memory.maps();
        let process = process.unwrap_or_else(|| ProcessInfo { pid: threads[0].tid, ..ProcessInfo::default() });
        let executable = executable(&memory, &maps, &auxv, &process);
        let command_line = argv::command_line(&memory, &maps, &auxv)
            .unwrap_or_else(|| process.arguments.split(' ').filter(|a| !a.is_empty()).map(String::from).collect());
        threads.sort_by_key(|t| t.tid);
        Ok(CoreFile { name: name.to_string(), memory, threads, process, maps, executable, command_line })
    }

    /// Every thread with its registers, sorted by thread id.
    pub fn core_threads(&self) -> &[CoreThread] {
        &self.threads
    }

    /// True when the file mapped as `path` can be read here (supplied, or present at that path).
    pub fn has_file(&self, path: &str) -> bool {
        self.memory.files.is_available(path)
    }
}

/// The executable as `/proc/PID/exe` named it: the file mapped where the auxiliary vector says its
/// program headers are; else the name it was started by.
fn executable(memory: &CoreMemory, maps: &[MapEntry], auxv: &[(u64, u64)], process: &ProcessInfo) -> String {
    let value = |key: u64| auxv.iter().find(|(k, _)| *k == key).map(|&(_, v)| v);
    for key in [AT_PHDR, AT_ENTRY] {
        if let Some(path) = value(key).and_then(|addr| maps.iter().find(|m| m.contains(addr))).and_then(|m| m.path.clone()) {
            return path;
        }
    }
    if let Some(name) = value(AT_EXECFN).and_then(|addr| read_c_string(memory, addr)) {
        return name;
    }
    process.arguments.split(' ').next().filter(|a| !a.is_empty()).unwrap_or(&process.name).to_string()
}

fn read_c_string(memory: &dyn Memory, addr: u64) -> Option<String> {
    let bytes = memory.read_vec(addr, 256).ok()?;
    let end = bytes.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

impl ProcessSource for CoreFile {
    fn pid(&self) -> u32 {
        self.process.pid
    }

    fn memory(&self) -> &dyn Memory {
        &self.memory
    }

    fn maps(&self) -> Result<Vec<MapEntry>> {
        Ok(self.maps.clone())
    }

    fn executable(&self) -> Result<String> {
        Ok(self.executable.clone())
    }

    fn read_mapped_file(&self, path: &str) -> Result<MappedFile> {
        self.memory.files.read_whole(path).map(MappedFile::Bytes)
    }

    fn threads(&self) -> Result<Vec<ThreadEntry>> {
        Ok(self
            .threads
            .iter()
            .map(|t| ThreadEntry {
                tid: t.tid,
                namespace_tid: t.tid,
                state: if t.registers.in_system_call() { ThreadState::Sleeping } else { ThreadState::Running },
                kernel_name: (t.tid == self.process.pid && !self.process.name.is_empty()).then(|| self.process.name.clone()),
            })
            .collect())
    }

    fn command_line(&self) -> Vec<String> {
        self.command_line.clone()
    }

    fn cwd(&self) -> Option<String> {
        None
    }
}

/// Every thread's Python stack in the core, as a live `dump` of that process at that moment.
pub fn dump_core(core: &CoreFile, options: DumpOptions) -> Result<ProcessDump> {
    let python = locate::locate_python(core)?;
    let threads = core.threads()?;
    read_dump(core, &python, &threads, options, None)
}

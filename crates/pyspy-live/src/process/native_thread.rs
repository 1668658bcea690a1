//! What `--native` needs from Linux: a held thread's registers (ptrace GETREGS, which reads and
//! never writes them), a copy of the top of its stack (process_vm_readv), and module images
//! (files through /proc/PID/root, the vdso from the target's memory). What the bytes mean is
//! pyspy-core's `native/`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use pyspy_core::memory::Memory;
#[cfg(target_arch = "x86_64")]
use pyspy_core::native::RegistersX86_64;
use pyspy_core::native::{ImageBytes, ModuleInfo, ModuleProvider};
use pyspy_core::{Error, Result};

use super::LinuxProcess;

/// The registers of a thread this (tracing) thread holds in a ptrace stop.
#[cfg(target_arch = "x86_64")]
pub fn thread_registers(tid: u32) -> Result<RegistersX86_64> {
    // SAFETY: PTRACE_GETREGS fills a user_regs_struct we own; it fails unless `tid` is our stopped tracee.
    let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ptrace(libc::PTRACE_GETREGS, tid as libc::pid_t, 0usize, &mut regs as *mut libc::user_regs_struct) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        return Err(Error::read_failed(format!("could not read the registers of thread {tid}: {e}")));
    }
    let dwarf = [
        regs.rax, regs.rdx, regs.rcx, regs.rbx, regs.rsi, regs.rdi, regs.rbp, regs.rsp, regs.r8, regs.r9, regs.r10, regs.r11,
        regs.r12, regs.r13, regs.r14, regs.r15,
    ];
    Ok(RegistersX86_64 { rip: regs.rip, rsp: regs.rsp, rbp: regs.rbp, dwarf })
}

/// A file read with pread, as the target's mount namespace sees it.
struct FileImage {
    file: File,
    len: u64,
}

impl ImageBytes for FileImage {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> bool {
        self.file.read_exact_at(buf, offset).is_ok()
    }
}

fn open_file(path: &Path) -> Option<Box<dyn ImageBytes>> {
    let file = File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() {
        return None;
    }
    Some(Box::new(FileImage { file, len: metadata.len() }))
}

/// Module images of a live process.
pub struct LinuxModuleProvider {
    process: LinuxProcess,
    /// Folders that stand in for /usr/lib/debug as well (gdb's `debug-file-directory`).
    pub debug_dirs: Vec<PathBuf>,
}

impl LinuxModuleProvider {
    pub fn new(process: LinuxProcess) -> Self {
        LinuxModuleProvider { process, debug_dirs: Vec::new() }
    }
}

impl ModuleProvider for LinuxModuleProvider {
    fn open_image(&self, module: &ModuleInfo) -> Option<Box<dyn ImageBytes>> {
        if module.is_vdso() {
            // The vdso has no file: its ELF image is the mapping itself (a page or two).
            let len = usize::try_from(module.avma.end - module.avma.start).ok()?;
            let mut image = vec![0u8; len];
            self.process.read(module.avma.start, &mut image).ok()?;
            return Some(Box::new(image));
        }
        open_file(&self.process.root_path(&module.path))
    }

    fn open_debug_file(&self, path: &str) -> Option<Box<dyn ImageBytes>> {
        // Inside the target's namespace first (a container's own debug files), then ours.
        let found = open_file(&self.process.root_path(path)).or_else(|| open_file(Path::new(path)));
        found.or_else(|| {
            let relative = path.strip_prefix("/usr/lib/debug/")?;
            self.debug_dirs.iter().find_map(|dir| open_file(&dir.join(relative)))
        })
    }
}

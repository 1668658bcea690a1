//! Linux: `process_vm_readv` for memory (batched iovecs), `/proc/PID/...` for everything else.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;

use pyspy_core::maps::{parse_maps, MapEntry};
use pyspy_core::memory::{Memory, ReadRequest};
use pyspy_core::process::ThreadState;
use pyspy_core::{Error, ErrorKind, Result};

/// Linux caps one `process_vm_readv` at IOV_MAX iovecs.
const IOV_MAX: usize = 1024;

#[derive(Debug, Clone)]
pub struct LinuxProcess {
    pub pid: u32,
    /// When the process started (clock ticks after boot), to tell it from a later process that
    /// reuses its PID; 0 when unknown.
    pub start_time: u64,
    /// A pidfd for this very process: it becomes readable when the process exits, whoever gets
    /// its PID next, so `is_alive` costs one poll() instead of reading and parsing /proc.
    pidfd: Option<Arc<OwnedFd>>,
    /// This process is the target's parent: its wait() calls then also see the target's ptrace
    /// stops (Node's libuv takes them), so a pause must never block waiting for one.
    pub parent_is_us: bool,
}

impl LinuxProcess {
    /// Checks that the process exists and that we may read its memory, with errors a person can act on.
    pub fn open(pid: u32) -> Result<Self> {
        if pid == 0 || pid > i32::MAX as u32 {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("invalid PID {pid}")));
        }
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            return Err(no_such_process(pid));
        }
        let start_time = fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| stat_start_time(&s)).unwrap_or(0);
        let parent_is_us = parent_pid(pid) == Some(std::process::id());
        let process = LinuxProcess { pid, start_time, pidfd: open_pidfd(pid), parent_is_us };
        if !process.is_alive() {
            return Err(Error::new(ErrorKind::ProcessExited, format!("process {pid} has exited")));
        }
        // Reading the target's own stack pointer page is the cheapest proof that we may read memory;
        // /proc/PID/maps alone is readable without ptrace rights in some setups.
        let maps = process.maps()?;
        let probe = maps.iter().find(|m| m.readable).ok_or_else(|| no_such_process(pid))?;
        let mut byte = [0u8; 1];
        process.read(probe.start, &mut byte)?;
        Ok(process)
    }

    pub fn proc_path(&self, rest: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{}", self.pid, rest))
    }

    pub fn maps(&self) -> Result<Vec<MapEntry>> {
        let text = fs::read_to_string(self.proc_path("maps")).map_err(|e| self.io_error(e, "maps"))?;
        Ok(parse_maps(&text))
    }

    /// The executable as the target sees it (a path inside its mount namespace).
    pub fn exe(&self) -> Result<String> {
        fs::read_link(self.proc_path("exe"))
            .map(|p| {
                p.to_string_lossy()
                    .strip_suffix(" (deleted)")
                    .map(String::from)
                    .unwrap_or_else(|| p.to_string_lossy().into_owned())
            })
            .map_err(|e| self.io_error(e, "exe"))
    }

    /// A path inside the target's mount namespace, reachable from ours (containers).
    pub fn root_path(&self, path: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root{}", self.pid, path))
    }

    pub fn cwd(&self) -> Option<String> {
        fs::read_link(self.proc_path("cwd")).ok().map(|p| p.to_string_lossy().into_owned())
    }

    pub fn cmdline(&self) -> Result<Vec<String>> {
        let raw = fs::read(self.proc_path("cmdline")).map_err(|e| self.io_error(e, "cmdline"))?;
        Ok(raw.split(|&b| b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect())
    }

    pub fn tids(&self) -> Result<Vec<u32>> {
        let dir = fs::read_dir(self.proc_path("task")).map_err(|e| self.io_error(e, "task"))?;
        let mut tids: Vec<u32> = dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
        tids.sort_unstable();
        Ok(tids)
    }

    /// True when the process lives in another PID namespace than ours (a container): the thread
    /// ids CPython stores are then that namespace's, not the ones /proc shows us.
    pub fn in_other_pid_namespace(&self) -> bool {
        let ours = fs::read_link("/proc/self/ns/pid");
        let theirs = fs::read_link(self.proc_path("ns/pid"));
        matches!((ours, theirs), (Ok(a), Ok(b)) if a != b)
    }

    /// The thread's id in its innermost PID namespace (the last `NSpid` entry).
    pub fn namespace_tid(&self, tid: u32) -> Option<u32> {
        let status = fs::read_to_string(self.proc_path(&format!("task/{tid}/status"))).ok()?;
        status.lines().find_map(|l| l.strip_prefix("NSpid:"))?.split_whitespace().last()?.parse().ok()
    }

    pub fn thread_state(&self, tid: u32) -> Result<ThreadState> {
        let stat = fs::read_to_string(self.proc_path(&format!("task/{tid}/stat"))).map_err(|e| self.io_error(e, "stat"))?;
        Ok(parse_stat_state(&stat))
    }

    pub fn thread_name(&self, tid: u32) -> Option<String> {
        fs::read_to_string(self.proc_path(&format!("task/{tid}/comm"))).ok().map(|s| s.trim_end().to_string())
    }

    /// `is_alive`, and its main thread has not exited. A process that exits can lose its main
    /// thread before the others end: from then on every read through its PID fails, while its
    /// pidfd says alive until the last thread is gone. One more file read: for after a read failed.
    pub fn is_alive_and_readable(&self) -> bool {
        self.is_alive() && self.main_thread_alive()
    }

    /// Running (not a zombie) and still the process we opened, not another one with its PID.
    pub fn is_alive(&self) -> bool {
        if let Some(fd) = &self.pidfd {
            let mut poll = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one pollfd we own, no timeout.
            let ready = unsafe { libc::poll(&mut poll, 1, 0) };
            if ready >= 0 {
                return ready == 0;
            }
        }
        self.main_thread_alive()
    }

    /// From `/proc/PID/stat`: the main thread is not a zombie, and the process is still the one
    /// we opened.
    fn main_thread_alive(&self) -> bool {
        match fs::read_to_string(self.proc_path("stat")) {
            Ok(stat) => {
                let same = self.start_time == 0 || stat_start_time(&stat) == Some(self.start_time);
                same && !matches!(stat_state_char(&stat), Some('Z') | Some('X') | None)
            }
            Err(_) => false,
        }
    }

    fn io_error(&self, e: io::Error, what: &str) -> Error {
        match e.kind() {
            io::ErrorKind::NotFound => {
                if PathBuf::from(format!("/proc/{}", self.pid)).exists() {
                    Error::new(ErrorKind::ProcessExited, format!("process {} exited while reading {what}", self.pid))
                } else {
                    no_such_process(self.pid)
                }
            }
            io::ErrorKind::PermissionDenied => permission_denied(self.pid),
            _ => Error::read_failed(format!("reading /proc/{}/{what}: {e}", self.pid)),
        }
    }

    fn errno_error(&self, errno: i32, addr: u64, len: usize) -> Error {
        match errno {
            libc::ESRCH => Error::new(ErrorKind::ProcessExited, format!("process {} exited", self.pid)),
            libc::EPERM | libc::EACCES => permission_denied(self.pid),
            _ => Error::read_failed(format!(
                "could not read {len} bytes at {addr:#x} in process {}: {}",
                self.pid,
                io::Error::from_raw_os_error(errno)
            )),
        }
    }
}

pub fn no_such_process(pid: u32) -> Error {
    Error::new(ErrorKind::ProcessNotFound, format!("no process with PID {pid}"))
}

pub fn permission_denied(pid: u32) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!(
            "permission denied reading process {pid}: run as root or grant CAP_SYS_PTRACE \
             (e.g. sudo setcap cap_sys_ptrace+ep $(readlink -f $(which node)))"
        ),
    )
}

/// None on kernels before 5.3 (or a PID that is already gone): `is_alive` then reads /proc.
fn open_pidfd(pid: u32) -> Option<Arc<OwnedFd>> {
    // SAFETY: pidfd_open takes integers and returns a new descriptor we then own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    (fd >= 0).then(|| Arc::new(unsafe { OwnedFd::from_raw_fd(fd as i32) }))
}

/// The fields of a /proc stat line from field 3 (the state) on. The command name before them is
/// in parentheses and may contain anything, spaces and ')' included: count after the last ')'.
pub(crate) fn stat_fields(stat: &str) -> Option<std::str::SplitWhitespace<'_>> {
    Some(stat.rsplit_once(')')?.1.split_whitespace())
}

/// The parent of a process (or of a thread's process), from /proc.
pub(crate) fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_fields(&stat)?.nth(1)?.parse().ok()
}

/// Every process descended from `root`, from the parent links in /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = std::collections::HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            if let Some(ppid) = parent_pid(pid) {
                parent_of.insert(pid, ppid);
            }
        }
    }
    let mut result = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, &ppid) in &parent_of {
            if ppid == parent && pid != root && !result.contains(&pid) {
                result.push(pid);
                frontier.push(pid);
            }
        }
    }
    result.sort_unstable();
    result
}

/// Field 22 of /proc/PID/stat.
fn stat_start_time(stat: &str) -> Option<u64> {
    stat_fields(stat)?.nth(19)?.parse().ok()
}

pub(crate) fn stat_state_char(stat: &str) -> Option<char> {
    stat_fields(stat)?.next()?.chars().next()
}

pub(crate) fn parse_stat_state(stat: &str) -> ThreadState {
    stat_state_char(stat).map_or(ThreadState::Other, ThreadState::from_letter)
}

impl LinuxProcess {
    /// Reads what it can of `buf.len()` bytes from `addr`: the kernel stops at the first page
    /// that is not mapped. Returns how many bytes were read; an error only when none could be.
    pub fn read_prefix(&self, addr: u64, buf: &mut [u8]) -> Result<usize> {
        let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: buf.len() };
        // SAFETY: one local iovec pointing at `buf`, which outlives the call.
        let n = unsafe { libc::process_vm_readv(self.pid as libc::pid_t, &local, 1, &remote, 1, 0) };
        if n <= 0 && !buf.is_empty() {
            let errno = if n < 0 { io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { libc::EFAULT };
            return Err(self.errno_error(errno, addr, buf.len()));
        }
        Ok(n.max(0) as usize)
    }
}

impl Memory for LinuxProcess {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        if self.read_prefix(addr, buf)? != buf.len() {
            return Err(self.errno_error(libc::EFAULT, addr, buf.len()));
        }
        Ok(())
    }

    /// One `process_vm_readv` per IOV_MAX requests. The kernel stops at the first remote iovec it
    /// cannot read, so on a short count we mark what was filled and retry from the one after the failure.
    fn read_many(&self, requests: &mut [ReadRequest<'_>]) -> Result<()> {
        let mut start = 0;
        while start < requests.len() {
            let end = (start + IOV_MAX).min(requests.len());
            let batch = &mut requests[start..end];
            let mut local = Vec::with_capacity(batch.len());
            let mut remote = Vec::with_capacity(batch.len());
            for r in batch.iter_mut() {
                r.ok = false;
                local.push(libc::iovec { iov_base: r.buf.as_mut_ptr().cast(), iov_len: r.buf.len() });
                remote.push(libc::iovec { iov_base: r.addr as *mut libc::c_void, iov_len: r.buf.len() });
            }
            // SAFETY: each local iovec points into a distinct `&mut [u8]` borrowed for this call.
            let n = unsafe {
                libc::process_vm_readv(
                    self.pid as libc::pid_t,
                    local.as_ptr(),
                    local.len() as libc::c_ulong,
                    remote.as_ptr(),
                    remote.len() as libc::c_ulong,
                    0,
                )
            };
            if n < 0 {
                let errno = io::Error::last_os_error().raw_os_error().unwrap_or(0);
                if errno != libc::EFAULT {
                    return Err(self.errno_error(errno, batch[0].addr, batch[0].buf.len()));
                }
                // The first iovec itself failed: skip it.
                start += 1;
                continue;
            }
            let mut remaining = n as usize;
            let mut filled = 0;
            for r in batch.iter_mut() {
                if remaining >= r.buf.len() {
                    remaining -= r.buf.len();
                    r.ok = true;
                    filled += 1;
                } else {
                    break;
                }
            }
            // Requests after a failed one are read again in the next round; the failed one is skipped.
            start += if filled == batch.len() { filled } else { filled + 1 };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_state_survives_parentheses_in_the_command_name() {
        assert_eq!(parse_stat_state("123 (a) b) (c) S 1 2 3"), ThreadState::Sleeping);
        assert_eq!(parse_stat_state("123 (python3) R 1 2 3"), ThreadState::Running);
        assert_eq!(parse_stat_state("123 (python3) t 1 2 3"), ThreadState::Stopped);
    }

    #[test]
    fn start_time_is_field_22_whatever_the_command_name() {
        let stat = "42 (a) b) R 1 42 42 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(stat_start_time(stat), Some(987654));
    }

    #[test]
    fn reads_own_memory_in_batches_and_marks_failures() {
        let me = LinuxProcess { pid: std::process::id(), start_time: 0, pidfd: None, parent_is_us: false };
        let data: Vec<u8> = (0..=255).collect();
        let mut a = [0u8; 16];
        let mut bad = [0u8; 8];
        let mut b = [0u8; 32];
        let mut requests = [
            ReadRequest::new(data.as_ptr() as u64, &mut a),
            ReadRequest::new(8, &mut bad),
            ReadRequest::new(data.as_ptr() as u64 + 100, &mut b),
        ];
        me.read_many(&mut requests).unwrap();
        assert!(requests[0].ok && !requests[1].ok && requests[2].ok);
        assert_eq!(a[..], data[..16]);
        assert_eq!(b[..], data[100..132]);
    }
}

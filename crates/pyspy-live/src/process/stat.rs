//! Each thread's `/proc/PID/task/TID/stat` (and with `--cpu` its `schedstat`), kept open: a pread
//! at offset 0 regenerates it, one system call a thread a tick instead of five (open, fstat, two
//! reads, close).

use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::unix::fs::FileExt;

use pyspy_core::process::ThreadState;
use rustc_hash::FxHashMap;

use super::linux::stat_fields;

/// One file of each thread's `/proc/PID/task/TID/` directory, kept open per thread.
struct TaskFiles {
    pid: u32,
    name: &'static str,
    files: FxHashMap<u32, File>,
    buf: Vec<u8>,
}

impl TaskFiles {
    fn new(pid: u32, name: &'static str) -> TaskFiles {
        TaskFiles { pid, name, files: FxHashMap::default(), buf: vec![0; 1024] }
    }

    /// The file's contents now; None once the thread is gone.
    fn read(&mut self, tid: u32) -> Option<&[u8]> {
        let file = match self.files.entry(tid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(File::open(format!("/proc/{}/task/{tid}/{}", self.pid, self.name)).ok()?),
        };
        let n = file.read_at(&mut self.buf, 0).ok()?;
        Some(&self.buf[..n])
    }

    fn retain(&mut self, tids: &[u32]) {
        self.files.retain(|tid, _| tids.binary_search(tid).is_ok());
    }
}

pub struct StatFiles(TaskFiles);

impl StatFiles {
    pub fn new(pid: u32) -> StatFiles {
        StatFiles(TaskFiles::new(pid, "stat"))
    }

    /// The thread's scheduler state and its process's thread count; None once the thread is gone.
    pub fn read(&mut self, tid: u32) -> Option<(ThreadState, usize)> {
        parse_stat(self.0.read(tid)?)
    }

    /// Closes the files of threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.0.retain(tids);
    }
}

/// `schedstat`: the CPU time a thread has used, as the scheduler counts it (`sum_exec_runtime`,
/// what CLOCK_THREAD_CPUTIME_ID reads), in nanoseconds. Time spent runnable but waiting for a core
/// is not in it.
pub struct SchedstatFiles(TaskFiles);

impl SchedstatFiles {
    pub fn new(pid: u32) -> SchedstatFiles {
        SchedstatFiles(TaskFiles::new(pid, "schedstat"))
    }

    /// The thread's CPU time so far; None once the thread is gone.
    pub fn cpu_ns(&mut self, tid: u32) -> Option<u64> {
        parse_schedstat(self.0.read(tid)?)
    }

    /// Closes the files of threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.0.retain(tids);
    }
}

/// State (field 3) and num_threads (field 20) of a stat line.
fn parse_stat(stat: &[u8]) -> Option<(ThreadState, usize)> {
    // Only the command name may be other than ASCII: decode from the ')' that ends it.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat_fields(std::str::from_utf8(&stat[close..]).ok()?)?;
    let state = ThreadState::from_letter(fields.next()?.chars().next()?);
    let num_threads = fields.nth(16)?.parse().ok()?;
    Some((state, num_threads))
}

/// The first of schedstat's three numbers (time on the CPU, time waiting to run, timeslices).
fn parse_schedstat(schedstat: &[u8]) -> Option<u64> {
    std::str::from_utf8(schedstat).ok()?.split_ascii_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_and_thread_count_whatever_the_command_name() {
        let line = b"4242 (we ird) (name) R 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 7 0 123 4096 10 18446744073709551615\n";
        assert_eq!(parse_stat(line), Some((ThreadState::Running, 7)));
        assert_eq!(parse_stat(b"1 (x) S 0"), None);
    }

    #[test]
    fn schedstat_gives_the_time_on_the_cpu_not_the_time_waiting() {
        assert_eq!(parse_schedstat(b"1034131 37009 2\n"), Some(1_034_131));
        assert_eq!(parse_schedstat(b""), None);
    }

    #[test]
    fn our_own_cpu_time_grows_as_we_work() {
        let tid = unsafe { libc::gettid() } as u32;
        let mut files = SchedstatFiles::new(std::process::id());
        let before = files.cpu_ns(tid).expect("our own schedstat");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        // The scheduler brings a running thread's count up to date at its ticks and switches.
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert!(files.cpu_ns(tid).unwrap() > before);
    }
}

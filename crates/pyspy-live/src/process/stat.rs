//! Each thread's `/proc/PID/task/TID/stat`, kept open: a pread at offset 0 regenerates it, one
//! system call a thread a tick instead of five (open, fstat, two reads, close).

use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::unix::fs::FileExt;

use pyspy_core::process::ThreadState;
use rustc_hash::FxHashMap;

use super::linux::stat_fields;

pub struct StatFiles {
    pid: u32,
    files: FxHashMap<u32, File>,
    buf: Vec<u8>,
}

impl StatFiles {
    pub fn new(pid: u32) -> StatFiles {
        StatFiles { pid, files: FxHashMap::default(), buf: vec![0; 1024] }
    }

    /// The thread's scheduler state and its process's thread count; None once the thread is gone.
    pub fn read(&mut self, tid: u32) -> Option<(ThreadState, usize)> {
        let file = match self.files.entry(tid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(File::open(format!("/proc/{}/task/{tid}/stat", self.pid)).ok()?),
        };
        let n = file.read_at(&mut self.buf, 0).ok()?;
        parse_stat(&self.buf[..n])
    }

    /// Closes the files of threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.files.retain(|tid, _| tids.binary_search(tid).is_ok());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_and_thread_count_whatever_the_command_name() {
        let line = b"4242 (we ird) (name) R 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 7 0 123 4096 10 18446744073709551615\n";
        assert_eq!(parse_stat(line), Some((ThreadState::Running, 7)));
        assert_eq!(parse_stat(b"1 (x) S 0"), None);
    }
}

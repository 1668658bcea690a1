//! The processes a record samples: the root and, with `--subprocesses`, its Python descendants.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::process::linux::{parent_pid, stat_fields, state_from_char};
use crate::process::ThreadState;
use crate::python::stack::StackReader;
use crate::python::thread_names::{self, ThreadNames};
use crate::python::PythonProcess;
use crate::Result;

pub(crate) struct Target {
    pub python: PythonProcess,
    /// Its own caches: code objects and the blocks read ahead are this process's addresses.
    pub reader: StackReader,
    /// The process's threads as of the last listing, sorted.
    pub tids: Vec<u32>,
    pub exited: bool,
    /// The target's working directory, for showing paths relative to it.
    pub cwd: String,
    /// Each thread's name: Python's where the threading module knows the thread, else the kernel's.
    names: FxHashMap<u32, String>,
    python_names: ThreadNames,
    names_read_at: Option<Instant>,
    /// /proc/PID/task/TID/stat of each thread, kept open: a pread at offset 0 regenerates it,
    /// one system call a thread a tick instead of five (open, stat, two reads, close).
    stat_files: FxHashMap<u32, File>,
    stat_buf: Vec<u8>,
}

impl Target {
    pub fn new(python: PythonProcess) -> Target {
        let cwd = fs::read_link(python.process.proc_path("cwd")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        Target {
            python,
            reader: StackReader::default(),
            tids: Vec::new(),
            exited: false,
            cwd,
            names: FxHashMap::default(),
            python_names: ThreadNames::default(),
            names_read_at: None,
            stat_files: FxHashMap::default(),
            stat_buf: vec![0; 1024],
        }
    }

    /// Brings `tids` up to date and, if `want_states`, returns each one's scheduler state, in order.
    ///
    /// Listing /proc/PID/task costs five system calls, more than the rest of a small sample's
    /// reads. Every stat file carries the process's thread count, so the list is only read again
    /// when that count changes or a thread's stat cannot be read (it exited): a thread that ends
    /// while another starts fails the second test.
    pub fn refresh_threads(&mut self, want_states: bool) -> Result<Vec<ThreadState>> {
        if self.tids.is_empty() {
            self.relist()?;
        }
        for attempt in 0..2 {
            let checked = if want_states { self.tids.len() } else { 1 };
            let mut states = Vec::with_capacity(if want_states { checked } else { 0 });
            let mut stale = false;
            for i in 0..checked {
                let stat = self.read_stat(self.tids[i]);
                stale |= stat.is_none_or(|(_, count)| count != self.tids.len());
                if want_states {
                    states.push(stat.map_or(ThreadState::Other, |(state, _)| state));
                }
            }
            if !stale || attempt == 1 {
                return Ok(states);
            }
            self.relist()?;
        }
        unreachable!("the loop returns on its second attempt")
    }

    fn relist(&mut self) -> Result<()> {
        self.tids = self.python.process.threads()?;
        let tids = &self.tids;
        self.stat_files.retain(|tid, _| tids.binary_search(tid).is_ok());
        Ok(())
    }

    /// State and the process's thread count from /proc/PID/task/TID/stat.
    fn read_stat(&mut self, tid: u32) -> Option<(ThreadState, usize)> {
        let file = match self.stat_files.entry(tid) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(File::open(format!("/proc/{}/task/{tid}/stat", self.python.pid())).ok()?)
            }
        };
        let n = file.read_at(&mut self.stat_buf, 0).ok()?;
        parse_stat(&self.stat_buf[..n])
    }

    /// Gives each of `sampled` a name for `thread_name`. Reading Python's names walks a few dicts
    /// (~150 µs for 10 threads), so it happens when a thread is first seen and then about once a
    /// second (names can change), not every tick.
    pub fn update_names(&mut self, sampled: impl Iterator<Item = u32> + Clone) {
        let now = Instant::now();
        let since = self.names_read_at.map(|at| now.saturating_duration_since(at));
        let unnamed = sampled.clone().any(|tid| !self.names.contains_key(&tid));
        if since.is_none_or(|s| s >= NAMES_REFRESH || (s >= NAMES_MIN_GAP && unnamed)) {
            let read = thread_names::names_by_tid(&self.python, &self.tids, &mut self.python_names);
            // Names found replace what we had; the rest stay: a read that failed while the
            // target changed its dicts under us must not undo the names of the last one.
            let tids = &self.tids;
            self.names.retain(|tid, _| tids.binary_search(tid).is_ok());
            self.names.extend(read);
            self.names_read_at = Some(now);
        }
        let process = &self.python.process;
        for tid in sampled {
            self.names.entry(tid).or_insert_with(|| process.thread_name(tid).unwrap_or_else(|| format!("thread {tid}")));
        }
    }

    /// The name `update_names` gave this thread.
    pub fn thread_name(&self, tid: u32) -> &str {
        self.names.get(&tid).map_or("", String::as_str)
    }
}

/// How often Python's thread names are read again.
const NAMES_REFRESH: Duration = Duration::from_secs(1);
/// A thread seen for the first time triggers a read, but no more often than this: a program that
/// starts threads all the time must not make us read names all the time. A thread first seen
/// sooner has its kernel name until the next refresh.
const NAMES_MIN_GAP: Duration = Duration::from_millis(100);

/// State (field 3) and num_threads (field 20) of a stat line.
fn parse_stat(stat: &[u8]) -> Option<(ThreadState, usize)> {
    // Only the command name may be other than ASCII: decode from the ')' that ends it.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat_fields(std::str::from_utf8(&stat[close..]).ok()?)?;
    let state = state_from_char(fields.next()?.chars().next()?);
    let num_threads = fields.nth(16)?.parse().ok()?;
    Some((state, num_threads))
}

/// Adds Python processes descended from the root that we are not sampling yet.
/// Non-Python descendants are tried again on the next scan: a child may exec python later.
pub(crate) fn add_new_children(targets: &mut Vec<Target>) {
    let root = targets[0].python.pid();
    let known: HashSet<u32> = targets.iter().map(|t| t.python.pid()).collect();
    for pid in descendants(root) {
        if known.contains(&pid) {
            continue;
        }
        if let Ok(python) = PythonProcess::open(pid) {
            targets.push(Target::new(python));
        }
    }
}

fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = HashMap::new();
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

/// py-spy-style short paths: the part after site-packages or the stdlib directory, else relative
/// to the target's working directory, else the path as it is.
pub fn short_filename(path: &str, cwd: &str) -> String {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some((_, rest)) = path.rsplit_once(marker) {
            return rest.to_string();
        }
    }
    if let Some(index) = path.find("/lib/python3.") {
        let after = &path[index + "/lib/python3.".len()..];
        if let Some((_, rest)) = after.split_once('/') {
            return rest.to_string();
        }
    }
    if !cwd.is_empty() && cwd != "/" {
        if let Some(rest) = path.strip_prefix(cwd).and_then(|r| r.strip_prefix('/')) {
            return rest.to_string();
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::{parse_stat, short_filename};
    use crate::process::ThreadState;

    #[test]
    fn stat_lines_give_state_and_thread_count_whatever_the_command_name() {
        let line = b"4242 (we ird) (name) R 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 7 0 123 4096 10 18446744073709551615\n";
        assert_eq!(parse_stat(line), Some((ThreadState::Running, 7)));
        assert_eq!(parse_stat(b"1 (x) S 0"), None);
    }

    #[test]
    fn short_filenames_drop_the_install_prefix() {
        assert_eq!(short_filename("/usr/lib/python3.11/threading.py", "/home/u"), "threading.py");
        assert_eq!(short_filename("/venv/lib/python3.12/site-packages/requests/api.py", "/"), "requests/api.py");
        assert_eq!(short_filename("/home/u/proj/app.py", "/home/u/proj"), "app.py");
        assert_eq!(short_filename("/srv/app.py", "/home/u"), "/srv/app.py");
        assert_eq!(short_filename("<frozen importlib._bootstrap>", "/"), "<frozen importlib._bootstrap>");
    }
}

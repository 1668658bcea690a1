//! The processes a record samples: the root and, with `--subprocesses`, its Python descendants.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pyspy_core::memory::BlockCache;
use pyspy_core::process::{ThreadState, TidMap};
use pyspy_core::python::thread_names::{self, ThreadNames};
use pyspy_core::python::StackReader;
use pyspy_core::Result;
use rustc_hash::FxHashMap;

use crate::process::{linux, StatFiles};
use crate::python::PythonProcess;

pub(crate) struct Target {
    pub python: PythonProcess,
    /// Its own caches: code objects and the blocks read ahead are this process's addresses.
    pub reader: StackReader,
    pub blocks: BlockCache,
    /// The process's threads as of the last listing, sorted, with the ids CPython knows them by.
    pub tids: TidMap,
    pub exited: bool,
    /// `--native`: this process's modules, unwind tables and symbols, made on the first sample.
    pub native: Option<crate::native::LiveNative>,
    /// The target's working directory, for showing paths relative to it.
    pub cwd: String,
    /// Each thread's name: Python's where the threading module knows the thread, else the kernel's.
    names: FxHashMap<u32, String>,
    python_names: ThreadNames,
    /// `threading.get_ident()` -> name, as last read.
    names_by_ident: FxHashMap<u64, String>,
    names_read_at: Option<Instant>,
    stat_files: StatFiles,
}

impl Target {
    pub fn new(python: PythonProcess) -> Target {
        let cwd = python.process.cwd().unwrap_or_default();
        let stat_files = StatFiles::new(python.pid());
        Target {
            python,
            reader: StackReader::default(),
            blocks: BlockCache::default(),
            tids: TidMap::default(),
            exited: false,
            native: None,
            cwd,
            names: FxHashMap::default(),
            python_names: ThreadNames::default(),
            names_by_ident: FxHashMap::default(),
            names_read_at: None,
            stat_files,
        }
    }

    /// Brings `tids` up to date and, if `want_states`, returns each one's scheduler state, in order.
    ///
    /// Listing /proc/PID/task costs five system calls, more than the rest of a small sample's
    /// reads. Every stat file carries the process's thread count, so the list is only read again
    /// when that count changes or a thread's stat cannot be read (it exited): a thread that ends
    /// while another starts fails the second test.
    pub fn refresh_threads(&mut self, want_states: bool) -> Result<Vec<ThreadState>> {
        if self.tids.outer().is_empty() {
            self.relist()?;
        }
        for attempt in 0..2 {
            let count = self.tids.outer().len();
            let checked = if want_states { count } else { 1 };
            let mut states = Vec::with_capacity(if want_states { checked } else { 0 });
            let mut stale = false;
            for i in 0..checked {
                let stat = self.stat_files.read(self.tids.outer()[i]);
                stale |= stat.is_none_or(|(_, threads)| threads != count);
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

    /// Lists the threads again on the next tick.
    pub fn forget_threads(&mut self) {
        self.tids = TidMap::default();
    }

    fn relist(&mut self) -> Result<()> {
        let process = &self.python.process;
        let tids = process.tids()?;
        // In a container CPython stores the ids of its own PID namespace.
        self.tids = if self.python.other_pid_namespace {
            TidMap::from_lookup(&tids, |t| process.namespace_tid(t))
        } else {
            TidMap::identity(&tids)
        };
        self.stat_files.retain(self.tids.outer());
        Ok(())
    }

    /// Gives each sampled thread (kernel tid, `threading.get_ident()`) a name for `thread_name`.
    /// Reading Python's names walks a few dicts (~150 µs for 10 threads), so it happens when a
    /// thread is first seen and then about once a second (names can change), not every tick.
    pub fn update_names(&mut self, sampled: &[(u32, u64)]) {
        let now = Instant::now();
        let since = self.names_read_at.map(|at| now.saturating_duration_since(at));
        let unnamed = sampled.iter().any(|(tid, _)| !self.names.contains_key(tid));
        let reread = since.is_none_or(|s| s >= NAMES_REFRESH || (s >= NAMES_MIN_GAP && unnamed));
        if reread {
            let python = &self.python.python;
            let read = self.python_names.read(&self.python.process, &python.layout, python.runtime_addr);
            // Names found replace what we had; the rest stay, for the threads still sampled: a
            // read that failed while the target changed its dicts under us must not undo the last.
            self.names_by_ident.retain(|ident, _| sampled.iter().any(|(_, i)| i == ident));
            self.names_by_ident.extend(read);
            let tids = self.tids.outer();
            self.names.retain(|tid, _| tids.binary_search(tid).is_ok());
            self.names_read_at = Some(now);
        }
        let process = &self.python.process;
        for &(tid, ident) in sampled {
            if reread || !self.names.contains_key(&tid) {
                let python_name = self.names_by_ident.get(&ident).map(String::as_str);
                let kernel_name = if python_name.is_none() { process.thread_name(tid) } else { None };
                let name = thread_names::display_name(python_name, kernel_name.as_deref());
                self.names.insert(tid, name.unwrap_or_else(|| format!("thread {tid}")));
            }
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

/// Adds Python processes descended from the root that we are not sampling yet.
/// Non-Python descendants are tried again on the next scan: a child may exec python later.
pub(crate) fn add_new_children(targets: &mut Vec<Target>) {
    let root = targets[0].python.pid();
    let known: HashSet<u32> = targets.iter().map(|t| t.python.pid()).collect();
    for pid in linux::descendants(root) {
        if known.contains(&pid) {
            continue;
        }
        if let Ok(python) = PythonProcess::open(pid) {
            targets.push(Target::new(python));
        }
    }
}

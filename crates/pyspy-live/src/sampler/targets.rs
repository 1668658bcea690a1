//! The processes a record samples: the root and, with `--subprocesses`, its Python descendants.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use pyspy_core::memory::BlockCache;
use pyspy_core::process::{ThreadState, TidMap};
use pyspy_core::python::thread_filter::ThreadFilter;
use pyspy_core::python::thread_names::{self, ThreadNames};
use pyspy_core::python::threads::{self, PyThread};
use pyspy_core::python::StackReader;
use pyspy_core::Result;
use rustc_hash::FxHashMap;

use super::cpu::CpuClock;
use super::exec::{Image, Phase};
use super::last_ids::LastIds;
use super::tasks::TaskSampling;
use crate::process::{linux, ThreadStates};
use crate::python::PythonProcess;

pub(crate) struct Target {
    pub python: PythonProcess,
    /// Its own caches: code objects and the blocks read ahead are this process's addresses.
    pub reader: StackReader,
    pub blocks: BlockCache,
    /// The process's threads as of the last listing, sorted, with the ids CPython knows them by.
    pub tids: TidMap,
    pub exited: bool,
    /// `--async`: its tasks (None without, or for a child whose build `--async` cannot read).
    pub tasks: Option<TaskSampling>,
    /// `--async`: Some(idle), kept for the Python an exec starts.
    asyncio: Option<bool>,
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
    states: ThreadStates,
    /// `--cpu`: each thread's CPU time as last read.
    pub cpu: Option<CpuClock>,
    /// `--thread-name`, `--tid`: the threads kept (our ids, sorted); None keeps every thread.
    scope: Option<Vec<u32>>,
    /// Their thread states as last listed, read again each sample instead of walking every
    /// thread state of the process.
    pub scope_threads: Vec<PyThread>,
    /// Without `--thread-name`/`--tid`: every Python thread as of the last walk of the thread
    /// lists, so that a tick reads only the thread states of the threads it samples.
    pub known: KnownThreads,
    /// When `scope` was worked out; None: to be worked out (again) before the next sample.
    scope_read_at: Option<Instant>,
    /// `--subprocesses`: the id of this process's root frame, once interned.
    pub process_frame: Option<u32>,
    /// Each thread's last sample, with its frames' ids.
    pub(super) last_ids: LastIds,
    /// The program image the process ran when it was opened: an exec replaces it.
    pub(super) image: Option<Image>,
    pub(super) image_checked_at: Instant,
    pub(super) phase: Phase,
    /// When `alive_lately` last asked the kernel.
    alive_checked_at: Instant,
}

impl Target {
    /// `asyncio`: Some(idle) with `--async`.
    pub fn new(python: PythonProcess, cpu: bool, asyncio: Option<bool>) -> Target {
        let cwd = python.process.cwd().unwrap_or_default();
        let pid = python.pid();
        let tasks = asyncio.and_then(|idle| TaskSampling::new(&python.python, idle).ok());
        Target {
            tasks,
            asyncio,
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
            states: ThreadStates::new(pid),
            cpu: cpu.then(|| CpuClock::new(pid)),
            scope: None,
            scope_threads: Vec::new(),
            known: KnownThreads::default(),
            scope_read_at: None,
            process_frame: None,
            last_ids: LastIds::default(),
            image: super::exec::image_of(pid),
            image_checked_at: Instant::now(),
            phase: Phase::Sampling,
            alive_checked_at: Instant::now(),
        }
    }

    /// Whether the process is still running and still the one we opened, asked of the kernel
    /// every `LIVENESS_INTERVAL` only: one poll a tick was 7% of a 200-deep sample's cost. In
    /// between, a process that ended shows in the reads (they fail, or find nothing to sample),
    /// and the caller asks `is_alive` then. Another process under its PID is no risk between two
    /// asks: PIDs are handed out in turn, so one is reused only after every other free PID was.
    pub fn alive_lately(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.alive_checked_at) < LIVENESS_INTERVAL {
            return true;
        }
        self.alive_checked_at = now;
        self.python.process.is_alive()
    }

    /// The process exec'd another Python: read that one from now on, as a target of its own
    /// (code objects, blocks, threads and names are all new), keeping its CPU times.
    pub(super) fn reopened(&mut self, python: PythonProcess) {
        let cpu = self.cpu.take();
        *self = Target::new(python, false, self.asyncio);
        self.cpu = cpu;
    }

    /// Brings `tids` up to date and returns the threads in scope (every thread, unless
    /// `--thread-name` or `--tid` left some out), with each one's scheduler state if `want_states`
    /// (`ThreadState::Other` otherwise) and whether it may have run since the last tick (false:
    /// parked all along, as `ThreadStates` knows without reading its stat file).
    ///
    /// Listing /proc/PID/task costs five system calls, more than the rest of a small sample's
    /// reads. Every stat file carries the process's thread count, so the list is only read again
    /// when that count changes or a thread's stat cannot be read (it exited). A thread that did
    /// not switch since the last tick is not read at all (`ThreadStates`), nor is one left out of
    /// scope: a tick that read no stat file takes the count from `/proc/PID/task`'s link count.
    /// A thread that ends while another starts changes no count; the new one is found when its
    /// Python thread state names a TID we have not listed.
    pub fn refresh_threads(&mut self, want_states: bool, filter: Option<&ThreadFilter>) -> Result<Vec<(u32, ThreadState, bool)>> {
        if self.tids.outer().is_empty() {
            self.relist()?;
        }
        for attempt in 0..2 {
            if let Some(filter) = filter {
                self.update_scope(filter);
            }
            let count = self.tids.outer().len();
            let in_scope: Vec<u32> = match &self.scope {
                Some(scope) => scope.clone(),
                None => self.tids.outer().to_vec(),
            };
            let mut states = Vec::with_capacity(in_scope.len());
            let (mut stale, mut counted) = (false, false);
            for &tid in &in_scope {
                let (state, ran) = if want_states {
                    match self.states.read(tid) {
                        Some((state, threads)) => {
                            // A thread that did not switch comes without a stat read, and without the count.
                            if let Some(threads) = threads {
                                counted = true;
                                stale |= threads != count;
                            }
                            // One that did not switch ran all along if it was running.
                            (state, threads.is_some() || state == ThreadState::Running)
                        }
                        None => {
                            stale = true;
                            (ThreadState::Other, true)
                        }
                    }
                } else {
                    (ThreadState::Other, true)
                };
                states.push((tid, state, ran));
            }
            if !counted {
                stale |= self.states.thread_count().is_none_or(|threads| threads != count);
            }
            if !stale || attempt == 1 {
                return Ok(states);
            }
            self.relist()?;
        }
        unreachable!("the loop returns on its second attempt")
    }

    /// `--thread-name`, `--tid`: works out which threads are kept, after a new listing and about
    /// once a second (threads are renamed). Python's names come with the thread states that say
    /// which TID each ident is (the frames are not walked); a thread Python does not know goes by
    /// its kernel name.
    fn update_scope(&mut self, filter: &ThreadFilter) {
        let due = self.scope_read_at.is_none_or(|at| at.elapsed() >= NAMES_REFRESH);
        if self.scope.is_some() && !due {
            return;
        }
        let (process, python) = (&self.python.process, &self.python.python);
        let threads =
            threads::read_threads(process, &python.layout, python.runtime_addr, python.tstate_current_addr, self.tids.inner())
                .unwrap_or_default();
        let names = if filter.needs_names() {
            self.python_names.read(process, &python.layout, python.runtime_addr)
        } else {
            FxHashMap::default()
        };
        let kept: Vec<PyThread> = threads
            .into_iter()
            .filter(|t| {
                let tid = self.tids.to_outer(t.native_thread_id);
                let python_name = names.get(&t.python_thread_id).map(String::as_str);
                let kernel_name = if python_name.is_none() && filter.needs_names() { process.thread_name(tid) } else { None };
                tid != 0 && filter.keeps(tid, python_name.or(kernel_name.as_deref()))
            })
            .collect();
        let mut scope: Vec<u32> = kept.iter().map(|t| self.tids.to_outer(t.native_thread_id)).collect();
        scope.sort_unstable();
        scope.dedup();
        self.scope = Some(scope);
        self.scope_threads = kept;
        self.scope_read_at = Some(Instant::now());
    }

    /// The kept threads' states changed under us (one ended): work the scope out again before the
    /// next sample.
    pub fn forget_scope(&mut self) {
        self.scope_read_at = None;
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
        self.states.retain(self.tids.outer());
        if let Some(cpu) = &mut self.cpu {
            cpu.listed(self.tids.outer());
        }
        // New threads may be ones to keep, or have thread states not walked yet.
        self.scope_read_at = None;
        self.known = KnownThreads::default();
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

/// The Python threads of a process as of the last walk of its interpreters' thread-state lists.
/// A walk reads every thread state: on a 200-thread target that was two thirds of the sampler's
/// time, for the handful of threads a tick samples. It is repeated when a list's head changes (a
/// thread state was added), when a known thread state is no longer its thread's, after the
/// threads were listed again, and at least every `KNOWN_REFRESH`.
#[derive(Default)]
pub(crate) struct KnownThreads {
    pub threads: Vec<PyThread>,
    pub heads: Vec<u64>,
    pub walked_at: Option<Instant>,
}

pub(crate) const KNOWN_REFRESH: Duration = Duration::from_secs(1);

/// How often `alive_lately` asks the kernel while the reads go well.
const LIVENESS_INTERVAL: Duration = Duration::from_millis(20);

/// How often Python's thread names are read again.
const NAMES_REFRESH: Duration = Duration::from_secs(1);
/// A thread seen for the first time triggers a read, but no more often than this: a program that
/// starts threads all the time must not make us read names all the time. A thread first seen
/// sooner has its kernel name until the next refresh.
const NAMES_MIN_GAP: Duration = Duration::from_millis(100);

/// Adds Python processes descended from the root that we are not sampling yet.
/// Non-Python descendants are tried again on the next scan: a child may exec python later.
pub(crate) fn add_new_children(targets: &mut Vec<Target>, cpu: bool, asyncio: Option<bool>) {
    let root = targets[0].python.pid();
    let known: HashSet<u32> = targets.iter().map(|t| t.python.pid()).collect();
    for pid in linux::descendants(root) {
        if known.contains(&pid) {
            continue;
        }
        if let Ok(python) = PythonProcess::open(pid) {
            targets.push(Target::new(python, cpu, asyncio));
        }
    }
}

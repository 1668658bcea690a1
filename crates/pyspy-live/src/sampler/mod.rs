//! The sampling loop: its own thread, a fixed schedule, honest statistics.
//!
//! Every tick reads every thread of every target once. A tick that comes too late is not made up
//! for: the ticks skipped are counted as `missed`, and the achieved rate is what it was.

mod cpu;
mod exec;
mod last_ids;
mod native;
mod run;
mod targets;
mod tasks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pyspy_core::profile::{Aggregator, Profile, ProfileUnit, Stats};
use pyspy_core::python::thread_filter::ThreadFilter;
use pyspy_core::{Error, ErrorKind, Result};

use crate::python::PythonProcess;

/// py-spy's options, one name each from the command line to here (`--gil` is `gil`).
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub rate_hz: f64,
    /// Stop after this long; None runs until stopped or the target exits.
    pub duration: Option<Duration>,
    /// Read the target while it runs instead of pausing it for each sample (stacks may then be torn).
    pub nonblocking: bool,
    /// Only samples from the thread holding the GIL.
    pub gil: bool,
    /// Include threads that are not running (sleeping, waiting on I/O or locks).
    pub idle: bool,
    /// Aggregate by function (its first line) instead of by current line.
    pub function: bool,
    pub nolineno: bool,
    pub full_filenames: bool,
    /// Also sample child processes that are Python, each under a root frame of its own.
    pub subprocesses: bool,
    /// Weigh each sample by the CPU time its thread used since its previous sample (ns), so that
    /// time spent runnable but waiting for a core counts for nothing.
    pub cpu: bool,
    /// Put `<GC>` on top of the stack while the cyclic garbage collector runs.
    pub gc: bool,
    /// Only threads whose name (Python's, else the kernel's) matches this regular expression.
    pub thread_name: Option<String>,
    /// Only these threads (kernel thread ids).
    pub tid: Vec<u32>,
    /// Keep a per-sample timeline (for trace formats).
    pub timeline: bool,
    /// A freshly launched command may not be Python yet (exec, runtime start-up): keep trying this long.
    pub wait_for_python: Option<Duration>,
    /// `--async`: a thread running an asyncio task is sampled under the chain of tasks awaiting it;
    /// with `idle`, every waiting task is also a sample, where it waits. (`async` in JS.)
    pub asyncio: bool,
    /// With `asyncio`: keep default task names (`Task-123`) instead of folding them to `Task`.
    pub full_task_names: bool,
    /// Also the C, C++, Cython and Rust frames of each thread, merged with its Python frames.
    pub native: bool,
    /// With `native`: also the interpreter's own frames (the eval loop, call plumbing), which are
    /// hidden otherwise.
    pub native_all: bool,
    /// Distinct stacks kept; samples of newer stacks are counted as `<other stacks>` (0 is invalid).
    pub max_stacks: u32,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            rate_hz: 100.0,
            duration: None,
            nonblocking: false,
            gil: false,
            idle: false,
            function: false,
            nolineno: false,
            full_filenames: false,
            subprocesses: false,
            cpu: false,
            gc: true,
            thread_name: None,
            tid: Vec::new(),
            timeline: false,
            wait_for_python: None,
            asyncio: false,
            full_task_names: false,
            native: false,
            native_all: false,
            max_stacks: pyspy_core::profile::DEFAULT_MAX_STACKS,
        }
    }
}

/// Highest rate we accept; beyond it the schedule is meaningless on any machine.
pub const MAX_RATE_HZ: f64 = 1_000_000.0;

impl RecordOptions {
    /// The one check of what a caller may get wrong; the JS side calls it (through the binding)
    /// before launching a command, so that a bad option never starts a program.
    pub fn check(&self) -> Result<()> {
        if !(self.rate_hz > 0.0 && self.rate_hz <= MAX_RATE_HZ) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("--rate must be a number of samples per second between 0 and {MAX_RATE_HZ}, got {}", self.rate_hz),
            ));
        }
        if self.full_task_names && !self.asyncio {
            return Err(Error::new(ErrorKind::InvalidArgument, "--full-task-names is for --async: add --async"));
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return Err(Error::new(ErrorKind::InvalidArgument, "--duration must be a positive number of seconds"));
        }
        if self.cpu && self.idle {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "--cpu and --idle do not go together: with --cpu a thread weighs the CPU time it used, and idle time weighs nothing",
            ));
        }
        self.thread_filter()?;
        if self.max_stacks == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("--max-stacks must be a whole number of stacks between 1 and {}", u32::MAX),
            ));
        }
        check_native(self.native, self.native_all, self.nonblocking)
    }

    /// `--thread-name` and `--tid` as a filter; None when neither was given.
    pub fn thread_filter(&self) -> Result<Option<ThreadFilter>> {
        ThreadFilter::new(self.thread_name.as_deref(), &self.tid)
    }

    /// What only the target can tell: a free-threaded build has no GIL to keep samples by (its
    /// GIL struct's holder is stale while the GIL is off), so `--gil` would keep nothing.
    pub fn check_against(&self, target: &PythonProcess) -> Result<()> {
        if self.gil && target.python.build().free_threaded {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "--gil cannot be used with Python {} ({}): a free-threaded build has no GIL, several threads run Python at once",
                    target.python.version,
                    target.python.build()
                ),
            ));
        }
        if self.native {
            check_native_against(&target.python)?;
        }
        // A build --async cannot read fails the record now, not silently later.
        if self.asyncio {
            tasks::TaskSampling::new(&target.python, self.idle)?;
        }
        Ok(())
    }
}

/// Python 2's eval loop is `PyEval_EvalFrameEx`, which the merge does not know as one (3.6+ run
/// `_PyEval_EvalFrameDefault`): its C frames would stand beside the Python frames instead of
/// being replaced by them, a stack that lies. Refused until the merge learns it.
pub fn check_native_against(python: &pyspy_core::python::Python) -> Result<()> {
    if python.version.major < 3 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "--native cannot be used with Python {}: pyspy-ts merges native frames on CPython 3.6 and newer",
                python.version
            ),
        ));
    }
    Ok(())
}

/// `--native` reads registers, which only a paused thread has; `--native-all` refines it.
pub fn check_native(native: bool, native_all: bool, nonblocking: bool) -> Result<()> {
    if native_all && !native {
        return Err(Error::new(ErrorKind::InvalidArgument, "--native-all shows more of --native's frames: add --native"));
    }
    if native && nonblocking {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            "--native needs to pause the target to read its registers: leave out --nonblocking",
        ));
    }
    if native && !cfg!(target_arch = "x86_64") {
        return Err(Error::new(ErrorKind::InvalidArgument, "--native is supported on x86_64 Linux only, for now"));
    }
    Ok(())
}

struct Shared {
    stop: AtomicBool,
    aggregator: Mutex<Aggregator>,
    /// Why sampling ended on its own (target exited), for the summary.
    target_exited: AtomicBool,
    /// `wait` has taken the profile: there is nothing left to snapshot.
    taken: AtomicBool,
}

impl Shared {
    fn aggregator(&self) -> std::sync::MutexGuard<'_, Aggregator> {
        self.aggregator.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running record. Its methods take `&self`, so that a caller can wait for the end (`wait`) on
/// one thread while another stops it or takes snapshots.
pub struct Sampler {
    shared: Arc<Shared>,
    handle: Mutex<Option<JoinHandle<()>>>,
    python_version: String,
    free_threaded: bool,
}

impl Sampler {
    /// Opens the target on the sampling thread (ptrace binds tracees to the thread that seized them)
    /// and returns once it is known to be a readable Python process, or with the reason it is not.
    pub fn start(pid: u32, options: RecordOptions) -> Result<Sampler> {
        options.check()?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            aggregator: Mutex::new({
                let mut aggregator = Aggregator::new(options.timeline).with_max_stacks(options.max_stacks);
                if options.cpu {
                    aggregator.set_unit(ProfileUnit::CpuNanoseconds);
                }
                aggregator
            }),
            target_exited: AtomicBool::new(false),
            taken: AtomicBool::new(false),
        });
        let (opened_tx, opened_rx) = mpsc::channel();
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("pyspy-sampler".into())
            .spawn(move || {
                // Only nonblocking: a blocking tick already spins for its stops (pause.rs), and a
                // sampler that also preempts the target's thread on waking then spins on the very
                // core that thread waits for. Measured under load, that skewed --native's C/Python
                // split by up to 6 points; either change alone did not.
                if options.nonblocking {
                    crate::process::sched::ask_for_short_slice();
                }
                let opened = open_when_ready(pid, options.wait_for_python, &thread_shared.stop);
                let python = match opened.and_then(|p| options.check_against(&p).map(|()| p)) {
                    Ok(p) => {
                        let _ = opened_tx.send(Ok((p.python.version.to_string(), p.python.build().free_threaded)));
                        p
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                run::run(python, &options, &thread_shared);
            })
            .map_err(|e| Error::read_failed(format!("could not start the sampling thread: {e}")))?;
        match opened_rx.recv() {
            Ok(Ok((python_version, free_threaded))) => {
                Ok(Sampler { shared, handle: Mutex::new(Some(handle)), python_version, free_threaded })
            }
            Ok(Err(e)) => {
                let _ = handle.join();
                Err(e)
            }
            Err(_) => Err(Error::read_failed("the sampling thread stopped before opening the target")),
        }
    }

    /// The root target's CPython version, e.g. "3.12.1".
    pub fn python_version(&self) -> &str {
        &self.python_version
    }

    /// The root target is a free-threaded build (3.13t): no GIL, several threads run at once.
    pub fn free_threaded(&self) -> bool {
        self.free_threaded
    }

    /// Everything aggregated so far; None once `wait` has returned the whole profile.
    pub fn snapshot(&self) -> Option<Profile> {
        let aggregator = self.shared.aggregator();
        (!self.shared.taken.load(Ordering::SeqCst)).then(|| aggregator.snapshot())
    }

    pub fn stats(&self) -> Stats {
        self.shared.aggregator().stats_mut().clone()
    }

    /// Asks the sampler to stop after the current tick; `wait` then returns.
    pub fn request_stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }

    pub fn target_exited(&self) -> bool {
        self.shared.target_exited.load(Ordering::SeqCst)
    }

    /// Blocks until sampling ends (duration, `request_stop`, the target exiting) and returns
    /// everything collected; None when another call already took it.
    pub fn wait(&self) -> Option<Profile> {
        let handle = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let _ = handle.join();
        let mut aggregator = self.shared.aggregator();
        self.shared.taken.store(true, Ordering::SeqCst);
        Some(std::mem::take(&mut *aggregator).finish())
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.request_stop();
        if let Some(handle) = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = handle.join();
        }
    }
}

fn open_when_ready(pid: u32, wait: Option<Duration>, stop: &AtomicBool) -> Result<PythonProcess> {
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        match exec::open_unless_exec(pid) {
            Ok(p) => return Ok(p),
            // Not (yet) Python: a launched command is still exec'ing or loading libpython.
            Err(e) if e.kind == ErrorKind::NotPython && deadline.is_some_and(|d| Instant::now() < d) => {
                if stop.load(Ordering::SeqCst) {
                    return Err(e);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_that_cannot_go_together_or_do_not_parse_are_refused_before_anything_starts() {
        let cpu_idle = RecordOptions { cpu: true, idle: true, ..Default::default() };
        assert!(cpu_idle.check().unwrap_err().message.starts_with("--cpu and --idle do not go together"));
        let pattern = RecordOptions { thread_name: Some("(".into()), ..Default::default() };
        assert_eq!(pattern.check().unwrap_err().kind, ErrorKind::InvalidArgument);
        let tid = RecordOptions { tid: vec![0], ..Default::default() };
        assert_eq!(tid.check().unwrap_err().kind, ErrorKind::InvalidArgument);
        let fine = RecordOptions { cpu: true, thread_name: Some("^worker-".into()), tid: vec![7], ..Default::default() };
        assert!(fine.check().is_ok() && fine.thread_filter().unwrap().is_some());
        assert!(RecordOptions::default().gc, "<GC> is shown unless asked not to");
    }
}

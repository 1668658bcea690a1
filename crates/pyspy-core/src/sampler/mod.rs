//! The sampling loop: its own thread, a fixed schedule, honest statistics.
//!
//! Every tick reads every thread of every target once. A tick that comes too late is not made up
//! for: the ticks skipped are counted as `missed`, and the achieved rate is what it was.

mod targets;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use crate::process::{PausedProcess, ThreadState};
use crate::profile::{Aggregator, Frame, Profile, Stats};
use crate::python::code::CodeInfo;
use crate::python::PythonProcess;
use crate::{Error, ErrorKind, Result};

pub use targets::short_filename;
use targets::Target;

#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub rate_hz: f64,
    /// Stop after this long; None runs until stopped or the target exits.
    pub duration: Option<Duration>,
    /// Pause the target for each sample (consistent stacks) instead of reading it while it runs.
    pub blocking: bool,
    /// Only samples from the thread holding the GIL.
    pub gil_only: bool,
    /// Include threads that are not running (sleeping, waiting on I/O or locks).
    pub include_idle: bool,
    /// Aggregate by function (its first line) instead of by current line.
    pub function: bool,
    pub nolineno: bool,
    pub full_filenames: bool,
    /// Also sample child processes that are Python.
    pub subprocesses: bool,
    /// Keep a per-sample timeline (for trace formats).
    pub timeline: bool,
    /// A freshly launched command may not be Python yet (exec, runtime start-up): keep trying this long.
    pub wait_for_python: Option<Duration>,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            rate_hz: 100.0,
            duration: None,
            blocking: true,
            gil_only: false,
            include_idle: false,
            function: false,
            nolineno: false,
            full_filenames: false,
            subprocesses: false,
            timeline: false,
            wait_for_python: None,
        }
    }
}

/// Highest rate we accept; beyond it the schedule is meaningless on any machine.
pub const MAX_RATE_HZ: f64 = 1_000_000.0;

struct Shared {
    stop: AtomicBool,
    aggregator: Mutex<Aggregator>,
    /// Why sampling ended on its own (target exited), for the summary.
    target_exited: AtomicBool,
}

pub struct Sampler {
    shared: Arc<Shared>,
    handle: Option<JoinHandle<()>>,
    python_version: String,
}

impl Sampler {
    /// Opens the target on the sampling thread (ptrace binds tracees to the thread that seized them)
    /// and returns once it is known to be a readable Python process, or with the reason it is not.
    pub fn start(pid: u32, options: RecordOptions) -> Result<Sampler> {
        if !(options.rate_hz > 0.0 && options.rate_hz <= MAX_RATE_HZ) {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("rate must be between 0 and {MAX_RATE_HZ} Hz, got {}", options.rate_hz),
            ));
        }
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            aggregator: Mutex::new(Aggregator::new(options.timeline)),
            target_exited: AtomicBool::new(false),
        });
        let (opened_tx, opened_rx) = mpsc::channel();
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("pyspy-sampler".into())
            .spawn(move || {
                let python = match open_when_ready(pid, options.wait_for_python, &thread_shared.stop) {
                    Ok(p) => {
                        let _ = opened_tx.send(Ok(p.version.to_string()));
                        p
                    }
                    Err(e) => {
                        let _ = opened_tx.send(Err(e));
                        return;
                    }
                };
                run(python, &options, &thread_shared);
            })
            .map_err(|e| Error::read_failed(format!("could not start the sampling thread: {e}")))?;
        match opened_rx.recv() {
            Ok(Ok(python_version)) => Ok(Sampler { shared, handle: Some(handle), python_version }),
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

    pub fn snapshot(&self) -> Profile {
        self.shared.aggregator.lock().unwrap_or_else(|p| p.into_inner()).snapshot()
    }

    pub fn stats(&self) -> Stats {
        self.shared.aggregator.lock().unwrap_or_else(|p| p.into_inner()).stats_mut().clone()
    }

    pub fn request_stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }

    /// True once sampling ended, by request, duration or the target exiting.
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    pub fn target_exited(&self) -> bool {
        self.shared.target_exited.load(Ordering::SeqCst)
    }

    /// Waits for the sampling thread and returns everything collected.
    pub fn finish(mut self) -> Profile {
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        let aggregator = std::mem::take(&mut *self.shared.aggregator.lock().unwrap_or_else(|p| p.into_inner()));
        aggregator.finish()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.request_stop();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn open_when_ready(pid: u32, wait: Option<Duration>, stop: &AtomicBool) -> Result<PythonProcess> {
    let deadline = wait.map(|w| Instant::now() + w);
    loop {
        match PythonProcess::open(pid) {
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

fn thread_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills a struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// Per-record memo from (code object, line) to interned frame id, so a sample costs no string hashing.
type FrameMemo = FxHashMap<(usize, u32), (Arc<CodeInfo>, u32)>;

fn run(root: PythonProcess, options: &RecordOptions, shared: &Shared) {
    // Linux rounds a sleeping thread's wake-up up by its timer slack (50 us by default), which
    // alone would cap the rate near 20 kHz and blur the schedule well below that.
    // SAFETY: prctl on the calling thread with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    let interval = Duration::from_secs_f64(1.0 / options.rate_hz);
    let started = Instant::now();
    let cpu_at_start = thread_cpu_seconds();
    let mut targets = vec![Target::new(root)];
    let mut memo: FrameMemo = FrameMemo::default();
    let mut frame_ids: Vec<u32> = Vec::new();
    let mut next_tick = started;
    let mut last_child_scan = started;
    {
        let mut agg = shared.aggregator.lock().unwrap_or_else(|p| p.into_inner());
        agg.stats_mut().requested_rate_hz = options.rate_hz;
    }

    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let now = Instant::now();
        if options.duration.is_some_and(|d| now.duration_since(started) >= d) {
            break;
        }
        if now < next_tick {
            std::thread::sleep(next_tick - now);
            continue;
        }
        // Behind schedule by whole intervals: those ticks are missed, not sampled late.
        let behind = now.duration_since(next_tick).as_secs_f64() / interval.as_secs_f64();
        let missed = behind.floor() as u64;
        next_tick += interval * (missed as u32 + 1);

        if options.subprocesses && now.duration_since(last_child_scan) >= Duration::from_millis(500) {
            last_child_scan = now;
            targets::add_new_children(&mut targets);
        }

        let time_us = now.duration_since(started).as_micros() as u64;
        let mut tick_error = false;
        let mut root_gone = false;
        let mut collected = Vec::new();
        let mut idle_seen = 0;
        for (index, target) in targets.iter_mut().enumerate() {
            // Also catches a PID reused by another process between two ticks: never sample that one.
            if !target.python.process.is_alive() {
                target.exited = true;
                root_gone |= index == 0;
                continue;
            }
            match sample_target(target, options, &mut idle_seen) {
                Ok(samples) => collected.push((index, samples)),
                Err(_) if !target.python.process.is_alive() => {
                    target.exited = true;
                    if index == 0 {
                        root_gone = true;
                    }
                }
                Err(_) => tick_error = true,
            }
        }

        // Now and then this reads Python's thread names (~150 us): not while a live view waits
        // for the aggregator's lock.
        for (index, samples) in &collected {
            targets[*index].update_names(samples.iter().map(|s| s.tid));
        }
        let mut agg = shared.aggregator.lock().unwrap_or_else(|p| p.into_inner());
        {
            let stats = agg.stats_mut();
            stats.missed += missed;
            if !root_gone {
                stats.ticks += 1;
            }
            if tick_error {
                stats.errors += 1;
            }
            stats.idle_samples += idle_seen;
        }
        for (index, samples) in collected {
            let target = &mut targets[index];
            for sample in samples {
                agg.stats_mut().gil_samples += sample.owns_gil as u64;
                let pid = target.python.pid();
                let thread = agg.intern_thread(pid, sample.tid, target.thread_name(sample.tid));
                frame_ids.clear();
                for (code, line) in sample.frames.iter().rev() {
                    frame_ids.push(intern(&mut agg, &mut memo, code, *line, options, &target.cwd));
                }
                agg.add_sample(thread, &mut frame_ids, time_us);
            }
        }
        let stats = agg.stats_mut();
        stats.duration_s = started.elapsed().as_secs_f64();
        // For live views only (the final figure is taken after the loop): a getrusage a tick is
        // a system call too many at 20 kHz.
        if stats.ticks.is_multiple_of(64) {
            stats.profiler_cpu_s = thread_cpu_seconds() - cpu_at_start;
        }
        drop(agg);

        // The root stays (its exit ends the record); exited children are dropped.
        let mut position = 0;
        targets.retain(|t| {
            position += 1;
            position == 1 || !t.exited
        });
        if root_gone {
            shared.target_exited.store(true, Ordering::SeqCst);
            break;
        }
    }
    let mut agg = shared.aggregator.lock().unwrap_or_else(|p| p.into_inner());
    let stats = agg.stats_mut();
    stats.duration_s = started.elapsed().as_secs_f64();
    stats.profiler_cpu_s = thread_cpu_seconds() - cpu_at_start;
}

fn intern(
    agg: &mut Aggregator,
    memo: &mut FrameMemo,
    code: &Arc<CodeInfo>,
    line: u32,
    options: &RecordOptions,
    cwd: &str,
) -> u32 {
    let line = if options.nolineno {
        0
    } else if options.function {
        code.first_line
    } else {
        line
    };
    let key = (Arc::as_ptr(code) as usize, line);
    if let Some((_, id)) = memo.get(&key) {
        return *id;
    }
    let file = if options.full_filenames { code.filename.clone() } else { short_filename(&code.filename, cwd) };
    let id = agg.intern_frame(Frame { name: code.name.clone(), file, line });
    // Holding the Arc keeps its address from being reused by another code object while memoised.
    memo.insert(key, (code.clone(), id));
    id
}

struct ThreadSample {
    tid: u32,
    /// Innermost first.
    frames: Vec<(Arc<CodeInfo>, u32)>,
    owns_gil: bool,
}

/// `idle_seen` counts the threads left out as idle (for `Stats::idle_samples`).
fn sample_target(target: &mut Target, options: &RecordOptions, idle_seen: &mut u64) -> Result<Vec<ThreadSample>> {
    // Scheduler states before pausing: a paused thread reads as traced, not as running.
    let states = target.refresh_threads(!options.include_idle)?;
    let Target { python, reader, tids, .. } = target;
    let process = &python.process;
    let paused = match (options.blocking, options.include_idle) {
        (false, _) => None,
        (true, true) => Some(PausedProcess::pause(process)?),
        (true, false) => {
            let running: Vec<u32> =
                tids.iter().zip(&states).filter(|(_, s)| **s == ThreadState::Running).map(|(t, _)| *t).collect();
            Some(PausedProcess::pause_threads(process, &running)?)
        }
    };
    let stacks = reader.read(python, tids);
    drop(paused);
    let stacks = stacks?;
    // A Python thread we have no TID for: the list is stale in a way the thread count did not
    // show (one thread ended as another began, and only one stat file was checked). List again
    // on the next tick.
    let mut stale = false;
    let mut samples = Vec::with_capacity(stacks.len());
    for stack in stacks {
        let tid = stack.thread.native_thread_id;
        let index = tids.binary_search(&tid);
        stale |= index.is_err();
        if stack.frames.is_empty() || (options.gil_only && !stack.thread.owns_gil) {
            continue;
        }
        if !options.include_idle {
            let running = index.is_ok_and(|i| states[i] == ThreadState::Running);
            if !running {
                *idle_seen += 1;
                continue;
            }
        }
        let owns_gil = stack.thread.owns_gil;
        samples.push(ThreadSample { tid, frames: stack.frames.into_iter().map(|f| (f.code, f.line)).collect(), owns_gil });
    }
    if stale {
        tids.clear();
    }
    Ok(samples)
}

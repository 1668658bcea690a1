//! One record's loop on the sampling thread: tick, read every target, aggregate.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyspy_core::paths::short_filename;
use pyspy_core::process::ThreadState;
use pyspy_core::profile::{Aggregator, Frame, FrameKind};
use pyspy_core::python::code::CodeInfo;
use pyspy_core::python::ReadOptions;
use pyspy_core::Result;
use rustc_hash::FxHashMap;

use super::native::{sample_frames, NativeMemo, SampleFrame};
use super::targets::{self, Target};
use super::{RecordOptions, Shared};
use crate::process::PausedProcess;
use crate::python::PythonProcess;

fn thread_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills a struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// Per-record memo from (code object, line) to interned frame id, so a sample costs no string hashing.
type FrameMemo = FxHashMap<(usize, u32), (Arc<CodeInfo>, u32)>;

pub(super) fn run(root: PythonProcess, options: &RecordOptions, shared: &Shared) {
    // Linux rounds a sleeping thread's wake-up up by its timer slack (50 us by default), which
    // alone would cap the rate near 20 kHz and blur the schedule well below that.
    // SAFETY: prctl on the calling thread with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    let interval = Duration::from_secs_f64(1.0 / options.rate_hz);
    let started = Instant::now();
    let cpu_at_start = thread_cpu_seconds();
    let mut targets = vec![Target::new(root)];
    let mut memo: FrameMemo = FrameMemo::default();
    let mut native_memo = NativeMemo::default();
    let mut frame_ids: Vec<u32> = Vec::new();
    let mut names_wanted: Vec<(u32, u64)> = Vec::new();
    let mut next_tick = started;
    let mut last_child_scan = started;
    shared.aggregator().stats_mut().requested_rate_hz = options.rate_hz;

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
                Ok(read) => {
                    tick_error |= read.errors;
                    collected.push((index, read.samples));
                }
                Err(_) if !target.python.process.is_alive() => {
                    target.exited = true;
                    root_gone |= index == 0;
                }
                Err(_) => tick_error = true,
            }
        }

        // Now and then this reads Python's thread names (~150 us): not while a live view waits
        // for the aggregator's lock.
        for (index, samples) in &collected {
            names_wanted.clear();
            names_wanted.extend(samples.iter().map(|s| (s.tid, s.python_thread_id)));
            targets[*index].update_names(&names_wanted);
        }
        let mut agg = shared.aggregator();
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
                let mut previous: Option<(*const CodeInfo, u32, u32)> = None;
                for frame in sample.frames.iter().rev() {
                    frame_ids.push(match frame {
                        // A recursion: the same code and line as the frame outside it, no hashing.
                        SampleFrame::Python(code, line)
                            if previous.is_some_and(|(p, l, _)| std::ptr::eq(p, Arc::as_ptr(code)) && l == *line) =>
                        {
                            previous.map_or(0, |(_, _, id)| id)
                        }
                        SampleFrame::Python(code, line) => {
                            let id = intern(&mut agg, &mut memo, code, *line, options, &target.cwd);
                            previous = Some((Arc::as_ptr(code), *line, id));
                            id
                        }
                        SampleFrame::Native(symbol, inline) => native_memo.intern(
                            &mut agg,
                            symbol,
                            *inline,
                            options.nolineno || options.function,
                            options.full_filenames,
                        ),
                        SampleFrame::Incomplete(reason) => native_memo.marker(&mut agg, *reason),
                    });
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
    let mut agg = shared.aggregator();
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
    let id = agg.intern_frame(Frame { name: code.name.clone(), file, line, kind: FrameKind::Python });
    // Holding the Arc keeps its address from being reused by another code object while memoised.
    memo.insert(key, (code.clone(), id));
    id
}

struct ThreadSample {
    /// Kernel thread id, as we see it.
    tid: u32,
    /// `threading.get_ident()`, which names the thread.
    python_thread_id: u64,
    /// Innermost first.
    frames: Vec<SampleFrame>,
    owns_gil: bool,
}

struct TargetRead {
    samples: Vec<ThreadSample>,
    /// A thread that would have been sampled could not be read.
    errors: bool,
}

/// `idle_seen` counts the threads left out as idle (for `Stats::idle_samples`).
fn sample_target(target: &mut Target, options: &RecordOptions, idle_seen: &mut u64) -> Result<TargetRead> {
    // Scheduler states before pausing: a paused thread reads as traced, not as running.
    let states = target.refresh_threads(!options.idle)?;
    if options.native {
        target.native.get_or_insert_with(|| crate::native::LiveNative::new(&target.python, options.native_all)).begin();
    }
    let Target { python, reader, blocks, tids, native, .. } = target;
    let process = &python.process;
    let paused = match (options.nonblocking, options.idle) {
        (true, _) => None,
        (false, true) => Some(PausedProcess::pause(process)?),
        (false, false) => {
            let outer = tids.outer();
            let running: Vec<u32> =
                outer.iter().zip(&states).filter(|(_, s)| **s == ThreadState::Running).map(|(t, _)| *t).collect();
            Some(PausedProcess::pause_threads(process, &running)?)
        }
    };
    let stacks = reader.read(&blocks.over(process), &python.python, tids.inner(), ReadOptions::default());
    // Which threads are sampled, and their kernel ids; decided while paused, so that the native
    // stage copies the stacks of those only.
    let kept = |stack: &pyspy_core::python::ThreadStack| -> Option<u32> {
        let tid = tids.to_outer(stack.thread.native_thread_id);
        let index = tids.outer().binary_search(&tid);
        let has_frames = stack.frames.as_ref().is_ok_and(|f| !f.is_empty());
        let wanted = has_frames && (!options.gil || stack.thread.owns_gil);
        (wanted && (options.idle || index.is_ok_and(|i| states[i] == ThreadState::Running))).then_some(tid)
    };
    let captures: Vec<Option<usize>> = match (&stacks, native.as_mut()) {
        (Ok(stacks), Some(native)) => stacks.iter().map(|s| kept(s).and_then(|tid| native.capture(tid).ok())).collect(),
        _ => Vec::new(),
    };
    drop(paused);
    let stacks = stacks?;
    // A Python thread we have no TID for: the list is stale in a way the thread count did not
    // show (one thread ended as another began, and only one stat file was checked). List again
    // on the next tick.
    let mut stale = false;
    let mut read = TargetRead { samples: Vec::with_capacity(stacks.len()), errors: false };
    for (i, stack) in stacks.into_iter().enumerate() {
        let tid = tids.to_outer(stack.thread.native_thread_id);
        stale |= tids.outer().binary_search(&tid).is_err();
        if stack.frames.as_ref().is_ok_and(Vec::is_empty) || (options.gil && !stack.thread.owns_gil) {
            continue;
        }
        if kept(&stack).is_none() {
            *idle_seen += 1;
            continue;
        }
        let Ok(frames) = stack.frames else {
            read.errors = true;
            continue;
        };
        let (frames, incomplete) = sample_frames(native.as_mut(), captures.get(i).copied().flatten(), frames);
        read.errors |= incomplete;
        read.samples.push(ThreadSample {
            tid,
            python_thread_id: stack.thread.python_thread_id,
            frames,
            owns_gil: stack.thread.owns_gil,
        });
    }
    if stale {
        target.forget_threads();
    }
    Ok(read)
}

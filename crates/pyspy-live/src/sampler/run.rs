//! One record's loop on the sampling thread: tick, read every target, aggregate.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyspy_core::paths::short_filename;
use pyspy_core::process::ThreadState;
use pyspy_core::profile::{Aggregator, Frame, FrameKind};
use pyspy_core::python::code::CodeInfo;
use pyspy_core::python::thread_filter::ThreadFilter;
use pyspy_core::python::threads::{self, PyThread};
use pyspy_core::python::ReadOptions;
use pyspy_core::Result;
use rustc_hash::{FxHashMap, FxHashSet};

use super::exec::Phase;
use super::native::{sample_frames, NativeMemo, SampleFrame};
use super::targets::{self, Target};
use super::tasks::{Above, TaskFrames};
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
    // `check` accepted the options before the sampler started.
    let filter = options.thread_filter().ok().flatten();
    let asyncio = options.asyncio.then_some(options.idle);
    let mut targets = vec![Target::new(root, options.cpu, asyncio)];
    let mut memo: FrameMemo = FrameMemo::default();
    let mut task_frames = TaskFrames::new(options.full_task_names);
    let mut native_memo = NativeMemo::default();
    let mut frame_ids: Vec<u32> = Vec::new();
    let mut gc_frame: Option<u32> = None;
    let mut names_wanted: Vec<(u32, u64)> = Vec::new();
    let mut next_tick = started;
    let mut pending_errors = PendingErrors::default();
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
            targets::add_new_children(&mut targets, options.cpu, asyncio);
        }

        let time_us = now.duration_since(started).as_micros() as u64;
        let mut tick = Tick::default();
        let mut root_gone = false;
        let mut collected = Vec::new();
        let mut notes = Vec::new();
        for (index, target) in targets.iter_mut().enumerate() {
            // Also catches a PID reused by another process: never sample that one.
            if !target.alive_lately(now) {
                target.exited = true;
                root_gone |= index == 0;
                continue;
            }
            match &target.phase {
                Phase::Stopped => continue,
                Phase::Reopening { .. } => {
                    notes.extend(target.try_reopen());
                    continue;
                }
                Phase::Sampling => {}
            }
            if target.exec_happened_lately() {
                target.begin_reopen();
                continue;
            }
            let result = sample_target(target, options, filter.as_ref(), &mut tick);
            // A process that ended since it was last asked about reads as failing, or as having
            // nothing to sample (a zombie's thread is not running). One that is ending reads as
            // failing before it ends.
            let failed = result.as_ref().map_or(true, |read| read.errors);
            let nothing = result.as_ref().is_ok_and(|read| read.expected && read.samples.is_empty());
            let process = &target.python.process;
            let gone = (failed && !process.is_alive_and_readable()) || (nothing && !process.is_alive());
            if gone {
                target.exited = true;
                root_gone |= index == 0;
                continue;
            }
            match result {
                // A read that failed because the process exec'd under us is no read error.
                Ok(read) if read.errors && target.exec_happened() => target.begin_reopen(),
                Ok(read) => {
                    if read.errors {
                        tick.failed.push(target.python.pid());
                    }
                    collected.push((index, read));
                }
                Err(_) if target.exec_happened() => target.begin_reopen(),
                Err(_) => tick.failed.push(target.python.pid()),
            }
        }

        // Now and then this reads Python's thread names (~150 us): not while a live view waits
        // for the aggregator's lock.
        for (index, read) in &collected {
            names_wanted.clear();
            names_wanted.extend(read.samples.iter().map(|s| (s.tid, s.python_thread_id)));
            targets[*index].update_names(&names_wanted);
        }
        let mut agg = shared.aggregator();
        for note in notes {
            agg.add_note(note);
        }
        {
            let stats = agg.stats_mut();
            stats.missed += missed;
            if !root_gone {
                stats.ticks += 1;
            }
            if !tick.failed.is_empty() {
                pending_errors.0.push_back((now, std::mem::take(&mut tick.failed)));
            }
            stats.errors += pending_errors.confirm(now, |pid| still_sampled(&targets, pid), false);
            stats.idle_samples += tick.idle_seen;
            stats.cpu_kernel_ns += tick.cpu_kernel_ns;
        }
        for (index, read) in collected {
            let target = &mut targets[index];
            let pid = target.python.pid();
            let process_frame = options.subprocesses.then(|| process_frame(&mut agg, target));
            task_frames.new_read();
            for sample in read.samples {
                agg.stats_mut().gil_samples += sample.owns_gil as u64;
                let thread = agg.intern_thread(pid, sample.tid, target.thread_name(sample.tid));
                frame_ids.clear();
                frame_ids.extend(process_frame);
                let cwd = &target.cwd;
                let kept = task_frames
                    .push_above(&mut agg, &sample.above, &read.waiting, &mut frame_ids, |agg, f| {
                        intern(agg, &mut memo, &f.code, f.line, options, cwd)
                    })
                    .map_or(sample.frames.len(), |keep| merged_len(&sample.frames, keep));
                target.last_ids.push_ids(sample.tid, &sample.frames[..kept], &mut frame_ids, |frame| match frame {
                    SampleFrame::Python(code, line) => intern(&mut agg, &mut memo, code, *line, options, cwd),
                    SampleFrame::Native(symbol, inline) => native_memo.intern(
                        &mut agg,
                        symbol,
                        *inline,
                        options.nolineno || options.function,
                        options.full_filenames,
                    ),
                    SampleFrame::Incomplete(reason) => native_memo.marker(&mut agg, *reason),
                });
                if sample.gc && options.gc {
                    frame_ids.push(*gc_frame.get_or_insert_with(|| agg.intern_frame(gc_pseudo_frame())));
                }
                agg.add_weighted_sample(thread, &frame_ids, time_us, sample.weight);
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
    stats.errors += pending_errors.confirm(Instant::now(), |pid| still_sampled(&targets, pid), true);
    stats.duration_s = started.elapsed().as_secs_f64();
    stats.profiler_cpu_s = thread_cpu_seconds() - cpu_at_start;
}

/// Ticks with a read that failed, each with the processes whose read failed, not yet counted as
/// errors. A process that is exiting reads as failing before anything says it has exited (its
/// memory goes before its pidfd is ready): such a tick is counted once one of those processes is
/// still there `ERROR_GRACE` later, and dropped if they all ended meanwhile.
#[derive(Default)]
struct PendingErrors(std::collections::VecDeque<(Instant, Vec<u32>)>);

const ERROR_GRACE: Duration = Duration::from_millis(250);

fn still_sampled(targets: &[Target], pid: u32) -> bool {
    targets.iter().any(|t| !t.exited && t.python.pid() == pid)
}

impl PendingErrors {
    /// How many pending ticks are errors by now, taken out of the pending ones; with `all`
    /// (the record is over), every one whose process is still there.
    fn confirm(&mut self, now: Instant, sampled: impl Fn(u32) -> bool, all: bool) -> u64 {
        let mut errors = 0;
        self.0.retain(|(at, pids)| {
            if !pids.iter().any(|&pid| sampled(pid)) {
                return false;
            }
            let due = all || now.saturating_duration_since(*at) >= ERROR_GRACE;
            errors += u64::from(due);
            !due
        });
        errors
    }
}

/// `<GC>`: the cyclic garbage collector running, on top of the stack that triggered it.
fn gc_pseudo_frame() -> Frame {
    Frame { name: "<GC>".into(), file: String::new(), line: 0, kind: FrameKind::Gc }
}

/// `--subprocesses`: `process PID: "command line"` above each of the process's stacks, as py-spy shows it.
fn process_frame(agg: &mut Aggregator, target: &mut Target) -> u32 {
    if let Some(id) = target.process_frame {
        return id;
    }
    let pid = target.python.pid();
    let command_line = target.python.process.cmdline().unwrap_or_default().join(" ");
    let id = agg.intern_frame(Frame {
        name: format!("process {pid}: \"{command_line}\""),
        file: String::new(),
        line: 0,
        kind: FrameKind::Process,
    });
    target.process_frame = Some(id);
    id
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
    // The memo holds its code objects alive: bounded like the reader's own caches, so that a
    // program making new code without end costs a bounded amount of memory.
    if memo.len() >= pyspy_core::python::code::MAX_CACHED {
        memo.clear();
    }
    let file = if options.full_filenames { code.filename.clone() } else { short_filename(&code.filename, cwd) };
    let id = agg.intern_frame(Frame { name: code.name.clone(), file, line, kind: FrameKind::Python });
    // Holding the Arc keeps its address from being reused by another code object while memoised.
    memo.insert(key, (code.clone(), id));
    id
}

/// What one tick counted across its targets.
#[derive(Default)]
struct Tick {
    /// The processes with a thread that would have been sampled and could not be read.
    failed: Vec<u32>,
    /// Threads left out as idle (for `Stats::idle_samples`).
    idle_seen: u64,
    /// `--cpu`: CPU time the kernel counted for the threads read since their last reading.
    cpu_kernel_ns: u64,
}

struct ThreadSample {
    /// Kernel thread id, as we see it.
    tid: u32,
    /// `threading.get_ident()`, which names the thread.
    python_thread_id: u64,
    /// Innermost first.
    frames: Vec<SampleFrame>,
    owns_gil: bool,
    /// `--async`: what goes above its frames.
    above: Above,
    /// The collector is running on this thread.
    gc: bool,
    /// 1, or with `--cpu` the CPU time (ns) the thread used since its previous reading.
    weight: u64,
}

struct TargetRead {
    samples: Vec<ThreadSample>,
    /// `--async --idle`: the waiting tasks that `Above::Waiting` samples refer to.
    waiting: pyspy_core::python::asyncio::Waiting,
    /// A thread that would have been sampled could not be read.
    errors: bool,
    /// Threads were selected to be read: a read with no sample is then worth a look at whether
    /// the process is still there.
    expected: bool,
}

/// Which of a target's threads a tick reads, which of those it pauses, and what each weighs.
struct Selection {
    /// Our ids, sorted, with each sample's weight.
    read: Vec<(u32, u64)>,
    /// Our ids; None pauses the whole process (`--idle` without a thread filter: threads started
    /// while pausing are caught too).
    pause: Option<Vec<u32>>,
    /// Threads in scope and not read (idle, or with `--cpu` not run since their last reading).
    not_read: FxHashSet<u32>,
}

impl Selection {
    /// The weight of `tid`'s sample; None when this tick does not read it.
    fn weight(&self, tid: u32) -> Option<u64> {
        self.read.binary_search_by_key(&tid, |(t, _)| *t).ok().map(|i| self.read[i].1)
    }

    /// Whether this tick reads the thread of this thread state.
    fn reads(&self, thread: &PyThread, tids: &pyspy_core::process::TidMap) -> bool {
        self.weight(tids.to_outer(thread.native_thread_id)).is_some()
    }
}

/// Reads the scheduler's view of the threads (before pausing: a paused thread reads as traced,
/// not as running) and picks the threads to read: the running ones by default, every one with
/// `--idle`, those that used CPU since their last reading with `--cpu`. Threads out of
/// `--thread-name`/`--tid`'s scope are not looked at.
fn select_threads(
    target: &mut Target,
    options: &RecordOptions,
    filter: Option<&ThreadFilter>,
    tick: &mut Tick,
) -> Result<Selection> {
    let in_scope = target.refresh_threads(!options.idle, filter)?;
    let mut selection = Selection { read: Vec::new(), pause: Some(Vec::new()), not_read: FxHashSet::default() };
    if options.cpu {
        // A thread parked since the last tick used no CPU time: its schedstat is not read either.
        let ran: Vec<(u32, ThreadState)> =
            in_scope.iter().filter(|(_, _, ran)| *ran).map(|(tid, state, _)| (*tid, *state)).collect();
        selection.not_read.extend(in_scope.iter().filter(|(_, _, ran)| !ran).map(|(tid, _, _)| *tid));
        let tids: Vec<u32> = ran.iter().map(|(tid, _)| *tid).collect();
        let deltas = target.cpu.as_mut().map(|cpu| cpu.advance(&tids)).unwrap_or_default();
        for ((tid, state), delta) in ran.iter().zip(deltas) {
            let delta = delta.unwrap_or(0);
            tick.cpu_kernel_ns += delta;
            if delta == 0 {
                selection.not_read.insert(*tid);
                continue;
            }
            selection.read.push((*tid, delta));
            // One that ran and now sleeps is read as it is: stopping it would interrupt its system
            // call, and waking up to restart that costs it CPU time we would then measure. With
            // `--native` it is stopped all the same: its registers can only be read while it is.
            if *state == ThreadState::Running || options.native {
                selection.pause.get_or_insert_default().push(*tid);
            }
        }
    } else if options.idle {
        selection.read = in_scope.iter().map(|(tid, _, _)| (*tid, 1)).collect();
        selection.pause = filter.map(|_| in_scope.iter().map(|(tid, _, _)| *tid).collect());
    } else {
        for (tid, state, _) in &in_scope {
            if *state == ThreadState::Running {
                selection.read.push((*tid, 1));
                selection.pause.get_or_insert_default().push(*tid);
            } else {
                selection.not_read.insert(*tid);
            }
        }
    }
    Ok(selection)
}

fn sample_target(
    target: &mut Target,
    options: &RecordOptions,
    filter: Option<&ThreadFilter>,
    tick: &mut Tick,
) -> Result<TargetRead> {
    let selection = select_threads(target, options, filter, tick)?;
    if options.native {
        target.native.get_or_insert_with(|| crate::native::LiveNative::new(&target.python, options.native_all)).begin();
    }
    let Target { python, reader, blocks, tids, scope_threads, known, tasks, native, .. } = &mut *target;
    let process = &python.process;
    let paused = match (options.nonblocking, &selection.pause) {
        (true, _) => None,
        (false, None) => Some(PausedProcess::pause(process)?),
        (false, Some(threads)) => Some(PausedProcess::pause_threads(process, threads)?),
    };
    // A Python thread we have no TID for: the list is stale in a way the thread count did not
    // show (one thread ended as another began, and only one stat file was checked). List again
    // on the next tick.
    let stale = Cell::new(false);
    let idle = Cell::new(0u64);
    let keep = |thread: &pyspy_core::python::threads::PyThread| {
        let tid = tids.to_outer(thread.native_thread_id);
        stale.set(stale.get() || tids.outer().binary_search(&tid).is_err());
        let read = selection.weight(tid).is_some();
        let wanted = !options.gil || thread.owns_gil;
        // Counted as idle: threads in a Python frame that were not running (with `--cpu`: that
        // used no CPU since their last reading).
        if !read && wanted && thread.frame != 0 && selection.not_read.contains(&tid) {
            idle.set(idle.get() + 1);
        }
        read && wanted
    };
    // The blocks this sample reads (its memory) live until the tasks are read too.
    let memory = blocks.over(process);
    let (options_read, inner) = (ReadOptions::default(), tids.inner());
    // Only the thread states of the threads selected are read: with a thread filter, those the
    // filter kept; without, those of the last walk (`read_unfiltered`).
    let (stacks, scope_stale) = match filter {
        Some(_) => {
            let wanted: Vec<PyThread> = scope_threads.iter().filter(|t| selection.reads(t, tids)).cloned().collect();
            // Those not read are looked at as last read: `keep` counts the idle ones.
            for thread in scope_threads.iter().filter(|t| !selection.reads(t, tids)) {
                keep(thread);
            }
            match reader.read_known(&memory, &python.python, inner, options_read, &wanted, &keep) {
                Ok((stacks, stale)) => (Ok(stacks), stale),
                Err(e) => (Err(e), true),
            }
        }
        None => (read_unfiltered(reader, &memory, &python.python, inner, known, &selection, tids, &keep), false),
    };
    // The read pipeline returned the threads to sample only: their registers and stacks are
    // copied for the native stage while they are still held.
    let captures: Vec<Option<usize>> = match (&stacks, native.as_mut()) {
        (Ok(stacks), Some(native)) => stacks
            .iter()
            .map(|s| {
                let has_frames = s.frames.as_ref().is_ok_and(|f| !f.is_empty());
                has_frames.then(|| tids.to_outer(s.thread.native_thread_id)).and_then(|tid| native.capture(tid).ok())
            })
            .collect(),
        _ => Vec::new(),
    };
    // --async: the tasks, read before the target runs on.
    let task_read = match (tasks.as_mut(), &stacks) {
        (Some(tasks), Ok(stacks)) => {
            // The read pipeline returned the threads to sample only; an empty stack is none.
            let wanted: Vec<bool> = stacks.iter().map(|s| !s.frames.as_ref().is_ok_and(Vec::is_empty)).collect();
            Some(tasks.read(&memory, process, &python.python, stacks, &wanted, reader))
        }
        _ => None,
    };
    drop(paused);
    let task_read = task_read.map(|mut read| {
        if let Some(tasks) = tasks.as_mut() {
            tasks.finish(&memory, &python.python, reader, &mut read);
        }
        read
    });
    let mut stacks = match stacks {
        Ok(stacks) => stacks,
        Err(e) => {
            target.forget_scope();
            return Err(e);
        }
    };
    if !options.nonblocking {
        if let Some(paused) = &selection.pause {
            read_again_paused(process, &python.python, reader, tids, paused, &mut stacks);
        }
    }
    tick.idle_seen += idle.get();
    // A waiting task holds no GIL and uses no CPU: with --gil or --cpu it is no sample.
    let (mut paths, waiting, task_errors) = match task_read {
        Some(t) => (t.paths, if options.gil || options.cpu { Default::default() } else { t.waiting }, t.errors),
        None => (Vec::new(), Default::default(), false),
    };
    let mut read = TargetRead {
        samples: Vec::with_capacity(stacks.len() + waiting.tasks.len()),
        waiting,
        errors: task_errors,
        expected: !selection.read.is_empty(),
    };
    for (i, stack) in stacks.into_iter().enumerate() {
        let tid = tids.to_outer(stack.thread.native_thread_id);
        let weight = selection.weight(tid).unwrap_or(1);
        let frames = match stack.frames {
            Ok(frames) if frames.is_empty() => continue,
            Ok(frames) => frames,
            Err(_) => {
                read.errors = true;
                continue;
            }
        };
        // Each waiting task of this thread's loop is a sample of this thread too.
        for &(_, node) in read.waiting.tasks.iter().filter(|(tstate, _)| *tstate == stack.thread.tstate) {
            read.samples.push(ThreadSample {
                tid,
                python_thread_id: stack.thread.python_thread_id,
                frames: Vec::new(),
                owns_gil: false,
                above: Above::Waiting(node),
                gc: false,
                weight: 1,
            });
        }
        let (frames, incomplete) = sample_frames(native.as_mut(), captures.get(i).copied().flatten(), frames);
        read.errors |= incomplete;
        read.samples.push(ThreadSample {
            tid,
            python_thread_id: stack.thread.python_thread_id,
            frames,
            owns_gil: stack.thread.owns_gil,
            above: paths.get_mut(i).and_then(Option::take).map_or(Above::Nothing, Above::Running),
            gc: stack.gc_collecting,
            weight,
        });
    }
    if stale.get() {
        target.forget_threads();
    }
    if scope_stale {
        target.forget_scope();
    }
    Ok(read)
}

/// `--cpu` reads a thread that ran since its last reading but sleeps now without pausing it
/// (`select_threads`). One that woke during the read, to end say, can read as garbage: it is
/// paused and read again on its own, from the target's memory as it is now, not from the blocks
/// this tick read ahead. One that ended meanwhile is neither a sample nor an error.
fn read_again_paused(
    process: &crate::process::LinuxProcess,
    python: &pyspy_core::python::Python,
    reader: &mut pyspy_core::python::StackReader,
    tids: &pyspy_core::process::TidMap,
    paused: &[u32],
    stacks: &mut [pyspy_core::python::stacks::ThreadStack],
) {
    for stack in stacks.iter_mut().filter(|s| s.frames.is_err()) {
        let tid = tids.to_outer(stack.thread.native_thread_id);
        if paused.contains(&tid) {
            continue;
        }
        let Ok(held) = PausedProcess::pause_threads(process, &[tid]) else { continue };
        if held.thread_count() == 0 {
            stack.frames = Ok(Vec::new());
            continue;
        }
        let known = [stack.thread.clone()];
        if let Ok((mut again, _)) = reader.read_known(process, python, tids.inner(), ReadOptions::default(), &known, &|_| true) {
            // None: its thread state is no longer its own, it ended.
            match again.pop() {
                Some(read) => *stack = read,
                None => stack.frames = Ok(Vec::new()),
            }
        }
    }
}

/// The stacks of the threads `keep` keeps, every Python thread looked at by `keep`. The thread
/// states of the threads not selected are not read when the walk `known` holds is still good.
#[allow(clippy::too_many_arguments)]
fn read_unfiltered(
    reader: &mut pyspy_core::python::StackReader,
    memory: &dyn pyspy_core::memory::Memory,
    python: &pyspy_core::python::Python,
    inner: &[u32],
    known: &mut targets::KnownThreads,
    selection: &Selection,
    tids: &pyspy_core::process::TidMap,
    keep: &dyn Fn(&PyThread) -> bool,
) -> Result<Vec<pyspy_core::python::stacks::ThreadStack>> {
    let (layout, runtime) = (&python.layout, python.runtime_addr);
    let recent = known.walked_at.is_some_and(|at| at.elapsed() < targets::KNOWN_REFRESH);
    if recent && selection.read.is_empty() {
        // No thread is read this tick (none runs): the target's memory is not read at all, and
        // the threads are looked at as last walked (`keep` counts the idle ones).
        for thread in &known.threads {
            keep(thread);
        }
        return Ok(Vec::new());
    }
    let heads = threads::thread_list_heads(memory, layout, runtime)?;
    if recent && heads == known.heads {
        let wanted: Vec<PyThread> = known.threads.iter().filter(|t| selection.reads(t, tids)).cloned().collect();
        let now = threads::read_known_threads(memory, layout, runtime, python.tstate_current_addr, &wanted, inner)?;
        if now.iter().all(Option::is_some) {
            // Those not read are looked at as last walked: `keep` counts the idle ones.
            for thread in known.threads.iter().filter(|t| !selection.reads(t, tids)) {
                keep(thread);
            }
            let kept = now.into_iter().flatten().filter(|t| keep(t));
            return Ok(reader.stacks_of(memory, python, kept, ReadOptions::default()));
        }
    }
    let all = threads::read_threads(memory, layout, runtime, python.tstate_current_addr, inner)?;
    *known = targets::KnownThreads { threads: all.clone(), heads, walked_at: Some(Instant::now()) };
    Ok(reader.stacks_of(memory, python, all.into_iter().filter(|t| keep(t)), ReadOptions::default()))
}

/// How many of a sample's merged frames (innermost first) stay under its task path: up to and
/// including its `keep`-th Python frame, with the native frames it called. The native frames
/// outside that are the event loop's machinery that the task path replaces.
fn merged_len(frames: &[SampleFrame], keep: usize) -> usize {
    if keep == 0 {
        return 0;
    }
    let mut python = 0;
    for (i, frame) in frames.iter().enumerate() {
        if matches!(frame, SampleFrame::Python(..)) {
            python += 1;
            if python == keep {
                return i + 1;
            }
        }
    }
    frames.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_tick_is_an_error_once_its_process_is_still_there_after_the_grace_and_none_if_it_ended() {
        let start = Instant::now();
        let later = |ms| start + Duration::from_millis(ms);
        let mut pending = PendingErrors::default();
        pending.0.push_back((start, vec![10]));
        pending.0.push_back((later(10), vec![10, 20]));
        pending.0.push_back((later(20), vec![20]));
        // Within the grace: nothing yet, whoever is there.
        assert_eq!(pending.confirm(later(100), |_| true, false), 0);
        // 20 ended: its own tick goes; 10's two ticks count once they are due.
        let only_10 = |pid| pid == 10;
        assert_eq!(pending.confirm(later(255), only_10, false), 1);
        assert_eq!(pending.confirm(later(265), only_10, false), 1);
        assert!(pending.0.is_empty());
        // At the end of a record, what is pending counts if its process is there, due or not.
        pending.0.push_back((later(300), vec![10]));
        pending.0.push_back((later(300), vec![20]));
        assert_eq!(pending.confirm(later(301), only_10, true), 1);
        assert!(pending.0.is_empty());
    }
}

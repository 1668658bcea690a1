//! Node binding of pyspy-live and pyspy-core. Thin on purpose: it converts options in, results
//! and errors out. Work that takes time runs off the event loop (AsyncTask or the sampler's own
//! thread), and a record crosses as a few compact tables, never one object per sample.
//!
//! The shapes here are the TypeScript API's: napi-rs writes them into `index.d.ts` with these doc
//! comments, and `@pyspy/core` re-exports them rather than declaring its own.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pyspy_core::profile::FrameKind;

/// pyspy-core's error as a JS `Error` whose `code` is the stable kind (e.g. `PYSPY_NOT_PYTHON`).
/// Built as a JS object and handed back as the rejection, so the code survives the promise.
fn to_js_error(env: Env, error: pyspy_core::Error) -> Error {
    let js = JsError::from(Error::new(error.kind.code(), error.message)).into_unknown(env);
    Error::from(js)
}

/// Every `code` the native core's errors can carry (the TypeScript side's union is checked against it).
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    pyspy_core::ErrorKind::ALL.iter().map(|k| k.code()).collect()
}

// ---- dump ----

#[napi(object)]
pub struct DumpOptions {
    /// Also read each frame's arguments and local variables. Default false.
    pub locals: Option<bool>,
    /// Read the process while it runs instead of pausing it (the stacks may then be torn). Default false.
    pub nonblocking: Option<bool>,
    /// Also read every asyncio event loop and its tasks (`loops`). Default false. (`asyncio` in
    /// Rust, where `async` is a keyword.)
    #[napi(js_name = "async")]
    pub asyncio: Option<bool>,
    /// Also dump every Python process descended from it (`subprocesses` of the result). Default false.
    pub subprocesses: Option<bool>,
    /// Only threads whose name (Python's, else the kernel's) matches this regular expression.
    pub thread_name: Option<String>,
    /// Only these threads (kernel thread ids).
    pub tid: Option<Vec<u32>>,
    /// Also the C, C++, Cython and Rust frames, merged with the Python ones (x86_64). Default false.
    pub native: Option<bool>,
    /// With `native`: also the interpreter's own frames (eval loop, call plumbing). Default false.
    pub native_all: Option<bool>,
}

#[napi(object)]
pub struct LocalVariable {
    pub name: String,
    /// A short preview, reprlib-style: values of None, bools, ints, floats, str and bytes; the
    /// first items of tuples, lists, sets and dicts with the count of the rest (`[1, 2, ...+8]`);
    /// the class name and address of other objects (`<Foo object at 0x7f...>`). At most 120 characters.
    pub repr: String,
    /// One of the function's parameters.
    pub is_arg: bool,
}

#[napi(object)]
pub struct FrameDump {
    /// Qualified name (`Class.method`) where CPython has one (3.11+), else the function name.
    pub name: String,
    /// The source file's path as the code object has it.
    pub filename: String,
    /// The path as people read it: after site-packages or the stdlib directory, or relative to the target's cwd.
    pub short_filename: String,
    /// The line being executed; 0 when unknown.
    pub line: u32,
    /// Present when locals were asked for.
    pub locals: Option<Vec<LocalVariable>>,
    /// What the frame stands for; absent for a Python function.
    #[napi(ts_type = "'native'")]
    pub kind: Option<String>,
}

#[napi(object)]
pub struct ThreadDump {
    /// Kernel thread id (TID); 0 when it could not be mapped.
    pub native_thread_id: f64,
    /// `threading.get_ident()`.
    pub python_thread_id: f64,
    /// Python's name for the thread (`MainThread`) where the threading module knows it, else the OS's.
    pub name: Option<String>,
    /// Running or runnable, as opposed to sleeping or waiting.
    pub active: bool,
    pub owns_gil: bool,
    /// Innermost frame first.
    pub frames: Vec<FrameDump>,
}

#[napi(object)]
pub struct ProcessDump {
    pub pid: u32,
    /// e.g. "3.11.2".
    pub python_version: String,
    /// A free-threaded build (3.13t): several threads run Python at once, and no thread holds a
    /// GIL (`ownsGil`) unless the program turned one on.
    pub free_threaded: bool,
    /// The target's executable, as it names it.
    pub executable: String,
    pub command_line: Vec<String>,
    pub threads: Vec<ThreadDump>,
    /// With `async`: every event loop a thread runs, then those no thread runs now.
    pub loops: Option<Vec<LoopDump>>,
    /// With `subprocesses`: every Python process descended from this one, each as a dump of its own.
    pub subprocesses: Option<Vec<ProcessDump>>,
}

/// An asyncio event loop and its tasks, as `python -m asyncio pstree` shows them.
#[napi(object)]
pub struct LoopDump {
    /// The loop object's address in the target (what `id(loop)` returns there).
    pub address: f64,
    /// Its type's name: `_UnixSelectorEventLoop`, `uvloop.Loop`, ...
    pub loop_type: String,
    /// Kernel thread id of the thread running it (a `ThreadDump`'s); absent when no thread runs it now.
    pub native_thread_id: Option<f64>,
    /// `address` of the task running now, if one is.
    pub running_task: Option<f64>,
    /// Pending tasks, and done ones still referenced (3.14+: by a pending task).
    pub tasks: Vec<TaskDump>,
}

#[napi(object)]
pub struct TaskDump {
    /// The task object's address in the target (what `id(task)` returns there).
    pub address: f64,
    pub name: String,
    /// Named by asyncio (`Task-N`), not by the program.
    pub default_name: bool,
    #[napi(ts_type = "'pending' | 'done' | 'cancelled'")]
    pub state: String,
    /// Innermost first, through what each coroutine awaits (as `asyncio pstree` shows it); empty once done.
    pub coroutine_stack: Vec<FrameDump>,
    /// `address` of each task awaiting this one (through await, gather, TaskGroup, wait_for, shield).
    pub awaited_by: Vec<f64>,
}

impl From<pyspy_core::ProcessDump> for ProcessDump {
    fn from(d: pyspy_core::ProcessDump) -> Self {
        ProcessDump {
            pid: d.pid,
            python_version: d.python_version,
            free_threaded: d.free_threaded,
            executable: d.executable,
            command_line: d.command_line,
            threads: d.threads.into_iter().map(ThreadDump::from).collect(),
            loops: d.loops.map(|loops| {
                loops
                    .into_iter()
                    .map(|l| LoopDump {
                        address: l.address as f64,
                        loop_type: l.loop_type,
                        native_thread_id: l.native_thread_id.map(|t| t as f64),
                        running_task: l.running_task.map(|t| t as f64),
                        tasks: l
                            .tasks
                            .into_iter()
                            .map(|t| TaskDump {
                                address: t.address as f64,
                                name: t.name,
                                default_name: t.default_name,
                                state: t.state.to_string(),
                                coroutine_stack: t.coroutine_stack.into_iter().map(frame_dump).collect(),
                                awaited_by: t.awaited_by.into_iter().map(|a| a as f64).collect(),
                            })
                            .collect(),
                    })
                    .collect()
            }),
            subprocesses: None,
        }
    }
}

fn frame_dump(f: pyspy_core::FrameDump) -> FrameDump {
    FrameDump {
        name: f.name,
        filename: f.filename,
        short_filename: f.short_filename,
        line: f.line,
        locals: f
            .locals
            .map(|ls| ls.into_iter().map(|l| LocalVariable { name: l.name, repr: l.repr, is_arg: l.is_arg }).collect()),
        kind: (f.kind != FrameKind::Python).then(|| f.kind.as_str().to_string()),
    }
}

impl From<pyspy_core::ThreadDump> for ThreadDump {
    fn from(t: pyspy_core::ThreadDump) -> Self {
        ThreadDump {
            native_thread_id: t.native_thread_id as f64,
            python_thread_id: t.python_thread_id as f64,
            name: t.name,
            active: t.active,
            owns_gil: t.owns_gil,
            frames: t.frames.into_iter().map(frame_dump).collect(),
        }
    }
}

pub struct DumpTask {
    pid: u32,
    options: DumpOptions,
}

impl Task for DumpTask {
    /// The process, then (with `subprocesses`) its Python descendants.
    type Output = std::result::Result<Vec<pyspy_core::ProcessDump>, pyspy_core::Error>;
    type JsValue = ProcessDump;

    fn compute(&mut self) -> Result<Self::Output> {
        let o = &self.options;
        let options = pyspy_core::DumpOptions { locals: o.locals.unwrap_or(false), asyncio: o.asyncio.unwrap_or(false) };
        let blocking = !o.nonblocking.unwrap_or(false);
        let native = o.native.unwrap_or(false);
        let native_all = o.native_all.unwrap_or(false);
        let filter =
            match pyspy_core::python::thread_filter::ThreadFilter::new(o.thread_name.as_deref(), o.tid.as_deref().unwrap_or(&[]))
            {
                Ok(filter) => filter,
                Err(e) => return Ok(Err(e)),
            };
        Ok(if o.subprocesses.unwrap_or(false) {
            pyspy_live::dump_tree(self.pid, options, blocking, native, native_all, filter.as_ref())
        } else {
            pyspy_live::dump_filtered(self.pid, options, blocking, native, native_all, filter.as_ref()).map(|d| vec![d])
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ProcessDump> {
        let mut dumps = output.map_err(|e| to_js_error(env, e))?.into_iter().map(ProcessDump::from);
        let mut root = dumps.next().ok_or_else(|| Error::from_reason("a dump without its process"))?;
        if self.options.subprocesses.unwrap_or(false) {
            root.subprocesses = Some(dumps.collect());
        }
        Ok(root)
    }
}

/// Every thread's stack of process `pid`, now.
#[napi(ts_return_type = "Promise<ProcessDump>")]
pub fn dump(pid: u32, options: Option<DumpOptions>) -> AsyncTask<DumpTask> {
    let none = DumpOptions {
        locals: None,
        nonblocking: None,
        asyncio: None,
        subprocesses: None,
        thread_name: None,
        tid: None,
        native: None,
        native_all: None,
    };
    AsyncTask::new(DumpTask { pid, options: options.unwrap_or(none) })
}

#[napi(object)]
pub struct CoreDumpOptions {
    /// Also read each frame's arguments and local variables. Default false.
    pub locals: Option<bool>,
    /// Files the core maps (the python executable, libpython) to use instead of what is at the
    /// paths the core names, matched by file name: for a core read on another machine.
    pub binaries: Option<Vec<String>>,
    /// Also read every asyncio event loop and its tasks (`loops`). Default false.
    #[napi(js_name = "async")]
    pub asyncio: Option<bool>,
}

pub struct DumpCoreTask {
    path: String,
    bytes: Option<Vec<u8>>,
    binaries: Vec<String>,
    options: pyspy_core::DumpOptions,
}

impl Task for DumpCoreTask {
    type Output = std::result::Result<pyspy_core::ProcessDump, pyspy_core::Error>;
    type JsValue = ProcessDump;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(pyspy_live::dump_core_file(&self.path, self.bytes.take(), &self.binaries, self.options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ProcessDump> {
        output.map(ProcessDump::from).map_err(|e| to_js_error(env, e))
    }
}

/// Every thread's stack of the process an ELF core file (a path, or its bytes) is of, at the
/// moment it was written.
#[napi(ts_return_type = "Promise<ProcessDump>")]
pub fn dump_core(core: Either<String, Uint8Array>, options: Option<CoreDumpOptions>) -> AsyncTask<DumpCoreTask> {
    let options = options.unwrap_or(CoreDumpOptions { locals: None, binaries: None, asyncio: None });
    let (path, bytes) = match core {
        Either::A(path) => (path, None),
        Either::B(bytes) => ("the core".to_string(), Some(bytes.to_vec())),
    };
    AsyncTask::new(DumpCoreTask {
        path,
        bytes,
        binaries: options.binaries.unwrap_or_default(),
        options: pyspy_core::DumpOptions { locals: options.locals.unwrap_or(false), asyncio: options.asyncio.unwrap_or(false) },
    })
}

// ---- record ----

/// py-spy's options, one name each from the command line to Rust (`--gil` is `gil`).
#[napi(object)]
pub struct RecordOptions {
    /// Samples per second. Default 100.
    pub rate_hz: Option<f64>,
    /// Stop after this many seconds. Default: until stopped or the target exits.
    pub duration_s: Option<f64>,
    /// Read the target while it runs instead of pausing it for each sample. Default false.
    pub nonblocking: Option<bool>,
    /// Only samples from the thread holding the GIL.
    pub gil: Option<bool>,
    /// Include idle threads (sleeping, waiting on I/O or locks).
    pub idle: Option<bool>,
    /// Aggregate by function (its first line) instead of by line.
    pub function: Option<bool>,
    /// Leave out line numbers.
    pub nolineno: Option<bool>,
    /// Keep full file paths instead of short ones.
    pub full_filenames: Option<bool>,
    /// Also sample Python child processes, each under a root frame `process PID: "command line"`.
    pub subprocesses: Option<bool>,
    /// Weigh each sample by the CPU time its thread used since its previous sample: the profile's
    /// unit is then CPU nanoseconds, and waiting for a core counts for nothing. Default false.
    pub cpu: Option<bool>,
    /// Put `<GC>` on top of the stack while the cyclic garbage collector runs. Default true.
    pub gc: Option<bool>,
    /// Only read threads whose name (Python's, else the kernel's) matches this regular expression.
    pub thread_name: Option<String>,
    /// Only read these threads (kernel thread ids).
    pub tid: Option<Vec<u32>>,
    /// Keep a per-sample timeline (the Chrome trace format needs it).
    pub timeline: Option<bool>,
    /// For a command pyspy-ts just launched: how long to wait for it to become Python.
    pub wait_for_python_s: Option<f64>,
    /// asyncio: put a thread's running task, and the chain of tasks awaiting it, above its
    /// coroutine frames (`Task main` → `main` → `Task cpu` → `cpu_burner`); with `idle`, each
    /// waiting task is a sample too, where it waits. Default false. (`asyncio` in Rust.)
    #[napi(js_name = "async")]
    pub asyncio: Option<bool>,
    /// With `async`: keep default task names (`Task-123`) instead of folding them to `Task`.
    pub full_task_names: Option<bool>,
    /// Also the C, C++, Cython and Rust frames, merged with the Python ones (x86_64; needs the
    /// target paused, so not with `nonblocking`). Default false.
    pub native: Option<bool>,
    /// With `native`: also the interpreter's own frames (eval loop, call plumbing). Default false.
    pub native_all: Option<bool>,
    /// Distinct stacks kept; samples of newer stacks are counted as one `<other stacks>` stack a
    /// thread (`stats.otherSamples`). A whole number, at least 1. Default 100,000.
    pub max_stacks: Option<f64>,
}

#[napi(object)]
pub struct Frame {
    pub name: String,
    pub file: String,
    pub line: u32,
    /// What the frame stands for; absent for a Python function.
    #[napi(ts_type = "'native' | 'task' | 'process' | 'gc'")]
    pub kind: Option<String>,
}

#[napi(object)]
pub struct ThreadInfo {
    pub id: u32,
    pub name: String,
    pub pid: u32,
}

#[napi(object)]
pub struct StackCount {
    pub frames: Vec<u32>,
    pub thread: u32,
    /// Samples that saw this stack.
    pub count: f64,
    /// Their weights summed, in the profile's unit (equal to `count` when the unit is samples).
    pub weight: f64,
}

#[napi(object)]
pub struct Timeline {
    pub times_us: Vec<f64>,
    pub stacks: Vec<u32>,
    /// Each sample's weight, when samples do not all weigh 1 (`--cpu`: CPU nanoseconds).
    pub weights: Option<Vec<f64>>,
}

#[napi(object)]
pub struct ProfileStats {
    pub samples: f64,
    pub ticks: f64,
    pub requested_rate_hz: f64,
    pub achieved_rate_hz: f64,
    pub errors: f64,
    pub missed: f64,
    pub duration_s: f64,
    pub profiler_cpu_s: f64,
    pub gil_samples: f64,
    pub idle_samples: f64,
    /// `cpu`: CPU seconds put on the stacks recorded.
    pub cpu_attributed_s: f64,
    /// `cpu`: CPU seconds the kernel counted for the threads read.
    pub cpu_kernel_s: f64,
    /// Samples counted as `<other stacks>` because `maxStacks` was reached (included in `samples`).
    pub other_samples: f64,
}

#[napi(object)]
pub struct NativeProfile {
    /// What a stack's weight counts: `samples`, or `cpu-nanoseconds` (`cpu`).
    #[napi(ts_type = "'samples' | 'cpu-nanoseconds'")]
    pub unit: String,
    pub frames: Vec<Frame>,
    pub threads: Vec<ThreadInfo>,
    pub stacks: Vec<StackCount>,
    pub timeline: Option<Timeline>,
    pub stats: ProfileStats,
    /// One line each about what happened to the targets (e.g. one that exec'd something else).
    pub notes: Vec<String>,
    pub target_exited: bool,
}

fn convert_stats(s: &pyspy_core::profile::Stats) -> ProfileStats {
    ProfileStats {
        samples: s.samples as f64,
        ticks: s.ticks as f64,
        requested_rate_hz: s.requested_rate_hz,
        achieved_rate_hz: s.achieved_rate_hz(),
        errors: s.errors as f64,
        missed: s.missed as f64,
        duration_s: s.duration_s,
        profiler_cpu_s: s.profiler_cpu_s,
        gil_samples: s.gil_samples as f64,
        idle_samples: s.idle_samples as f64,
        cpu_attributed_s: s.cpu_attributed_ns as f64 / 1e9,
        cpu_kernel_s: s.cpu_kernel_ns as f64 / 1e9,
        other_samples: s.other_samples as f64,
    }
}

fn convert_profile(p: pyspy_core::Profile, target_exited: bool) -> NativeProfile {
    let weighted = p.unit != pyspy_core::profile::ProfileUnit::Samples;
    NativeProfile {
        unit: p.unit.as_str().to_string(),
        stats: convert_stats(&p.stats),
        frames: p
            .frames
            .into_iter()
            .map(|f| Frame {
                name: f.name,
                file: f.file,
                line: f.line,
                kind: (f.kind != FrameKind::Python).then(|| f.kind.as_str().to_string()),
            })
            .collect(),
        threads: p.threads.into_iter().map(|t| ThreadInfo { id: t.tid, name: t.name, pid: t.pid }).collect(),
        stacks: p
            .stacks
            .into_iter()
            .map(|s| StackCount { frames: s.frames, thread: s.thread, count: s.count as f64, weight: s.weight as f64 })
            .collect(),
        timeline: p.timeline.map(|t| Timeline {
            times_us: t.iter().map(|s| s.time_us as f64).collect(),
            stacks: t.iter().map(|s| s.stack).collect(),
            weights: weighted.then(|| t.iter().map(|s| s.weight as f64).collect()),
        }),
        notes: p.notes,
        target_exited,
    }
}

fn core_record_options(o: RecordOptions) -> pyspy_live::RecordOptions {
    let d = pyspy_live::RecordOptions::default();
    let seconds = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO);
    pyspy_live::RecordOptions {
        rate_hz: o.rate_hz.unwrap_or(d.rate_hz),
        duration: o.duration_s.map(seconds),
        nonblocking: o.nonblocking.unwrap_or(d.nonblocking),
        gil: o.gil.unwrap_or(d.gil),
        idle: o.idle.unwrap_or(d.idle),
        function: o.function.unwrap_or(d.function),
        nolineno: o.nolineno.unwrap_or(d.nolineno),
        full_filenames: o.full_filenames.unwrap_or(d.full_filenames),
        subprocesses: o.subprocesses.unwrap_or(d.subprocesses),
        cpu: o.cpu.unwrap_or(d.cpu),
        gc: o.gc.unwrap_or(d.gc),
        thread_name: o.thread_name,
        tid: o.tid.unwrap_or_default(),
        timeline: o.timeline.unwrap_or(d.timeline),
        wait_for_python: o.wait_for_python_s.filter(|s| *s > 0.0).map(seconds),
        asyncio: o.asyncio.unwrap_or(d.asyncio),
        full_task_names: o.full_task_names.unwrap_or(d.full_task_names),
        native: o.native.unwrap_or(d.native),
        native_all: o.native_all.unwrap_or(d.native_all),
        // Anything but a whole number in range becomes 0, which `check` refuses.
        max_stacks: o.max_stacks.map_or(d.max_stacks, |n| {
            if n.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(&n) {
                n as u32
            } else {
                0
            }
        }),
    }
}

/// Throws the `PYSPY_INVALID_ARGUMENT` error `startRecorder` would, without starting anything:
/// for checking options before launching a command.
#[napi]
pub fn check_record_options(env: Env, options: RecordOptions) -> Result<()> {
    core_record_options(options).check().map_err(|e| to_js_error(env, e))
}

/// A running record. Sampling happens on pyspy-live's own thread; `finish()` resolves when it
/// ends, and may be awaited from the start while `stop()` and `snapshot()` keep working.
#[napi]
pub struct Recorder {
    sampler: Arc<pyspy_live::Sampler>,
}

#[napi]
impl Recorder {
    /// Everything aggregated so far (for live views and progress); null once `finish()` has resolved.
    #[napi]
    pub fn snapshot(&self) -> Option<NativeProfile> {
        self.sampler.snapshot().map(|p| convert_profile(p, self.sampler.target_exited()))
    }

    #[napi]
    pub fn stats(&self) -> ProfileStats {
        convert_stats(&self.sampler.stats())
    }

    /// The target's CPython version, e.g. "3.12.1".
    #[napi]
    pub fn python_version(&self) -> String {
        self.sampler.python_version().to_string()
    }

    /// The target is a free-threaded build (3.13t): no GIL, so several threads' samples per tick.
    #[napi]
    pub fn free_threaded(&self) -> bool {
        self.sampler.free_threaded()
    }

    /// Asks the sampler to stop after the current tick; `finish()` then resolves.
    #[napi]
    pub fn stop(&self) {
        self.sampler.request_stop();
    }

    /// Resolves with the whole profile once sampling ends (duration, `stop()`, the target
    /// exiting). The first call gets the profile; later ones reject.
    #[napi(ts_return_type = "Promise<NativeProfile>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        // Waited for on a thread of its own, not on libuv's pool: a record lasts minutes, and
        // four of them would otherwise hold every pool thread that Node's file I/O needs.
        let (deferred, promise) = env.create_deferred()?;
        let sampler = self.sampler.clone();
        std::thread::Builder::new()
            .name("pyspy-finish".into())
            .spawn(move || match sampler.wait() {
                Some(profile) => {
                    let profile = Released(convert_profile(profile, sampler.target_exited()));
                    deferred.resolve(move |_| Ok(profile));
                }
                None => deferred.reject(Error::new(Status::InvalidArg, "this record was already finished")),
            })
            .map_err(|e| Error::from_reason(format!("could not start a thread to wait for the record: {e}")))?;
        Ok(promise)
    }
}

/// A finished record's profile: once it is a JavaScript object, the Rust copy is dropped and the
/// memory the record used is given back (`release_freed_memory`) before anything renders it.
struct Released(NativeProfile);

impl ToNapiValue for Released {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        // SAFETY: called by napi-rs with the env it resolves the promise in.
        let value = unsafe { NativeProfile::to_napi_value(env, val.0) };
        pyspy_live::release_freed_memory();
        value
    }
}

pub struct StartTask {
    pid: u32,
    options: Option<pyspy_live::RecordOptions>,
}

impl Task for StartTask {
    type Output = std::result::Result<pyspy_live::Sampler, pyspy_core::Error>;
    type JsValue = Recorder;

    fn compute(&mut self) -> Result<Self::Output> {
        let options = self.options.take().unwrap_or_default();
        Ok(pyspy_live::Sampler::start(self.pid, options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Recorder> {
        output.map(|s| Recorder { sampler: Arc::new(s) }).map_err(|e| to_js_error(env, e))
    }
}

/// Opens `pid` (off the event loop: a launched command may take a moment to become Python)
/// and starts sampling it.
#[napi(ts_return_type = "Promise<Recorder>")]
pub fn start_recorder(pid: u32, options: RecordOptions) -> AsyncTask<StartTask> {
    AsyncTask::new(StartTask { pid, options: Some(core_record_options(options)) })
}

//! Node binding of pyspy-core. Thin on purpose: it converts options in, results and errors out.
//! Work that takes time runs off the event loop (AsyncTask or pyspy-core's own sampler thread),
//! and a record crosses as a few compact tables, never one object per sample.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// pyspy-core's error as a JS `Error` whose `code` is the stable kind (e.g. `PYSPY_NOT_PYTHON`).
/// Built as a JS object and handed back as the rejection, so the code survives the promise.
fn to_js_error(env: Env, error: pyspy_core::Error) -> Error {
    let js = JsError::from(Error::new(error.kind.code().to_string(), error.message)).into_unknown(env);
    Error::from(js)
}

// ---- dump ----

#[napi(object)]
pub struct DumpOptions {
    pub locals: Option<bool>,
    pub blocking: Option<bool>,
}

#[napi(object)]
pub struct LocalVariable {
    pub name: String,
    pub repr: String,
    pub is_arg: bool,
}

#[napi(object)]
pub struct FrameDump {
    pub name: String,
    pub filename: String,
    pub short_filename: String,
    pub line: u32,
    pub locals: Option<Vec<LocalVariable>>,
}

#[napi(object)]
pub struct ThreadDump {
    pub native_thread_id: f64,
    pub python_thread_id: f64,
    pub name: Option<String>,
    pub active: bool,
    pub owns_gil: bool,
    pub frames: Vec<FrameDump>,
}

#[napi(object)]
pub struct ProcessDump {
    pub pid: u32,
    pub python_version: String,
    pub executable: String,
    pub command_line: Vec<String>,
    pub threads: Vec<ThreadDump>,
}

impl From<pyspy_core::ProcessDump> for ProcessDump {
    fn from(d: pyspy_core::ProcessDump) -> Self {
        ProcessDump {
            pid: d.pid,
            python_version: d.python_version,
            executable: d.executable,
            command_line: d.command_line,
            threads: d
                .threads
                .into_iter()
                .map(|t| ThreadDump {
                    native_thread_id: t.native_thread_id as f64,
                    python_thread_id: t.python_thread_id as f64,
                    name: t.name,
                    active: t.active,
                    owns_gil: t.owns_gil,
                    frames: t
                        .frames
                        .into_iter()
                        .map(|f| FrameDump {
                            name: f.name,
                            filename: f.filename,
                            short_filename: f.short_filename,
                            line: f.line,
                            locals: f.locals.map(|ls| {
                                ls.into_iter().map(|l| LocalVariable { name: l.name, repr: l.repr, is_arg: l.is_arg }).collect()
                            }),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

pub struct DumpTask {
    pid: u32,
    options: pyspy_core::DumpOptions,
}

impl Task for DumpTask {
    type Output = std::result::Result<pyspy_core::ProcessDump, pyspy_core::Error>;
    type JsValue = ProcessDump;

    fn compute(&mut self) -> Result<Self::Output> {
        Ok(pyspy_core::dump(self.pid, &self.options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<ProcessDump> {
        output.map(ProcessDump::from).map_err(|e| to_js_error(env, e))
    }
}

/// Every thread's stack of process `pid`, now.
#[napi(ts_return_type = "Promise<ProcessDump>")]
pub fn dump(pid: u32, options: Option<DumpOptions>) -> AsyncTask<DumpTask> {
    let options = options.unwrap_or(DumpOptions { locals: None, blocking: None });
    AsyncTask::new(DumpTask {
        pid,
        options: pyspy_core::DumpOptions { locals: options.locals.unwrap_or(false), blocking: options.blocking.unwrap_or(true) },
    })
}

// ---- record ----

#[napi(object)]
pub struct RecordOptions {
    pub rate_hz: Option<f64>,
    pub duration_s: Option<f64>,
    pub blocking: Option<bool>,
    pub gil_only: Option<bool>,
    pub include_idle: Option<bool>,
    pub function: Option<bool>,
    pub nolineno: Option<bool>,
    pub full_filenames: Option<bool>,
    pub subprocesses: Option<bool>,
    pub timeline: Option<bool>,
    /// For a command pyspy-ts just launched: how long to wait for it to become Python.
    pub wait_for_python_s: Option<f64>,
}

#[napi(object)]
pub struct Frame {
    pub name: String,
    pub file: String,
    pub line: u32,
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
    pub count: f64,
}

#[napi(object)]
pub struct Timeline {
    pub times_us: Vec<f64>,
    pub stacks: Vec<u32>,
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
    /// Recorded samples whose thread held the GIL.
    pub gil_samples: f64,
    /// Thread stacks left out as idle (0 with `includeIdle`, where thread states are not read).
    pub idle_samples: f64,
}

#[napi(object)]
pub struct NativeProfile {
    pub frames: Vec<Frame>,
    pub threads: Vec<ThreadInfo>,
    pub stacks: Vec<StackCount>,
    pub timeline: Option<Timeline>,
    pub stats: ProfileStats,
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
    }
}

fn convert_profile(p: pyspy_core::Profile, target_exited: bool) -> NativeProfile {
    NativeProfile {
        stats: convert_stats(&p.stats),
        frames: p.frames.into_iter().map(|f| Frame { name: f.name, file: f.file, line: f.line }).collect(),
        threads: p.threads.into_iter().map(|t| ThreadInfo { id: t.tid, name: t.name, pid: t.pid }).collect(),
        stacks: p.stacks.into_iter().map(|s| StackCount { frames: s.frames, thread: s.thread, count: s.count as f64 }).collect(),
        timeline: p.timeline.map(|t| Timeline {
            times_us: t.iter().map(|(time, _)| *time as f64).collect(),
            stacks: t.iter().map(|(_, stack)| *stack).collect(),
        }),
        target_exited,
    }
}

fn core_record_options(o: RecordOptions) -> pyspy_core::RecordOptions {
    let d = pyspy_core::RecordOptions::default();
    pyspy_core::RecordOptions {
        rate_hz: o.rate_hz.unwrap_or(d.rate_hz),
        duration: o.duration_s.filter(|s| *s > 0.0).map(Duration::from_secs_f64),
        blocking: o.blocking.unwrap_or(d.blocking),
        gil_only: o.gil_only.unwrap_or(d.gil_only),
        include_idle: o.include_idle.unwrap_or(d.include_idle),
        function: o.function.unwrap_or(d.function),
        nolineno: o.nolineno.unwrap_or(d.nolineno),
        full_filenames: o.full_filenames.unwrap_or(d.full_filenames),
        subprocesses: o.subprocesses.unwrap_or(d.subprocesses),
        timeline: o.timeline.unwrap_or(d.timeline),
        wait_for_python: o.wait_for_python_s.filter(|s| *s > 0.0).map(Duration::from_secs_f64),
    }
}

/// A running record. Sampling happens on pyspy-core's own thread; JS polls snapshots.
#[napi]
pub struct Recorder {
    sampler: Option<pyspy_core::Sampler>,
}

#[napi]
impl Recorder {
    /// Everything aggregated so far (for live views and progress).
    #[napi]
    pub fn snapshot(&self) -> Option<NativeProfile> {
        self.sampler.as_ref().map(|s| convert_profile(s.snapshot(), s.target_exited()))
    }

    #[napi]
    pub fn stats(&self) -> Option<ProfileStats> {
        self.sampler.as_ref().map(|s| convert_stats(&s.stats()))
    }

    /// The target's CPython version, e.g. "3.12.1".
    #[napi]
    pub fn python_version(&self) -> String {
        self.sampler.as_ref().map(|s| s.python_version().to_string()).unwrap_or_default()
    }

    /// Asks the sampler to stop after the current tick.
    #[napi]
    pub fn stop(&self) {
        if let Some(s) = &self.sampler {
            s.request_stop();
        }
    }

    /// Sampling ended: duration reached, stopped, or the target exited.
    #[napi]
    pub fn is_finished(&self) -> bool {
        self.sampler.as_ref().is_none_or(|s| s.is_finished())
    }

    /// Waits for the sampler (off the event loop) and returns the whole profile. Once only.
    #[napi(ts_return_type = "Promise<NativeProfile>")]
    pub fn finish(&mut self) -> AsyncTask<FinishTask> {
        AsyncTask::new(FinishTask { sampler: self.sampler.take() })
    }
}

pub struct FinishTask {
    sampler: Option<pyspy_core::Sampler>,
}

impl Task for FinishTask {
    type Output = NativeProfile;
    type JsValue = NativeProfile;

    fn compute(&mut self) -> Result<NativeProfile> {
        let sampler = self.sampler.take().ok_or_else(|| Error::new(Status::InvalidArg, "this record was already finished"))?;
        let exited = sampler.target_exited();
        let profile = sampler.finish();
        Ok(convert_profile(profile, exited))
    }

    fn resolve(&mut self, _env: Env, output: NativeProfile) -> Result<NativeProfile> {
        Ok(output)
    }
}

pub struct StartTask {
    pid: u32,
    options: Option<pyspy_core::RecordOptions>,
}

impl Task for StartTask {
    type Output = std::result::Result<pyspy_core::Sampler, pyspy_core::Error>;
    type JsValue = Recorder;

    fn compute(&mut self) -> Result<Self::Output> {
        let options = self.options.take().unwrap_or_default();
        Ok(pyspy_core::Sampler::start(self.pid, options))
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Recorder> {
        output.map(|s| Recorder { sampler: Some(s) }).map_err(|e| to_js_error(env, e))
    }
}

/// Opens `pid` (off the event loop: a launched command may take a moment to become Python)
/// and starts sampling it.
#[napi(ts_return_type = "Promise<Recorder>")]
pub fn start_recorder(pid: u32, options: RecordOptions) -> AsyncTask<StartTask> {
    AsyncTask::new(StartTask { pid, options: Some(core_record_options(options)) })
}

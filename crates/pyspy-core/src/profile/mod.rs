//! Aggregation: interned frames and threads, distinct stacks with counts, and optionally a
//! timeline. This is what crosses to JS: a few tables, never one object per sample.

use rustc_hash::FxHashMap;

/// What a frame of a profile stands for. Pseudo-frames (tasks, processes, the collector) are
/// frames too, so that every output format and `diff` handle them without special cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FrameKind {
    /// A Python function.
    #[default]
    Python,
    /// A C, C++, Cython or Rust function (`--native`).
    Native,
    /// An asyncio task (`--async`): its awaiting chain sits above the coroutine frames.
    Task,
    /// A process root (`--subprocesses`).
    Process,
    /// The cyclic garbage collector running.
    Gc,
}

impl FrameKind {
    /// The name JS and the file formats use.
    pub fn as_str(self) -> &'static str {
        match self {
            FrameKind::Python => "python",
            FrameKind::Native => "native",
            FrameKind::Task => "task",
            FrameKind::Process => "process",
            FrameKind::Gc => "gc",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame {
    pub name: String,
    /// As shown to people: shortened unless the record asked for full paths.
    pub file: String,
    /// 0 with `--nolineno`; the function's first line with `--function`.
    pub line: u32,
    pub kind: FrameKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    pub pid: u32,
    pub tid: u32,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct StackCount {
    /// Indexes into `frames`, outermost first.
    pub frames: Vec<u32>,
    pub thread: u32,
    pub count: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Thread stacks recorded.
    pub samples: u64,
    /// Sampling ticks taken.
    pub ticks: u64,
    pub requested_rate_hz: f64,
    /// Read failures (ticks where the target could not be read); never padded into samples.
    pub errors: u64,
    /// Ticks skipped because the sampler fell behind.
    pub missed: u64,
    pub duration_s: f64,
    /// User + system CPU time of the sampling thread.
    pub profiler_cpu_s: f64,
    /// Recorded samples whose thread held the GIL (a live view's GIL %).
    pub gil_samples: u64,
    /// Thread stacks seen but left out because the thread was idle. Stays 0 with `include_idle`,
    /// where thread states are not read.
    pub idle_samples: u64,
}

impl Stats {
    pub fn achieved_rate_hz(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.ticks as f64 / self.duration_s
        } else {
            0.0
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Profile {
    pub frames: Vec<Frame>,
    pub threads: Vec<ThreadInfo>,
    pub stacks: Vec<StackCount>,
    /// (microseconds since start, index into `stacks`) per recorded sample, when asked for.
    pub timeline: Option<Vec<(u64, u32)>>,
    pub stats: Stats,
}

/// Builds a `Profile` incrementally. Lookups hash a stack's frame ids once per sample.
#[derive(Default)]
pub struct Aggregator {
    profile: Profile,
    frame_ids: FxHashMap<Frame, u32>,
    thread_ids: FxHashMap<(u32, u32), u32>,
    stack_ids: FxHashMap<(u32, Vec<u32>), u32>,
}

impl Aggregator {
    pub fn new(with_timeline: bool) -> Self {
        let mut a = Aggregator::default();
        if with_timeline {
            a.profile.timeline = Some(Vec::new());
        }
        a
    }

    pub fn intern_frame(&mut self, frame: Frame) -> u32 {
        if let Some(&id) = self.frame_ids.get(&frame) {
            return id;
        }
        let id = self.profile.frames.len() as u32;
        self.profile.frames.push(frame.clone());
        self.frame_ids.insert(frame, id);
        id
    }

    /// Records one thread's name as of now (Python renames threads; the latest name wins).
    pub fn intern_thread(&mut self, pid: u32, tid: u32, name: &str) -> u32 {
        if let Some(&id) = self.thread_ids.get(&(pid, tid)) {
            let info = &mut self.profile.threads[id as usize];
            if info.name != name {
                info.name = name.to_string();
            }
            return id;
        }
        let id = self.profile.threads.len() as u32;
        self.profile.threads.push(ThreadInfo { pid, tid, name: name.to_string() });
        self.thread_ids.insert((pid, tid), id);
        id
    }

    /// `frames` outermost first. The caller's buffer is lent, not taken, so that a sample of a
    /// stack seen before allocates nothing and hashes the stack once.
    pub fn add_sample(&mut self, thread: u32, frames: &mut Vec<u32>, time_us: u64) {
        let key = (thread, std::mem::take(frames));
        let id = match self.stack_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.profile.stacks.len() as u32;
                self.profile.stacks.push(StackCount { frames: key.1.clone(), thread, count: 0 });
                self.stack_ids.insert(key.clone(), id);
                id
            }
        };
        *frames = key.1;
        self.profile.stacks[id as usize].count += 1;
        self.profile.stats.samples += 1;
        if let Some(timeline) = &mut self.profile.timeline {
            timeline.push((time_us, id));
        }
    }

    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.profile.stats
    }

    pub fn snapshot(&self) -> Profile {
        self.profile.clone()
    }

    pub fn finish(self) -> Profile {
        self.profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(name: &str) -> Frame {
        Frame { name: name.into(), file: "a.py".into(), line: 1, kind: FrameKind::Python }
    }

    #[test]
    fn identical_stacks_of_one_thread_are_counted_once_and_threads_stay_apart() {
        let mut a = Aggregator::new(true);
        let (main, work) = (a.intern_frame(frame("main")), a.intern_frame(frame("work")));
        assert_eq!(a.intern_frame(frame("main")), main);
        let t1 = a.intern_thread(10, 10, "MainThread");
        let t2 = a.intern_thread(10, 11, "worker");
        a.add_sample(t1, &mut vec![main, work], 0);
        a.add_sample(t1, &mut vec![main, work], 10);
        a.add_sample(t2, &mut vec![main, work], 10);
        a.add_sample(t1, &mut vec![main], 20);
        let p = a.finish();
        assert_eq!(p.frames.len(), 2);
        assert_eq!(p.stacks.iter().map(|s| s.count).collect::<Vec<_>>(), vec![2, 1, 1]);
        assert_eq!(p.stats.samples, 4);
        assert_eq!(p.timeline.unwrap(), vec![(0, 0), (10, 0), (10, 1), (20, 2)]);
    }
}

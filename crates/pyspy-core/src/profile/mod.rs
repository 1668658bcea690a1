//! Aggregation: interned frames and threads, distinct stacks with counts and weights, and
//! optionally a timeline. This is what crosses to JS: a few tables, never one object per sample.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::{FxBuildHasher, FxHashMap};

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

/// What a stack's `weight` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileUnit {
    /// Every sample weighs 1: the weight is the count.
    #[default]
    Samples,
    /// `--cpu`: a sample weighs the CPU time its thread used since the thread's previous sample.
    CpuNanoseconds,
}

impl ProfileUnit {
    /// The name JS and the file formats use.
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileUnit::Samples => "samples",
            ProfileUnit::CpuNanoseconds => "cpu-nanoseconds",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StackCount {
    /// Indexes into `frames`, outermost first.
    pub frames: Vec<u32>,
    pub thread: u32,
    /// Samples that saw this stack.
    pub count: u64,
    /// Their weights summed, in the profile's unit (equal to `count` for `Samples`).
    pub weight: u64,
}

/// One recorded sample, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineSample {
    pub time_us: u64,
    /// Index into `Profile::stacks`.
    pub stack: u32,
    pub weight: u64,
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
    /// `--cpu`: the weights of the samples recorded, summed: CPU time put on a stack.
    pub cpu_attributed_ns: u64,
    /// `--cpu`: CPU time the kernel counted for the threads read, from their first reading to their
    /// last: what `cpu_attributed_ns` would be if no sample were lost or left out.
    pub cpu_kernel_ns: u64,
    /// Samples counted into a thread's `OTHER_STACKS` stack because the record already held
    /// `max_stacks` distinct stacks (a program that makes new code endlessly must not grow the
    /// profile without bound). Included in `samples`.
    pub other_samples: u64,
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
    /// Every recorded sample, when asked for.
    pub timeline: Option<Vec<TimelineSample>>,
    pub stats: Stats,
    pub unit: ProfileUnit,
    /// What happened to the targets that a person should be told (one line each), e.g. a process
    /// that exec'd something that is not Python.
    pub notes: Vec<String>,
}

/// The name of the pseudo-frame that stands for every stack beyond the record's cap.
pub const OTHER_STACKS: &str = "<other stacks>";

/// Distinct stacks a record keeps by default (`--max-stacks`): about 100 MB of profile at 200
/// frames a stack, far beyond what a flame graph can show, and still a bound.
pub const DEFAULT_MAX_STACKS: u32 = 100_000;

/// What `intern_frame` returns for a frame first met once the record holds its `max_stacks`
/// stacks: no stack kept can hold that frame, so a sample with it counts as its thread's
/// `OTHER_STACKS`, and the frame is not kept either. Else a program that makes new code without
/// end would grow the frame table without bound, cap or not.
pub const FRAME_NOT_KEPT: u32 = u32::MAX;

/// Builds a `Profile` incrementally. Lookups hash a stack's frame ids once per sample.
pub struct Aggregator {
    profile: Profile,
    /// Ids into `profile.frames`, found by the frame's hash: each frame is stored once.
    frame_ids: HashTable<u32>,
    thread_ids: FxHashMap<(u32, u32), u32>,
    /// Ids into `profile.stacks`, by the hash of (thread, frames).
    stack_ids: HashTable<u32>,
    max_stacks: usize,
    /// The `OTHER_STACKS` frame, once needed.
    other_frame: Option<u32>,
}

impl Default for Aggregator {
    fn default() -> Self {
        Aggregator {
            profile: Profile::default(),
            frame_ids: HashTable::new(),
            thread_ids: FxHashMap::default(),
            stack_ids: HashTable::new(),
            max_stacks: DEFAULT_MAX_STACKS as usize,
            other_frame: None,
        }
    }
}

impl Aggregator {
    pub fn new(with_timeline: bool) -> Self {
        let mut a = Aggregator::default();
        if with_timeline {
            a.profile.timeline = Some(Vec::new());
        }
        a
    }

    /// What `add_weighted_sample`'s weights are.
    pub fn set_unit(&mut self, unit: ProfileUnit) {
        self.profile.unit = unit;
    }

    pub fn add_note(&mut self, note: String) {
        self.profile.notes.push(note);
    }

    /// Past `max_stacks` distinct stacks, a new stack is counted as its thread's `OTHER_STACKS`
    /// stack (one more stack per thread at most) and in `Stats::other_samples`.
    pub fn with_max_stacks(mut self, max_stacks: u32) -> Self {
        self.max_stacks = max_stacks as usize;
        self
    }

    /// The frame's id, or `FRAME_NOT_KEPT` for a new frame once the stacks are at their cap.
    pub fn intern_frame(&mut self, frame: Frame) -> u32 {
        let hash = hash_of(&frame);
        let frames = &self.profile.frames;
        if let Some(&id) = self.frame_ids.find(hash, |&id| frames[id as usize] == frame) {
            return id;
        }
        if self.stack_ids.len() >= self.max_stacks {
            return FRAME_NOT_KEPT;
        }
        self.push_frame(frame, hash)
    }

    fn push_frame(&mut self, frame: Frame, hash: u64) -> u32 {
        let id = self.profile.frames.len() as u32;
        self.profile.frames.push(frame);
        let frames = &self.profile.frames;
        self.frame_ids.insert_unique(hash, id, |&id| hash_of(&frames[id as usize]));
        id
    }

    fn push_stack(&mut self, thread: u32, frames: Vec<u32>, hash: u64) -> u32 {
        let id = self.profile.stacks.len() as u32;
        self.profile.stacks.push(StackCount { frames, thread, count: 0, weight: 0 });
        let stacks = &self.profile.stacks;
        self.stack_ids.insert_unique(hash, id, |&id| stack_hash(&stacks[id as usize]));
        id
    }

    fn find_stack(&self, thread: u32, frames: &[u32], hash: u64) -> Option<u32> {
        let stacks = &self.profile.stacks;
        self.stack_ids
            .find(hash, |&id| {
                let stack = &stacks[id as usize];
                stack.thread == thread && stack.frames == frames
            })
            .copied()
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

    /// `frames` outermost first. A sample of a stack seen before allocates nothing and hashes
    /// the stack once.
    pub fn add_sample(&mut self, thread: u32, frames: &[u32], time_us: u64) {
        self.add_weighted_sample(thread, frames, time_us, 1);
    }

    /// A sample that weighs `weight` in the profile's unit (see `set_unit`).
    pub fn add_weighted_sample(&mut self, thread: u32, frames: &[u32], time_us: u64, weight: u64) {
        let hash = hash_of((thread, frames));
        let id = match self.find_stack(thread, frames, hash) {
            Some(id) => id,
            None if self.stack_ids.len() >= self.max_stacks || frames.contains(&FRAME_NOT_KEPT) => {
                self.profile.stats.other_samples += 1;
                self.other_stack(thread)
            }
            None => self.push_stack(thread, frames.to_vec(), hash),
        };
        let stack = &mut self.profile.stacks[id as usize];
        stack.count += 1;
        stack.weight += weight;
        self.profile.stats.samples += 1;
        if self.profile.unit == ProfileUnit::CpuNanoseconds {
            self.profile.stats.cpu_attributed_ns += weight;
        }
        if let Some(timeline) = &mut self.profile.timeline {
            timeline.push(TimelineSample { time_us, stack: id, weight });
        }
    }

    /// `thread`'s `OTHER_STACKS` stack, made on first use whatever the cap.
    fn other_stack(&mut self, thread: u32) -> u32 {
        let frame = match self.other_frame {
            Some(id) => id,
            None => {
                let other = Frame { name: OTHER_STACKS.into(), file: String::new(), line: 0, kind: FrameKind::Python };
                let hash = hash_of(&other);
                let id = self.push_frame(other, hash);
                self.other_frame = Some(id);
                id
            }
        };
        let hash = hash_of((thread, [frame].as_slice()));
        match self.find_stack(thread, &[frame], hash) {
            Some(id) => id,
            None => self.push_stack(thread, vec![frame], hash),
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

fn hash_of(value: impl Hash) -> u64 {
    FxBuildHasher.hash_one(value)
}

fn stack_hash(stack: &StackCount) -> u64 {
    hash_of((stack.thread, stack.frames.as_slice()))
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
        a.add_sample(t1, &[main, work], 0);
        a.add_sample(t1, &[main, work], 10);
        a.add_sample(t2, &[main, work], 10);
        a.add_sample(t1, &[main], 20);
        let p = a.finish();
        assert_eq!(p.frames.len(), 2);
        assert_eq!(p.stacks.iter().map(|s| s.count).collect::<Vec<_>>(), vec![2, 1, 1]);
        assert_eq!(p.stacks.iter().map(|s| s.weight).collect::<Vec<_>>(), vec![2, 1, 1]);
        assert_eq!(p.stats.samples, 4);
        let timeline: Vec<(u64, u32)> = p.timeline.unwrap().iter().map(|s| (s.time_us, s.stack)).collect();
        assert_eq!(timeline, vec![(0, 0), (10, 0), (10, 1), (20, 2)]);
    }

    #[test]
    fn cpu_weights_add_up_per_stack_and_in_the_statistics() {
        let mut a = Aggregator::new(true);
        a.set_unit(ProfileUnit::CpuNanoseconds);
        let work = a.intern_frame(frame("work"));
        let t = a.intern_thread(10, 10, "MainThread");
        a.add_weighted_sample(t, &[work], 0, 7_000_000);
        a.add_weighted_sample(t, &[work], 10, 3_000_000);
        let p = a.finish();
        assert_eq!((p.stacks[0].count, p.stacks[0].weight), (2, 10_000_000));
        assert_eq!(p.stats.cpu_attributed_ns, 10_000_000);
        assert_eq!(p.timeline.unwrap()[1].weight, 3_000_000);
        assert_eq!(p.unit.as_str(), "cpu-nanoseconds");
    }

    #[test]
    fn frames_first_met_past_the_cap_are_not_kept_and_their_samples_go_to_other() {
        let mut a = Aggregator::new(false).with_max_stacks(1);
        let frame = |name: &str| Frame { name: name.into(), file: "f.py".into(), line: 1, kind: FrameKind::Python };
        let t = a.intern_thread(1, 1, "main");
        let kept = a.intern_frame(frame("kept"));
        a.add_sample(t, &[kept], 0);
        for i in 0..1000 {
            let id = a.intern_frame(frame(&format!("generated_{i}")));
            assert_eq!(id, FRAME_NOT_KEPT);
            a.add_sample(t, &[kept, id], 0);
        }
        assert_eq!(a.intern_frame(frame("kept")), kept);
        let p = a.finish();
        assert_eq!(p.frames.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), vec!["kept", OTHER_STACKS]);
        assert_eq!((p.stats.samples, p.stats.other_samples, p.stacks.len()), (1001, 1000, 2));
    }

    #[test]
    fn stacks_beyond_the_cap_are_counted_as_their_threads_other_stack() {
        let mut a = Aggregator::new(false).with_max_stacks(2);
        let ids: Vec<u32> = ["a", "b", "c", "d"].iter().map(|n| a.intern_frame(frame(n))).collect();
        let (t1, t2) = (a.intern_thread(1, 1, "one"), a.intern_thread(1, 2, "two"));
        a.add_sample(t1, &[ids[0]], 0);
        a.add_sample(t1, &[ids[1]], 0);
        // Known stacks are still counted as themselves past the cap.
        a.add_sample(t1, &[ids[0]], 0);
        a.add_sample(t1, &[ids[2]], 0);
        a.add_sample(t1, &[ids[3]], 0);
        a.add_sample(t2, &[ids[0]], 0);
        let p = a.finish();
        let other = p.frames.iter().position(|f| f.name == OTHER_STACKS).unwrap() as u32;
        let counts: Vec<(u32, Vec<u32>, u64)> = p.stacks.iter().map(|s| (s.thread, s.frames.clone(), s.count)).collect();
        assert_eq!(counts, vec![(t1, vec![ids[0]], 2), (t1, vec![ids[1]], 1), (t1, vec![other], 2), (t2, vec![other], 1)]);
        assert_eq!((p.stats.samples, p.stats.other_samples), (6, 3));
    }
}

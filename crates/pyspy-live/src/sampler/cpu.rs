//! `--cpu`: a sample weighs the CPU time its thread used since the thread's previous reading, from
//! `/proc/PID/task/TID/schedstat` (kept open: one pread a thread a tick). Time spent runnable but
//! waiting for a core is not CPU time, so on a busy machine it weighs nothing, and a thread's
//! samples add up to what the kernel counted for it.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::process::SchedstatFiles;

pub(crate) struct CpuClock {
    files: SchedstatFiles,
    /// Each thread's CPU time (ns) at its last reading.
    last: FxHashMap<u32, u64>,
    /// The threads of the last listing, sorted.
    listed: Vec<u32>,
    /// Threads that a listing found and the one before it did not: born during the record, so all
    /// of their CPU time is the record's. A thread read for the first time otherwise (at the first
    /// tick, or when it comes into `--thread-name`'s scope) starts from its reading.
    newborn: FxHashSet<u32>,
    listed_before: bool,
}

impl CpuClock {
    pub fn new(pid: u32) -> CpuClock {
        CpuClock {
            files: SchedstatFiles::new(pid),
            last: FxHashMap::default(),
            listed: Vec::new(),
            newborn: FxHashSet::default(),
            listed_before: false,
        }
    }

    /// The process's threads were listed (again): `tids`, sorted. Forgets those that ended.
    pub fn listed(&mut self, tids: &[u32]) {
        if self.listed_before {
            self.newborn.extend(tids.iter().filter(|t| self.listed.binary_search(t).is_err()));
        }
        self.newborn.retain(|t| tids.binary_search(t).is_ok());
        self.files.retain(tids);
        self.last.retain(|tid, _| tids.binary_search(tid).is_ok());
        self.listed = tids.to_vec();
        self.listed_before = true;
    }

    /// The CPU time each thread of `tids` used since its last reading, in their order; None for a
    /// thread that is gone. Every thread's reading moves on, sampled or not, so that a sample never
    /// gets the CPU time of a tick that was not its own.
    pub fn advance(&mut self, tids: &[u32]) -> Vec<Option<u64>> {
        let deltas = tids
            .iter()
            .map(|&tid| {
                let now = self.files.cpu_ns(tid)?;
                Some(match self.last.insert(tid, now) {
                    Some(before) => now.saturating_sub(before),
                    None if self.newborn.remove(&tid) => now,
                    None => 0,
                })
            })
            .collect();
        deltas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    /// Burns some CPU and lets the scheduler account for it (it does at ticks and switches).
    fn work() {
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }

    #[test]
    fn the_first_reading_is_a_baseline_and_later_ones_count_what_was_used() {
        let tid = unsafe { libc::gettid() } as u32;
        let mut clock = CpuClock::new(std::process::id());
        clock.listed(&[tid]);
        assert_eq!(clock.advance(&[tid]), vec![Some(0)]);
        work();
        assert!(clock.advance(&[tid])[0].is_some_and(|ns| ns > 0));
        assert_eq!(clock.advance(&[u32::MAX - 1]), vec![None]);
    }

    #[test]
    fn a_thread_born_during_the_record_brings_all_of_its_cpu_time() {
        let me = unsafe { libc::gettid() } as u32;
        work();
        let mut clock = CpuClock::new(std::process::id());
        clock.listed(&[]);
        clock.listed(&[me]);
        assert!(clock.advance(&[me])[0].is_some_and(|ns| ns > 0), "all of this thread's CPU time so far");
    }
}

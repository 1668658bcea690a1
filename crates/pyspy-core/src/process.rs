//! What the core needs to know of a process besides its memory, wherever it comes from: a live
//! Linux process (`pyspy-live`), a core file, a planted image. The core never asks the operating
//! system itself; it asks a `ProcessSource`.

use crate::maps::MapEntry;
use crate::memory::Memory;
use crate::Result;

/// A thread's scheduler state, as the kernel (or a core file) reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadState {
    Running,
    Sleeping,
    /// Stopped by a signal or a tracer: not our doing if we read it before pausing.
    Stopped,
    Other,
}

impl ThreadState {
    /// From the state letter of `/proc/PID/task/TID/stat` (also `pr_sname` in a core's psinfo).
    pub fn from_letter(c: char) -> ThreadState {
        match c {
            'R' => ThreadState::Running,
            'S' | 'D' | 'I' => ThreadState::Sleeping,
            'T' | 't' => ThreadState::Stopped,
            _ => ThreadState::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadEntry {
    /// The thread id as we see it (for a live process: in our PID namespace).
    pub tid: u32,
    /// The id the target's own PID namespace gives it, which is what CPython stores; equal to
    /// `tid` unless the target runs in another PID namespace (a container); 0 when unknown.
    pub namespace_tid: u32,
    pub state: ThreadState,
    /// The kernel's name for the thread (comm), when known.
    pub kernel_name: Option<String>,
}

/// A file the target maps, to parse: its bytes already in memory (a core's, or WASM's), or an
/// open file of which parsing reads only the parts it needs, through `object::ReadCache` (a live
/// process's). A libpython built with debug information is 20+ MB, and reading it whole to find
/// one symbol was most of a record's peak memory.
pub enum MappedFile {
    Bytes(Vec<u8>),
    File(std::fs::File),
}

/// A process to read: its memory and what the core cannot learn from memory alone.
pub trait ProcessSource {
    fn pid(&self) -> u32;
    fn memory(&self) -> &dyn Memory;
    fn maps(&self) -> Result<Vec<MapEntry>>;
    /// The executable, as the target names it.
    fn executable(&self) -> Result<String>;
    /// A file the target has mapped, by the path the target knows it by.
    fn read_mapped_file(&self, path: &str) -> Result<MappedFile>;
    /// Every thread, sorted by `tid`.
    fn threads(&self) -> Result<Vec<ThreadEntry>>;
    /// The target's thread ids as CPython stores them (see `ThreadEntry::namespace_tid`).
    fn namespace_tids(&self) -> Result<Vec<u32>> {
        Ok(self.threads()?.into_iter().map(|t| t.namespace_tid).collect())
    }
    fn command_line(&self) -> Vec<String>;
    /// The working directory, for showing paths relative to it.
    fn cwd(&self) -> Option<String>;
}

/// Kernel thread ids from the target's PID namespace to ours: CPython stores the former, /proc
/// and ptrace want the latter. The identity outside containers.
#[derive(Debug, Clone, Default)]
pub struct TidMap {
    /// Our ids, sorted.
    outer: Vec<u32>,
    /// The target namespace's id of each, in the same order; empty when they are the same.
    inner: Vec<u32>,
}

impl TidMap {
    pub fn identity(tids: &[u32]) -> TidMap {
        TidMap { outer: tids.to_vec(), inner: Vec::new() }
    }

    pub fn new(threads: &[ThreadEntry]) -> TidMap {
        let outer = threads.iter().map(|t| t.tid).collect();
        if threads.iter().all(|t| t.namespace_tid == t.tid) {
            return TidMap { outer, inner: Vec::new() };
        }
        TidMap { outer, inner: threads.iter().map(|t| t.namespace_tid).collect() }
    }

    /// Built from our ids and a lookup of each one's namespace id.
    pub fn from_lookup(tids: &[u32], namespace_tid: impl Fn(u32) -> Option<u32>) -> TidMap {
        TidMap { outer: tids.to_vec(), inner: tids.iter().map(|&t| namespace_tid(t).unwrap_or(0)).collect() }
    }

    /// Our ids, as given.
    pub fn outer(&self) -> &[u32] {
        &self.outer
    }

    /// The ids as CPython stores them, in the same order as `outer`.
    pub fn inner(&self) -> &[u32] {
        if self.inner.is_empty() {
            &self.outer
        } else {
            &self.inner
        }
    }

    /// Our id of a thread CPython knows as `inner`: the same id outside containers (also for a
    /// thread newer than this map); inside, 0 when no thread of ours has it.
    pub fn to_outer(&self, inner: u32) -> u32 {
        if self.inner.is_empty() || inner == 0 {
            return inner;
        }
        self.inner.iter().position(|&t| t == inner).map_or(0, |i| self.outer[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tid: u32, namespace_tid: u32) -> ThreadEntry {
        ThreadEntry { tid, namespace_tid, state: ThreadState::Running, kernel_name: None }
    }

    #[test]
    fn tids_map_through_the_namespace_and_unknown_ones_give_zero() {
        let map = TidMap::new(&[entry(1000, 1), entry(1001, 7)]);
        assert_eq!(map.inner(), &[1, 7]);
        assert_eq!((map.to_outer(7), map.to_outer(1), map.to_outer(2), map.to_outer(0)), (1001, 1000, 0, 0));
        let same = TidMap::new(&[entry(5, 5), entry(9, 9)]);
        assert_eq!((same.inner(), same.to_outer(9), same.to_outer(6)), (&[5u32, 9][..], 9, 6));
    }
}

//! Whether a thread has been scheduled in or out since we last looked, without a system call.
//!
//! A service's threads are mostly parked: on a 200-thread target, reading every thread's
//! `/proc/.../stat` each tick was most of the profiler's CPU (5.8 µs a read). A perf event that
//! counts nothing (`PERF_COUNT_SW_DUMMY`) opened on a thread is scheduled in and out with it, and
//! the kernel bumps the sequence counter (`lock`) of the event's mmapped page each time. A thread
//! whose counter has not moved has not switched since: it is still off a core if it was (parked),
//! or still on it (spinning), and its stat file need not be read. Checking is one load from our
//! own memory.
//!
//! The target pays a fraction of a microsecond for each switch of a watched thread, so
//! `ThreadStates` watches a thread only after some ticks, and a thread that keeps switching goes
//! back to its stat file. Where perf events are not allowed (a seccomp profile,
//! `perf_event_paranoid` 3, no `CONFIG_PERF_EVENTS`) nothing is watched and every thread's stat
//! is read as before.

use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;

use perf_event_open_sys::bindings::{
    perf_event_attr, perf_event_mmap_page, PERF_COUNT_SW_DUMMY, PERF_FLAG_FD_CLOEXEC, PERF_TYPE_SOFTWARE,
};
use rustc_hash::FxHashMap;

/// At most this many threads are watched (an fd and a mapped page each).
const MAX_WATCHED: usize = 4096;

struct Watched {
    page: NonNull<perf_event_mmap_page>,
    last: u32,
    /// Keeps the event alive; closed after the page is unmapped.
    _fd: OwnedFd,
}

impl Drop for Watched {
    fn drop(&mut self) {
        // SAFETY: the page was mapped by `watch` with this length and is not used after this.
        unsafe { libc::munmap(self.page.as_ptr().cast(), page_size()) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

#[derive(Default)]
pub struct RunWatch {
    watched: FxHashMap<u32, Watched>,
    /// perf_event_open or the mmap was refused in a way that will not change: stop trying.
    unavailable: bool,
}

// SAFETY: the mapped pages are only read through `&mut self` (one thread at a time), and the
// kernel's writes to them are what we read with volatile loads.
unsafe impl Send for RunWatch {}

impl RunWatch {
    /// Whether `tid` is watched.
    pub fn watches(&self, tid: u32) -> bool {
        self.watched.contains_key(&tid)
    }

    /// Starts watching `tid`. False when it cannot be watched (then its stat file is read).
    pub fn watch(&mut self, tid: u32) -> bool {
        if self.unavailable || self.watched.len() >= MAX_WATCHED {
            return false;
        }
        if self.watched.contains_key(&tid) {
            return true;
        }
        match open(tid) {
            Ok(watched) => {
                self.watched.insert(tid, watched);
                true
            }
            Err(errno) => {
                // A thread that just ended (ESRCH) or a full fd table (EMFILE) may pass another
                // time; a refusal of perf events as such will not.
                if !matches!(errno, libc::ESRCH | libc::EMFILE | libc::ENFILE | libc::ENOMEM) {
                    self.unavailable = true;
                }
                false
            }
        }
    }

    /// How many threads are watched.
    pub fn count(&self) -> usize {
        self.watched.len()
    }

    pub fn unwatch(&mut self, tid: u32) {
        self.watched.remove(&tid);
    }

    /// Whether `tid` was scheduled in or out since the last call (or since `watch`); None when
    /// it is not watched.
    pub fn moved(&mut self, tid: u32) -> Option<bool> {
        let watched = self.watched.get_mut(&tid)?;
        // SAFETY: the page stays mapped while `watched` lives; the kernel updates `lock` under
        // its own barriers, and a torn or stale read only makes a thread look moved or not one
        // tick late.
        let now = unsafe { std::ptr::addr_of!((*watched.page.as_ptr()).lock).read_volatile() };
        let moved = now != watched.last;
        watched.last = now;
        Some(moved)
    }

    /// Stops watching the threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.watched.retain(|tid, _| tids.binary_search(tid).is_ok());
    }
}

fn open(tid: u32) -> Result<Watched, i32> {
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EINVAL);
    let mut attr = perf_event_attr {
        type_: PERF_TYPE_SOFTWARE,
        size: std::mem::size_of::<perf_event_attr>() as u32,
        config: u64::from(PERF_COUNT_SW_DUMMY),
        ..Default::default()
    };
    // What perf_event_paranoid 2 (the default) allows anyone who may trace the thread.
    attr.set_exclude_kernel(1);
    attr.set_exclude_hv(1);
    // SAFETY: a valid attr; pid is a thread id, cpu -1 follows it on every CPU.
    let fd = unsafe { perf_event_open_sys::perf_event_open(&mut attr, tid as i32, -1, -1, PERF_FLAG_FD_CLOEXEC.into()) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: a new descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: one read-only shared page of a perf event: its header, no ring buffer.
    let page = unsafe {
        libc::mmap(std::ptr::null_mut(), page_size(), libc::PROT_READ, libc::MAP_SHARED, std::os::fd::AsRawFd::as_raw_fd(&fd), 0)
    };
    if page == libc::MAP_FAILED {
        return Err(errno());
    }
    let page = NonNull::new(page.cast::<perf_event_mmap_page>()).ok_or(libc::EINVAL)?;
    // SAFETY: mapped just above.
    let last = unsafe { std::ptr::addr_of!((*page.as_ptr()).lock).read_volatile() };
    Ok(Watched { page, last, _fd: fd })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_parked_thread_does_not_move_and_a_woken_one_does() {
        let (to_thread, from_test) = mpsc::channel::<()>();
        let (tid_tx, tid_rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            tid_tx.send(unsafe { libc::gettid() } as u32).unwrap();
            // Parked until the test sends, then again until the channel closes.
            while from_test.recv().is_ok() {}
        });
        let tid = tid_rx.recv().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let mut watch = RunWatch::default();
        // This machine allows perf events; where one does not, the sampler reads stat files.
        assert!(watch.watch(tid), "perf_event_open refused: {}", std::io::Error::last_os_error());
        assert_eq!(watch.moved(tid), Some(false));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(watch.moved(tid), Some(false), "a parked thread ran");
        to_thread.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(watch.moved(tid), Some(true), "the woken thread did not move");
        assert_eq!(watch.moved(tid), Some(false));
        assert_eq!(watch.moved(tid + 1_000_000), None);
        drop(to_thread);
        thread.join().unwrap();
        watch.retain(&[]);
        assert!(!watch.watches(tid));
    }
}

//! Each thread's `/proc/PID/task/TID/stat` (and with `--cpu` its `schedstat`), kept open: a pread
//! at offset 0 regenerates it, one system call a thread a tick instead of five (open, fstat, two
//! reads, close).

use std::collections::hash_map::Entry;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};

use pyspy_core::process::ThreadState;
use rustc_hash::FxHashMap;

use super::linux::stat_fields;
use super::run_watch::RunWatch;

/// One file of each thread's `/proc/PID/task/TID/` directory, kept open per thread.
struct TaskFiles {
    pid: u32,
    name: &'static str,
    files: FxHashMap<u32, File>,
    buf: Vec<u8>,
}

impl TaskFiles {
    fn new(pid: u32, name: &'static str) -> TaskFiles {
        TaskFiles { pid, name, files: FxHashMap::default(), buf: vec![0; 1024] }
    }

    /// The file's contents now; None once the thread is gone.
    fn read(&mut self, tid: u32) -> Option<&[u8]> {
        let file = match self.files.entry(tid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(File::open(format!("/proc/{}/task/{tid}/{}", self.pid, self.name)).ok()?),
        };
        let n = file.read_at(&mut self.buf, 0).ok()?;
        Some(&self.buf[..n])
    }

    fn retain(&mut self, tids: &[u32]) {
        self.files.retain(|tid, _| tids.binary_search(tid).is_ok());
    }
}

pub struct StatFiles(TaskFiles);

impl StatFiles {
    pub fn new(pid: u32) -> StatFiles {
        StatFiles(TaskFiles::new(pid, "stat"))
    }

    /// The thread's scheduler state and its process's thread count; None once the thread is gone.
    pub fn read(&mut self, tid: u32) -> Option<(ThreadState, usize)> {
        parse_stat(self.0.read(tid)?)
    }

    /// Closes the files of threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.0.retain(tids);
    }
}

/// `schedstat`: the CPU time a thread has used, as the scheduler counts it (`sum_exec_runtime`,
/// what CLOCK_THREAD_CPUTIME_ID reads), in nanoseconds. Time spent runnable but waiting for a core
/// is not in it.
pub struct SchedstatFiles(TaskFiles);

impl SchedstatFiles {
    pub fn new(pid: u32) -> SchedstatFiles {
        SchedstatFiles(TaskFiles::new(pid, "schedstat"))
    }

    /// The thread's CPU time so far; None once the thread is gone.
    pub fn cpu_ns(&mut self, tid: u32) -> Option<u64> {
        parse_schedstat(self.0.read(tid)?)
    }

    /// Closes the files of threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.0.retain(tids);
    }
}

/// Each thread's scheduler state, from its stat file or, when a [`RunWatch`] says the thread has
/// not been scheduled in or out since its stat was last read, from that read: a thread that has
/// not switched is where it was, still off a core (parked) or still on it (spinning), and costs no
/// system call. A thread's state changes only through a switch, with one exception: a parked
/// thread woken but still waiting for a core has not switched, and reads as parked until it runs
/// (its stack is where it waited either way).
///
/// A thread is watched after its stat file was read `wait` ticks in a row. It stops being watched
/// when it switched on `MOVING_TICKS` ticks in a row: its stat is read on each of those anyway, and
/// the target pays for the event on each switch. It then waits twice as long before it is watched
/// again.
pub struct ThreadStates {
    pid: u32,
    stat: StatFiles,
    watch: RunWatch,
    gates: FxHashMap<u32, Gate>,
    /// `/proc/PID/task`, kept open for `thread_count`.
    task_dir: Option<File>,
}

struct Gate {
    /// What its stat file said last.
    state: ThreadState,
    /// Ticks in a row its stat file was read, unwatched.
    unwatched: u32,
    /// Such ticks before it is watched.
    wait: u32,
    /// Ticks in a row it was watched and moved.
    moving: u32,
}

const FIRST_WAIT: u32 = 8;
const MAX_WAIT: u32 = 1024;
const MOVING_TICKS: u32 = 4;

impl ThreadStates {
    pub fn new(pid: u32) -> ThreadStates {
        ThreadStates { pid, stat: StatFiles::new(pid), watch: RunWatch::default(), gates: FxHashMap::default(), task_dir: None }
    }

    /// The thread's scheduler state, and the process's thread count if its stat file was read;
    /// None once the thread is gone.
    pub fn read(&mut self, tid: u32) -> Option<(ThreadState, Option<usize>)> {
        let gate = self.gates.entry(tid).or_insert(Gate { state: ThreadState::Other, unwatched: 0, wait: FIRST_WAIT, moving: 0 });
        if self.watch.moved(tid) == Some(false) {
            gate.moving = 0;
            return Some((gate.state, None));
        }
        let Some((state, count)) = self.stat.read(tid) else {
            self.watch.unwatch(tid);
            self.gates.remove(&tid);
            return None;
        };
        gate.state = state;
        if self.watch.watches(tid) {
            gate.moving += 1;
            if gate.moving >= MOVING_TICKS {
                self.watch.unwatch(tid);
                (gate.unwatched, gate.moving, gate.wait) = (0, 0, (gate.wait * 2).min(MAX_WAIT));
            }
        } else {
            gate.unwatched += 1;
            if gate.unwatched >= gate.wait {
                gate.moving = 0;
                self.watch.watch(tid);
            }
        }
        Some((state, Some(count)))
    }

    /// The process's thread count, for a tick that read no stat file: the link count of
    /// `/proc/PID/task` is two more than it (0.7 µs an fstat here, a stat read 4.5 µs). None once
    /// the process is gone.
    pub fn thread_count(&mut self) -> Option<usize> {
        if self.task_dir.is_none() {
            self.task_dir = File::open(format!("/proc/{}/task", self.pid)).ok();
        }
        let links = self.task_dir.as_ref()?.metadata().ok()?.nlink();
        Some((links as usize).saturating_sub(2))
    }

    /// Forgets the threads not in `tids` (sorted).
    pub fn retain(&mut self, tids: &[u32]) {
        self.stat.retain(tids);
        self.watch.retain(tids);
        self.gates.retain(|tid, _| tids.binary_search(tid).is_ok());
    }

    /// How many threads are watched now.
    pub fn watched(&self) -> usize {
        self.watch.count()
    }
}

/// State (field 3) and num_threads (field 20) of a stat line.
fn parse_stat(stat: &[u8]) -> Option<(ThreadState, usize)> {
    // Only the command name may be other than ASCII: decode from the ')' that ends it.
    let close = stat.iter().rposition(|&b| b == b')')?;
    let mut fields = stat_fields(std::str::from_utf8(&stat[close..]).ok()?)?;
    let state = ThreadState::from_letter(fields.next()?.chars().next()?);
    let num_threads = fields.nth(16)?.parse().ok()?;
    Some((state, num_threads))
}

/// The first of schedstat's three numbers (time on the CPU, time waiting to run, timeslices).
fn parse_schedstat(schedstat: &[u8]) -> Option<u64> {
    std::str::from_utf8(schedstat).ok()?.split_ascii_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_and_thread_count_whatever_the_command_name() {
        let line = b"4242 (we ird) (name) R 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 7 0 123 4096 10 18446744073709551615\n";
        assert_eq!(parse_stat(line), Some((ThreadState::Running, 7)));
        assert_eq!(parse_stat(b"1 (x) S 0"), None);
    }

    #[test]
    fn a_thread_that_did_not_switch_is_read_without_its_stat_file() {
        use std::sync::mpsc;
        let spawn = |spin: bool| {
            let (wake, woken) = mpsc::channel::<()>();
            let (tid_tx, tid_rx) = mpsc::channel();
            let handle = std::thread::spawn(move || {
                tid_tx.send(unsafe { libc::gettid() } as u32).unwrap();
                loop {
                    let message = if spin {
                        woken.try_recv().map_err(|e| e == mpsc::TryRecvError::Disconnected)
                    } else {
                        woken.recv().map_err(|_| true)
                    };
                    if message == Err(true) {
                        break;
                    }
                }
            });
            (tid_rx.recv().unwrap(), wake, handle)
        };
        let (parked, wake, parked_handle) = spawn(false);
        let (busy, stop_busy, busy_handle) = spawn(true);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut states = ThreadStates::new(std::process::id());
        for _ in 0..FIRST_WAIT {
            let (state, count) = states.read(parked).unwrap();
            assert!(state != ThreadState::Running && count.is_some());
        }
        assert_eq!(states.watched(), 1);
        let listed = std::fs::read_dir("/proc/self/task").unwrap().count();
        assert!(states.thread_count().unwrap().abs_diff(listed) <= 1, "cargo's test threads come and go");
        for _ in 0..3 {
            let (state, count) = states.read(parked).unwrap();
            assert!(state != ThreadState::Running && count.is_none(), "read without its stat file");
        }
        // A spinning thread reads as running, from its stat file or, between two switches, without.
        for _ in 0..4 * FIRST_WAIT {
            assert_eq!(states.read(busy).unwrap().0, ThreadState::Running);
        }
        wake.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(states.read(parked).unwrap().1.is_some(), "it ran: its stat file is read again");
        assert!(states.read(parked).unwrap().1.is_none(), "and it is parked again");
        drop((wake, stop_busy));
        parked_handle.join().unwrap();
        busy_handle.join().unwrap();
        assert_eq!(states.read(parked), None, "an ended thread reads as gone");
        states.retain(&[]);
        assert_eq!(states.watched(), 0);
    }

    #[test]
    fn schedstat_gives_the_time_on_the_cpu_not_the_time_waiting() {
        assert_eq!(parse_schedstat(b"1034131 37009 2\n"), Some(1_034_131));
        assert_eq!(parse_schedstat(b""), None);
    }

    #[test]
    fn our_own_cpu_time_grows_as_we_work() {
        let tid = unsafe { libc::gettid() } as u32;
        let mut files = SchedstatFiles::new(std::process::id());
        let before = files.cpu_ns(tid).expect("our own schedstat");
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        // The scheduler brings a running thread's count up to date at its ticks and switches.
        std::thread::sleep(std::time::Duration::from_millis(1));
        assert!(files.cpu_ns(tid).unwrap() > before);
    }
}

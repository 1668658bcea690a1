//! Pausing every thread of a target so that a sample sees one consistent state.
//!
//! ptrace SEIZE + INTERRUPT rather than ATTACH/SIGSTOP: no signal is sent, so the target's own
//! signal handling and job control never see us. A thread that takes a signal while we hold it
//! gets that signal back when we let go. Dropping the guard always lets go (also on error and
//! panic), and if this process dies the kernel detaches its tracees, so a target is never left stopped.

use std::collections::HashSet;
use std::io;
use std::time::{Duration, Instant};

use super::linux::{parent_pid, permission_denied, stat_state_char, LinuxProcess};
use pyspy_core::{Error, Result};

/// How long one thread may take to reach its stop before we give up the whole pause.
const STOP_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a wait for a stop polls back to back before it sleeps. A running thread stops
/// within microseconds of the interrupt; sleeping meanwhile adds our own wake-up (tens of
/// microseconds on a virtual machine, more with timer slack) to the time the target is held.
const STOP_SPIN: Duration = Duration::from_micros(50);

struct HeldThread {
    tid: u32,
    /// A signal that arrived while we held the thread; delivered again on detach.
    pending_signal: i32,
}

/// All threads of the target, stopped. Resumed when dropped.
pub struct PausedProcess {
    threads: Vec<HeldThread>,
}

impl PausedProcess {
    /// Stops every thread, including ones created while we were stopping the others.
    /// Must be dropped on the thread that created it (ptrace ties tracees to the tracing thread).
    pub fn pause(process: &LinuxProcess) -> Result<PausedProcess> {
        settle_lingering(Duration::ZERO);
        quiet_stop_signals();
        let mut paused = PausedProcess { threads: Vec::new() };
        let mut seen = HashSet::new();
        // A thread can spawn another between our listing and our stop; list again until nothing is new.
        for _round in 0..16 {
            let tids = process.tids()?;
            let new: Vec<u32> = tids.into_iter().filter(|t| !seen.contains(t)).collect();
            if new.is_empty() {
                return Ok(paused);
            }
            for tid in new {
                seen.insert(tid);
                // Any thread, sleeping ones included, some perhaps in uninterruptible sleep:
                // poll, with a deadline.
                paused.hold(process, tid, StopWait::Poll)?;
            }
        }
        Ok(paused)
    }

    /// Stops just these threads. A record that leaves idle threads out pauses only the running
    /// ones: stopping a sleeping thread interrupts its system call, and the thread then wakes up
    /// to restart it, runnable (and so counted as busy) for as long as it waits for a core.
    ///
    /// These threads were running a moment ago, so each stops as soon as it gets a core: after
    /// a short spin (`STOP_SPIN`), wait for that in the kernel rather than by polling, which on a
    /// busy machine takes the very core the thread needs (unless our waits could lose the stop
    /// to Node, see `parent_is_us`).
    pub fn pause_threads(process: &LinuxProcess, tids: &[u32]) -> Result<PausedProcess> {
        settle_lingering(Duration::ZERO);
        quiet_stop_signals();
        let mut paused = PausedProcess { threads: Vec::with_capacity(tids.len()) };
        let wait = if process.parent_is_us { StopWait::Poll } else { StopWait::Block };
        for &tid in tids {
            paused.hold(process, tid, wait)?;
        }
        Ok(paused)
    }

    fn hold(&mut self, process: &LinuxProcess, tid: u32, wait: StopWait) -> Result<()> {
        match seize_and_stop(process.pid, tid, wait) {
            Ok(Some(held)) => self.threads.push(held),
            Ok(None) => {} // exited before we got it
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => return Err(permission_denied(process.pid)),
            Err(e) => return Err(Error::read_failed(format!("could not pause thread {tid} of process {}: {e}", process.pid))),
        }
        Ok(())
    }

    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }
}

impl Drop for PausedProcess {
    fn drop(&mut self) {
        for t in &self.threads {
            release(t.tid, t.pending_signal);
        }
        settle_lingering(LINGER_SETTLE_TIME);
    }
}

/// Every ptrace stop of a tracee sends its tracer's process a SIGCHLD, unless the handler it has
/// for SIGCHLD was set with SA_NOCLDSTOP. Node's libuv installs a handler without that flag once
/// the process has spawned a child (as `record -- python ...` does), and then each pause costs
/// a signal delivered to one of our threads, three system calls in its handler, and a wake-up of
/// Node's loop to look for exited children: up to 100 µs a tick. libuv only looks for exits, and
/// exits still send SIGCHLD with the flag, so it is added; waits are woken either way.
///
/// Looked at every `SIGCHLD_RECHECK` only: the handler comes with a spawn, which a record does
/// before it samples, and the look was one system call a pause.
fn quiet_stop_signals() {
    static CHECKED_AT: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    let Ok(mut checked_at) = CHECKED_AT.lock() else { return };
    let now = Instant::now();
    if checked_at.is_some_and(|at| now.saturating_duration_since(at) < SIGCHLD_RECHECK) {
        return;
    }
    *checked_at = Some(now);
    // SAFETY: sigaction reads the current disposition into a zeroed struct we own, and sets the
    // same one back with one more flag; nothing else of it changes.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGCHLD, std::ptr::null(), &mut current) != 0 {
            return;
        }
        let handled = current.sa_sigaction != libc::SIG_DFL && current.sa_sigaction != libc::SIG_IGN;
        if handled && current.sa_flags & libc::SA_NOCLDSTOP == 0 {
            current.sa_flags |= libc::SA_NOCLDSTOP;
            libc::sigaction(libc::SIGCHLD, &current, std::ptr::null_mut());
        }
    }
}

const SIGCHLD_RECHECK: Duration = Duration::from_millis(250);

/// PTRACE_DETACH; false when the thread was not in a stop we could release (it is exiting, or
/// our interrupt has not landed yet).
fn detach(tid: u32, signal: i32) -> bool {
    // SAFETY: plain ptrace call with integer arguments.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, tid as libc::pid_t, 0usize, signal as usize) == 0 }
}

/// How long a drop waits for threads it could not release before leaving them to the next pause.
const LINGER_SETTLE_TIME: Duration = Duration::from_millis(50);

thread_local! {
    /// Threads this (tracing) thread seized but could not detach. Each is either about to stop
    /// (our interrupt is pending) and would then stay stopped, or a zombie that only its tracer
    /// can release: until then its parent cannot reap it, and a parent waiting for it (a
    /// multiprocessing pool joining a worker, a shell waiting for python) waits forever.
    static LINGERING: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Detaches `tid`, or keeps it for `settle_lingering` when it is not in a stop we can release yet.
fn release(tid: u32, signal: i32) {
    if !detach(tid, signal) {
        LINGERING.with(|l| l.borrow_mut().push(tid));
    }
}

/// Releases lingering threads: detaches the ones that have stopped, reaps the ones that exited.
/// Tries for up to `patience`; what is left is tried again by the next pause.
pub fn settle_lingering(patience: Duration) {
    let deadline = Instant::now() + patience;
    loop {
        let left = LINGERING.with(|l| {
            let mut l = l.borrow_mut();
            l.retain(|&tid| !settle(tid));
            l.len()
        });
        if left == 0 || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// True once `tid` is no longer held by us.
fn settle(tid: u32) -> bool {
    // Reaping our own child would steal its exit status from whoever spawned it (Node);
    // such a zombie is released when our tracing thread ends instead.
    let exited_flag = if is_child_of_this_process(tid) { 0 } else { libc::WEXITED };
    // SAFETY: waitid fills a zeroed siginfo_t we own.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::waitid(libc::P_PID, tid as libc::id_t, &mut info, libc::WSTOPPED | exited_flag | libc::WNOHANG | libc::__WALL)
    };
    if r < 0 {
        // ECHILD: not our tracee any more.
        return io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
    }
    let (pid, code) = unsafe { (info.si_pid(), info.si_code) };
    if pid == 0 {
        // Nothing to report: maybe in a stop whose notification someone else took.
        return detach(tid, 0);
    }
    match code {
        libc::CLD_EXITED | libc::CLD_KILLED | libc::CLD_DUMPED => true,
        _ => detach(tid, signal_to_redeliver(unsafe { info.si_status() })),
    }
}

fn is_child_of_this_process(tid: u32) -> bool {
    parent_pid(tid) == Some(std::process::id())
}

/// The signal a thread must still receive after a stop with this wait status, 0 for none:
/// PTRACE_EVENT_STOP is our interrupt (or a group-stop), anything else a signal on its way in.
fn signal_to_redeliver(status: i32) -> i32 {
    let (event, signal) = ((status >> 8) & 0xff, status & 0x7f);
    if event == libc::PTRACE_EVENT_STOP || signal == libc::SIGTRAP {
        0
    } else {
        signal
    }
}

/// Blocks until the seized, interrupted thread stops (held) or exits (reaped: it is not our
/// child, so its exit status is ours to collect as its tracer, and its parent is told next).
fn wait_for_stop(mut held: HeldThread) -> io::Result<Option<HeldThread>> {
    let spin_until = Instant::now() + STOP_SPIN;
    loop {
        // SAFETY: waitid fills a zeroed siginfo_t we own.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let spinning = Instant::now() < spin_until;
        let flags = libc::WSTOPPED | libc::WEXITED | libc::__WALL | if spinning { libc::WNOHANG } else { 0 };
        let r = unsafe { libc::waitid(libc::P_PID, held.tid as libc::id_t, &mut info, flags) };
        if r == 0 && spinning && unsafe { info.si_pid() } == 0 {
            std::hint::spin_loop();
            continue;
        }
        if r < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ECHILD) => return Ok(None),
                _ => {
                    release(held.tid, 0);
                    return Err(e);
                }
            }
        }
        return match info.si_code {
            libc::CLD_EXITED | libc::CLD_KILLED | libc::CLD_DUMPED => Ok(None),
            _ => {
                held.pending_signal = signal_to_redeliver(unsafe { info.si_status() });
                Ok(Some(held))
            }
        };
    }
}

/// Ok(None) when the thread disappeared (it exited): not an error for a sample.
fn thread_exists(tid: u32) -> bool {
    // SAFETY: signal 0 only checks that the thread exists.
    unsafe { libc::syscall(libc::SYS_tkill, tid as i32, 0) == 0 || *libc::__errno_location() != libc::ESRCH }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StopWait {
    /// Poll for `STOP_SPIN`, then sleep in waitid until the thread stops or exits.
    Block,
    /// Poll, give up after STOP_TIMEOUT, and look in /proc for a stop someone else was told of.
    Poll,
}

/// Takes `tid` off the lingering list; true when it was there: seized and interrupted by an
/// earlier pause, and still on its way to that stop.
fn take_lingering(tid: u32) -> bool {
    LINGERING.with(|l| {
        let mut l = l.borrow_mut();
        let before = l.len();
        l.retain(|&t| t != tid);
        l.len() != before
    })
}

fn seize_and_stop(process_pid: u32, tid: u32, wait: StopWait) -> io::Result<Option<HeldThread>> {
    let pid = tid as libc::pid_t;
    let mut held = HeldThread { tid, pending_signal: 0 };
    let tid = tid as libc::id_t;
    // A thread an earlier pause gave up on (it did not stop in time) is ours already, its
    // interrupt pending: seizing it again would fail with EPERM, which is no permission problem.
    // Wait for that stop instead.
    let adopted = take_lingering(held.tid);
    // SAFETY: ptrace with integer arguments only.
    if !adopted && unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0usize, 0usize) } != 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ESRCH) { Ok(None) } else { Err(e) };
    }
    // SAFETY: as above.
    if !adopted && unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0usize, 0usize) } != 0 {
        let e = io::Error::last_os_error();
        release(held.tid, 0);
        return if e.raw_os_error() == Some(libc::ESRCH) { Ok(None) } else { Err(e) };
    }
    let wait = if adopted { StopWait::Poll } else { wait };
    if wait == StopWait::Block {
        return wait_for_stop(held);
    }
    let started = Instant::now();
    let (spin_until, deadline) = (started + STOP_SPIN, started + STOP_TIMEOUT);
    let mut sleeps = 0u32;
    loop {
        // waitid with WSTOPPED but not WEXITED: if the thread exits meanwhile we must not reap it.
        // When we launched the target it is our child, and its exit status belongs to whoever spawned it.
        // SAFETY: waitid fills a zeroed siginfo_t we own.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::waitid(libc::P_PID, tid, &mut info, libc::WSTOPPED | libc::WNOHANG | libc::__WALL) };
        if r == 0 && unsafe { info.si_pid() } == pid {
            held.pending_signal = signal_to_redeliver(unsafe { info.si_status() });
            return Ok(Some(held));
        } else if r == 0 && sleeps > 0 && in_tracing_stop(process_pid, tid) {
            // The stop happened but its notification went to someone else: when the target is our
            // child, Node's libuv reaps children with waitpid(pid), which also reports the ptrace
            // stops of the main thread. The thread is held all the same.
            return Ok(Some(held));
        } else if r < 0 {
            let e = io::Error::last_os_error();
            release(held.tid, 0);
            return if e.raw_os_error() == Some(libc::ECHILD) { Ok(None) } else { Err(e) };
        }
        if Instant::now() > deadline {
            // Not stopped yet, so it cannot be detached yet either: our interrupt is still pending.
            release(held.tid, 0);
            if !thread_exists(tid) {
                return Ok(None);
            }
            return Err(io::Error::new(io::ErrorKind::TimedOut, "thread did not stop in time"));
        }
        // A running thread stops within microseconds of the interrupt. Poll at once for a while,
        // then in short sleeps: yielding instead hands the core to whatever else is runnable for
        // a whole time slice on a busy machine, which cost up to a millisecond a stop.
        if Instant::now() >= spin_until {
            sleeps += 1;
            std::thread::sleep(Duration::from_micros(if sleeps < 100 { 5 } else { 50 }));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// `t` in /proc: the thread sits in a ptrace stop (ours, since it is seized by us).
fn in_tracing_stop(pid: u32, tid: libc::id_t) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).is_ok_and(|stat| stat_state_char(&stat) == Some('t'))
}

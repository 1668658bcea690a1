//! The sampling thread asks the scheduler for a short time slice.
//!
//! Why: the sampler sleeps, wakes for tens of microseconds, and sleeps again. On a machine whose
//! cores are all busy (often the target's own threads), EEVDF (Linux 6.6+) lets a waking thread
//! run only when its virtual deadline comes first; with the default slice (3 ms) that is often
//! after the running thread's slice ends, so a 1 kHz tick waits one to three milliseconds for a
//! core and most ticks are missed. A thread that declares a short slice gets an earlier deadline
//! and preempts on waking (Linux 6.12+, "sched/eevdf: Allow shorter slices to wakeup-preempt").
//! Any thread may ask this for itself, without privileges; it does not raise its share of the CPU.
//! Older kernels ignore the value for normal threads.

/// `struct sched_attr` of sched_setattr(2), first version (48 bytes) plus the utilization clamps.
#[repr(C)]
struct SchedAttr {
    size: u32,
    policy: u32,
    flags: u64,
    nice: i32,
    priority: u32,
    runtime: u64,
    deadline: u64,
    period: u64,
    util_min: u32,
    util_max: u32,
}

/// The slice asked for, in nanoseconds: the kernel's minimum (0.1 ms); one tick's work fits in it.
const SLICE_NS: u64 = 100_000;

/// Asks for a short slice for the calling thread, keeping its policy (SCHED_OTHER) and nice value.
/// Returns whether the kernel took it; a refusal changes nothing and is not an error.
pub fn ask_for_short_slice() -> bool {
    // SAFETY: getpriority reads the calling thread's nice value (who = 0); it cannot fail for
    // the calling thread, so -1 is a nice value here, not an error.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    let attr = SchedAttr {
        size: std::mem::size_of::<SchedAttr>() as u32,
        policy: libc::SCHED_OTHER as u32,
        flags: 0,
        nice,
        priority: 0,
        runtime: SLICE_NS,
        deadline: 0,
        period: 0,
        util_min: 0,
        util_max: 0,
    };
    // SAFETY: sched_setattr reads `attr`, which outlives the call; pid 0 is the calling thread.
    unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0u32) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_slice_keeps_the_threads_policy_and_nice_value() {
        std::thread::spawn(|| {
            // SAFETY: setpriority/getpriority/sched_getscheduler on the calling thread (0).
            unsafe {
                assert_eq!(libc::setpriority(libc::PRIO_PROCESS, 0, 5), 0);
                assert!(ask_for_short_slice(), "sched_setattr refused: {}", std::io::Error::last_os_error());
                assert_eq!(libc::getpriority(libc::PRIO_PROCESS, 0), 5);
                assert_eq!(libc::sched_getscheduler(0), libc::SCHED_OTHER);
            }
        })
        .join()
        .unwrap();
    }
}

//! A target that execs: its program image is replaced (a new `/proc/PID/exe`, its runtime gone).
//! If the new image is Python, its runtime is found again and sampling goes on; if not, the
//! process is not sampled any more, and the record says so in one line. Reads that failed because
//! the image went away are not read errors.

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use pyspy_core::{Error, ErrorKind, Result};

use super::targets::Target;
use crate::python::PythonProcess;

/// What identifies the image a process runs. The executable alone does not (python can exec
/// python); the address of the random bytes the kernel puts on a new stack at each exec does, as
/// long as addresses are randomized (without that, a python that execs the same python reads on
/// at the same addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Image {
    exe_device: u64,
    exe_inode: u64,
    at_random: u64,
}

/// auxv's AT_RANDOM: the address of 16 random bytes on the initial stack.
const AT_RANDOM: u64 = 25;

pub(crate) fn image_of(pid: u32) -> Option<Image> {
    let exe = std::fs::metadata(format!("/proc/{pid}/exe")).ok()?;
    let auxv = std::fs::read(format!("/proc/{pid}/auxv")).ok()?;
    let at_random = auxv
        .chunks_exact(16)
        .map(|pair| (u64::from_ne_bytes(pair[..8].try_into().unwrap()), u64::from_ne_bytes(pair[8..].try_into().unwrap())))
        .find(|&(key, _)| key == AT_RANDOM)
        .map_or(0, |(_, value)| value);
    Some(Image { exe_device: exe.dev(), exe_inode: exe.ino(), at_random })
}

/// `PythonProcess::open`, where a failure caused by the process exec'ing during the attempt
/// (its maps listed from one image, its memory read from the next) is `NotPython`: not yet. A
/// launched command often execs more than once before it is Python (pyenv's shims exec bash,
/// then pyenv, then the interpreter).
pub(crate) fn open_unless_exec(pid: u32) -> Result<PythonProcess> {
    let before = image_of(pid);
    match PythonProcess::open(pid) {
        Err(e) if e.kind != ErrorKind::NotPython && before.is_some() && image_of(pid) != before => {
            Err(Error::new(ErrorKind::NotPython, format!("process {pid} exec'd while it was read: {}", e.message)))
        }
        opened => opened,
    }
}

/// Where a target is with respect to exec.
#[derive(Debug)]
pub(crate) enum Phase {
    Sampling,
    /// It exec'd: waiting for the new image to be a Python we can read (a new interpreter
    /// takes a moment to map libpython and start its runtime).
    Reopening {
        since: Instant,
        exe: String,
        patience: Duration,
        next_try: Instant,
    },
    /// It exec'd something we cannot read; only its exit is watched (a root's ends the record).
    Stopped,
}

/// How often a target's image is checked while its reads go well (a failed read checks at once).
pub(crate) const IMAGE_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long an image that looks like Python may take to become readable; anything else gets
/// `NOT_PYTHON_PATIENCE` (a program that embeds Python maps libpython before its main runs).
const PYTHON_PATIENCE: Duration = Duration::from_secs(10);
const NOT_PYTHON_PATIENCE: Duration = Duration::from_secs(1);
const RETRY_INTERVAL: Duration = Duration::from_millis(20);

impl Target {
    /// Whether the process runs another image than the one we opened.
    pub(super) fn exec_happened(&mut self) -> bool {
        self.image_checked_at = Instant::now();
        match image_of(self.python.pid()) {
            Some(now) => self.image.is_some_and(|then| then != now),
            None => false,
        }
    }

    /// Every `IMAGE_CHECK_INTERVAL`: `exec_happened`.
    pub(super) fn exec_happened_lately(&mut self) -> bool {
        self.image_checked_at.elapsed() >= IMAGE_CHECK_INTERVAL && self.exec_happened()
    }

    pub(super) fn begin_reopen(&mut self) {
        let process = &self.python.process;
        let exe = process.exe().unwrap_or_else(|_| "?".into());
        let libpython = process.maps().is_ok_and(|maps| {
            maps.iter()
                .filter_map(|m| m.path.as_deref())
                .any(|p| p.rsplit('/').next().is_some_and(|n| n.starts_with("libpython")))
        });
        let looks_like_python = libpython || exe.rsplit('/').next().is_some_and(|name| name.starts_with("python"));
        let patience = if looks_like_python { PYTHON_PATIENCE } else { NOT_PYTHON_PATIENCE };
        let now = Instant::now();
        self.phase = Phase::Reopening { since: now, exe, patience, next_try: now };
    }

    /// While reopening: tries the new image. Some(note) when it is given up on.
    pub(super) fn try_reopen(&mut self) -> Option<String> {
        let Phase::Reopening { since, exe, patience, next_try } = &mut self.phase else { return None };
        let now = Instant::now();
        if now < *next_try {
            return None;
        }
        *next_try = now + RETRY_INTERVAL;
        let pid = self.python.pid();
        match open_unless_exec(pid) {
            Ok(python) => {
                self.reopened(python);
                None
            }
            Err(e) if e.kind == ErrorKind::NotPython && now.duration_since(*since) < *patience => None,
            Err(e) => {
                let exe = std::mem::take(exe);
                self.phase = Phase::Stopped;
                Some(match e.kind {
                    ErrorKind::NotPython => format!("process {pid} exec'd {exe}; stopped sampling it"),
                    _ => format!("process {pid} exec'd {exe}; stopped sampling it: {}", e.message),
                })
            }
        }
    }
}

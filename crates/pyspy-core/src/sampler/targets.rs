//! The processes a record samples: the root and, with `--subprocesses`, its Python descendants.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::os::unix::fs::FileExt;

use crate::process::linux::parse_stat_state;
use crate::process::ThreadState;

use crate::python::PythonProcess;

pub(crate) struct Target {
    pub python: PythonProcess,
    pub exited: bool,
    /// The target's working directory, for showing paths relative to it.
    pub cwd: String,
    names: HashMap<u32, String>,
    /// /proc/PID/task/TID/stat of each thread, kept open: a pread at offset 0 regenerates it,
    /// one system call a thread a tick instead of five (open, stat, two reads, close).
    stat_files: HashMap<u32, File>,
    stat_buf: Vec<u8>,
}

impl Target {
    pub fn new(python: PythonProcess) -> Target {
        let cwd = fs::read_link(python.process.proc_path("cwd")).map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
        Target { python, exited: false, cwd, names: HashMap::new(), stat_files: HashMap::new(), stat_buf: vec![0; 1024] }
    }

    /// The scheduler state of each of `tids`, in order.
    pub fn thread_states(&mut self, tids: &[u32]) -> Vec<ThreadState> {
        self.stat_files.retain(|tid, _| tids.contains(tid));
        let pid = self.python.pid();
        tids.iter()
            .map(|&tid| {
                let file = match self.stat_files.entry(tid) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => match File::open(format!("/proc/{pid}/task/{tid}/stat")) {
                        Ok(f) => e.insert(f),
                        Err(_) => return ThreadState::Other,
                    },
                };
                match file.read_at(&mut self.stat_buf, 0) {
                    Ok(n) => parse_stat_state(&String::from_utf8_lossy(&self.stat_buf[..n])),
                    Err(_) => ThreadState::Other,
                }
            })
            .collect()
    }

    pub fn thread_name(&mut self, tid: u32) -> String {
        if let Some(name) = self.names.get(&tid) {
            return name.clone();
        }
        let name = self.python.process.thread_name(tid).unwrap_or_else(|| format!("thread {tid}"));
        self.names.insert(tid, name.clone());
        name
    }
}

/// Adds Python processes descended from the root that we are not sampling yet.
/// Non-Python descendants are tried again on the next scan: a child may exec python later.
pub(crate) fn add_new_children(targets: &mut Vec<Target>) {
    let root = targets[0].python.pid();
    let known: HashSet<u32> = targets.iter().map(|t| t.python.pid()).collect();
    for pid in descendants(root) {
        if known.contains(&pid) {
            continue;
        }
        if let Ok(python) = PythonProcess::open(pid) {
            targets.push(Target::new(python));
        }
    }
}

fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = HashMap::new();
    if let Ok(dir) = fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Fields after the parenthesised command name: state, ppid, ...
            let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.insert(pid, ppid);
            }
        }
    }
    let mut result = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (&pid, &ppid) in &parent_of {
            if ppid == parent && pid != root && !result.contains(&pid) {
                result.push(pid);
                frontier.push(pid);
            }
        }
    }
    result.sort_unstable();
    result
}

/// py-spy-style short paths: the part after site-packages or the stdlib directory, else relative
/// to the target's working directory, else the path as it is.
pub fn short_filename(path: &str, cwd: &str) -> String {
    for marker in ["/site-packages/", "/dist-packages/"] {
        if let Some((_, rest)) = path.rsplit_once(marker) {
            return rest.to_string();
        }
    }
    if let Some(index) = path.find("/lib/python3.") {
        let after = &path[index + "/lib/python3.".len()..];
        if let Some((_, rest)) = after.split_once('/') {
            return rest.to_string();
        }
    }
    if !cwd.is_empty() && cwd != "/" {
        if let Some(rest) = path.strip_prefix(cwd).and_then(|r| r.strip_prefix('/')) {
            return rest.to_string();
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::short_filename;

    #[test]
    fn short_filenames_drop_the_install_prefix() {
        assert_eq!(short_filename("/usr/lib/python3.11/threading.py", "/home/u"), "threading.py");
        assert_eq!(short_filename("/venv/lib/python3.12/site-packages/requests/api.py", "/"), "requests/api.py");
        assert_eq!(short_filename("/home/u/proj/app.py", "/home/u/proj"), "app.py");
        assert_eq!(short_filename("/srv/app.py", "/home/u"), "/srv/app.py");
        assert_eq!(short_filename("<frozen importlib._bootstrap>", "/"), "<frozen importlib._bootstrap>");
    }
}

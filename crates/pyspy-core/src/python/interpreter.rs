//! Opening a target as a Python process: which binary holds the runtime, which version, which layout.

use crate::binary::{self, LoadedBinary};
use crate::process::{LinuxProcess, MapEntry};
use crate::python::layout::Layout;
use crate::python::version::{self, Version};
use crate::python::{debug_offsets, layouts};
use crate::{Error, ErrorKind, Result};

pub const OLDEST_MINOR: u8 = 8;
pub const NEWEST_MINOR: u8 = 15;

pub struct PythonProcess {
    pub process: LinuxProcess,
    pub version: Version,
    pub layout: Layout,
    /// Address of `_PyRuntime` in the target.
    pub runtime_addr: u64,
    /// The target's executable, as it sees it.
    pub exe: String,
    /// The binary that holds the runtime (the executable or libpython).
    pub binary: LoadedBinary,
    /// In a container: thread ids in the target's memory are its namespace's.
    pub other_pid_namespace: bool,
}

impl PythonProcess {
    pub fn open(pid: u32) -> Result<PythonProcess> {
        let process = LinuxProcess::open(pid)?;
        let exe = process.exe()?;
        let maps = process.maps()?;
        let binary = find_runtime_binary(&process, &exe, &maps)?;
        let (runtime_addr, _) = binary.py_runtime.expect("find_runtime_binary returns binaries with a runtime");
        let version = version::detect(&binary, &process).ok_or_else(|| {
            Error::new(ErrorKind::UnsupportedVersion, format!("could not tell which Python version {} is", binary.path))
        })?;
        check_supported(version.minor, &version.to_string())?;
        let static_layout = layouts::static_layout(version.minor).ok_or_else(|| unsupported(&version.to_string()))?;
        let layout = if layouts::debug_offsets_positions(version.minor).is_some() {
            debug_offsets::read_layout(&process, runtime_addr, &version, static_layout)?
        } else {
            *static_layout
        };
        let other_pid_namespace = process.in_other_pid_namespace();
        Ok(PythonProcess { process, version, layout, runtime_addr, exe, binary, other_pid_namespace })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid
    }
}

fn unsupported(version: &str) -> Error {
    Error::new(
        ErrorKind::UnsupportedVersion,
        format!("Python {version} is not supported: pyspy-ts reads CPython 3.{OLDEST_MINOR} to 3.{NEWEST_MINOR}"),
    )
}

fn check_supported(minor: u8, shown: &str) -> Result<()> {
    if (OLDEST_MINOR..=NEWEST_MINOR).contains(&minor) {
        Ok(())
    } else {
        Err(unsupported(shown))
    }
}

/// libpython first (a shared build keeps the runtime there, and the executable may be any embedder),
/// then the executable itself (static builds, like Debian's).
fn find_runtime_binary(process: &LinuxProcess, exe: &str, maps: &[MapEntry]) -> Result<LoadedBinary> {
    let mut candidates: Vec<&str> = Vec::new();
    for path in maps.iter().filter_map(|m| m.path.as_deref()) {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.starts_with("libpython") && name.contains(".so") && !candidates.contains(&path) {
            candidates.push(path);
        }
    }
    candidates.push(exe);

    for path in &candidates {
        let name = path.rsplit('/').next().unwrap_or(path);
        // Python 2 and pre-3.7 builds have no _PyRuntime; name them rather than say "not Python".
        if let Some(version) = old_python_from_name(name) {
            return Err(unsupported(&version));
        }
        let loaded = match binary::load(&process.root_path(path), path, maps) {
            Ok(b) => b,
            Err(e) if path == &exe && candidates.len() == 1 => {
                return Err(Error::new(ErrorKind::NotPython, format!("process {} ({exe}) is not a Python process: {e}", process.pid)))
            }
            Err(_) => continue,
        };
        if loaded.py_runtime.is_some() {
            return Ok(loaded);
        }
        if let Some(minor) = version::minor_from_filename(path) {
            check_supported(minor, &format!("3.{minor}"))?;
        }
    }
    Err(Error::new(ErrorKind::NotPython, format!("process {} ({exe}) is not a Python process", process.pid)))
}

fn old_python_from_name(name: &str) -> Option<String> {
    let rest = name.strip_prefix("libpython").or_else(|| name.strip_prefix("python"))?;
    let version: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    let mut parts = version.split('.');
    let major: u8 = parts.next()?.parse().ok()?;
    let minor: u8 = parts.next()?.parse().ok()?;
    (major == 2 || (major == 3 && minor < 7)).then(|| version.trim_end_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_pythons_are_named_from_their_binary() {
        assert_eq!(old_python_from_name("python2.7"), Some("2.7".into()));
        assert_eq!(old_python_from_name("libpython3.6m.so.1.0"), Some("3.6".into()));
        assert_eq!(old_python_from_name("python3.11"), None);
        assert_eq!(old_python_from_name("python3"), None);
        assert_eq!(old_python_from_name("python2"), None);
    }
}

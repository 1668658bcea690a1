//! Finding CPython in a process: which binary holds the runtime, which version, which layout.
//! From memory and the mapped files only, so it serves live processes and core files alike.

use crate::binary::{self, LoadedBinary};
use crate::maps::MapEntry;
use crate::memory::Memory;
use crate::process::ProcessSource;
use crate::python::layout::Layout;
use crate::python::version::{self, Version};
use crate::python::{debug_offsets, layouts, runtime_scan};
use crate::{Error, ErrorKind, Result};

/// What the walkers need to read one CPython: where its runtime is and how its structs are laid out.
#[derive(Debug, Clone)]
pub struct Python {
    pub version: Version,
    pub layout: Layout,
    /// Address of `_PyRuntime` in the target.
    pub runtime_addr: u64,
    /// The file that holds the runtime (the executable or libpython), as the target names it.
    pub runtime_binary: String,
}

/// Finds the CPython runtime in `source`. `NotPython` also describes a launched program whose
/// interpreter has not started yet: callers that just launched it retry on that kind.
pub fn locate(source: &dyn ProcessSource) -> Result<Python> {
    let exe = source.executable()?;
    let maps = source.maps()?;
    let binary = find_runtime_binary(source, &exe, &maps)?;
    let memory = source.memory();
    let detected = version::detect(&binary, memory);
    let (runtime_addr, version) = match binary.py_runtime {
        Some((addr, _)) => (addr, detected.ok_or_else(|| unknown_version(&binary.path))?),
        None => scan_for_runtime(source, &exe, &maps, &binary, detected)?,
    };
    python_at(memory, runtime_addr, version, binary.path)
}

/// The CPython whose `_PyRuntime` is at `runtime_addr`, once its version is known: its layout
/// (3.13+: the target's own `_Py_DebugOffsets`, checked against ours).
pub fn python_at(memory: &dyn Memory, runtime_addr: u64, version: Version, runtime_binary: String) -> Result<Python> {
    check_supported(version.minor, &version.to_string())?;
    let static_layout = layouts::static_layout(version.minor).ok_or_else(|| unsupported(&version.to_string()))?;
    let layout = if layouts::debug_offsets_positions(version.minor).is_some() {
        debug_offsets::read_layout(memory, runtime_addr, &version, static_layout)?
    } else {
        *static_layout
    };
    Ok(Python { version, layout, runtime_addr, runtime_binary })
}

fn unsupported(version: &str) -> Error {
    let (oldest, newest) = (layouts::MINORS[0], layouts::MINORS[layouts::MINORS.len() - 1]);
    Error::new(
        ErrorKind::UnsupportedVersion,
        format!("Python {version} is not supported: pyspy-ts reads CPython 3.{oldest} to 3.{newest}"),
    )
}

fn unknown_version(path: &str) -> Error {
    Error::new(ErrorKind::UnsupportedVersion, format!("could not tell which Python version {path} is"))
}

fn check_supported(minor: u8, shown: &str) -> Result<()> {
    if layouts::MINORS.contains(&minor) {
        Ok(())
    } else {
        Err(unsupported(shown))
    }
}

/// The binary names `_PyRuntime` nowhere (stripped, CPython linked in statically): search its data.
fn scan_for_runtime(
    source: &dyn ProcessSource,
    exe: &str,
    maps: &[MapEntry],
    binary: &LoadedBinary,
    detected: Option<Version>,
) -> Result<(u64, Version)> {
    if let Some(v) = detected {
        check_supported(v.minor, &v.to_string())?;
    }
    let tids = source.namespace_tids()?;
    match runtime_scan::find_runtime(source.memory(), maps, &binary.path, detected, &tids) {
        Some(found) => Ok(found),
        None if detected.is_none() => Err(unknown_version(&binary.path)),
        None => Err(Error::new(
            ErrorKind::NotPython,
            format!(
                "process {} ({exe}) is not a Python process we can read: {} has no _PyRuntime symbol and no interpreter state was found in its data",
                source.pid(),
                binary.path
            ),
        )),
    }
}

/// libpython first (a shared build keeps the runtime there, and the executable may be any embedder),
/// then the executable itself (static builds, like Debian's). When none names `_PyRuntime`, the
/// first that still looks like CPython is returned without it, for `scan_for_runtime`.
fn find_runtime_binary(source: &dyn ProcessSource, exe: &str, maps: &[MapEntry]) -> Result<LoadedBinary> {
    let candidates = runtime_candidates(exe, maps);
    let mut to_scan = None;
    for path in &candidates {
        let name = path.rsplit('/').next().unwrap_or(path);
        // Python 2 and pre-3.7 builds have no _PyRuntime; name them rather than say "not Python".
        if let Some(version) = old_python_from_name(name) {
            return Err(unsupported(&version));
        }
        let loaded = source.read_mapped_file(path).and_then(|data| binary::load(&data, path, maps));
        let loaded = match loaded {
            Ok(b) => b,
            Err(e) if path == &exe && candidates.len() == 1 => {
                return Err(Error::new(
                    ErrorKind::NotPython,
                    format!("process {} ({exe}) is not a Python process: {e}", source.pid()),
                ))
            }
            Err(_) => continue,
        };
        if loaded.py_runtime.is_some() {
            return Ok(loaded);
        }
        if let Some(minor) = version::minor_from_filename(path) {
            check_supported(minor, &format!("3.{minor}"))?;
        }
        if to_scan.is_none() && looks_like_cpython(&loaded) {
            to_scan = Some(loaded);
        }
    }
    if let Some(binary) = to_scan {
        return Ok(binary);
    }
    Err(Error::new(ErrorKind::NotPython, format!("process {} ({exe}) is not a Python process", source.pid())))
}

/// The files that may hold the runtime, in the order they are tried: every libpython mapped, then the executable.
pub fn runtime_candidates<'a>(exe: &'a str, maps: &'a [MapEntry]) -> Vec<&'a str> {
    let mut candidates: Vec<&str> = Vec::new();
    for path in maps.iter().filter_map(|m| m.path.as_deref()) {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.starts_with("libpython") && name.contains(".so") && !candidates.contains(&path) {
            candidates.push(path);
        }
    }
    candidates.push(exe);
    candidates
}

/// Cheap signs, from the file alone, that searching its memory for a runtime is worth it.
fn looks_like_cpython(binary: &LoadedBinary) -> bool {
    binary.py_version_symbol.is_some()
        || version::minor_from_filename(&binary.path).is_some()
        || binary
            .version_strings
            .iter()
            .filter_map(|s| Version::from_string(s))
            .any(|v| v.minor >= version::FIRST_MINOR_WITH_RUNTIME)
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

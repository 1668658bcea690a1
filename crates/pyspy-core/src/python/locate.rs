//! Finding CPython in a process: which binary holds the runtime, which version, which layout.
//! From memory and the mapped files only, so it serves live processes and core files alike.

use crate::binary::{self, LoadedBinary};
use crate::maps::MapEntry;
use crate::memory::Memory;
use crate::process::{MappedFile, ProcessSource};
use crate::python::layout::{Build, Layout};
use crate::python::version::{self, Version};
use crate::python::{builds, debug_offsets, layouts, runtime_scan};
use crate::{Error, ErrorKind, Result};

/// What the walkers need to read one CPython: where its runtime is and how its structs are laid out.
#[derive(Debug, Clone)]
pub struct Python {
    pub version: Version,
    pub layout: Layout,
    /// Address of `_PyRuntime` in the target; for 2.7 and 3.6, which have none, the address of
    /// `interp_head` (their layouts read the first interpreter at offset 0 from it).
    pub runtime_addr: u64,
    /// The file that holds the runtime (the executable or libpython), as the target names it.
    pub runtime_binary: String,
    /// 2.7 and 3.6: the address of `_PyThreadState_Current`, the thread state holding the GIL
    /// (`Layout::tstate_current_symbol`); None where the runtime keeps it, or the symbol is missing.
    pub tstate_current_addr: Option<u64>,
}

impl Python {
    /// The build this is: a free-threaded table is the one with a GIL switch (`gil_enabled`).
    pub fn build(&self) -> Build {
        Build { major: self.layout.major, minor: self.layout.minor, free_threaded: self.layout.gil_enabled.is_some() }
    }
}

/// Finds the CPython runtime in `source`. `NotPython` also describes a launched program whose
/// interpreter has not started yet: callers that just launched it retry on that kind.
pub fn locate(source: &dyn ProcessSource) -> Result<Python> {
    let exe = source.executable()?;
    let maps = source.maps()?;
    let binary = find_runtime_binary(source, &exe, &maps)?;
    let memory = source.memory();
    let detected = version::detect(&binary, memory);
    let (runtime_addr, version) = match interpreters_root(&binary) {
        Some(addr) => (addr, detected.ok_or_else(|| unknown_version(&binary.path))?),
        None => scan_for_runtime(source, &exe, &maps, &binary, detected)?,
    };
    let mut python = python_at(memory, runtime_addr, version, binary.path.clone())?;
    python.tstate_current_addr = python.layout.tstate_current_symbol.and_then(|name| binary.symbol(name));
    Ok(python)
}

/// The CPython whose `_PyRuntime` (2.7, 3.6: `interp_head`) is at `runtime_addr`, once its
/// version is known: its layout (3.13+: the target's own `_Py_DebugOffsets`, which also say
/// whether it is free-threaded, over our table of that build). Without the GIL holder of 2.7 and
/// 3.6, whose global only a binary names (`locate` adds it).
pub fn python_at(memory: &dyn Memory, runtime_addr: u64, version: Version, runtime_binary: String) -> Result<Python> {
    check_supported(version.major, version.minor, &version.to_string())?;
    let layout = if builds::has_debug_offsets(version.major, version.minor) {
        debug_offsets::read_layout(memory, runtime_addr, &version)?
    } else {
        let build = Build { major: version.major, minor: version.minor, free_threaded: false };
        *build.layout().ok_or_else(|| unsupported(&version.to_string()))?
    };
    Ok(Python { version, layout, runtime_addr, runtime_binary, tstate_current_addr: None })
}

/// Where the interpreter list starts, by symbol: `_PyRuntime` (3.7+), or the `interp_head` static
/// of 2.7 and 3.6 (in `.symtab` only, so a stripped binary is searched instead).
fn interpreters_root(binary: &LoadedBinary) -> Option<u64> {
    binary.py_runtime.map(|(addr, _)| addr).or_else(|| builds::interp_head_symbols().find_map(|name| binary.symbol(name)))
}

pub(crate) fn unsupported(version: &str) -> Error {
    Error::new(
        ErrorKind::UnsupportedVersion,
        format!("Python {version} is not supported: pyspy-ts reads CPython {}", builds::supported_text()),
    )
}

fn unknown_version(path: &str) -> Error {
    Error::new(ErrorKind::UnsupportedVersion, format!("could not tell which Python version {path} is"))
}

/// Whether some build of `major.minor` is read (the free-threaded question waits for the target's
/// own `_Py_DebugOffsets`).
fn check_supported(major: u8, minor: u8, shown: &str) -> Result<()> {
    if layouts::BUILDS.iter().any(|b| (b.major, b.minor) == (major, minor)) {
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
        check_supported(v.major, v.minor, &v.to_string())?;
    }
    let tids = source.namespace_tids()?;
    match runtime_scan::find_runtime(source.memory(), maps, &binary.path, detected, &tids) {
        Some(found) => Ok(found),
        None if detected.is_none() => Err(unknown_version(&binary.path)),
        None => Err(Error::new(
            ErrorKind::NotPython,
            format!(
                "process {} ({exe}) is not a Python process we can read: {} has no _PyRuntime (or interp_head) symbol and no interpreter state was found in its data",
                source.pid(),
                binary.path
            ),
        )),
    }
}

/// libpython first (a shared build keeps the runtime there, and the executable may be any embedder),
/// then the executable itself (static builds, like Debian's). When none names `_PyRuntime` (or 2.7's
/// and 3.6's `interp_head`), the first that still looks like CPython is returned without it, for
/// `scan_for_runtime`.
fn find_runtime_binary(source: &dyn ProcessSource, exe: &str, maps: &[MapEntry]) -> Result<LoadedBinary> {
    let candidates = runtime_candidates(exe, maps);
    let mut to_scan = None;
    for path in &candidates {
        let loaded = source.read_mapped_file(path).and_then(|file| match file {
            MappedFile::Bytes(bytes) => binary::load(bytes.as_slice(), path, maps),
            MappedFile::File(file) => binary::load(&object::ReadCache::new(file), path, maps),
        });
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
        if interpreters_root(&loaded).is_some() {
            return Ok(loaded);
        }
        // A version we do not read (3.5, 2.6) is named rather than searched for.
        if let Some((major, minor)) = version::minor_from_filename(path) {
            check_supported(major, minor, &format!("{major}.{minor}"))?;
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
        || binary.version_strings.iter().filter_map(|s| Version::from_string(s)).any(|v| version::plausible(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_a_layout_names_is_looked_for() {
        for build in layouts::BUILDS {
            let layout = build.layout().unwrap();
            for name in [layout.interp_head_symbol, layout.tstate_current_symbol].into_iter().flatten() {
                assert!(binary::WANTED_SYMBOLS.contains(&name), "{build} names {name}");
            }
        }
    }

    #[test]
    fn the_supported_builds_are_said_in_one_line() {
        let message = unsupported("3.5.10").message;
        assert!(message.starts_with("Python 3.5.10 is not supported: pyspy-ts reads CPython 2.7, 3.6 to 3.15"), "{message}");
        assert!(message.contains("3.13t"), "{message}");
    }
}

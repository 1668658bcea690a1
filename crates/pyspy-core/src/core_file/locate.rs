//! Finding CPython in a core. With the interpreter's files at hand (at the paths the core names,
//! or supplied), exactly as for a live process. Without them, from memory alone: 3.13+ runtimes
//! start with the `_Py_DebugOffsets` cookie, which also gives the version; an older runtime is
//! only found through its binary's symbols, so its absence is an error that says which file to
//! supply.

use crate::process::ProcessSource;
use crate::python::locate::{python_at, runtime_candidates};
use crate::python::{self, builds, runtime_scan, version, Python};
use crate::{Error, ErrorKind, Result};

use super::CoreFile;

pub fn locate_python(core: &CoreFile) -> Result<Python> {
    let exe = core.executable()?;
    let maps = core.maps()?;
    let candidates = runtime_candidates(&exe, &maps);
    let missing: Vec<&str> = candidates.iter().copied().filter(|p| !core.has_file(p)).collect();
    if missing.is_empty() {
        return python::locate(core);
    }

    let named = candidates.iter().find_map(|p| version::minor_from_filename(p));
    let minor = named.map(|(major, minor)| format!("{major}.{minor}"));
    let supply_hint = |missing: &[&str]| {
        let names: Vec<&str> = missing.iter().map(|p| super::files::file_name(p)).collect();
        format!("pass {} with --binary PATH", names.join(" and "))
    };
    if let Some(minor) = named.filter(|&(major, minor)| !builds::has_debug_offsets(major, minor)).and(minor.as_ref()) {
        return Err(Error::new(
            ErrorKind::MissingBinary,
            format!(
                "{} is a core of Python {minor} ({exe}): before 3.13 the interpreter is found through its binary, and {} {} not here: {}",
                core.name,
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
                supply_hint(&missing),
            ),
        ));
    }

    let tids: Vec<u32> = core.core_threads().iter().map(|t| t.tid).collect();
    for path in &candidates {
        if let Some((runtime, version)) = runtime_scan::find_runtime(core.memory(), &maps, path, None, &tids) {
            return python_at(core.memory(), runtime, version, path.to_string());
        }
    }
    let message = match &minor {
        Some(minor) => format!(
            "{} is a core of Python {minor} ({exe}), but no runtime was found in its memory, and {} not here to find it by: {}",
            core.name,
            missing.join(", "),
            supply_hint(&missing)
        ),
        None => format!(
            "{} is a core of process {} ({exe}), which shows no Python 3.13+ runtime in its memory; if it embeds an older CPython, {}",
            core.name,
            core.pid(),
            supply_hint(&missing)
        ),
    };
    Err(Error::new(if minor.is_some() { ErrorKind::MissingBinary } else { ErrorKind::NotPython }, message))
}

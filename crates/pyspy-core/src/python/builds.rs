//! Questions about the list of builds pyspy-ts reads (`layouts::BUILDS`, generated): which have
//! `_Py_DebugOffsets`, which symbols start the interpreter list, and how to say the list in words.

use crate::python::layout::Build;
use crate::python::layouts::BUILDS;

/// Whether `major.minor` describes itself in `_Py_DebugOffsets` (3.13+), in either ABI.
pub fn has_debug_offsets(major: u8, minor: u8) -> bool {
    BUILDS.iter().any(|b| (b.major, b.minor) == (major, minor) && b.debug_offsets_positions().is_some())
}

/// The symbols that start the interpreter list in builds without `_PyRuntime` (2.7, 3.6: `interp_head`).
pub fn interp_head_symbols() -> impl Iterator<Item = &'static str> {
    let mut names: Vec<&'static str> = BUILDS.iter().filter_map(|b| b.layout()?.interp_head_symbol).collect();
    names.dedup();
    names.into_iter()
}

/// "2.7, 3.6 to 3.15 and free-threaded 3.13t": the default builds as runs of consecutive minors,
/// then the free-threaded ones.
pub fn supported_text() -> String {
    let mut runs: Vec<(Build, Build)> = Vec::new();
    for &b in BUILDS.iter().filter(|b| !b.free_threaded) {
        match runs.last_mut() {
            Some((_, last)) if last.major == b.major && last.minor + 1 == b.minor => *last = b,
            _ => runs.push((b, b)),
        }
    }
    let mut text = runs
        .iter()
        .map(|(first, last)| if first == last { first.to_string() } else { format!("{first} to {last}") })
        .collect::<Vec<_>>()
        .join(", ");
    let free_threaded: Vec<String> = BUILDS.iter().filter(|b| b.free_threaded).map(Build::to_string).collect();
    if !free_threaded.is_empty() {
        text += &format!(" and free-threaded {}", free_threaded.join(", "));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_reads_as_runs_of_minors() {
        assert_eq!(supported_text(), "2.7, 3.6 to 3.15 and free-threaded 3.13t");
        assert_eq!(interp_head_symbols().collect::<Vec<_>>(), ["interp_head"]);
        assert!(has_debug_offsets(3, 13) && has_debug_offsets(3, 15) && !has_debug_offsets(3, 12) && !has_debug_offsets(2, 7));
    }
}

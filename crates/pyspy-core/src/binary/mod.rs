//! ELF: the symbols and sections we need from the python binary or libpython, and where the
//! target loaded them. The file's bytes come from the caller (a live target's files are read
//! through `/proc/PID/root`, so targets in containers work).

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};

use crate::maps::MapEntry;
use crate::{Error, Result};

/// The symbols pyspy looks for; everything else in the symbol tables is ignored. Besides
/// `_PyRuntime` and `Py_Version`, the globals that 2.7 and 3.6 have instead of `_PyRuntime`, as
/// their layouts name them (`interp_head_symbol`, `tstate_current_symbol`; a test checks that
/// every name a layout asks for is here).
pub const WANTED_SYMBOLS: &[&str] = &["_PyRuntime", "Py_Version", "interp_head", "_PyThreadState_Current"];

#[derive(Debug, Clone)]
pub struct LoadedBinary {
    /// Path as the target sees it.
    pub path: String,
    /// Added to an ELF virtual address to get the address in the target.
    pub load_bias: u64,
    /// Runtime address and size of `_PyRuntime`, from the symbol or the `.PyRuntime` section.
    /// None for a stripped program that embeds CPython: `python::runtime_scan` then searches its data.
    pub py_runtime: Option<(u64, u64)>,
    /// Runtime address of `Py_Version` (3.11+): the version as PY_VERSION_HEX.
    pub py_version_symbol: Option<u64>,
    /// Strings in read-only data that look like a CPython version ("3.9.2"), in file order.
    pub version_strings: Vec<String>,
    /// Runtime addresses of the other `WANTED_SYMBOLS` the file defines (from `.symtab`, which
    /// `strip` removes, or `.dynsym`).
    pub other_symbols: Vec<(&'static str, u64)>,
}

impl LoadedBinary {
    /// The runtime address of one of `WANTED_SYMBOLS`, if the file defines it.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.other_symbols.iter().find(|(n, _)| *n == name).map(|&(_, addr)| addr)
    }
}

/// Parses the ELF file `data` that the target maps as `target_path` and relates it to its mappings.
pub fn load<'data>(data: impl object::ReadRef<'data>, target_path: &str, maps: &[MapEntry]) -> Result<LoadedBinary> {
    let elf = object::File::parse(data)
        .map_err(|e| Error::read_failed(format!("{target_path} is not an ELF file we can read: {e}")))?;

    let load_bias = load_bias(&elf, target_path, maps)?;

    let mut found = Found::default();
    // .dynsym first: it is small, and it exports `_PyRuntime` wherever 3.7+ has the symbol. The
    // full .symtab (hundreds of KB in a libpython with symbols, read through the file) only
    // without it: 2.7's and 3.6's `interp_head` is static, and some binaries hide `_PyRuntime`.
    elf.dynamic_symbols().for_each(|symbol| found.take(&symbol, load_bias));
    if found.py_runtime.is_none() {
        elf.symbols().for_each(|symbol| found.take(&symbol, load_bias));
    }
    let Found { mut py_runtime, py_version_symbol, other_symbols } = found;
    // Since 3.11 (Linux, GCC or clang) _PyRuntime sits in a section of its own, so that debuggers
    // find it without symbols: the section header survives `strip`.
    if py_runtime.is_none() {
        if let Some(section) = elf.section_by_name(".PyRuntime") {
            py_runtime = Some((section.address() + load_bias, section.size()));
        }
    }

    // Only what has no `Py_Version` (before 3.11) is told by its strings: .rodata is megabytes.
    let mut version_strings = Vec::new();
    if let Some(rodata) = elf.section_by_name(".rodata").filter(|_| py_version_symbol.is_none()) {
        if let Ok(bytes) = rodata.data() {
            version_strings = find_version_strings(bytes);
        }
    }

    Ok(LoadedBinary { path: target_path.to_string(), load_bias, py_runtime, py_version_symbol, version_strings, other_symbols })
}

/// The `WANTED_SYMBOLS` a binary defines, as runtime addresses.
#[derive(Default)]
struct Found {
    py_runtime: Option<(u64, u64)>,
    py_version_symbol: Option<u64>,
    other_symbols: Vec<(&'static str, u64)>,
}

impl Found {
    fn take<'data>(&mut self, symbol: &impl ObjectSymbol<'data>, load_bias: u64) {
        let Ok(name) = symbol.name() else { return };
        let Some(&wanted) = WANTED_SYMBOLS.iter().find(|&&w| w == name) else { return };
        if symbol.address() == 0 || symbol.is_undefined() {
            return;
        }
        let addr = symbol.address() + load_bias;
        match wanted {
            "_PyRuntime" => self.py_runtime = Some((addr, symbol.size())),
            "Py_Version" => self.py_version_symbol = Some(addr),
            _ if !self.other_symbols.iter().any(|(n, _)| *n == wanted) => self.other_symbols.push((wanted, addr)),
            _ => {}
        }
    }
}

/// The bias is where the target mapped the file's first loadable segment minus that segment's
/// virtual address (0 for non-PIE executables, the base address for PIE and shared objects).
fn load_bias<'data>(elf: &object::File<'data, impl object::ReadRef<'data>>, target_path: &str, maps: &[MapEntry]) -> Result<u64> {
    let first_segment = elf
        .segments()
        .filter(|s| s.file_range().0 == 0)
        .map(|s| s.address())
        .min()
        .or_else(|| elf.segments().map(|s| s.address()).min())
        .unwrap_or(0);
    let mapping = maps
        .iter()
        .filter(|m| m.path.as_deref() == Some(target_path) && m.offset == 0)
        .map(|m| m.start)
        .min()
        .ok_or_else(|| Error::read_failed(format!("{target_path} is not mapped at offset 0 in the target")))?;
    Ok(mapping.wrapping_sub(first_segment & !0xfff))
}

/// NUL-terminated strings shaped like "3.11.2", "3.14.0rc1", "3.15.0a1+" or "2.7.18", standalone ones first.
/// The linker may merge the PY_VERSION literal into the tail of a longer string that ends the
/// same way (pyenv's libpython3.8 keeps it only as the end of "/root/.pyenv/versions/3.8.18"),
/// so tails after a '/', '-' or ' ' are candidates too, after the standalone ones.
pub fn find_version_strings(bytes: &[u8]) -> Vec<String> {
    let mut standalone = Vec::new();
    let mut tails = Vec::new();
    for piece in bytes.split(|&b| b == 0) {
        if piece.len() < 5 || piece.len() > 4096 {
            continue;
        }
        let tail_start = piece.iter().rposition(|&b| b == b'/' || b == b'-' || b == b' ').map_or(0, |i| i + 1);
        let (list, candidate) = if tail_start == 0 { (&mut standalone, piece) } else { (&mut tails, &piece[tail_start..]) };
        if candidate.len() > 16 || !(candidate.starts_with(b"3.") || candidate.starts_with(b"2.")) {
            continue;
        }
        let Ok(s) = std::str::from_utf8(candidate) else { continue };
        if parse_version_string(s).is_some() && !list.iter().any(|f: &String| f == s) {
            list.push(s.to_string());
        }
    }
    standalone.extend(tails.into_iter().filter(|t| !standalone.contains(t)).collect::<Vec<_>>());
    standalone
}

/// "3.11.2" -> (3, 11, 2), "2.7.18" -> (2, 7, 18); accepts a pre-release suffix (a1, b2, rc1) and a trailing '+'.
pub fn parse_version_string(s: &str) -> Option<(u8, u8, u8)> {
    let s = s.strip_suffix('+').unwrap_or(s);
    let mut parts = s.splitn(3, '.');
    let major: u8 = parts.next()?.parse().ok()?;
    let minor: u8 = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    if digits_end == 0 || digits_end > 2 {
        return None;
    }
    let patch: u8 = rest[..digits_end].parse().ok()?;
    let suffix = &rest[digits_end..];
    let valid_suffix = suffix.is_empty()
        || ["a", "b", "rc"].iter().any(|p| {
            suffix.strip_prefix(p).is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.bytes().all(|b| b.is_ascii_digit()))
        });
    ((major == 2 || major == 3) && minor <= 40 && valid_suffix).then_some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_strings_are_found_between_nuls() {
        let data = b"\0junk\x003.9.2\0x3.9.1\0\x003.14.0rc1\0 3.8\x003.15.0a1+\0";
        assert_eq!(find_version_strings(data), vec!["3.9.2", "3.14.0rc1", "3.15.0a1+"]);
        let merged = b"\0/root/.pyenv/versions/3.8.18\0Python-3.8.17\0";
        assert_eq!(find_version_strings(merged), vec!["3.8.18", "3.8.17"]);
    }

    #[test]
    fn version_parsing_rejects_lookalikes() {
        assert_eq!(parse_version_string("3.11.2"), Some((3, 11, 2)));
        assert_eq!(parse_version_string("3.13.0b2"), Some((3, 13, 0)));
        assert_eq!(parse_version_string("3.11"), None);
        assert_eq!(parse_version_string("3.11.2.4"), None);
        assert_eq!(parse_version_string("3.11.x"), None);
        assert_eq!(parse_version_string("3.11.2rc"), None);
        assert_eq!(parse_version_string("2.7.18"), Some((2, 7, 18)));
        assert_eq!(parse_version_string("1.2.13"), None);
    }
}

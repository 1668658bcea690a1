//! Which CPython a binary is, read from the binary itself: never by running anything in the target.

use std::fmt;

use crate::binary::{parse_version_string, LoadedBinary};
use crate::memory::{Memory, MemoryExt};
use crate::python::layouts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub patch: u8,
    /// e.g. "a1", "rc2", or empty for a final release.
    pub release: Release,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Release {
    Alpha(u8),
    Beta(u8),
    Candidate(u8),
    Final,
}

impl Version {
    /// From PY_VERSION_HEX: 0xMMmmppLS (level 0xA alpha, 0xB beta, 0xC candidate, 0xF final).
    pub fn from_hex(hex: u32) -> Option<Version> {
        let major = (hex >> 24) as u8;
        let minor = (hex >> 16) as u8;
        let patch = (hex >> 8) as u8;
        let serial = (hex & 0xf) as u8;
        let release = match (hex >> 4) & 0xf {
            0xa => Release::Alpha(serial),
            0xb => Release::Beta(serial),
            0xc => Release::Candidate(serial),
            0xf => Release::Final,
            _ => return None,
        };
        (major == 3).then_some(Version { major, minor, patch, release })
    }

    pub fn from_string(s: &str) -> Option<Version> {
        let (major, minor, patch) = parse_version_string(s)?;
        let s = s.strip_suffix('+').unwrap_or(s);
        let serial = |p: &str| s.rsplit_once(p).and_then(|(_, n)| n.parse().ok()).unwrap_or(0);
        let release = if s.contains("rc") {
            Release::Candidate(serial("rc"))
        } else if s.contains('b') {
            Release::Beta(serial("b"))
        } else if s.contains('a') {
            Release::Alpha(serial("a"))
        } else {
            Release::Final
        };
        Some(Version { major, minor, patch, release })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        match self.release {
            Release::Alpha(n) => write!(f, "a{n}"),
            Release::Beta(n) => write!(f, "b{n}"),
            Release::Candidate(n) => write!(f, "rc{n}"),
            Release::Final => Ok(()),
        }
    }
}

/// "libpython3.11.so.1.0", "python3.13t" or "python2.7" -> Some((3, 11)), Some((3, 13)),
/// Some((2, 7)). A renamed binary gives None. (The "t" of a free-threaded build's name is not
/// trusted: its `_Py_DebugOffsets` say what it is, and `make install` also names it python3.13.)
pub fn minor_from_filename(path: &str) -> Option<(u8, u8)> {
    let name = path.rsplit('/').next()?;
    let rest = name.strip_prefix("libpython").or_else(|| name.strip_prefix("python"))?;
    let (major, rest) = rest.split_once('.')?;
    let major: u8 = major.parse().ok()?;
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((major, digits.parse().ok()?)).filter(|_| (2..=3).contains(&major))
}

/// Whether a version string found in a binary can be its CPython's: at least the oldest build of
/// that major pyspy-ts reads. A binary also carries other version-like strings: unicodedata's
/// "3.2.0" (the Unicode database it keeps for IDNA), versions of libraries linked in.
pub fn plausible(v: &Version) -> bool {
    layouts::BUILDS.iter().any(|b| b.major == v.major && b.minor <= v.minor)
}

/// Py_Version (3.11+) is exact; before that, the PY_VERSION string in .rodata, preferring the
/// one whose minor matches the file name (a binary can carry other version-like strings).
pub fn detect(binary: &LoadedBinary, memory: &dyn Memory) -> Option<Version> {
    if let Some(addr) = binary.py_version_symbol {
        if let Some(v) = memory.read_u32(addr).ok().and_then(Version::from_hex) {
            return Some(v);
        }
    }
    let named = minor_from_filename(&binary.path);
    let candidates: Vec<Version> = binary.version_strings.iter().filter_map(|s| Version::from_string(s)).collect();
    if let Some((major, minor)) = named {
        if let Some(v) = candidates.iter().find(|v| (v.major, v.minor) == (major, minor)) {
            return Some(*v);
        }
        return Some(Version { major, minor, patch: 0, release: Release::Final });
    }
    // Without a name to go by (a program embedding CPython), only one plausible minor may remain.
    let mut plausible = candidates.into_iter().filter(plausible);
    let first = plausible.next()?;
    plausible.all(|v| v.minor == first.minor && v.major == first.major).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_versions_decode_with_their_release_level() {
        assert_eq!(Version::from_hex(0x030B02F0).unwrap().to_string(), "3.11.2");
        assert_eq!(Version::from_hex(0x030F00A1).unwrap().to_string(), "3.15.0a1");
        assert_eq!(Version::from_hex(0x030E00C2).unwrap().to_string(), "3.14.0rc2");
        assert_eq!(Version::from_hex(0x020712F0), None);
    }

    #[test]
    fn minor_comes_from_either_binary_name() {
        assert_eq!(minor_from_filename("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"), Some((3, 11)));
        assert_eq!(minor_from_filename("/root/.pyenv/versions/3.8.18/bin/python3.8"), Some((3, 8)));
        assert_eq!(minor_from_filename("/opt/ft/bin/python3.13t"), Some((3, 13)));
        assert_eq!(minor_from_filename("/opt/lib/libpython3.6m.so.1.0"), Some((3, 6)));
        assert_eq!(minor_from_filename("/root/.pyenv/versions/2.7.18/lib/libpython2.7.so.1.0"), Some((2, 7)));
        assert_eq!(minor_from_filename("/usr/bin/python3"), None);
        assert_eq!(minor_from_filename("/usr/bin/python2"), None);
        assert_eq!(minor_from_filename("/usr/bin/uwsgi"), None);
    }

    struct NoMemory;
    impl Memory for NoMemory {
        fn read(&self, _: u64, _: &mut [u8]) -> crate::Result<()> {
            Err(crate::Error::read_failed("no memory"))
        }
    }

    fn detect_from_strings(path: &str, strings: &[&str]) -> Option<String> {
        let binary = LoadedBinary {
            path: path.into(),
            load_bias: 0,
            py_runtime: None,
            py_version_symbol: None,
            version_strings: strings.iter().map(|s| s.to_string()).collect(),
            other_symbols: Vec::new(),
        };
        detect(&binary, &NoMemory).map(|v| v.to_string())
    }

    #[test]
    fn an_embedding_program_is_told_by_its_strings_without_unicodedatas() {
        assert_eq!(detect_from_strings("/opt/app", &["3.2.0", "3.13.5"]).as_deref(), Some("3.13.5"));
        assert_eq!(detect_from_strings("/opt/app", &["3.11.2", "3.11.2+"]).as_deref(), Some("3.11.2"));
        assert_eq!(detect_from_strings("/opt/app", &["3.9.2", "3.10.1"]), None);
        assert_eq!(detect_from_strings("/opt/app", &["3.2.0"]), None);
        assert_eq!(detect_from_strings("/usr/bin/python3.9", &["3.2.0", "3.9.2"]).as_deref(), Some("3.9.2"));
        // Python 2 carries unicodedata's 3.2.0 too; a bundled library's "2.5.1" is older than any 2.x we read.
        assert_eq!(detect_from_strings("/opt/app", &["2.7.18", "3.2.0", "2.5.1"]).as_deref(), Some("2.7.18"));
        assert_eq!(detect_from_strings("/usr/bin/python2.7", &["3.2.0", "2.7.18"]).as_deref(), Some("2.7.18"));
    }
}

//! Reading this workspace's own Rust sources, for tests that check a property of every code path
//! (what the profiler may do to its target) rather than of the paths one run happens to take.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

pub struct SourceFile {
    /// Relative to the workspace's `crates/`, e.g. `pyspy-live/src/process/pause.rs`.
    pub path: String,
    /// The file with comments blanked out (newlines kept, so line numbers still match): a comment
    /// that names a forbidden call is not a call. String literals are kept.
    pub code: String,
}

impl SourceFile {
    pub fn new(path: &str, text: &str) -> SourceFile {
        SourceFile { path: path.to_string(), code: strip_comments(text) }
    }

    pub fn line_of(&self, byte_index: usize) -> usize {
        self.code[..byte_index].matches('\n').count() + 1
    }
}

/// Every `.rs` file the profiler is built from: the core, the live layer and the napi binding.
pub fn profiler_sources() -> Vec<SourceFile> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crates/").to_path_buf();
    let mut files = Vec::new();
    for dir in ["pyspy-core/src", "pyspy-live/src", "pyspy-napi/src"] {
        collect(&crates, &crates.join(dir), &mut files);
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    assert!(files.len() > 20, "found only {} source files under {}: wrong directory?", files.len(), crates.display());
    files
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<SourceFile>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let relative = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            files.push(SourceFile::new(&relative, &text));
        }
    }
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Byte offsets where `word` occurs as a whole identifier (not inside a longer one).
pub fn word_positions(code: &str, word: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + word.len()).copied();
            !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
        })
        .collect()
}

/// Every identifier in `code` that starts with `prefix` (at an identifier boundary), with its offset.
pub fn identifiers_starting_with<'a>(code: &'a str, prefix: &str) -> Vec<(usize, &'a str)> {
    let bytes = code.as_bytes();
    code.match_indices(prefix)
        .map(|(at, _)| at)
        .filter(|&at| !at.checked_sub(1).is_some_and(|i| is_ident_char(bytes[i])))
        .map(|at| {
            let end = (at..bytes.len()).find(|&i| !is_ident_char(bytes[i])).unwrap_or(bytes.len());
            (at, &code[at..end])
        })
        .collect()
}

/// The arguments of every call of function `name` (as a whole identifier, any path before it),
/// split at top-level commas and trimmed, with the offset of the name.
pub fn calls<'a>(code: &'a str, name: &str) -> Vec<(usize, Vec<&'a str>)> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for at in word_positions(code, name) {
        let mut open = at + name.len();
        while bytes.get(open).is_some_and(|c| c.is_ascii_whitespace()) {
            open += 1;
        }
        if bytes.get(open) != Some(&b'(') {
            continue; // a mention, not a call: `use libc::ptrace;`, a field, a type
        }
        let mut depth = 0usize;
        let mut args = Vec::new();
        let mut start = open + 1;
        for i in open..bytes.len() {
            match bytes[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        args.push(code[start..i].trim());
                        break;
                    }
                }
                b',' if depth == 1 => {
                    args.push(code[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        found.push((at, args));
    }
    found
}

/// Blanks out `//` and (nested) `/* */` comments, leaving string and char literals alone so that
/// `"//"` in a string does not start a comment. Newlines are kept.
pub fn strip_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && matches!(next, Some('"') | Some('#')) && literal_may_start(&chars, i) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c); // `r#ident`, not a string
                i += 1;
                continue;
            }
            let closing: Vec<char> = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
            let body_start = i + 2 + hashes;
            let end =
                (body_start..chars.len()).find(|&j| chars[j..].starts_with(&closing)).map_or(chars.len(), |j| j + closing.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '"' {
            out.push(c);
            i += 1;
            while i < chars.len() {
                out.push(chars[i]);
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                i += 1;
                if chars[i - 1] == '"' {
                    break;
                }
            }
        } else if c == '\'' && literal_may_start(&chars, i) {
            // A char literal ('x', '\n', '\'', '\x7f', '\u{1F40D}'), or else a lifetime ('a), left as it is.
            let closing_quote = if next == Some('\\') {
                let after_escape = match chars.get(i + 2) {
                    Some('u') => (i + 3..chars.len()).find(|&j| chars[j] == '}').map_or(chars.len(), |j| j + 1),
                    Some('x') => i + 5,
                    _ => i + 3,
                };
                (chars.get(after_escape) == Some(&'\'')).then_some(after_escape)
            } else {
                (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
            };
            let end = closing_quote.map_or(i + 1, |q| q + 1);
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// A raw string (`r"`, `r#"`) or a char literal starts only where an identifier could not
/// continue; `br"` and `b'` are the byte forms of the same.
fn literal_may_start(chars: &[char], i: usize) -> bool {
    let ident_at = |k: usize| i.checked_sub(k).and_then(|p| chars.get(p)).is_some_and(|c| c.is_alphanumeric() || *c == '_');
    !ident_at(1) || (chars[i - 1] == 'b' && !ident_at(2))
}

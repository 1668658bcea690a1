//! Short, safe reprs of objects in the target, for `dump --locals`: the value of simple types,
//! the type name of anything else. Nothing here follows more than a couple of pointers.

use crate::memory::{at, field_f64_bits, field_u64, Memory, MemoryExt};
use crate::python::layout::Layout;
use crate::python::strings;
use crate::Result;

const MAX_REPR_CHARS: usize = 80;

pub fn type_name(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<String> {
    let type_addr = memory.read_u64(at(obj, layout.object_type))?;
    let name_ptr = memory.read_u64(at(type_addr, layout.type_name))?;
    let mut buf = [0u8; 64];
    memory.read(name_ptr, &mut buf)?;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..end]).into_owned())
}

/// A Python-like repr for None/bool/int/float/str/bytes, `<type>` otherwise.
pub fn short_repr(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<String> {
    repr_at_depth(memory, layout, obj, 0)
}

fn repr_at_depth(memory: &dyn Memory, layout: &Layout, obj: u64, depth: u32) -> Result<String> {
    if obj == 0 {
        return Ok("<NULL>".into());
    }
    let type_name = type_name(memory, layout, obj)?;
    Ok(match type_name.as_str() {
        "NoneType" => "None".into(),
        "bool" => {
            if read_int(memory, layout, obj)?.is_some_and(|v| v != 0) {
                "True".into()
            } else {
                "False".into()
            }
        }
        "int" => match read_int(memory, layout, obj)? {
            Some(v) => v.to_string(),
            None => "<int (big)>".into(),
        },
        // 2.7's arbitrary-precision int, which Python 2 shows with an L.
        "long" if layout.int_value.is_some() => match read_long(memory, layout, obj)? {
            Some(v) => format!("{v}L"),
            None => "<long (big)>".into(),
        },
        "float" => {
            let mut buf = [0u8; 8];
            memory.read(at(obj, layout.float_value), &mut buf)?;
            float_repr(f64::from_bits(field_f64_bits(&buf, 0)))
        }
        // 2.7's str is a byte string: shown as Python 2 shows it.
        "str" if layout.str_is_bytes == Some(true) => {
            let data = strings::read_bytes(memory, layout, obj)?;
            truncate(&python2_repr(data.iter().take(MAX_REPR_CHARS).map(|&b| u32::from(b))))
        }
        "str" => truncate(&str_repr(&strings::read_unicode(memory, layout, obj)?)),
        "unicode" if layout.unicode_str_pointer.is_some() => {
            let text = strings::read_unicode(memory, layout, obj)?;
            truncate(&format!("u{}", python2_repr(text.chars().take(MAX_REPR_CHARS).map(u32::from))))
        }
        "bytes" => {
            let data = strings::read_bytes(memory, layout, obj)?;
            let shown: String =
                data.iter().take(MAX_REPR_CHARS).flat_map(|&b| std::ascii::escape_default(b).map(char::from)).collect();
            truncate(&format!("b'{shown}'"))
        }
        // Closure variables sit in cells; what people want to see is the value inside.
        "cell" if depth == 0 => {
            // Right after the object header: 16 bytes, 32 in free-threaded builds.
            let inner = memory.read_u64(at(obj, layout.cell_contents.unwrap_or(16)))?;
            if inner == 0 {
                "<empty cell>".into()
            } else {
                repr_at_depth(memory, layout, inner, depth + 1)?
            }
        }
        other => format!("<{other}>"),
    })
}

/// Python's repr of a str: single quotes unless the text has some and no double quotes.
fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python 2's repr of a byte string (its `str`: every value a byte) or, after a `u`, of a `unicode`:
/// the same quotes as `str_repr`, and everything outside printable ASCII escaped (`\xNN`,
/// `\uNNNN`, `\UNNNNNNNN`), as Python 2 does.
fn python2_repr(chars: impl Iterator<Item = u32> + Clone) -> String {
    let has = |wanted: char| chars.clone().any(|c| c == wanted as u32);
    let quote = if has('\'') && !has('"') { '"' } else { '\'' };
    let mut out = String::new();
    out.push(quote);
    for c in chars {
        match c {
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            c if c == quote as u32 => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(char::from(c as u8)),
            0..=0xff => out.push_str(&format!("\\x{c:02x}")),
            0x100..=0xffff => out.push_str(&format!("\\u{c:04x}")),
            _ => out.push_str(&format!("\\U{c:08x}")),
        }
    }
    out.push(quote);
    out
}

/// As Python's `repr(float)`: the shortest digits that read back the same (Rust finds those too),
/// in positional notation for decimal exponents from -4 to 15, else as `1e+16`, `5e-324`.
fn float_repr(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let scientific = format!("{v:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let positional = format!("{v}");
        if positional.contains('.') {
            positional
        } else {
            positional + ".0"
        }
    } else {
        format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs())
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_REPR_CHARS {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX_REPR_CHARS - 3).collect();
        format!("{cut}...")
    }
}

/// An `int` (or `bool`) that fits in an i64; None for bigger ones (we do not do bignum arithmetic for
/// a dump). 2.7's `int` is a C long (`int_value`), its big ints are `long`s.
fn read_int(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<Option<i64>> {
    match layout.int_value {
        Some(offset) => Ok(Some(memory.read_u64(at(obj, offset))? as i64)),
        None => read_long(memory, layout, obj),
    }
}

/// A `PyLongObject` of at most two digits.
fn read_long(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<Option<i64>> {
    // One read for the size and up to two digits; a shorter int leaves the rest unused.
    let mut head = [0u8; 64];
    let len = (layout.long_digits as usize + 8).min(head.len());
    memory.read(obj, &mut head[..len])?;
    let digits = head.get(layout.long_digits as usize..len).unwrap_or(&[]);
    Ok(layout.long_model.small_value(field_u64(&head, layout.long_size_or_tag), digits))
}

/// The item pointers of a tuple (bounded: a garbage size must not make us read megabytes).
pub fn tuple_items(memory: &dyn Memory, layout: &Layout, tuple: u64) -> Result<Vec<u64>> {
    let size = memory.read_u64(at(tuple, layout.tuple_size))? as i64;
    if !(0..=65_536).contains(&size) {
        return Err(crate::Error::read_failed(format!("tuple at {tuple:#x} has implausible size {size}")));
    }
    let mut raw = vec![0u8; size as usize * 8];
    memory.read(at(tuple, layout.tuple_items), &mut raw)?;
    Ok(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_repr_quotes_like_python() {
        assert_eq!(str_repr("abc"), "'abc'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(str_repr("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(str_repr("ñandú 関数"), "'ñandú 関数'");
    }

    #[test]
    fn python2_reprs_escape_like_python2() {
        let bytes = |b: &[u8]| python2_repr(b.iter().map(|&b| u32::from(b)));
        let text = |s: &str| python2_repr(s.chars().map(u32::from));
        // Checked against Python 2.7.18's repr().
        assert_eq!(bytes(b"it's \"quoted\""), "'it\\'s \"quoted\"'");
        assert_eq!(bytes(b"it's"), "\"it's\"");
        assert_eq!(bytes("ünï".as_bytes()), "'\\xc3\\xbcn\\xc3\\xaf'");
        assert_eq!(bytes(b"\x00ab\t\\"), "'\\x00ab\\t\\\\'");
        assert_eq!(text("ünï 関 𝔣"), "'\\xfcn\\xef \\u95a2 \\U0001d523'");
    }

    #[test]
    fn floats_keep_a_decimal_point_like_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.25), "0.25");
        assert_eq!(float_repr(-3.0), "-3.0");
        // Checked against CPython's repr().
        assert_eq!(float_repr(1e16), "1e+16");
        assert_eq!(float_repr(1e300), "1e+300");
        assert_eq!(float_repr(5e-324), "5e-324");
        assert_eq!(float_repr(1.5e-7), "1.5e-07");
        assert_eq!(float_repr(0.0001), "0.0001");
        assert_eq!(float_repr(123456789012345.6), "123456789012345.6");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(f64::NAN), "nan");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
    }
}

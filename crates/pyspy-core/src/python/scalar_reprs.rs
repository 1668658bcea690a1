//! Python's own reprs of str, bytes, float and int values, written from their rules (quotes,
//! escapes, shortest float digits, decimal digits of a bignum): the values `objects.rs` previews.

/// Python's repr of a str: single quotes unless the text has some and no double quotes.
pub(crate) fn str_repr(s: &str) -> String {
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

/// As Python's `repr(float)`: the shortest digits that read back the same (Rust finds those too),
/// Python 2's repr of a byte string (its `str`: every value a byte) or, after a `u`, of a `unicode`:
/// the same quotes as `str_repr`, and everything outside printable ASCII escaped (`\xNN`,
/// `\uNNNN`, `\UNNNNNNNN`), as Python 2 does.
pub(crate) fn python2_repr(chars: impl Iterator<Item = u32> + Clone) -> String {
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

/// in positional notation for decimal exponents from -4 to 15, else as `1e+16`, `5e-324`.
pub(crate) fn float_repr(v: f64) -> String {
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

/// Python's repr of a bytes: single quotes unless the data has some and no double quotes;
/// `\t`, `\n`, `\r`, `\\` and the quote escaped, other bytes outside printable ASCII as `\xNN`.
pub(crate) fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') { b'"' } else { b'\'' };
    let mut out = String::with_capacity(data.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if b == quote => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(quote as char);
    out
}

pub(crate) fn bits_of(ndigits: u64, top: u32, bits_per_digit: u32) -> u64 {
    u64::from(bits_per_digit) * (ndigits - 1) + u64::from(32 - top.leading_zeros())
}

/// The decimal digits of a magnitude given in base-2^`bits` digits, least significant first.
pub(crate) fn to_decimal(digits: &[u32], bits: u32) -> String {
    const BILLION: u64 = 1_000_000_000;
    // Base 10^9, least significant first.
    let mut groups: Vec<u64> = Vec::new();
    for &d in digits.iter().rev() {
        let mut carry = u64::from(d);
        for g in groups.iter_mut() {
            let v = (*g << bits) + carry;
            *g = v % BILLION;
            carry = v / BILLION;
        }
        while carry > 0 {
            groups.push(carry % BILLION);
            carry /= BILLION;
        }
    }
    match groups.split_last() {
        None => "0".into(),
        Some((top, rest)) => {
            let mut out = top.to_string();
            for g in rest.iter().rev() {
                out.push_str(&format!("{g:09}"));
            }
            out
        }
    }
}

pub(crate) fn truncate(s: &str, limit: usize) -> String {
    if s.chars().count() <= limit {
        s.to_string()
    } else {
        let cut: String = s.chars().take(limit - 3).collect();
        format!("{cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn str_repr_quotes_like_python() {
        assert_eq!(str_repr("abc"), "'abc'");
        assert_eq!(str_repr("it's"), "\"it's\"");
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(str_repr("tab\there\n"), "'tab\\there\\n'");
        assert_eq!(str_repr("ñandú 関数"), "'ñandú 関数'");
    }

    #[test]
    fn bytes_repr_quotes_and_escapes_like_python() {
        assert_eq!(bytes_repr(b"ab"), "b'ab'");
        assert_eq!(bytes_repr(b"\x00ab\xff"), "b'\\x00ab\\xff'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"a'b\"c\t"), "b'a\\'b\"c\\t'");
    }

    #[test]
    fn ints_in_decimal_from_their_digits() {
        assert_eq!(to_decimal(&[], 30), "0");
        assert_eq!(to_decimal(&[5], 30), "5");
        // 10**30 = digits (least significant first) in base 2**30, as CPython stores it.
        let mut n: u128 = 10u128.pow(30);
        let mut digits = Vec::new();
        while n > 0 {
            digits.push((n & 0x3fff_ffff) as u32);
            n >>= 30;
        }
        assert_eq!(to_decimal(&digits, 30), format!("1{}", "0".repeat(30)));
        assert_eq!(bits_of(3, 1, 30), 61);
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

//! Reading `str` and `bytes` objects out of the target: PEP 393 text (3.3+), and 2.7's byte
//! strings (its `str`) and `unicode` objects.

use crate::memory::{at, field_i64, field_u32, field_u64, Memory, MemoryExt, ReadRequest};
use crate::python::layout::Layout;
use crate::{Error, Result};

/// Longest string we decode; names and paths are far shorter, and a garbage length must not
/// make us read megabytes.
pub const MAX_STRING_BYTES: usize = 64 * 1024;
/// Longest bytes object we read (line tables of huge generated functions stay well below).
pub const MAX_BYTES_LEN: usize = 4 * 1024 * 1024;

/// One read covers the header and a typical short name, so most strings cost one system call.
const FIRST_READ: usize = 160;

/// A `str` of the target's build, such as a code object's names: text, or in 2.7 a byte string,
/// shown decoded as UTF-8 (what Python 2 source and thread names are in practice; lossy otherwise).
pub fn read_str(memory: &dyn Memory, layout: &Layout, addr: u64) -> Result<String> {
    if layout.str_is_bytes == Some(true) {
        let data = read_bytes_at_most(memory, layout, addr, MAX_STRING_BYTES)?;
        return Ok(String::from_utf8_lossy(&data).into_owned());
    }
    read_unicode(memory, layout, addr)
}

/// A text object: PEP 393 (3.3+), or 2.7's `unicode` (a length and a pointer to its units).
pub fn read_unicode(memory: &dyn Memory, layout: &Layout, addr: u64) -> Result<String> {
    read_unicode_prefix(memory, layout, addr, usize::MAX).map(|(text, _)| text)
}

/// The first `max_chars` characters of a str (all of it when shorter), and whether there are more:
/// a preview reads no more than it shows.
pub fn read_unicode_prefix(memory: &dyn Memory, layout: &Layout, addr: u64, max_chars: usize) -> Result<(String, bool)> {
    if addr == 0 {
        return Err(Error::read_failed("NULL string"));
    }
    if let Some(pointer) = layout.unicode_str_pointer {
        return read_python2_unicode(memory, layout, addr, pointer).map(|text| (text, false));
    }
    let mut head = [0u8; FIRST_READ];
    let header_len = layout.unicode_compact_size as usize + 8;
    memory.read(addr, &mut head[..header_len.min(FIRST_READ)])?;
    let length = field_i64(&head, layout.unicode_length);
    let state = field_u32(&head, layout.unicode_state);
    let (kind, compact, ascii) = kind_compact_ascii(layout, state);
    if !(1..=4).contains(&kind) || kind == 3 || length < 0 {
        return Err(Error::read_failed(format!("not a str object at {addr:#x}")));
    }
    let full_len = (length as usize).saturating_mul(kind);
    if full_len > MAX_STRING_BYTES && max_chars == usize::MAX {
        return Err(Error::read_failed(format!("str at {addr:#x} is implausibly long ({length} chars)")));
    }
    let more = length as usize > max_chars;
    let byte_len = (length as usize).min(max_chars).saturating_mul(kind);
    let data_addr = if !compact {
        // A legacy (non-compact) string keeps its characters behind a pointer after the compact header.
        field_u64(&head, layout.unicode_compact_size)
    } else if ascii {
        at(addr, layout.unicode_ascii_size)
    } else {
        at(addr, layout.unicode_compact_size)
    };
    let mut data = vec![0u8; byte_len];
    let offset_in_head = data_addr.wrapping_sub(addr) as usize;
    if compact && offset_in_head + byte_len <= FIRST_READ {
        memory.read(addr, &mut head[..offset_in_head + byte_len])?;
        data.copy_from_slice(&head[offset_in_head..offset_in_head + byte_len]);
    } else {
        memory.read(data_addr, &mut data)?;
    }
    Ok((decode(&data, kind)?, more))
}

/// 2.7's `PyUnicodeObject`: `length` units of Py_UNICODE (2 or 4 bytes, a build option) behind `str`.
fn read_python2_unicode(memory: &dyn Memory, layout: &Layout, addr: u64, pointer: u32) -> Result<String> {
    let length = memory.read_u64(at(addr, layout.unicode_length))? as i64;
    let data_addr = memory.read_u64(at(addr, pointer))?;
    let kind = layout.unicode_char_size.unwrap_or(4) as usize;
    if length < 0 || !(kind == 2 || kind == 4) {
        return Err(Error::read_failed(format!("not a unicode object at {addr:#x}")));
    }
    let byte_len = (length as usize).saturating_mul(kind);
    if byte_len > MAX_STRING_BYTES {
        return Err(Error::read_failed(format!("unicode at {addr:#x} is implausibly long ({length} chars)")));
    }
    let mut data = vec![0u8; byte_len];
    memory.read(data_addr, &mut data)?;
    decode(&data, kind)
}

/// The `state` bits: interned, kind:3, compact:1, ascii:1, where the layout says (3.14t made
/// `interned` a byte; every other build has interned:2, so kind at 2, compact 5, ascii 6).
fn kind_compact_ascii(layout: &Layout, state: u32) -> (usize, bool, bool) {
    let kind_shift = layout.unicode_kind_shift.unwrap_or(2);
    let compact_shift = layout.unicode_compact_shift.unwrap_or(5);
    let ascii_shift = layout.unicode_ascii_shift.unwrap_or(6);
    (((state >> kind_shift) & 7) as usize, (state >> compact_shift) & 1 == 1, (state >> ascii_shift) & 1 == 1)
}

/// Which of the str objects at `candidates` (0 = none) equals `wanted`, an ASCII text: the first
/// such index. One batched read covers them all, so a dict's keys cost one system call, not one each.
pub fn position_of_ascii(memory: &dyn Memory, layout: &Layout, candidates: &[u64], wanted: &str) -> Option<usize> {
    debug_assert!(wanted.is_ascii());
    // 2.7's keys are byte strings: a size, then the bytes.
    let bytes = layout.str_is_bytes == Some(true);
    let data_at = if bytes { layout.bytes_data } else { layout.unicode_ascii_size } as usize;
    let len = data_at + wanted.len();
    let mut heads = vec![0u8; len * candidates.len()];
    let mut requests: Vec<ReadRequest> =
        candidates.iter().zip(heads.chunks_exact_mut(len)).map(|(&addr, buf)| ReadRequest::new(addr, buf)).collect();
    requests.retain(|r| r.addr != 0);
    memory.read_many(&mut requests).ok()?;
    let found = requests.iter().find(|r| {
        let text = r.ok && r.buf[data_at..] == *wanted.as_bytes();
        if bytes {
            return text && field_i64(r.buf, layout.bytes_size) == wanted.len() as i64;
        }
        let (kind, compact, ascii) = kind_compact_ascii(layout, field_u32(r.buf, layout.unicode_state));
        text && kind == 1 && compact && ascii && field_i64(r.buf, layout.unicode_length) == wanted.len() as i64
    })?;
    candidates.iter().position(|&addr| addr == found.addr)
}

fn decode(data: &[u8], kind: usize) -> Result<String> {
    Ok(match kind {
        1 => data.iter().map(|&b| b as char).collect(),
        2 => char::decode_utf16(data.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])))
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
        _ => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    })
}

pub fn read_bytes(memory: &dyn Memory, layout: &Layout, addr: u64) -> Result<Vec<u8>> {
    read_bytes_prefix(memory, layout, addr, MAX_BYTES_LEN).map(|(data, _)| data)
}

/// A bytes object (2.7: a `str`) of at most `max` bytes: a longer one is taken for garbage.
fn read_bytes_at_most(memory: &dyn Memory, layout: &Layout, addr: u64, max: usize) -> Result<Vec<u8>> {
    let (data, more) = read_bytes_prefix(memory, layout, addr, max)?;
    if more {
        return Err(Error::read_failed(format!("bytes at {addr:#x} is longer than {max} bytes")));
    }
    Ok(data)
}

/// The first `max_len` bytes of a bytes object, and whether there are more.
pub fn read_bytes_prefix(memory: &dyn Memory, layout: &Layout, addr: u64, max_len: usize) -> Result<(Vec<u8>, bool)> {
    if addr == 0 {
        return Err(Error::read_failed("NULL bytes"));
    }
    let mut head = [0u8; 16];
    memory.read(at(addr, layout.bytes_size), &mut head[..8])?;
    let len = field_i64(&head, 0);
    if len < 0 || (len as usize > MAX_BYTES_LEN && max_len >= MAX_BYTES_LEN) {
        return Err(Error::read_failed(format!("bytes at {addr:#x} has implausible size {len}")));
    }
    let mut data = vec![0u8; (len as usize).min(max_len)];
    memory.read(at(addr, layout.bytes_data), &mut data)?;
    Ok((data, len as usize > max_len))
}

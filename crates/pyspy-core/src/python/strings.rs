//! Reading `str` and `bytes` objects out of the target.

use crate::memory::{at, field_i64, field_u32, field_u64, Memory, ReadRequest};
use crate::python::layout::Layout;
use crate::{Error, Result};

/// Longest string we decode; names and paths are far shorter, and a garbage length must not
/// make us read megabytes.
pub const MAX_STRING_BYTES: usize = 64 * 1024;
/// Longest bytes object we read (line tables of huge generated functions stay well below).
pub const MAX_BYTES_LEN: usize = 4 * 1024 * 1024;

/// One read covers the header and a typical short name, so most strings cost one system call.
const FIRST_READ: usize = 160;

pub fn read_unicode(memory: &dyn Memory, layout: &Layout, addr: u64) -> Result<String> {
    read_unicode_prefix(memory, layout, addr, usize::MAX).map(|(text, _)| text)
}

/// The first `max_chars` characters of a str (all of it when shorter), and whether there are more:
/// a preview reads no more than it shows.
pub fn read_unicode_prefix(memory: &dyn Memory, layout: &Layout, addr: u64, max_chars: usize) -> Result<(String, bool)> {
    if addr == 0 {
        return Err(Error::read_failed("NULL string"));
    }
    let mut head = [0u8; FIRST_READ];
    let header_len = layout.unicode_compact_size as usize + 8;
    memory.read(addr, &mut head[..header_len.min(FIRST_READ)])?;
    let length = field_i64(&head, layout.unicode_length);
    let state = field_u32(&head, layout.unicode_state);
    let (kind, compact, ascii) = kind_compact_ascii(state);
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

/// The `state` bits of every minor we read: interned:2, kind:3, compact:1, ascii:1.
fn kind_compact_ascii(state: u32) -> (usize, bool, bool) {
    (((state >> 2) & 7) as usize, (state >> 5) & 1 == 1, (state >> 6) & 1 == 1)
}

/// Which of the str objects at `candidates` (0 = none) equals `wanted`, an ASCII text: the first
/// such index. One batched read covers them all, so a dict's keys cost one system call, not one each.
pub fn position_of_ascii(memory: &dyn Memory, layout: &Layout, candidates: &[u64], wanted: &str) -> Option<usize> {
    debug_assert!(wanted.is_ascii());
    let len = layout.unicode_ascii_size as usize + wanted.len();
    let mut heads = vec![0u8; len * candidates.len()];
    let mut requests: Vec<ReadRequest> =
        candidates.iter().zip(heads.chunks_exact_mut(len)).map(|(&addr, buf)| ReadRequest::new(addr, buf)).collect();
    requests.retain(|r| r.addr != 0);
    memory.read_many(&mut requests).ok()?;
    let found = requests.iter().find(|r| {
        let (kind, compact, ascii) = kind_compact_ascii(field_u32(r.buf, layout.unicode_state));
        r.ok && kind == 1
            && compact
            && ascii
            && field_i64(r.buf, layout.unicode_length) == wanted.len() as i64
            && r.buf[layout.unicode_ascii_size as usize..] == *wanted.as_bytes()
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

//! Code objects: what a frame's code is called, where it lives, and its line table, cached by address.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::memory::{at, field_i32, field_u64, Memory};
use crate::python::layout::Layout;
use crate::python::{line_table, strings};
use crate::Result;

/// Everything we keep about one code object; decoded once, shared by every frame that runs it.
#[derive(Debug)]
pub struct CodeInfo {
    /// `co_qualname` (3.11+) or `co_name`.
    pub name: String,
    pub filename: String,
    pub first_line: u32,
    pub line_table: Vec<u8>,
    /// Identity of the code object we decoded: if the address is reused by another code object,
    /// these no longer match and the entry is decoded again.
    fingerprint: [u64; 3],
    /// Address of the first instruction (3.11+: inline in the code object; earlier: co_code's data).
    /// 3.13t too: its frames point into `co_code_adaptive` like a default build's (3.14t's
    /// per-thread copies, `code_tlbc`, are not read: there is no 3.14t table).
    pub instructions_addr: u64,
    pub argcount: u32,
    /// Address of the tuple of local names (co_varnames / co_localsplusnames).
    pub varnames_addr: u64,
}

impl CodeInfo {
    pub fn line_for(&self, layout: &Layout, byte_offset: i64) -> u32 {
        line_table::line_in(layout, &self.line_table, self.first_line, byte_offset)
    }
}

#[derive(Default)]
pub struct CodeCache {
    entries: FxHashMap<u64, Arc<CodeInfo>>,
    /// Reused for every header read: this runs once per frame per sample.
    header: Vec<u8>,
}

/// Code objects beyond this many are dropped wholesale: a program that generates code endlessly
/// (exec in a loop) must not grow our memory without bound. Each is a few hundred bytes: this
/// bounds the cache near 4 MB, and a program's hot code is found again in a few samples.
pub const MAX_CACHED: usize = 16_384;

impl CodeCache {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `header` is the code object's first `layout.code_size` bytes, already read.
    pub fn get(&mut self, memory: &dyn Memory, layout: &Layout, addr: u64, header: &[u8]) -> Result<Arc<CodeInfo>> {
        let fingerprint = fingerprint(layout, header);
        if let Some(info) = self.entries.get(&addr) {
            if info.fingerprint == fingerprint {
                return Ok(info.clone());
            }
        }
        let info = Arc::new(decode(memory, layout, addr, header, fingerprint)?);
        if self.entries.len() >= MAX_CACHED {
            self.entries.clear();
        }
        self.entries.insert(addr, info.clone());
        Ok(info)
    }

    /// Reads the header itself; for callers that have not batched it with other reads.
    pub fn get_by_addr(&mut self, memory: &dyn Memory, layout: &Layout, addr: u64) -> Result<Arc<CodeInfo>> {
        let mut header = std::mem::take(&mut self.header);
        header.resize(layout.code_size as usize, 0);
        let result = memory.read(addr, &mut header).and_then(|()| self.get(memory, layout, addr, &header));
        self.header = header;
        result
    }
}

fn fingerprint(layout: &Layout, header: &[u8]) -> [u64; 3] {
    [
        field_u64(header, layout.code_filename),
        field_u64(header, layout.code_name),
        field_u64(header, layout.code_linetable) ^ (field_i32(header, layout.code_firstlineno) as u64) << 1,
    ]
}

fn decode(memory: &dyn Memory, layout: &Layout, addr: u64, header: &[u8], fingerprint: [u64; 3]) -> Result<CodeInfo> {
    let name_addr =
        layout.code_qualname.map(|o| field_u64(header, o)).filter(|&a| a != 0).unwrap_or(field_u64(header, layout.code_name));
    let name = strings::read_str(memory, layout, name_addr)?;
    let filename = strings::read_str(memory, layout, field_u64(header, layout.code_filename))?;
    let line_table = strings::read_bytes(memory, layout, field_u64(header, layout.code_linetable))?;
    let first_line = field_i32(header, layout.code_firstlineno).max(0) as u32;
    let instructions_addr = match (layout.code_code_adaptive, layout.code_code) {
        (Some(inline), _) => at(addr, inline),
        (None, Some(co_code)) => at(field_u64(header, co_code), layout.bytes_data),
        (None, None) => 0,
    };
    Ok(CodeInfo {
        name,
        filename,
        first_line,
        line_table,
        fingerprint,
        instructions_addr,
        argcount: field_i32(header, layout.code_argcount).max(0) as u32,
        varnames_addr: field_u64(header, layout.code_varnames),
    })
}

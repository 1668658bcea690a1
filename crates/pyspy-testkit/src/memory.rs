//! The target's memory as the fuzzer sees it: one mapped region holding a planted image, with
//! pages the input may unmap, and the patches the input applies on top of the image.

use pyspy_core::memory::Memory;
use pyspy_core::{Error, ErrorKind, Result};

pub const PAGE: u64 = 4096;

pub struct PlantedMemory {
    pub base: u64,
    pub bytes: Vec<u8>,
    /// Mapped length from `base`; reads past `bytes` and below this give zeros, as the rest of a
    /// heap page would.
    pub mapped_len: u64,
    /// Page indexes (from `base`) that read as unmapped: a page freed under us, and reads and
    /// cached blocks that straddle it.
    pub holes: Vec<u64>,
    /// Start of every struct planted, for patches that point at the wrong one.
    pub planted: Vec<u64>,
}

impl Memory for PlantedMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let unmapped = || Error::new(ErrorKind::ReadFailed, "unmapped");
        let offset = addr.checked_sub(self.base).filter(|&o| o <= self.mapped_len).ok_or_else(unmapped)?;
        if buf.len() as u64 > self.mapped_len - offset {
            return Err(unmapped());
        }
        if buf.is_empty() {
            return Ok(());
        }
        let (first_page, last_page) = (offset / PAGE, (offset + buf.len() as u64 - 1) / PAGE);
        if self.holes.iter().any(|&page| (first_page..=last_page).contains(&page)) {
            return Err(unmapped());
        }
        let planted = self.bytes.get(offset as usize..).unwrap_or_default();
        let from_bytes = planted.len().min(buf.len());
        buf[..from_bytes].copy_from_slice(&planted[..from_bytes]);
        buf[from_bytes..].fill(0);
        Ok(())
    }
}

/// Bytes a patch takes in the input.
pub const PATCH_LEN: usize = 12;

/// One change to the image: an operation, a position (modulo the image size) and a value.
#[derive(Debug, Clone, Copy)]
pub struct Patch {
    pub op: u8,
    pub position: u32,
    pub value: u64,
}

impl Patch {
    /// `op`, a 3-byte little-endian position, an 8-byte little-endian value.
    pub fn decode(raw: &[u8; PATCH_LEN]) -> Patch {
        Patch {
            op: raw[0],
            position: u32::from_le_bytes([raw[1], raw[2], raw[3], 0]),
            value: u64::from_le_bytes(raw[4..12].try_into().unwrap()),
        }
    }
}

impl PlantedMemory {
    pub fn put(&mut self, addr: u64, value: &[u8]) {
        let start = (addr - self.base) as usize;
        self.bytes[start..start + value.len()].copy_from_slice(value);
    }

    pub fn put_u64(&mut self, addr: u64, value: u64) {
        self.put(addr, &value.to_le_bytes());
    }

    pub fn get_u64(&self, addr: u64) -> u64 {
        let start = (addr - self.base) as usize;
        u64::from_le_bytes(self.bytes[start..start + 8].try_into().unwrap())
    }

    /// The corruptions a target rewriting its memory under us makes, plus raw writes of any
    /// width so that libFuzzer's comparison tracing can plant the exact value a check wants.
    pub fn apply(&mut self, patch: &Patch) {
        let len = self.bytes.len() as u64;
        if len < 8 {
            return;
        }
        let position = u64::from(patch.position);
        let word = self.base + (position % (len / 8)) * 8;
        let byte = self.base + position % (len - 7);
        match patch.op % 9 {
            0 => self.put_u64(byte, patch.value),
            1 => self.put(byte, &(patch.value as u32).to_le_bytes()),
            2 => self.put(byte, &[patch.value as u8]),
            3 => self.put_u64(word, 0),
            // Another struct's start: lists that loop, frames whose code is a thread state.
            4 => self.put_u64(word, self.planted[(patch.value % self.planted.len() as u64) as usize]),
            // Anywhere in the mapping, aligned or not.
            5 => self.put_u64(word, self.base.wrapping_add(patch.value % self.mapped_len)),
            // A small number where a pointer, a length or a kind was.
            6 => self.put_u64(word, patch.value % 300),
            7 => {
                let old = self.get_u64(word);
                self.put_u64(word, old ^ (1 << (patch.value % 64)));
            }
            _ => {
                if self.holes.len() < 64 {
                    self.holes.push((word - self.base) / PAGE);
                }
            }
        }
    }
}

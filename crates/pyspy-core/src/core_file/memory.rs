//! A core's process memory: the dumped bytes of each segment, and for what was not dumped, the
//! mapped file's bytes when the file can be had. Anything else fails to read, as an unmapped
//! address of a live process does.

use super::elf::Segment;
use super::files::MappedFiles;
use super::notes::FileMapping;
use super::source::{ByteSource, ChunkedSource};
use crate::maps::MapEntry;
use crate::memory::Memory;
use crate::{Error, Result};

pub struct CoreMemory {
    core: ChunkedSource<Box<dyn ByteSource>>,
    /// Sorted by address.
    segments: Vec<Segment>,
    /// Sorted by start.
    mappings: Vec<FileMapping>,
    pub files: MappedFiles,
}

fn containing<T>(items: &[T], addr: u64, start: impl Fn(&T) -> u64, end: impl Fn(&T) -> u64) -> Option<&T> {
    let i = items.partition_point(|item| end(item) <= addr);
    items.get(i).filter(|item| start(item) <= addr)
}

impl CoreMemory {
    pub fn new(core: Box<dyn ByteSource>, segments: Vec<Segment>, mut mappings: Vec<FileMapping>, files: MappedFiles) -> Self {
        mappings.sort_by_key(|m| m.start);
        CoreMemory { core: ChunkedSource::new(core), segments, mappings, files }
    }

    pub fn mappings(&self) -> &[FileMapping] {
        &self.mappings
    }

    /// The process's mappings as `/proc/PID/maps` would have listed them: every segment, with the
    /// path of the file mapped there; and the file mappings the core has no segment for (gcore
    /// leaves out read-only file mappings), whose permissions it does not tell: read-only then.
    pub fn maps(&self) -> Vec<MapEntry> {
        let file_at = |start: u64| self.mappings.iter().find(|m| m.start == start);
        let mut maps: Vec<MapEntry> = self
            .segments
            .iter()
            .filter(|s| s.memory_size > 0)
            .map(|s| {
                let file = file_at(s.address);
                MapEntry {
                    start: s.address,
                    end: s.end(),
                    readable: s.readable,
                    writable: s.writable,
                    executable: s.executable,
                    offset: file.map_or(0, |f| f.file_offset),
                    inode: 0,
                    path: file.map(|f| f.path.clone()),
                }
            })
            .collect();
        for m in &self.mappings {
            if containing(&self.segments, m.start, |s| s.address, Segment::end).is_none() {
                maps.push(MapEntry {
                    start: m.start,
                    end: m.end,
                    readable: true,
                    writable: false,
                    executable: false,
                    offset: m.file_offset,
                    inode: 0,
                    path: Some(m.path.clone()),
                });
            }
        }
        maps.sort_by_key(|m| m.start);
        maps
    }

    /// Fills the start of `out` from `addr`: from one segment's dumped bytes, or one mapped file.
    /// Returns how many bytes it filled (at least one).
    fn read_piece(&self, addr: u64, out: &mut [u8]) -> Result<usize> {
        let segment = containing(&self.segments, addr, |s| s.address, Segment::end);
        if let Some(s) = segment {
            let within = addr - s.address;
            if within < s.file_size {
                let n = (out.len() as u64).min(s.file_size - within) as usize;
                self.core.read_exact_at(s.offset + within, &mut out[..n])?;
                return Ok(n);
            }
        }
        let Some(mapping) = containing(&self.mappings, addr, |m| m.start, |m| m.end) else {
            return Err(Error::read_failed(match segment {
                Some(_) => format!("{addr:#x} was not dumped into the core"),
                None => format!("{addr:#x} is not in the core"),
            }));
        };
        let file = self.files.get(&mapping.path).ok_or_else(|| {
            Error::read_failed(format!(
                "{addr:#x} is in {}, which the core does not contain and is not available here",
                mapping.path
            ))
        })?;
        let offset = mapping.file_offset + (addr - mapping.start);
        let limit = segment.map_or(mapping.end, |s| s.end().min(mapping.end));
        let n = (out.len() as u64).min(limit - addr).min(file.len().saturating_sub(offset)) as usize;
        if n == 0 {
            return Err(Error::read_failed(format!("{addr:#x} is past the end of {}", mapping.path)));
        }
        file.read_exact_at(offset, &mut out[..n])?;
        Ok(n)
    }
}

impl Memory for CoreMemory {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        if addr.checked_add(buf.len() as u64).is_none() {
            return Err(Error::read_failed(format!("{} bytes at {addr:#x} wrap around the address space", buf.len())));
        }
        let mut done = 0;
        while done < buf.len() {
            done += self.read_piece(addr + done as u64, &mut buf[done..])?;
        }
        Ok(())
    }
}

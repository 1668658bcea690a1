//! Bytes of a file by offset, never the whole file: a core can be larger than the address space
//! that reads it (wasm32 has 4 GiB). Natively a source is a file read with `pread`; in WASM a JS
//! callback over a file or a browser `File`; in tests a slice.

use std::cell::RefCell;
use std::io::{Read, Seek, SeekFrom};

use crate::{Error, Result};

/// Random access to a file's bytes.
pub trait ByteSource {
    fn len(&self) -> u64;
    /// Fill `buf` from `offset`; all or nothing (an error past the end).
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()>;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ByteSource for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let start = usize::try_from(offset).map_err(|_| past_end(offset, buf.len()))?;
        let bytes =
            start.checked_add(buf.len()).and_then(|end| self.get(start..end)).ok_or_else(|| past_end(offset, buf.len()))?;
        buf.copy_from_slice(bytes);
        Ok(())
    }
}

impl ByteSource for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.as_slice().read_exact_at(offset, buf)
    }
}

fn past_end(offset: u64, len: usize) -> Error {
    Error::read_failed(format!("{len} bytes at offset {offset:#x} are past the end of the file"))
}

/// A source read in aligned chunks, the last few kept: the walkers read many small structs that
/// sit close together, and each read of the source may be a system call or a call into JS.
pub struct ChunkedSource<S> {
    source: S,
    chunks: RefCell<Chunks>,
    max_chunks: usize,
}

const CHUNK_BYTES: usize = 64 * 1024;
/// 4 MiB at most, whatever the size of the file.
pub const MAX_CHUNKS: usize = 64;

#[derive(Default)]
struct Chunks {
    /// (chunk index, bytes, last use); a chunk at the end of the file is shorter.
    kept: Vec<(u64, Box<[u8]>, u64)>,
    clock: u64,
}

impl<S: ByteSource> ChunkedSource<S> {
    pub fn new(source: S) -> Self {
        Self::with_chunks(source, MAX_CHUNKS)
    }

    /// Keeps at most `max_chunks` chunks of 64 KiB.
    pub fn with_chunks(source: S, max_chunks: usize) -> Self {
        ChunkedSource { source, chunks: RefCell::new(Chunks::default()), max_chunks: max_chunks.max(1) }
    }

    pub fn inner(&self) -> &S {
        &self.source
    }

    fn read_through_chunks(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset + done as u64;
            let index = at / CHUNK_BYTES as u64;
            let within = (at % CHUNK_BYTES as u64) as usize;
            let mut chunks = self.chunks.borrow_mut();
            chunks.clock += 1;
            let clock = chunks.clock;
            let slot = match chunks.kept.iter().position(|(i, _, _)| *i == index) {
                Some(slot) => slot,
                None => {
                    let start = index * CHUNK_BYTES as u64;
                    let len = (self.source.len().saturating_sub(start)).min(CHUNK_BYTES as u64) as usize;
                    let mut bytes = vec![0u8; len].into_boxed_slice();
                    self.source.read_exact_at(start, &mut bytes)?;
                    if chunks.kept.len() < self.max_chunks {
                        chunks.kept.push((index, bytes, clock));
                        chunks.kept.len() - 1
                    } else {
                        let oldest = chunks.kept.iter().enumerate().min_by_key(|(_, c)| c.2).map_or(0, |(i, _)| i);
                        chunks.kept[oldest] = (index, bytes, clock);
                        oldest
                    }
                }
            };
            chunks.kept[slot].2 = clock;
            let bytes = &chunks.kept[slot].1;
            let n = (buf.len() - done).min(bytes.len().saturating_sub(within));
            if n == 0 {
                return Err(past_end(at, buf.len() - done));
            }
            buf[done..done + n].copy_from_slice(&bytes[within..within + n]);
            done += n;
        }
        Ok(())
    }
}

impl<S: ByteSource> ByteSource for ChunkedSource<S> {
    fn len(&self) -> u64 {
        self.source.len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if offset.checked_add(buf.len() as u64).is_none_or(|end| end > self.source.len()) {
            return Err(past_end(offset, buf.len()));
        }
        // Big reads (the runtime scan reads a MiB at a time) would only push out what is reused.
        if buf.len() > CHUNK_BYTES / 4 {
            return self.source.read_exact_at(offset, buf);
        }
        self.read_through_chunks(offset, buf)
    }
}

impl ByteSource for Box<dyn ByteSource> {
    fn len(&self) -> u64 {
        (**self).len()
    }
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        (**self).read_exact_at(offset, buf)
    }
}

/// `Read + Seek` over a source, for the `object` crate's `ReadCache`: it parses the ELF headers
/// and notes through it, reading only those ranges.
pub(crate) struct SeekableSource<'a> {
    pub source: &'a dyn ByteSource,
    pub position: u64,
}

impl Read for SeekableSource<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.source.len().saturating_sub(self.position)).min(buf.len() as u64) as usize;
        self.source.read_exact_at(self.position, &mut buf[..n]).map_err(std::io::Error::other)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SeekableSource<'_> {
    fn seek(&mut self, position: SeekFrom) -> std::io::Result<u64> {
        let target = match position {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.source.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        self.position = target.ok_or_else(|| std::io::Error::other("seek out of range"))?;
        Ok(self.position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_reads_equal_direct_reads_across_chunk_edges_and_at_the_end() {
        let data: Vec<u8> = (0..(3 * CHUNK_BYTES + 123)).map(|i| (i * 7 % 251) as u8).collect();
        let chunked = ChunkedSource::new(data.clone());
        for (offset, len) in [(0, 8), (CHUNK_BYTES - 3, 10), (3 * CHUNK_BYTES + 100, 23), (5, CHUNK_BYTES), (1000, 16)] {
            let mut buf = vec![0u8; len];
            chunked.read_exact_at(offset as u64, &mut buf).unwrap();
            assert_eq!(buf, data[offset..offset + len]);
        }
        let mut past = [0u8; 2];
        assert!(chunked.read_exact_at(data.len() as u64 - 1, &mut past).is_err());
        assert!(chunked.read_exact_at(u64::MAX, &mut past).is_err());
    }

    #[test]
    fn the_chunk_cache_stays_bounded() {
        let data = vec![1u8; (MAX_CHUNKS + 10) * CHUNK_BYTES];
        let chunked = ChunkedSource::new(data);
        let mut b = [0u8; 4];
        for i in 0..(MAX_CHUNKS + 10) {
            chunked.read_exact_at((i * CHUNK_BYTES) as u64, &mut b).unwrap();
        }
        assert_eq!(chunked.chunks.borrow().kept.len(), MAX_CHUNKS);
    }
}

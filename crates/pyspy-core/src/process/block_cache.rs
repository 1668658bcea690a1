//! A per-sample cache of the target's memory in aligned blocks.
//!
//! Walking a stack reads many small structs that sit next to each other: 3.11+ keeps a thread's
//! interpreter frames contiguous in data-stack chunks, and older versions allocate frame objects
//! and code objects from the same pymalloc pools. Reading whole 4 KiB blocks turns hundreds of
//! small reads per sample into a handful of system calls. The cache only lives for one sample
//! (`clear` between samples): the target changes between samples, and a cached block must never
//! be taken for the present.

use std::cell::RefCell;
use std::collections::HashMap;

use super::Memory;
use crate::Result;

pub const BLOCK_SIZE: usize = 4096;

/// Buffers that outlive a sample, so a sample allocates nothing once they have grown.
#[derive(Default)]
pub struct BlockCache {
    blocks: Vec<Box<[u8; BLOCK_SIZE]>>,
    /// Block address -> index into `blocks`; `None` for a block that could not be read whole.
    index: HashMap<u64, Option<usize>>,
    used: usize,
    /// System calls made through this cache since it was created: what the benchmark counts.
    pub reads: u64,
}

impl BlockCache {
    pub fn clear(&mut self) {
        self.index.clear();
        self.used = 0;
    }

    /// A view of `inner` that reads through this cache until the view is dropped.
    pub fn over<'a>(&'a mut self, inner: &'a dyn Memory) -> CachedMemory<'a> {
        self.clear();
        CachedMemory { inner, cache: RefCell::new(self) }
    }

    /// The cached block at `block_addr`, reading it if needed; None when the whole block is not readable.
    fn block(&mut self, inner: &dyn Memory, block_addr: u64) -> Option<&[u8; BLOCK_SIZE]> {
        let slot = match self.index.get(&block_addr) {
            Some(slot) => *slot,
            None => {
                if self.used == self.blocks.len() {
                    self.blocks.push(Box::new([0u8; BLOCK_SIZE]));
                }
                self.reads += 1;
                let slot = inner.read(block_addr, &mut self.blocks[self.used][..]).is_ok().then_some(self.used);
                if slot.is_some() {
                    self.used += 1;
                }
                self.index.insert(block_addr, slot);
                slot
            }
        };
        slot.map(|i| &*self.blocks[i])
    }
}

pub struct CachedMemory<'a> {
    inner: &'a dyn Memory,
    cache: RefCell<&'a mut BlockCache>,
}

impl Memory for CachedMemory<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut cache = self.cache.borrow_mut();
        // Large reads (line tables, long strings) would only churn the cache.
        if buf.len() > BLOCK_SIZE {
            cache.reads += 1;
            return self.inner.read(addr, buf);
        }
        let mut done = 0;
        while done < buf.len() {
            let at = addr.wrapping_add(done as u64);
            let block_addr = at & !(BLOCK_SIZE as u64 - 1);
            let offset = (at - block_addr) as usize;
            let n = (BLOCK_SIZE - offset).min(buf.len() - done);
            match cache.block(self.inner, block_addr) {
                Some(block) => buf[done..done + n].copy_from_slice(&block[offset..offset + n]),
                // Part of the block is unmapped (the end of a mapping): read just what was asked.
                None => {
                    cache.reads += 1;
                    return self.inner.read(addr, buf);
                }
            }
            done += n;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, ErrorKind};

    /// A fake address space: one readable range, counting reads.
    struct Region {
        start: u64,
        data: Vec<u8>,
    }

    impl Memory for Region {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let end = addr.checked_add(buf.len() as u64).ok_or_else(|| Error::new(ErrorKind::ReadFailed, "wrap"))?;
            if addr < self.start || end > self.start + self.data.len() as u64 {
                return Err(Error::new(ErrorKind::ReadFailed, "unmapped"));
            }
            let o = (addr - self.start) as usize;
            buf.copy_from_slice(&self.data[o..o + buf.len()]);
            Ok(())
        }
    }

    #[test]
    fn small_reads_in_one_block_cost_one_read_and_return_the_right_bytes() {
        let region = Region { start: 0x10000, data: (0..3 * BLOCK_SIZE).map(|i| (i % 251) as u8).collect() };
        let mut cache = BlockCache::default();
        let memory = cache.over(&region);
        for offset in [0u64, 8, 100, 4000] {
            let mut b = [0u8; 16];
            memory.read(0x10000 + offset, &mut b).unwrap();
            assert_eq!(b[0], (offset % 251) as u8);
        }
        drop(memory);
        assert_eq!(cache.reads, 1);
    }

    #[test]
    fn a_read_across_two_blocks_is_stitched_together() {
        let region = Region { start: 0x10000, data: (0..3 * BLOCK_SIZE).map(|i| (i % 251) as u8).collect() };
        let mut cache = BlockCache::default();
        let memory = cache.over(&region);
        let mut b = [0u8; 64];
        memory.read(0x10000 + BLOCK_SIZE as u64 - 32, &mut b).unwrap();
        let expected: Vec<u8> = (BLOCK_SIZE - 32..BLOCK_SIZE + 32).map(|i| (i % 251) as u8).collect();
        assert_eq!(b[..], expected[..]);
    }

    #[test]
    fn the_edge_of_a_mapping_falls_back_to_an_exact_read() {
        // Readable from the middle of a block to the middle of the next.
        let region = Region { start: 0x10800, data: vec![7u8; BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let memory = cache.over(&region);
        let mut b = [0u8; 8];
        memory.read(0x10800, &mut b).unwrap();
        assert_eq!(b, [7u8; 8]);
        assert!(memory.read(0x10000, &mut b).is_err());
    }

    #[test]
    fn nothing_survives_into_the_next_sample() {
        let mut region = Region { start: 0x10000, data: vec![1u8; BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let mut b = [0u8; 4];
        cache.over(&region).read(0x10000, &mut b).unwrap();
        region.data[0] = 9;
        cache.over(&region).read(0x10000, &mut b).unwrap();
        assert_eq!(b[0], 9);
    }
}

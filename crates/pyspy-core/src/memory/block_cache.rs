//! A per-sample cache of the target's memory in aligned blocks.
//!
//! Walking a stack reads many small structs that sit next to each other: 3.11+ keeps a thread's
//! interpreter frames contiguous in data-stack chunks, and older versions allocate frame objects
//! and code objects from the same pymalloc pools. Reading whole 4 KiB blocks turns hundreds of
//! small reads per sample into a handful of system calls. The cache only lives for one sample
//! (`over` starts a new one): the target changes between samples, and a cached block must never
//! be taken for the present.
//!
//! What does carry over is *which* blocks a sample needed. A program's stacks move little from
//! one sample to the next, so a new sample starts by reading all of the last one's blocks in a
//! single `process_vm_readv`; only blocks it had not needed before cost a system call of their
//! own. The kernel's fixed cost per call (finding and checking the target, pinning its pages)
//! was most of the price of the one-call-per-block reads this replaces.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::{Memory, ReadRequest};
use crate::Result;

pub const BLOCK_SIZE: usize = 4096;

/// At most this many blocks (4 MiB) are read ahead, so that a sample that once touched a great
/// deal of memory (a huge stack, garbage followed under us) does not make every later one copy it
/// all. A thread costs two or three blocks (its thread state, the top of its data stack), so this
/// covers a few hundred threads: at 64, a 200-thread target read most of its blocks one system
/// call each, which was most of the sampler's time on it.
const MAX_PREFETCH: usize = 1024;

#[derive(Clone, Copy)]
struct Slot {
    /// Index into `blocks`; `None` for a block that could not be read whole.
    buffer: Option<usize>,
    /// Used by this sample (a prefetched block may turn out not to be).
    touched: bool,
}

/// Buffers that outlive a sample, so a sample allocates nothing once they have grown.
#[derive(Default)]
pub struct BlockCache {
    blocks: Vec<Box<[u8; BLOCK_SIZE]>>,
    index: FxHashMap<u64, Slot>,
    used: usize,
    /// The blocks the last sample touched: the next one reads them ahead.
    previous: Vec<u64>,
    /// System calls made through this cache since it was created: what the benchmark counts.
    pub reads: u64,
}

impl BlockCache {
    /// A view of `inner` that reads through this cache until the view is dropped; a new sample.
    pub fn over<'a>(&'a mut self, inner: &'a dyn Memory) -> CachedMemory<'a> {
        self.start_sample(inner);
        CachedMemory { inner, cache: RefCell::new(self), last: std::cell::Cell::new(None) }
    }

    fn start_sample(&mut self, inner: &dyn Memory) {
        self.previous.clear();
        self.previous.extend(self.index.iter().filter(|(_, slot)| slot.touched).map(|(&addr, _)| addr).take(MAX_PREFETCH));
        self.index.clear();
        self.used = 0;
        if self.previous.is_empty() {
            return;
        }
        while self.blocks.len() < self.previous.len() {
            self.blocks.push(Box::new([0u8; BLOCK_SIZE]));
        }
        let mut requests: Vec<ReadRequest<'_>> = self
            .previous
            .iter()
            .zip(self.blocks.iter_mut())
            .map(|(&addr, block)| ReadRequest::new(addr, &mut block[..]))
            .collect();
        self.reads += 1;
        let read = inner.read_many(&mut requests).is_ok();
        for (i, request) in requests.iter().enumerate() {
            // A block that failed now may be only partly mapped: `None` makes reads in it exact.
            self.index.insert(request.addr, Slot { buffer: (read && request.ok).then_some(i), touched: false });
        }
        self.used = self.previous.len();
    }

    /// The cached block at `block_addr`, reading it if needed; None when the whole block is not readable.
    fn block_index(&mut self, inner: &dyn Memory, block_addr: u64) -> Option<usize> {
        let buffer = match self.index.get_mut(&block_addr) {
            Some(slot) => {
                slot.touched = true;
                slot.buffer
            }
            None => {
                if self.used == self.blocks.len() {
                    self.blocks.push(Box::new([0u8; BLOCK_SIZE]));
                }
                self.reads += 1;
                let buffer = inner.read(block_addr, &mut self.blocks[self.used][..]).is_ok().then_some(self.used);
                if buffer.is_some() {
                    self.used += 1;
                }
                self.index.insert(block_addr, Slot { buffer, touched: true });
                buffer
            }
        };
        buffer
    }
}

pub struct CachedMemory<'a> {
    inner: &'a dyn Memory,
    cache: RefCell<&'a mut BlockCache>,
    /// The block the last read ended in, and its buffer: a walk reads neighbouring structs (3.11+
    /// frames are contiguous), and this skips the index's hashing for them.
    last: std::cell::Cell<Option<(u64, usize)>>,
}

impl Memory for CachedMemory<'_> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
        let mut cache = self.cache.borrow_mut();
        let offset = (addr & (BLOCK_SIZE as u64 - 1)) as usize;
        if let Some((block_addr, buffer)) = self.last.get() {
            if addr.wrapping_sub(offset as u64) == block_addr && offset + buf.len() <= BLOCK_SIZE {
                buf.copy_from_slice(&cache.blocks[buffer][offset..offset + buf.len()]);
                return Ok(());
            }
        }
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
            match cache.block_index(self.inner, block_addr) {
                Some(index) => {
                    buf[done..done + n].copy_from_slice(&cache.blocks[index][offset..offset + n]);
                    self.last.set(Some((block_addr, index)));
                }
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
        assert_eq!(memory.cache.borrow().reads, 1);
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

    #[test]
    fn a_sample_reads_the_last_samples_blocks_in_one_call_and_sees_their_new_contents() {
        let mut region = Region { start: 0x10000, data: vec![1u8; 4 * BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let mut b = [0u8; 4];
        {
            let memory = cache.over(&region);
            for block in 0..3u64 {
                memory.read(0x10000 + block * BLOCK_SIZE as u64, &mut b).unwrap();
            }
        }
        assert_eq!(cache.reads, 3);
        region.data[2 * BLOCK_SIZE] = 9;
        let memory = cache.over(&region);
        for block in 0..3u64 {
            memory.read(0x10000 + block * BLOCK_SIZE as u64, &mut b).unwrap();
        }
        assert_eq!(b[0], 9);
        // One batched read for the three blocks; none of their own. (Region has no batched
        // backend, so the default read_many reads them one by one, but through one request.)
        assert_eq!(memory.cache.borrow().reads, 4);
    }

    #[test]
    fn blocks_a_sample_did_not_use_are_not_read_ahead_again() {
        let region = Region { start: 0x10000, data: vec![1u8; 4 * BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let mut b = [0u8; 4];
        cache.over(&region).read(0x10000, &mut b).unwrap();
        cache.over(&region).read(0x10000 + BLOCK_SIZE as u64, &mut b).unwrap();
        cache.over(&region);
        assert_eq!(cache.previous, vec![0x10000 + BLOCK_SIZE as u64]);
    }

    #[test]
    fn a_prefetched_block_that_is_gone_falls_back_to_an_exact_read() {
        let mut region = Region { start: 0x10000, data: vec![1u8; 2 * BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let mut b = [0u8; 4];
        cache.over(&region).read(0x10000 + BLOCK_SIZE as u64, &mut b).unwrap();
        region.data.truncate(BLOCK_SIZE + 8);
        let memory = cache.over(&region);
        memory.read(0x10000 + BLOCK_SIZE as u64, &mut b).unwrap();
        assert!(memory.read(0x10000 + BLOCK_SIZE as u64 + 8, &mut b).is_err());
    }
}

//! A per-sample cache of the target's memory in aligned blocks.
//!
//! Walking a stack reads many small structs that sit next to each other: 3.11+ keeps a thread's
//! interpreter frames contiguous in data-stack chunks, and older versions allocate frame objects
//! and code objects from the same pymalloc pools. Reading whole 1 KiB blocks turns hundreds of
//! small reads per sample into a handful of system calls. The cache only lives for one sample
//! (`over` starts a new one): the target changes between samples, and a cached block must never
//! be taken for the present.
//!
//! What does carry over is *which* blocks a sample needed. A program's stacks move little from
//! one sample to the next, so a new sample starts by reading all of the recent ones' blocks in a
//! single `process_vm_readv`; only blocks they had not needed cost a system call of their own.
//! The kernel's fixed cost per call (finding and checking the target, pinning its pages) was
//! most of the price of the one-call-per-block reads this replaces.
//!
//! Blocks are smaller than a page because what a sample copies is what it spends its time on
//! once the calls are few: the scattered structs (thread state, interpreter, code objects) fill
//! a fraction of a 4 KiB page each, and the copy of whole pages, 52 KiB a sample of a 200-deep
//! stack, did not fit the first-level cache of the core the sampler woke up on. Neighbouring
//! blocks, such as a stack's frames, are still one range of the read.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use super::{Memory, ReadRequest};
use crate::Result;

pub const BLOCK_SIZE: usize = 1024;

/// At most this many blocks (4 MiB) are read ahead, so that a sample that once touched a great
/// deal of memory (a huge stack, garbage followed under us) does not make every later one copy it
/// all. A thread costs two or three blocks (its thread state, the top of its data stack), so this
/// covers a few hundred threads: at 64, a 200-thread target read most of its blocks one system
/// call each, which was most of the sampler's time on it.
const MAX_PREFETCH: usize = 4096;

/// A block read ahead stays in the read-ahead for this many samples that do not use it. A tick
/// samples the threads running at that moment, and on a busy target those take turns: with the
/// last sample's blocks only, each thread's blocks cost a system call of their own whenever the
/// thread was not sampled the tick before (7.6 calls a tick with 4 of 20 threads spinning). A
/// block read ahead for nothing costs a fraction of that.
const KEEP_UNUSED: u8 = 8;

#[derive(Clone, Copy)]
struct Slot {
    /// Index into `blocks`; `None` for a block that could not be read whole.
    buffer: Option<usize>,
    /// Used by this sample (a prefetched block may turn out not to be).
    touched: bool,
    /// Samples in a row before this one that did not use it.
    unused: u8,
}

/// Buffers that outlive a sample, so a sample allocates nothing once they have grown.
#[derive(Default)]
pub struct BlockCache {
    /// The blocks' buffers, one after another: block `i` is `blocks[i * BLOCK_SIZE..][..BLOCK_SIZE]`.
    /// One arena, so that neighbouring blocks of the target read ahead into neighbouring buffers
    /// and a run of them is one range of the system call.
    blocks: Vec<u8>,
    index: FxHashMap<u64, Slot>,
    used: usize,
    /// The blocks the last `KEEP_UNUSED + 1` samples touched, in address order, each with the
    /// samples since it was: the next sample reads them ahead.
    previous: Vec<(u64, u8)>,
    /// (first index into `previous`, count) of each run of neighbouring blocks in it.
    runs: Vec<(usize, usize)>,
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
        let kept = self.index.iter().filter_map(|(&addr, slot)| match slot.touched {
            true => Some((addr, 0)),
            false => (slot.unused < KEEP_UNUSED).then_some((addr, slot.unused + 1)),
        });
        self.previous.extend(kept.take(MAX_PREFETCH));
        self.index.clear();
        self.used = 0;
        if self.previous.is_empty() {
            return;
        }
        // In address order, a run of neighbouring blocks (a deep stack's frames are contiguous)
        // is one remote range: the kernel looks up and pins each range's pages in one go, and
        // doing that per block cost a quarter of the read of a 200-deep stack.
        self.previous.sort_unstable();
        self.grow_to(self.previous.len());
        runs_of(&self.previous, &mut self.runs);
        let mut requests: Vec<ReadRequest<'_>> = Vec::with_capacity(self.runs.len());
        let mut rest = &mut self.blocks[..];
        for &(first, count) in &self.runs {
            let (buf, tail) = std::mem::take(&mut rest).split_at_mut(count * BLOCK_SIZE);
            rest = tail;
            requests.push(ReadRequest::new(self.previous[first].0, buf));
        }
        self.reads += 1;
        let read = inner.read_many(&mut requests).is_ok();
        let mut failed_runs = Vec::new();
        for (&(first, count), request) in self.runs.iter().zip(&requests) {
            let ok = read && request.ok;
            if !ok && count > 1 {
                failed_runs.push((first, count));
                continue;
            }
            for i in first..first + count {
                let (addr, unused) = self.previous[i];
                // A block that failed now may be only partly mapped: `None` makes reads in it exact.
                self.index.insert(addr, Slot { buffer: ok.then_some(i), touched: false, unused });
            }
        }
        drop(requests);
        // Part of a run is unmapped now: its blocks are read one by one, to keep the others.
        for (first, count) in failed_runs {
            self.read_each(inner, first, count);
        }
        self.used = self.previous.len();
    }

    /// Blocks `first..first + count` of `previous`, each a request of its own.
    fn read_each(&mut self, inner: &dyn Memory, first: usize, count: usize) {
        let buffers = &mut self.blocks[first * BLOCK_SIZE..(first + count) * BLOCK_SIZE];
        let mut requests: Vec<ReadRequest<'_>> = buffers
            .chunks_exact_mut(BLOCK_SIZE)
            .zip(&self.previous[first..first + count])
            .map(|(buf, &(addr, _))| ReadRequest::new(addr, buf))
            .collect();
        self.reads += 1;
        let read = inner.read_many(&mut requests).is_ok();
        for (i, request) in (first..first + count).zip(&requests) {
            let (addr, unused) = self.previous[i];
            self.index.insert(addr, Slot { buffer: (read && request.ok).then_some(i), touched: false, unused });
        }
    }

    fn grow_to(&mut self, blocks: usize) {
        if self.blocks.len() < blocks * BLOCK_SIZE {
            self.blocks.resize(blocks * BLOCK_SIZE, 0);
        }
    }

    fn block(&self, index: usize) -> &[u8] {
        &self.blocks[index * BLOCK_SIZE..(index + 1) * BLOCK_SIZE]
    }

    /// The cached block at `block_addr`, reading it if needed; None when the whole block is not readable.
    fn block_index(&mut self, inner: &dyn Memory, block_addr: u64) -> Option<usize> {
        let buffer = match self.index.get_mut(&block_addr) {
            Some(slot) => {
                slot.touched = true;
                slot.buffer
            }
            None => {
                let index = self.used;
                self.grow_to(index + 1);
                self.reads += 1;
                let buffer = inner
                    .read(block_addr, &mut self.blocks[index * BLOCK_SIZE..(index + 1) * BLOCK_SIZE])
                    .is_ok()
                    .then_some(index);
                if buffer.is_some() {
                    self.used += 1;
                }
                self.index.insert(block_addr, Slot { buffer, touched: true, unused: 0 });
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
                buf.copy_from_slice(&cache.block(buffer)[offset..offset + buf.len()]);
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
                    buf[done..done + n].copy_from_slice(&cache.block(index)[offset..offset + n]);
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

/// (first index, length) of each run of consecutive blocks in `sorted`, into `runs`.
fn runs_of(sorted: &[(u64, u8)], runs: &mut Vec<(usize, usize)>) {
    runs.clear();
    for (i, &(addr, _)) in sorted.iter().enumerate() {
        match runs.last_mut() {
            Some((first, count)) if sorted[*first + *count - 1].0.wrapping_add(BLOCK_SIZE as u64) == addr => *count += 1,
            _ => runs.push((i, 1)),
        }
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
        for offset in [0u64, 8, 100, BLOCK_SIZE as u64 - 16] {
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
        let middle = 0x10000 + BLOCK_SIZE as u64 / 2;
        let region = Region { start: middle, data: vec![7u8; BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let memory = cache.over(&region);
        let mut b = [0u8; 8];
        memory.read(middle, &mut b).unwrap();
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

    /// `Region`, recording the length of each request of each `read_many`.
    struct Ranges(Region, RefCell<Vec<Vec<usize>>>);

    impl Memory for Ranges {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            self.0.read(addr, buf)
        }
        fn read_many(&self, requests: &mut [ReadRequest<'_>]) -> Result<()> {
            self.1.borrow_mut().push(requests.iter().map(|r| r.buf.len()).collect());
            for request in requests.iter_mut() {
                request.ok = self.0.read(request.addr, request.buf).is_ok();
            }
            Ok(())
        }
    }

    #[test]
    fn neighbouring_blocks_are_read_ahead_as_one_range_and_a_gone_one_does_not_spoil_the_rest() {
        let data: Vec<u8> = (0..6 * BLOCK_SIZE).map(|i| (i / BLOCK_SIZE) as u8).collect();
        let mut ranges = Ranges(Region { start: 0x10000, data }, RefCell::new(Vec::new()));
        let mut cache = BlockCache::default();
        let mut b = [0u8; 1];
        let block = |i: u64| 0x10000 + i * BLOCK_SIZE as u64;
        {
            // Out of order, as a walk meets them: blocks 4, 0, 1, 2.
            let memory = cache.over(&ranges);
            for i in [4, 0, 1, 2] {
                memory.read(block(i), &mut b).unwrap();
            }
        }
        {
            let before = cache.reads;
            let memory = cache.over(&ranges);
            assert_eq!(*ranges.1.borrow(), [vec![3 * BLOCK_SIZE, BLOCK_SIZE]]);
            for i in [4, 0, 1, 2] {
                memory.read(block(i) + 5, &mut b).unwrap();
                assert_eq!(b[0], i as u8);
            }
            assert_eq!(memory.cache.borrow().reads, before + 1);
        }
        // Block 2 is unmapped now: blocks 0 and 1 still come from the read ahead.
        ranges.0.data.truncate(2 * BLOCK_SIZE);
        ranges.1.borrow_mut().clear();
        let memory = cache.over(&ranges);
        assert_eq!(*ranges.1.borrow(), [vec![3 * BLOCK_SIZE, BLOCK_SIZE], vec![BLOCK_SIZE; 3]]);
        let reads = memory.cache.borrow().reads;
        memory.read(block(1), &mut b).unwrap();
        assert_eq!((b[0], memory.cache.borrow().reads), (1, reads));
        assert!(memory.read(block(2), &mut b).is_err());
    }

    #[test]
    fn a_block_is_read_ahead_until_that_many_samples_in_a_row_did_not_use_it() {
        let region = Region { start: 0x10000, data: vec![1u8; 4 * BLOCK_SIZE] };
        let mut cache = BlockCache::default();
        let mut b = [0u8; 4];
        let (first, second) = (0x10000, 0x10000 + BLOCK_SIZE as u64);
        cache.over(&region).read(first, &mut b).unwrap();
        cache.over(&region).read(second, &mut b).unwrap();
        for unused in 1..=KEEP_UNUSED {
            cache.over(&region).read(second, &mut b).unwrap();
            assert_eq!(cache.previous, [(first, unused), (second, 0)]);
        }
        // Used again in time: back to the start.
        cache.over(&region).read(first, &mut b).unwrap();
        cache.over(&region);
        assert_eq!(cache.previous, [(first, 0), (second, 1)]);
        for _ in 0..KEEP_UNUSED {
            cache.over(&region);
        }
        assert_eq!(cache.previous, [(first, KEEP_UNUSED)]);
        cache.over(&region);
        assert!(cache.previous.is_empty());
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

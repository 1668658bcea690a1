//! A target's address space as bytes: the `Memory` trait every walker reads through, and the
//! little-endian decoding of what it returns. Where the bytes come from (a live process, a core
//! file, a planted image) is someone else's business, so the walkers run anywhere, WASM included.

pub mod block_cache;

pub use block_cache::{BlockCache, CachedMemory};

use crate::Result;

/// Read access to a target's address space.
pub trait Memory {
    /// Fill `buf` from `addr`; all or nothing.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()>;

    /// Fill several buffers in as few system calls as the backend can.
    /// Returns, per request, whether it was filled completely; a failure of one does not stop the others.
    fn read_many(&self, requests: &mut [ReadRequest<'_>]) -> Result<()> {
        for request in requests.iter_mut() {
            request.ok = self.read(request.addr, request.buf).is_ok();
        }
        Ok(())
    }
}

pub struct ReadRequest<'a> {
    pub addr: u64,
    pub buf: &'a mut [u8],
    pub ok: bool,
}

impl<'a> ReadRequest<'a> {
    pub fn new(addr: u64, buf: &'a mut [u8]) -> Self {
        ReadRequest { addr, buf, ok: false }
    }
}

/// Convenience reads of plain values on top of `Memory`. Little-endian x86_64/aarch64 only.
pub trait MemoryExt: Memory {
    fn read_u64(&self, addr: u64) -> Result<u64> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn read_i32(&self, addr: u64) -> Result<i32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(i32::from_le_bytes(b))
    }
    fn read_u32(&self, addr: u64) -> Result<u32> {
        let mut b = [0u8; 4];
        self.read(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
}

impl<T: Memory + ?Sized> MemoryExt for T {}

/// One 8-byte word at each address, in one batch: None where that read failed.
pub fn read_words(memory: &dyn Memory, addrs: impl Iterator<Item = u64>) -> Vec<Option<u64>> {
    let addrs: Vec<u64> = addrs.collect();
    let mut bufs = vec![[0u8; 8]; addrs.len()];
    let mut requests: Vec<ReadRequest<'_>> =
        addrs.iter().zip(bufs.iter_mut()).map(|(&addr, buf)| ReadRequest::new(addr, buf)).collect();
    if memory.read_many(&mut requests).is_err() {
        return vec![None; addrs.len()];
    }
    let ok: Vec<bool> = requests.iter().map(|r| r.ok).collect();
    drop(requests);
    bufs.iter().zip(ok).map(|(b, ok)| ok.then(|| u64::from_le_bytes(*b))).collect()
}

/// Little-endian field access into a buffer read from the target. Out-of-range reads give 0:
/// the target changes under us, and a short struct must not panic the walker.
pub fn field_u64(buf: &[u8], offset: u32) -> u64 {
    let o = offset as usize;
    buf.get(o..o + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
}

pub fn field_i64(buf: &[u8], offset: u32) -> i64 {
    field_u64(buf, offset) as i64
}

pub fn field_u32(buf: &[u8], offset: u32) -> u32 {
    let o = offset as usize;
    buf.get(o..o + 4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
}

pub fn field_i32(buf: &[u8], offset: u32) -> i32 {
    field_u32(buf, offset) as i32
}

pub fn field_u8(buf: &[u8], offset: u32) -> u8 {
    buf.get(offset as usize).copied().unwrap_or(0)
}

pub fn field_f64_bits(buf: &[u8], offset: u32) -> u64 {
    field_u64(buf, offset)
}

/// `base + offset` in the target's address space. Wraps instead of panicking: a pointer read from
/// a target that changed under us can be anything, and the read at the result simply fails.
pub fn at(base: u64, offset: u32) -> u64 {
    base.wrapping_add(u64::from(offset))
}

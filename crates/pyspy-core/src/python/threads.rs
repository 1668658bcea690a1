//! Interpreters -> thread states: ids, the frame each one is in, and who holds the GIL.

use crate::memory::{at, field_u64, Memory, MemoryExt};
use crate::python::layout::Layout;
use crate::Result;

/// Guards against a cyclic or garbage list in a target that changes under us.
const MAX_INTERPRETERS: usize = 256;
const MAX_THREADS: usize = 65_536;

/// glibc on x86_64 keeps the kernel TID at this offset in `struct pthread` (after the 0x2c0-byte
/// TCB header and the `list` node); pthread_t is that struct's address. Checked against the
/// task list before use, with a scan as fallback.
const GLIBC_PTHREAD_TID_OFFSET: u64 = 0x2d0;

#[derive(Debug, Clone)]
pub struct PyThread {
    pub tstate: u64,
    pub interp: u64,
    /// `threading.get_ident()`.
    pub python_thread_id: u64,
    /// Kernel TID; 0 when it could not be mapped.
    pub native_thread_id: u32,
    /// Innermost frame (a PyFrameObject* or _PyInterpreterFrame*), 0 when idle in C.
    pub frame: u64,
    pub owns_gil: bool,
}

/// `runtime_addr` is `_PyRuntime`'s address (2.7, 3.6: `interp_head`'s); `tstate_current_addr`
/// that of 2.7's and 3.6's `_PyThreadState_Current` (see `Python`), where the GIL holder is kept
/// outside a runtime.
pub fn read_threads(
    memory: &dyn Memory,
    layout: &Layout,
    runtime_addr: u64,
    tstate_current_addr: Option<u64>,
    tids: &[u32],
) -> Result<Vec<PyThread>> {
    let mut threads = Vec::new();
    // 2.7-3.11: one global says which thread state holds the GIL (NULL while released).
    let gil_holder_pre312 = match layout.runtime_tstate_current.map(|offset| at(runtime_addr, offset)).or(tstate_current_addr) {
        Some(addr) => Some(memory.read_u64(addr)?),
        None => None,
    };
    let mut tstate_buf = vec![0u8; tstate_read_len(layout)];

    let mut interp = memory.read_u64(at(runtime_addr, layout.runtime_interpreters_head))?;
    // Lists that loop back on themselves (a target rewriting them under us) end at the first repeat.
    let mut seen = rustc_hash::FxHashSet::default();
    let mut interpreters = 0;
    while interp != 0 && interpreters < MAX_INTERPRETERS && seen.insert(interp) {
        interpreters += 1;
        let gil_holder = match gil_holder_pre312 {
            Some(holder) => holder,
            None => gil_holder(memory, layout, interp).unwrap_or(0),
        };
        let mut tstate = memory.read_u64(at(interp, layout.interp_threads_head))?;
        while tstate != 0 && threads.len() < MAX_THREADS && seen.insert(tstate) {
            let (thread, next) = read_thread_state(memory, layout, tstate, interp, gil_holder, tids, &mut tstate_buf)?;
            threads.push(thread);
            tstate = next;
        }
        interp = memory.read_u64(at(interp, layout.interp_next))?;
    }
    Ok(threads)
}

/// The head of each interpreter's thread-state list, in order. CPython puts a new thread state
/// at the head of its interpreter's list, so while these stay the same no thread state was added
/// (one that replaced a freed head at the same address is caught by `read_known_threads`, or by
/// the walk a sampler repeats now and then): a sampler can read the threads it knows again
/// instead of walking every thread state of a process with hundreds.
pub fn thread_list_heads(memory: &dyn Memory, layout: &Layout, runtime_addr: u64) -> Result<Vec<u64>> {
    let mut heads = Vec::new();
    let mut interp = memory.read_u64(at(runtime_addr, layout.runtime_interpreters_head))?;
    while interp != 0 && heads.len() < MAX_INTERPRETERS {
        heads.push(memory.read_u64(at(interp, layout.interp_threads_head))?);
        interp = memory.read_u64(at(interp, layout.interp_next))?;
    }
    Ok(heads)
}

/// The threads of `known` (from an earlier `read_threads`) read again, without walking the others:
/// None for one whose thread state no longer is that thread's (it ended; the memory was reused).
/// What lets a sample of a few threads of many cost what those few cost.
pub fn read_known_threads(
    memory: &dyn Memory,
    layout: &Layout,
    runtime_addr: u64,
    tstate_current_addr: Option<u64>,
    known: &[PyThread],
    tids: &[u32],
) -> Result<Vec<Option<PyThread>>> {
    let gil_holder_pre312 = match layout.runtime_tstate_current.map(|offset| at(runtime_addr, offset)).or(tstate_current_addr) {
        Some(addr) => Some(memory.read_u64(addr)?),
        None => None,
    };
    let mut holders = rustc_hash::FxHashMap::default();
    let mut tstate_buf = vec![0u8; tstate_read_len(layout)];
    Ok(known
        .iter()
        .map(|was| {
            let gil_holder = *holders
                .entry(was.interp)
                .or_insert_with(|| gil_holder_pre312.unwrap_or_else(|| gil_holder(memory, layout, was.interp).unwrap_or(0)));
            let (now, _) = read_thread_state(memory, layout, was.tstate, was.interp, gil_holder, tids, &mut tstate_buf).ok()?;
            let same = now.python_thread_id == was.python_thread_id
                && now.native_thread_id == was.native_thread_id
                && field_u64(&tstate_buf, layout.tstate_interp) == was.interp;
            same.then_some(now)
        })
        .collect())
}

fn tstate_read_len(layout: &Layout) -> usize {
    [
        layout.tstate_next,
        layout.tstate_interp,
        layout.tstate_frame,
        layout.tstate_thread_id,
        layout.tstate_native_thread_id.unwrap_or(0),
    ]
    .into_iter()
    .max()
    .unwrap_or(0) as usize
        + 8
}

/// One thread state and the address of the next one in its interpreter's list.
fn read_thread_state(
    memory: &dyn Memory,
    layout: &Layout,
    tstate: u64,
    interp: u64,
    gil_holder: u64,
    tids: &[u32],
    tstate_buf: &mut [u8],
) -> Result<(PyThread, u64)> {
    memory.read(tstate, tstate_buf)?;
    let mut frame = field_u64(tstate_buf, layout.tstate_frame);
    if let (Some(current_frame), true) = (layout.cframe_current_frame, frame != 0) {
        frame = memory.read_u64(at(frame, current_frame))?;
    }
    let python_thread_id = field_u64(tstate_buf, layout.tstate_thread_id);
    let native_thread_id = match layout.tstate_native_thread_id {
        Some(offset) => field_u64(tstate_buf, offset) as u32,
        None => tid_from_pthread(memory, python_thread_id, tids).unwrap_or(0),
    };
    let thread =
        PyThread { tstate, interp, python_thread_id, native_thread_id, frame, owns_gil: gil_holder != 0 && gil_holder == tstate };
    Ok((thread, field_u64(tstate_buf, layout.tstate_next)))
}

/// 3.12+: each interpreter points at a GIL; its `last_holder` only means something while `locked`.
/// A free-threaded build's GIL is off unless something turned it on (`enabled`), and while off
/// `locked` and `last_holder` are stale, not released: no thread holds a GIL then.
fn gil_holder(memory: &dyn Memory, layout: &Layout, interp: u64) -> Result<u64> {
    let Some(gil_ptr_offset) = layout.interp_gil_ptr else { return Ok(0) };
    let gil = memory.read_u64(at(interp, gil_ptr_offset))?;
    if gil == 0 {
        return Ok(0);
    }
    if let Some(enabled) = layout.gil_enabled {
        if memory.read_i32(at(gil, enabled))? == 0 {
            return Ok(0);
        }
    }
    let locked = memory.read_i32(at(gil, layout.gil_locked))?;
    if locked == 0 {
        return Ok(0);
    }
    memory.read_u64(at(gil, layout.gil_last_holder))
}

/// Before 3.11 thread states only know the pthread_t; glibc keeps the TID inside the pthread struct.
fn tid_from_pthread(memory: &dyn Memory, pthread: u64, tids: &[u32]) -> Option<u32> {
    if pthread == 0 {
        return None;
    }
    if let Ok(tid) = memory.read_u32(pthread.wrapping_add(GLIBC_PTHREAD_TID_OFFSET)) {
        if tids.contains(&tid) {
            return Some(tid);
        }
    }
    // Another libc (or glibc build) puts it elsewhere: look for a word in the struct that is one of the target's TIDs.
    let block = memory.read_vec(pthread, 2048).ok()?;
    block.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).find(|v| *v > 1 && tids.contains(v))
}

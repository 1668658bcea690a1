//! Walking one thread's frames, innermost first, for both frame models.

use crate::memory::{field_i32, field_u64, field_u8, Memory};
use crate::python::layout::{FrameModel, Layout, LineTable};
use crate::Result;

/// Deeper than any real program (CPython's default recursion limit is 1000); past this we assume
/// we are following garbage the target rewrote under us.
pub const MAX_DEPTH: usize = 16_384;

/// 3.12+: frames with an owner at or above this value belong to the C stack or to the interpreter
/// itself (3.12-3.13 FRAME_OWNED_BY_CSTACK = 3; 3.14 adds FRAME_OWNED_BY_INTERPRETER), not to Python code.
const FIRST_NON_PYTHON_OWNER: u8 = 3;

/// 3.14+ stores `f_executable` as a `_PyStackRef` whose low bits are tags.
pub const STACKREF_TAG_MASK: u64 = 0b11;

#[derive(Debug, Clone, Copy)]
pub enum InstructionPosition {
    /// Byte offset into the code's instructions (3.8-3.10, from f_lasti).
    Offset(i64),
    /// Pointer to the current instruction (3.11+), resolved against the code's address.
    Pointer(u64),
}

impl InstructionPosition {
    /// The position as one number, to tell whether a frame moved since it was last read: one
    /// layout has one kind of position.
    pub fn key(self) -> u64 {
        match self {
            InstructionPosition::Offset(offset) => offset as u64,
            InstructionPosition::Pointer(pointer) => pointer,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RawFrame {
    pub frame_addr: u64,
    pub code_addr: u64,
    pub position: InstructionPosition,
    /// The first frame its C eval call ran: `--native` replaces that call's C frame with this
    /// frame and the ones inside it up to the previous entry frame. Always so before 3.11 (a
    /// call a frame); 3.11 keeps a flag; 3.12+ put a shim frame right outside it.
    pub is_entry: bool,
    /// 3.12+, on an entry frame: the address of the shim frame outside it, a local variable of
    /// the C eval call that runs it, so an address on that call's C stack. Finds the call's
    /// native frame without symbols (stripped builds name few of the eval loop's parts).
    pub c_stack_anchor: Option<u64>,
    /// 3.11: the frame has run no instruction yet (`prev_instr` still one unit before its
    /// code). Its eval call may already have linked it without setting `is_entry` yet: that
    /// call's `_PyCFrame.current_frame` is read before it is written, and a frame pushed at the
    /// same address by the previous identical call is what it holds.
    pub fresh: bool,
}

impl RawFrame {
    /// Byte offset of the current instruction, given where the code's instructions start.
    pub fn byte_offset(&self, instructions_addr: u64) -> i64 {
        match self.position {
            InstructionPosition::Offset(o) => o,
            InstructionPosition::Pointer(p) => p.wrapping_sub(instructions_addr) as i64,
        }
    }
}

/// Buffers a walk reuses from one sample to the next.
#[derive(Default)]
pub struct WalkScratch {
    frame: Vec<u8>,
}

/// From the thread state's frame pointer (already dereferenced through the cframe on 3.11-3.12).
pub fn walk(
    memory: &dyn Memory,
    layout: &Layout,
    innermost: u64,
    out: &mut Vec<RawFrame>,
    scratch: &mut WalkScratch,
) -> Result<()> {
    out.clear();
    let buf = &mut scratch.frame;
    buf.resize(layout.frame_size.max(layout.frame_back + 8) as usize, 0);
    // A chain the target rewrote under us may loop. Brent's method finds a loop without a set
    // of every address seen (hashing each frame was a tenth of a deep sample's cost): compare
    // with a checkpoint that moves to the current frame after 1, 2, 4, ... steps; once inside
    // the loop, a whole lap passes the checkpoint. The frames of up to two laps are returned.
    let (mut checkpoint, mut lap, mut steps) = (0u64, 1usize, 0usize);
    let mut addr = innermost;
    while addr != 0 {
        if out.len() >= MAX_DEPTH || addr == checkpoint {
            break;
        }
        steps += 1;
        if steps == lap {
            (checkpoint, lap, steps) = (addr, lap * 2, 0);
        }
        memory.read(addr, buf)?;
        let code_addr = field_u64(buf, layout.frame_code) & !STACKREF_TAG_MASK;
        let next = field_u64(buf, layout.frame_back);
        let python_frame = layout.frame_owner.is_none_or(|o| field_u8(buf, o) < FIRST_NON_PYTHON_OWNER);
        if !python_frame {
            // 3.12+: the shim an eval call pushes outside the first frame it runs.
            if let Some(entered) = out.last_mut().filter(|f| !f.is_entry) {
                entered.is_entry = true;
                entered.c_stack_anchor = Some(addr);
            }
        } else if code_addr != 0 {
            let position = match layout.frame_model {
                FrameModel::FrameObject => {
                    let lasti = i64::from(field_i32(buf, layout.frame_instr));
                    // 3.10 counts f_lasti in 2-byte code units; 3.8-3.9 in bytes.
                    let scale = if layout.line_table == LineTable::Linetable310 && lasti >= 0 { 2 } else { 1 };
                    InstructionPosition::Offset(lasti * scale)
                }
                FrameModel::InterpreterFrame => InstructionPosition::Pointer(field_u64(buf, layout.frame_instr)),
            };
            // Frame objects (before 3.11) are a C call each; 3.12+ learn it from the next frame out.
            let is_entry = match layout.frame_is_entry {
                Some(offset) => field_u8(buf, offset) != 0,
                None => layout.frame_owner.is_none(),
            };
            let fresh = match (layout.frame_is_entry, layout.code_code_adaptive, position) {
                (Some(_), Some(code), InstructionPosition::Pointer(prev_instr)) => {
                    prev_instr.wrapping_add(2) == code_addr.wrapping_add(u64::from(code))
                }
                _ => false,
            };
            out.push(RawFrame { frame_addr: addr, code_addr, position, is_entry, c_stack_anchor: None, fresh });
        }
        addr = next;
    }
    // The outermost frame was entered from C, whatever marks it (when the chain really ended).
    if let Some(outermost) = out.last_mut().filter(|_| addr == 0) {
        outermost.is_entry = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::layouts;

    /// Frames at 0x1000 + 0x100 * i, each linked to the next.
    struct Frames(Vec<u8>);

    impl Memory for Frames {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<()> {
            let start = (addr - 0x1000) as usize;
            buf.copy_from_slice(&self.0[start..start + buf.len()]);
            Ok(())
        }
    }

    /// (owner, is_entry) per frame, innermost first.
    fn plant(layout: &Layout, frames: &[(u8, bool)]) -> Frames {
        let mut bytes = vec![0u8; 0x100 * (frames.len() + 1)];
        for (i, &(owner, is_entry)) in frames.iter().enumerate() {
            let base = 0x100 * i;
            let put = |bytes: &mut Vec<u8>, offset: u32, value: u64| {
                bytes[base + offset as usize..base + offset as usize + 8].copy_from_slice(&value.to_le_bytes())
            };
            put(&mut bytes, layout.frame_code, 0x9000 + i as u64 * 8);
            let next = if i + 1 < frames.len() { 0x1000 + 0x100 * (i as u64 + 1) } else { 0 };
            put(&mut bytes, layout.frame_back, next);
            if let Some(o) = layout.frame_owner {
                bytes[base + o as usize] = owner;
            }
            if let Some(o) = layout.frame_is_entry {
                bytes[base + o as usize] = u8::from(is_entry);
            }
        }
        Frames(bytes)
    }

    fn entries(minor: u8, frames: &[(u8, bool)]) -> Vec<(bool, Option<u64>)> {
        let layout = layouts::layout_for(crate::python::layout::Build { major: 3, minor, free_threaded: false }).unwrap();
        let mut out = Vec::new();
        walk(&plant(layout, frames), layout, 0x1000, &mut out, &mut WalkScratch::default()).unwrap();
        out.iter().map(|f| (f.is_entry, f.c_stack_anchor)).collect()
    }

    #[test]
    fn entry_frames_come_from_the_flag_on_3_11_and_from_the_shim_outside_them_on_3_12() {
        // py_spin (entered from C), python_side, <module> (entered from C).
        let on_311 = entries(11, &[(0, true), (0, false), (0, true)]);
        assert_eq!(on_311, [(true, None), (false, None), (true, None)]);
        // The same with each eval call's shim (owner 3) outside its first frame.
        let on_312 = entries(12, &[(0, false), (3, false), (0, false), (0, false), (3, false)]);
        assert_eq!(on_312, [(true, Some(0x1100)), (false, None), (true, Some(0x1400))]);
        // Before 3.11 every frame is a C call of its own.
        assert_eq!(entries(10, &[(0, false), (0, false)]), [(true, None), (true, None)]);
    }
}

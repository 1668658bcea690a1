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

#[derive(Debug, Clone, Copy)]
pub struct RawFrame {
    pub frame_addr: u64,
    pub code_addr: u64,
    pub position: InstructionPosition,
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
        if python_frame && code_addr != 0 {
            let position = match layout.frame_model {
                FrameModel::FrameObject => {
                    let lasti = i64::from(field_i32(buf, layout.frame_instr));
                    // 3.10 counts f_lasti in 2-byte code units; 3.8-3.9 in bytes.
                    let scale = if layout.line_table == LineTable::Linetable310 && lasti >= 0 { 2 } else { 1 };
                    InstructionPosition::Offset(lasti * scale)
                }
                FrameModel::InterpreterFrame => InstructionPosition::Pointer(field_u64(buf, layout.frame_instr)),
            };
            out.push(RawFrame { frame_addr: addr, code_addr, position });
        }
        addr = next;
    }
    Ok(())
}

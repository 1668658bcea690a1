//! One unwind step that framehop cannot take: a frame whose CFI computes the canonical frame
//! address with a DWARF expression (`DW_CFA_def_cfa_expression`). OpenSSL's assembly does this
//! where it realigns the stack (`bn_mul_mont`, the SHA-2 kernels: `.cfi_cfa_expression
//! %rsp+40,deref,+8`), and every EC signature of `cryptography` spends time there. The expression
//! is evaluated with gimli over the registers we know: all of them in the innermost frame (what
//! ptrace gave), the stack and frame pointers in the others.

use std::sync::Arc;

use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, EndianSlice, FrameDescriptionEntry, LittleEndian, RegisterRule, UnwindContext,
    UnwindSection, Value,
};

/// A module's `.eh_frame` (and its sorted index) as gimli reads them.
pub(crate) struct CfiTables {
    pub eh_frame: Arc<[u8]>,
    pub eh_frame_hdr: Arc<[u8]>,
    pub bases: BaseAddresses,
    /// avma = svma + bias.
    pub bias: u64,
}

/// The caller's frame, as one step found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallerFrame {
    pub return_address: u64,
    /// The CFA: the stack pointer right after the call returns.
    pub sp: u64,
    /// The frame pointer the caller had, where the CFI says where it was saved.
    pub fp: Option<u64>,
}

/// DWARF register numbers the step needs (x86_64: RA 16, RBP 6).
pub(crate) struct StepRegisters {
    pub return_address: u16,
    pub frame_pointer: u16,
}

const MAX_EVALUATION_STEPS: usize = 64;

impl CfiTables {
    /// Whether an FDE covers `pc`: hand-written assembly often has none (OpenBLAS's kernels).
    pub fn covers(&self, pc: u64) -> bool {
        self.fde(pc.wrapping_sub(self.bias)).is_some()
    }

    /// The FDE for `svma`, found through `.eh_frame_hdr`'s sorted table.
    fn fde(&self, svma: u64) -> Option<FrameDescriptionEntry<EndianSlice<'_, LittleEndian>>> {
        let eh_frame = EhFrame::new(&self.eh_frame, LittleEndian);
        let hdr = EhFrameHdr::new(&self.eh_frame_hdr, LittleEndian).parse(&self.bases, 8).ok()?;
        hdr.table()?.fde_for_address(&eh_frame, &self.bases, svma, EhFrame::cie_from_offset).ok()
    }

    /// One step from the frame at `pc` (an address inside the running instruction); `register`
    /// gives the value of a DWARF register in this frame where it is known, `read` a word of
    /// the stack copy.
    pub fn step(
        &self,
        pc: u64,
        numbers: &StepRegisters,
        register: &dyn Fn(u16) -> Option<u64>,
        read: &mut dyn FnMut(u64) -> Option<u64>,
    ) -> Option<CallerFrame> {
        let svma = pc.wrapping_sub(self.bias);
        let eh_frame = EhFrame::new(&self.eh_frame, LittleEndian);
        let fde = self.fde(svma)?;
        let encoding = fde.cie().encoding();
        let mut context = UnwindContext::new();
        let row = fde.unwind_info_for_address(&eh_frame, &self.bases, &mut context, svma).ok()?;
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register: r, offset } => register(r.0)?.checked_add_signed(*offset)?,
            CfaRule::Expression(expression) => {
                let expression = expression.get(&eh_frame).ok()?;
                let mut evaluation = expression.evaluation(encoding);
                let mut result = evaluation.evaluate().ok()?;
                for _ in 0..MAX_EVALUATION_STEPS {
                    result = match result {
                        gimli::EvaluationResult::Complete => break,
                        gimli::EvaluationResult::RequiresRegister { register: r, .. } => {
                            evaluation.resume_with_register(Value::Generic(register(r.0)?)).ok()?
                        }
                        gimli::EvaluationResult::RequiresMemory { address, size: 8, .. } => {
                            evaluation.resume_with_memory(Value::Generic(read(address)?)).ok()?
                        }
                        _ => return None,
                    };
                }
                match evaluation.as_result() {
                    [gimli::Piece { location: gimli::Location::Address { address }, .. }] => *address,
                    _ => return None,
                }
            }
        };
        let saved = |number: u16, read: &mut dyn FnMut(u64) -> Option<u64>| -> Option<Option<u64>> {
            // A register the row does not mention keeps its value (callee-saved, by the ABI).
            match row.register(gimli::Register(number)).unwrap_or(RegisterRule::SameValue) {
                RegisterRule::Offset(offset) => Some(Some(read(cfa.checked_add_signed(offset)?)?)),
                RegisterRule::ValOffset(offset) => Some(Some(cfa.checked_add_signed(offset)?)),
                RegisterRule::Undefined => Some(None),
                RegisterRule::SameValue => Some(register(number)),
                RegisterRule::Register(other) => Some(register(other.0)),
                _ => None,
            }
        };
        let return_address = saved(numbers.return_address, read)??;
        let fp = saved(numbers.frame_pointer, read).unwrap_or(None).or_else(|| register(numbers.frame_pointer));
        Some(CallerFrame { return_address, sp: cfa, fp })
    }
}

//! What differs between CPU architectures, and nothing else: which registers start an unwind,
//! framehop's types for the architecture, and how a signal frame stores the interrupted
//! registers. x86_64 now; aarch64 is a second implementation of `Arch`, not a rewrite.

pub mod x86_64;

use std::sync::Arc;

/// One CPU architecture as the unwinder needs it.
pub trait Arch {
    /// The registers a thread is stopped with (what ptrace or a core dump's NT_PRSTATUS gives).
    type Registers: Copy + std::fmt::Debug;
    type UnwindRegs: Copy;
    type Framehop: framehop::Unwinder<Module = framehop::Module<Arc<[u8]>>, UnwindRegs = Self::UnwindRegs, Cache = Self::Cache>
        + Default;
    type Cache: Default;

    /// Program counter and stack pointer.
    fn pc(registers: &Self::Registers) -> u64;
    fn sp(registers: &Self::Registers) -> u64;
    fn unwind_regs(registers: &Self::Registers) -> Self::UnwindRegs;
    fn unwind_regs_sp(regs: &Self::UnwindRegs) -> u64;

    /// Leaves a signal trampoline (the frame a signal handler returns into): restores the
    /// interrupted registers from the signal frame at the trampoline's stack pointer. Returns the
    /// interrupted program counter, which is not a return address (no call put it there).
    fn restore_signal_frame(regs: &mut Self::UnwindRegs, read_stack: &mut dyn FnMut(u64) -> Result<u64, ()>) -> Option<u64>;

    /// DWARF numbers of the return-address column and the frame pointer.
    const DWARF_RETURN_ADDRESS: u16;
    const DWARF_FRAME_POINTER: u16;

    /// A DWARF register's value in the frame being unwound: any register of the innermost frame
    /// (`innermost`, what the thread was stopped with), the ones framehop tracks in the others.
    fn dwarf_register(regs: &Self::UnwindRegs, innermost: Option<&Self::Registers>, number: u16) -> Option<u64>;

    /// Moves `regs` to the caller's frame: its stack pointer, its program counter (a return
    /// address) and, when known, its frame pointer.
    fn set_caller(regs: &mut Self::UnwindRegs, sp: u64, return_address: u64, fp: Option<u64>);

    /// The longest call instruction, in bytes.
    const MAX_CALL_LEN: usize = 7;
    /// Whether the bytes that end right before a candidate return address are a call: `code`
    /// holds the `MAX_CALL_LEN` bytes before it. For the stack scan of a function without CFI.
    fn call_before(code: &[u8]) -> Option<CallSite>;
}

/// A call instruction found before a return address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSite {
    /// A call to a fixed target: the return address plus this.
    Direct { displacement: i64 },
    /// Through a register or memory: the target cannot be checked.
    Indirect,
}

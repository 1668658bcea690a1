//! x86_64 (System V, Linux).

use super::Arch;
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use std::sync::Arc;

/// The registers unwinding starts from; the rest of `user_regs_struct` is not needed (framehop
/// recovers only rip, rsp and rbp, which is all that CFI for return addresses uses in practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegistersX86_64 {
    pub rip: u64,
    pub rsp: u64,
    pub rbp: u64,
}

pub struct X86_64;

/// Linux's `struct rt_sigframe` after the handler returned into the trampoline (its return
/// address popped): the stack pointer is at `uc`, a `ucontext_t` whose `uc_mcontext.gregs`
/// start after uc_flags, uc_link and the 24-byte uc_stack, in the order of <sys/ucontext.h>'s
/// REG_* (REG_RBP = 10, REG_RSP = 15, REG_RIP = 16).
const UCONTEXT_GREGS: u64 = 40;
const REG_RBP: u64 = 10;
const REG_RSP: u64 = 15;
const REG_RIP: u64 = 16;

impl Arch for X86_64 {
    type Registers = RegistersX86_64;
    type UnwindRegs = UnwindRegsX86_64;
    type Framehop = UnwinderX86_64<Arc<[u8]>>;
    type Cache = CacheX86_64;

    fn pc(registers: &RegistersX86_64) -> u64 {
        registers.rip
    }
    fn sp(registers: &RegistersX86_64) -> u64 {
        registers.rsp
    }
    fn unwind_regs(registers: &RegistersX86_64) -> UnwindRegsX86_64 {
        UnwindRegsX86_64::new(registers.rip, registers.rsp, registers.rbp)
    }
    fn unwind_regs_sp(regs: &UnwindRegsX86_64) -> u64 {
        regs.sp()
    }

    fn restore_signal_frame(regs: &mut UnwindRegsX86_64, read_stack: &mut dyn FnMut(u64) -> Result<u64, ()>) -> Option<u64> {
        let gregs = regs.sp().checked_add(UCONTEXT_GREGS)?;
        let rip = read_stack(gregs + REG_RIP * 8).ok()?;
        let rsp = read_stack(gregs + REG_RSP * 8).ok()?;
        let rbp = read_stack(gregs + REG_RBP * 8).ok()?;
        regs.set_ip(rip);
        regs.set_sp(rsp);
        regs.set_bp(rbp);
        Some(rip)
    }
}

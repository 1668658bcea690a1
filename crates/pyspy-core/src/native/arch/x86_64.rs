//! x86_64 (System V, Linux).

use super::{Arch, CallSite};
use framehop::x86_64::{CacheX86_64, UnwindRegsX86_64, UnwinderX86_64};
use std::sync::Arc;

/// The registers unwinding starts from. framehop follows rip, rsp and rbp, which is all that CFI
/// for return addresses uses in practice; the other general registers are for the rare CFI that
/// computes the frame address from them (`cfa_expression.rs`), in the innermost frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RegistersX86_64 {
    pub rip: u64,
    pub rsp: u64,
    pub rbp: u64,
    /// By DWARF number: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15; all 0 when unknown.
    pub dwarf: [u64; 16],
}

impl RegistersX86_64 {
    /// Only the three registers framehop follows.
    pub fn new(rip: u64, rsp: u64, rbp: u64) -> Self {
        RegistersX86_64 { rip, rsp, rbp, dwarf: [0; 16] }
    }
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

const DWARF_RBP: u16 = 6;
const DWARF_RSP: u16 = 7;

impl Arch for X86_64 {
    const DWARF_RETURN_ADDRESS: u16 = 16;
    const DWARF_FRAME_POINTER: u16 = DWARF_RBP;

    fn dwarf_register(regs: &UnwindRegsX86_64, innermost: Option<&RegistersX86_64>, number: u16) -> Option<u64> {
        match number {
            DWARF_RSP => Some(regs.sp()),
            DWARF_RBP => Some(regs.bp()),
            16 => Some(regs.ip()),
            n => innermost.filter(|r| r.dwarf != [0; 16]).and_then(|r| r.dwarf.get(usize::from(n)).copied()),
        }
    }

    fn set_caller(regs: &mut UnwindRegsX86_64, sp: u64, return_address: u64, fp: Option<u64>) {
        regs.set_sp(sp);
        regs.set_ip(return_address);
        if let Some(fp) = fp {
            regs.set_bp(fp);
        }
    }

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

    /// `call rel32` (e8, 5 bytes) or `call r/m64` (ff /2, 2 to 7 bytes by its ModRM and SIB;
    /// a REX prefix before it changes nothing the check needs).
    fn call_before(code: &[u8]) -> Option<CallSite> {
        let n = code.len();
        if n >= 5 && code[n - 5] == 0xe8 {
            let rel = i32::from_le_bytes(code[n - 4..].try_into().ok()?);
            return Some(CallSite::Direct { displacement: i64::from(rel) });
        }
        (2..=n.min(7)).find_map(|len| {
            let (opcode, modrm) = (code[n - len], *code.get(n - len + 1)?);
            let (mode, reg, rm) = (modrm >> 6, (modrm >> 3) & 7, modrm & 7);
            if opcode != 0xff || reg != 2 {
                return None;
            }
            let sib_base_5 = code.get(n - len + 2).is_some_and(|sib| sib & 7 == 5);
            let expected = match (mode, rm) {
                (3, _) => 2,
                (0, 4) if sib_base_5 => 7,
                (0, 4) => 3,
                (0, 5) => 6,
                (0, _) => 2,
                (1, 4) => 4,
                (1, _) => 3,
                (2, 4) => 7,
                _ => 6,
            };
            (expected == len).then_some(CallSite::Indirect)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `MAX_CALL_LEN` bytes ending with `instruction`, padded in front with bytes of no call.
    fn before(instruction: &[u8]) -> Vec<u8> {
        let mut code = vec![0x90; X86_64::MAX_CALL_LEN - instruction.len()];
        code.extend_from_slice(instruction);
        code
    }

    #[test]
    fn every_form_of_call_is_recognised_by_the_bytes_before_the_return_address() {
        // As GNU as encodes them.
        let indirect: [&[u8]; 9] = [
            &[0xff, 0xd0],                               // call *%rax
            &[0x41, 0xff, 0xd3],                         // call *%r11
            &[0xff, 0x50, 0x10],                         // call *0x10(%rax)
            &[0xff, 0x90, 0x00, 0x10, 0x00, 0x00],       // call *0x1000(%rax)
            &[0xff, 0x14, 0xd8],                         // call *(%rax,%rbx,8)
            &[0xff, 0x54, 0x24, 0x08],                   // call *0x8(%rsp)
            &[0xff, 0x94, 0x24, 0x00, 0x10, 0x00, 0x00], // call *0x1000(%rsp)
            &[0xff, 0x15, 0x20, 0x00, 0x00, 0x00],       // call *0x20(%rip)
            &[0xff, 0x14, 0xc5, 0x00, 0x00, 0x00, 0x00], // call *0x0(,%rax,8)
        ];
        for code in indirect {
            assert_eq!(X86_64::call_before(&before(code)), Some(CallSite::Indirect), "{code:02x?}");
        }
        assert_eq!(X86_64::call_before(&before(&[0xe8, 0xf0, 0xff, 0xff, 0xff])), Some(CallSite::Direct { displacement: -16 }));
    }

    #[test]
    fn other_instructions_are_no_call() {
        for code in [&[0x48, 0x89, 0xc3][..], &[0xff, 0xe0], &[0xff, 0x20], &[0xc3], &[0xff, 0x94, 0x24, 0x00, 0x10, 0x00]] {
            assert_eq!(X86_64::call_before(&before(code)), None, "{code:02x?}");
        }
    }
}

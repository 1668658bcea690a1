//! Unwinding one stopped thread: registers and a copy of the top of its stack in, return
//! addresses out. DWARF CFI from `.eh_frame` (indexed by `.eh_frame_hdr`) or `.debug_frame`
//! through framehop, which falls back to frame pointers where a module has no CFI; signal
//! frames are stepped over here, since their CFI needs memory reads that framehop does not do.
//! A function without CFI in a module that has it (hand-written assembly: OpenBLAS's GEMM
//! kernels, which realign the stack and use the frame pointer as a general register) is left by
//! scanning its stack for the return address instead.

use std::ops::Range;
use std::sync::Arc;

use framehop::{ExplicitModuleSectionInfo, FrameAddress, Unwinder as _};
use rustc_hash::FxHashMap;

use super::arch::{Arch, CallSite};
use super::cfa_expression::{CfiTables, StepRegisters};
use super::elf;
use super::modules::{ModuleChanges, ModuleId, ModuleInfo};
use super::{ImageBytes, ModuleProvider};

/// Deeper than any real native stack; past this we are following garbage.
pub const MAX_NATIVE_DEPTH: usize = 1024;

/// How far above a CFI-less function's stack pointer its return address is looked for. OpenBLAS's
/// dgemm kernel keeps 28 KiB of packed data below its return address.
const SCAN_BYTES: u64 = 64 << 10;
/// A direct call to a function without CFI starts at most this far before the running address.
const MAX_FUNCTION_BYTES: u64 = 1 << 20;
/// Addresses whose FDE presence is remembered, per target; cleared past this.
const FDE_MEMO_ENTRIES: usize = 1 << 16;

/// A copy of the top of a thread's stack: `bytes` were at `base` when the thread was stopped.
#[derive(Debug, Clone, Copy)]
pub struct StackCopy<'a> {
    pub base: u64,
    pub bytes: &'a [u8],
}

impl StackCopy<'_> {
    pub fn read_u64(&self, address: u64) -> Option<u64> {
        let start = usize::try_from(address.checked_sub(self.base)?).ok()?;
        let bytes = self.bytes.get(start..start.checked_add(8)?)?;
        Some(u64::from_le_bytes(bytes.try_into().ok()?))
    }

    fn contains(&self, address: u64) -> bool {
        address >= self.base && address - self.base < self.bytes.len() as u64
    }
}

/// How a frame's address was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameMethod {
    /// The innermost frame: the thread's program counter.
    Registers,
    /// From the callee's DWARF CFI.
    Cfi,
    /// From the frame-pointer chain: the callee's module has no CFI (or no module was found).
    /// Right for code built with frame pointers, a guess otherwise.
    FramePointer,
    /// Found by scanning the stack above a function without CFI, in a module with CFI: the first
    /// word that is a return address right after a call that can reach that function, into code
    /// with CFI (so the walk goes on by its rules).
    StackScan,
    /// The interrupted program counter saved in a signal frame.
    SignalFrame,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NativeFrame {
    /// The program counter for the innermost frame and for a frame interrupted by a signal,
    /// a return address for every other.
    pub address: u64,
    pub is_return_address: bool,
    pub method: FrameMethod,
    pub module: Option<ModuleId>,
    /// The stack pointer in this frame (for a caller, its value right after the call returns):
    /// the frame's locals are at and above it, below the next frame's.
    pub sp: u64,
    /// The signal trampoline a handler returns into (`__restore_rt`): the frame below it is the
    /// code the signal interrupted. Shown as `<signal handler called>`, as gdb does.
    pub signal_trampoline: bool,
}

impl NativeFrame {
    /// An address inside the instruction that is running: for a return address, the call
    /// before it (the return address may already be the next function, or the next line).
    pub fn lookup_address(&self) -> u64 {
        if self.is_return_address {
            self.address.saturating_sub(1)
        } else {
            self.address
        }
    }
}

/// Why unwinding stopped. Only `EndOfStack` means the stack is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnwindStop {
    /// The outermost frame said so (CFI with an undefined return address: `_start`, `clone3`).
    EndOfStack,
    /// The next step needed stack bytes beyond the copy.
    StackCopyEnded {
        address: u64,
    },
    /// A return address outside every known module: garbage, JIT code, or a module mapped
    /// after the module list was last synced.
    OutsideModules {
        address: u64,
    },
    /// The unwind rule gave something impossible (the stack pointer went backwards, no progress).
    BadFrame(String),
    MaxDepth,
}

#[derive(Debug, Clone)]
pub struct NativeStack {
    /// Innermost first.
    pub frames: Vec<NativeFrame>,
    pub stop: UnwindStop,
}

struct UnwindModule {
    id: ModuleId,
    avma: Range<u64>,
    /// Known from the mappings, tables not read yet: they are read when a stack first reaches
    /// the module, so a process with hundreds of libraries pays only for those it runs in.
    pending: Option<ModuleInfo>,
    has_cfi: bool,
    /// Signal trampolines (FDEs with the 'S' augmentation), as target addresses.
    signal_trampolines: Vec<Range<u64>>,
    /// For the steps framehop cannot take (a CFA computed by an expression).
    cfi: Option<Arc<CfiTables>>,
    /// The file, kept open to read the instruction before a return address the scan finds.
    image: Option<Box<dyn ImageBytes>>,
    segments: Vec<elf::LoadSegment>,
    bias: u64,
}

impl UnwindModule {
    fn known(id: ModuleId, avma: Range<u64>, pending: Option<ModuleInfo>) -> UnwindModule {
        UnwindModule {
            id,
            avma,
            pending,
            has_cfi: false,
            signal_trampolines: Vec::new(),
            cfi: None,
            image: None,
            segments: Vec::new(),
            bias: 0,
        }
    }

    /// The file's bytes that end right before target address `end`.
    fn code_before(&self, end: u64, buf: &mut [u8]) -> bool {
        let Some(image) = &self.image else { return false };
        let Some(start) = end.wrapping_sub(self.bias).checked_sub(buf.len() as u64) else { return false };
        let within = |s: &&elf::LoadSegment| start >= s.vaddr && start + buf.len() as u64 <= s.vaddr + s.file_size;
        self.segments.iter().find(within).is_some_and(|s| image.read_at(s.file_offset + (start - s.vaddr), buf))
    }
}

/// Unwind tables for every module of one target, each read once, when a stack first reaches the
/// module (framehop parses them lazily per address and caches the rule for each address it saw).
pub struct Unwinder<A: Arch> {
    framehop: A::Framehop,
    cache: A::Cache,
    modules: Vec<UnwindModule>,
    /// Whether an FDE covers an address, for the modules with `.eh_frame_hdr`: asked of every
    /// frame, answered by gimli once per address.
    fde_memo: FxHashMap<u64, bool>,
}

impl<A: Arch> Default for Unwinder<A> {
    fn default() -> Self {
        Unwinder {
            framehop: A::Framehop::default(),
            cache: A::Cache::default(),
            modules: Vec::new(),
            fde_memo: FxHashMap::default(),
        }
    }
}

impl<A: Arch> Unwinder<A> {
    /// Follows `ModuleMap::sync`: drops the removed modules' tables; the added ones are read on
    /// first use.
    pub fn apply(&mut self, changes: &ModuleChanges) {
        for id in &changes.removed {
            self.remove_module(*id);
        }
        for added in &changes.added {
            self.remove_module(added.id);
            self.insert(UnwindModule::known(added.id, added.avma.clone(), Some(added.clone())));
        }
    }

    /// Reads a module's tables now. A module without an image (or without CFI) is still known:
    /// frames in it unwind by frame pointer, and a return address into it is not taken for garbage.
    pub fn add_module(&mut self, module: &ModuleInfo, image: Option<&dyn ImageBytes>) {
        self.remove_module(module.id);
        let entry = self.load(module, image);
        self.insert(entry);
    }

    fn insert(&mut self, entry: UnwindModule) {
        let at = self.modules.partition_point(|m| m.avma.start < entry.avma.start);
        self.modules.insert(at, entry);
    }

    fn load(&mut self, module: &ModuleInfo, image: Option<&dyn ImageBytes>) -> UnwindModule {
        let sections = image.and_then(elf::read_unwind_sections);
        let mut entry = UnwindModule::known(module.id, module.avma.clone(), None);
        let Some(sections) = sections else { return entry };
        let first = &module.mappings[0];
        let Some(bias) = elf::load_bias(&sections.segments, first.start, first.file_offset) else { return entry };
        entry.has_cfi = sections.eh_frame.is_some() || sections.debug_frame.is_some();
        entry.bias = bias;
        entry.segments = sections.segments.clone();
        if let (Some((eh_range, eh)), Some((hdr_range, hdr))) = (&sections.eh_frame, &sections.eh_frame_hdr) {
            let mut bases = gimli::BaseAddresses::default().set_eh_frame(eh_range.start).set_eh_frame_hdr(hdr_range.start);
            if let Some(text) = &sections.text_svma {
                bases = bases.set_text(text.start);
            }
            if let Some(got) = &sections.got_svma {
                bases = bases.set_got(got.start);
            }
            entry.cfi = Some(Arc::new(CfiTables { eh_frame: eh.clone(), eh_frame_hdr: hdr.clone(), bases, bias }));
        }
        if let Some((range, data)) = &sections.eh_frame {
            entry.signal_trampolines = signal_trampolines(data, range.start, &sections)
                .into_iter()
                .map(|r| r.start.wrapping_add(bias)..r.end.wrapping_add(bias))
                .collect();
        }
        let info = ExplicitModuleSectionInfo {
            base_svma: 0,
            text_svma: sections.text_svma.clone(),
            got_svma: sections.got_svma.clone(),
            eh_frame_svma: sections.eh_frame.as_ref().map(|(r, _)| r.clone()),
            eh_frame: sections.eh_frame.as_ref().map(|(_, d)| d.clone()),
            eh_frame_hdr_svma: sections.eh_frame_hdr.as_ref().map(|(r, _)| r.clone()),
            eh_frame_hdr: sections.eh_frame_hdr.as_ref().map(|(_, d)| d.clone()),
            debug_frame: sections.debug_frame.clone(),
            ..Default::default()
        };
        self.framehop.add_module(framehop::Module::new(module.path.clone(), module.avma.clone(), bias, info));
        entry
    }

    /// Reads the tables of the module at `address` if that has not been done yet.
    fn ensure_loaded(&mut self, address: u64, provider: &dyn ModuleProvider) {
        let i = self.modules.partition_point(|m| m.avma.start <= address);
        let Some(i) = i.checked_sub(1).filter(|&i| self.modules[i].avma.contains(&address)) else { return };
        if let Some(module) = self.modules[i].pending.take() {
            let image = provider.open_image(&module);
            self.modules[i] = self.load(&module, image.as_deref());
            if self.modules[i].cfi.is_some() {
                self.modules[i].image = image;
            }
        }
    }

    pub fn remove_module(&mut self, id: ModuleId) {
        if let Some(i) = self.modules.iter().position(|m| m.id == id) {
            let module = self.modules.remove(i);
            self.framehop.remove_module(module.avma.start);
            self.fde_memo.retain(|address, _| !module.avma.contains(address));
        }
    }

    /// Whether `address` lies in a module with an `.eh_frame_hdr` and no FDE covers it.
    fn lacks_fde(&mut self, address: u64) -> bool {
        // Asked of every frame of every sample: the memo first, before any module lookup.
        if let Some(&known) = self.fde_memo.get(&address) {
            return !known;
        }
        let Some(cfi) = self.module_at(address).and_then(|m| m.cfi.clone()) else { return false };
        !self.has_fde(address, &cfi)
    }

    fn has_fde(&mut self, address: u64, cfi: &CfiTables) -> bool {
        if let Some(&known) = self.fde_memo.get(&address) {
            return known;
        }
        let known = cfi.covers(address);
        if self.fde_memo.len() >= FDE_MEMO_ENTRIES {
            self.fde_memo.clear();
        }
        self.fde_memo.insert(address, known);
        known
    }

    /// The caller of a function without CFI running at `pc` with stack pointer `sp`: the
    /// first word above `sp` that returns right after a call which can reach that function,
    /// into code that has CFI. A direct call must land at or shortly before `pc`, on code without
    /// CFI (the function's start); an indirect call cannot be checked. The dead stack a function
    /// reserves (OpenBLAS's packing buffers) still holds return addresses of calls long
    /// returned, most often the interpreter's, so a caller in the function's own module is
    /// looked for first: hand-written kernels are called by their library's C code. Returns the
    /// return address and the stack slot that holds it.
    fn scan_for_caller(&mut self, pc: u64, sp: u64, stack: &StackCopy<'_>, provider: &dyn ModuleProvider) -> Option<(u64, u64)> {
        let callee = self.module_at(pc)?.id;
        self.scan_stack(pc, callee, sp, stack, provider, true).or_else(|| self.scan_stack(pc, callee, sp, stack, provider, false))
    }

    fn scan_stack(
        &mut self,
        pc: u64,
        callee: ModuleId,
        sp: u64,
        stack: &StackCopy<'_>,
        provider: &dyn ModuleProvider,
        same_module: bool,
    ) -> Option<(u64, u64)> {
        let mut code = [0u8; 16];
        let code = &mut code[..A::MAX_CALL_LEN];
        let mut slot = sp;
        while slot < sp.saturating_add(SCAN_BYTES) {
            let value = stack.read_u64(slot)?;
            slot += 8;
            let Some(lookup) = value.checked_sub(1) else { continue };
            match self.module_at(lookup) {
                Some(m) if !same_module || m.id == callee => {}
                _ => continue,
            }
            self.ensure_loaded(lookup, provider);
            let Some(module) = self.module_at(lookup) else { continue };
            let Some(cfi) = module.cfi.clone() else { continue };
            if !module.code_before(value, code) {
                continue;
            }
            let reaches = match A::call_before(code) {
                None => false,
                Some(CallSite::Indirect) => true,
                Some(CallSite::Direct { displacement }) => {
                    let target = value.wrapping_add_signed(displacement);
                    target <= pc
                        && pc - target < MAX_FUNCTION_BYTES
                        && self.module_at(target).is_some_and(|m| m.id == callee)
                        && self.lacks_fde(target)
                }
            };
            if reaches && self.has_fde(lookup, &cfi) {
                return Some((value, slot - 8));
            }
        }
        None
    }

    fn module_at(&self, address: u64) -> Option<&UnwindModule> {
        let i = self.modules.partition_point(|m| m.avma.start <= address);
        self.modules[..i].last().filter(|m| m.avma.contains(&address))
    }

    /// One step by evaluating the frame's CFI with gimli; the caller's return address.
    fn expression_step(
        &self,
        lookup: u64,
        regs: &mut A::UnwindRegs,
        innermost: Option<&A::Registers>,
        stack: &StackCopy<'_>,
    ) -> Option<u64> {
        let cfi = self.module_at(lookup)?.cfi.as_ref()?;
        let numbers = StepRegisters { return_address: A::DWARF_RETURN_ADDRESS, frame_pointer: A::DWARF_FRAME_POINTER };
        let known = *regs;
        let register = |number: u16| A::dwarf_register(&known, innermost, number);
        let caller = cfi.step(lookup, &numbers, &register, &mut |address| stack.read_u64(address))?;
        if caller.sp <= A::unwind_regs_sp(regs) {
            return None; // the stack grows down: a caller's frame is above its callee's
        }
        A::set_caller(regs, caller.sp, caller.return_address, caller.fp);
        Some(caller.return_address)
    }

    pub fn unwind(&mut self, registers: &A::Registers, stack: &StackCopy<'_>, provider: &dyn ModuleProvider) -> NativeStack {
        let mut frames = Vec::with_capacity(64);
        let pc = A::pc(registers);
        let mut regs = A::unwind_regs(registers);
        let mut read_stack = |address: u64| stack.read_u64(address).ok_or(());
        let mut address = FrameAddress::from_instruction_pointer(pc);
        frames.push(NativeFrame {
            address: pc,
            is_return_address: false,
            method: FrameMethod::Registers,
            module: self.module_at(pc).map(|m| m.id),
            sp: A::sp(registers),
            signal_trampoline: false,
        });
        let stop = loop {
            if frames.len() >= MAX_NATIVE_DEPTH {
                break UnwindStop::MaxDepth;
            }
            let lookup = address.address_for_lookup();
            self.ensure_loaded(lookup, provider);
            let callee = self.module_at(lookup);
            if callee.is_some_and(|m| m.signal_trampolines.iter().any(|r| r.contains(&lookup))) {
                if let Some(trampoline) = frames.last_mut() {
                    trampoline.signal_trampoline = true;
                }
                match A::restore_signal_frame(&mut regs, &mut read_stack) {
                    Some(interrupted) => {
                        frames.push(NativeFrame {
                            address: interrupted,
                            is_return_address: false,
                            method: FrameMethod::SignalFrame,
                            module: self.module_at(interrupted).map(|m| m.id),
                            sp: A::unwind_regs_sp(&regs),
                            signal_trampoline: false,
                        });
                        address = FrameAddress::from_instruction_pointer(interrupted);
                        continue;
                    }
                    None => break UnwindStop::StackCopyEnded { address: A::unwind_regs_sp(&regs) },
                }
            }
            let method = if callee.is_some_and(|m| m.has_cfi) { FrameMethod::Cfi } else { FrameMethod::FramePointer };
            if self.lacks_fde(lookup) {
                // Frame pointers would be a guess here, and a wrong one in the assembly this
                // happens in: scan for the return address instead.
                let sp = A::unwind_regs_sp(&regs);
                if let Some((return_address, slot)) = self.scan_for_caller(lookup, sp, stack, provider) {
                    A::set_caller(&mut regs, slot + 8, return_address, None);
                    frames.push(NativeFrame {
                        address: return_address,
                        is_return_address: true,
                        method: FrameMethod::StackScan,
                        module: self.module_at(return_address - 1).map(|m| m.id),
                        sp: slot + 8,
                        signal_trampoline: false,
                    });
                    match FrameAddress::from_return_address(return_address) {
                        Some(a) => address = a,
                        None => break UnwindStop::EndOfStack,
                    }
                    continue;
                }
            }
            let step = match self.framehop.unwind_frame(address, &mut regs, &mut self.cache, &mut read_stack) {
                Ok(step) => Ok((step, method)),
                Err(e) => {
                    // framehop takes no step whose CFA is a DWARF expression: take it here.
                    let innermost = (frames.len() == 1).then_some(registers);
                    match self.expression_step(lookup, &mut regs, innermost, stack) {
                        Some(return_address) => Ok((Some(return_address), FrameMethod::Cfi)),
                        None => Err(e),
                    }
                }
            };
            match step {
                Ok((None | Some(0), _)) => break UnwindStop::EndOfStack,
                Ok((Some(return_address), method)) => {
                    let module = self.module_at(return_address.saturating_sub(1)).map(|m| m.id);
                    let sp = A::unwind_regs_sp(&regs);
                    frames.push(NativeFrame {
                        address: return_address,
                        is_return_address: true,
                        method,
                        module,
                        sp,
                        signal_trampoline: false,
                    });
                    if module.is_none() {
                        break UnwindStop::OutsideModules { address: return_address };
                    }
                    address = match FrameAddress::from_return_address(return_address) {
                        Some(a) => a,
                        None => break UnwindStop::EndOfStack,
                    };
                }
                Err(framehop::Error::CouldNotReadStack(at)) if !stack.contains(at) => {
                    break UnwindStop::StackCopyEnded { address: at }
                }
                Err(e) => break UnwindStop::BadFrame(e.to_string()),
            }
        };
        NativeStack { frames, stop }
    }
}

/// Address ranges (SVMAs) of the FDEs whose CIE has the 'S' augmentation: glibc's and musl's
/// `__restore_rt`, and any other code that marks itself as a signal trampoline.
fn signal_trampolines(eh_frame: &Arc<[u8]>, eh_frame_svma: u64, sections: &elf::UnwindSections) -> Vec<Range<u64>> {
    use gimli::UnwindSection;
    let section = gimli::EhFrame::new(eh_frame, gimli::LittleEndian);
    let mut bases = gimli::BaseAddresses::default().set_eh_frame(eh_frame_svma);
    if let Some(text) = &sections.text_svma {
        bases = bases.set_text(text.start);
    }
    if let Some(got) = &sections.got_svma {
        bases = bases.set_got(got.start);
    }
    let mut found = Vec::new();
    let mut any_signal_cie = false;
    let mut entries = section.entries(&bases);
    let mut fdes = Vec::new();
    while let Ok(Some(entry)) = entries.next() {
        match entry {
            gimli::CieOrFde::Cie(cie) => {
                any_signal_cie |= cie.is_signal_trampoline();
            }
            gimli::CieOrFde::Fde(partial) => fdes.push(partial),
        }
    }
    if !any_signal_cie {
        return found;
    }
    for partial in fdes {
        if let Ok(fde) = partial.parse(|s, b, o| s.cie_from_offset(b, o)) {
            if fde.cie().is_signal_trampoline() {
                found.push(fde.initial_address()..fde.initial_address() + fde.len());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::native::arch::x86_64::{RegistersX86_64, X86_64};
    use crate::native::modules::{Mapping, ModuleMap};

    struct NoImages;

    impl ModuleProvider for NoImages {
        fn open_image(&self, _: &ModuleInfo) -> Option<Box<dyn ImageBytes>> {
            None
        }
        fn open_debug_file(&self, _: &str) -> Option<Box<dyn ImageBytes>> {
            None
        }
    }

    /// A module with no image: its frames unwind by frame pointer.
    fn unwinder_with_module(avma: Range<u64>) -> Unwinder<X86_64> {
        let mut map = ModuleMap::default();
        let mapping = Mapping {
            start: avma.start,
            end: avma.end,
            file_offset: 0,
            executable: true,
            path: "/lib/libfp.so".into(),
            identity: 1,
        };
        let changes = map.sync(&[mapping]);
        let mut unwinder = Unwinder::<X86_64>::default();
        unwinder.apply(&changes);
        unwinder
    }

    /// Words from `base` up.
    fn stack_bytes(words: &[u64]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    const BASE: u64 = 0x7ffd_0000_0000;

    #[test]
    fn a_frame_pointer_chain_unwinds_to_its_end() {
        let mut unwinder = unwinder_with_module(0x1000..0x9000);
        // rbp -> [saved rbp, return address] twice, then a saved rbp of 0: the outermost frame.
        let bytes = stack_bytes(&[0, 0, BASE + 32, 0x2222, BASE + 48, 0x3333, 0, 0]);
        let regs = RegistersX86_64::new(0x1111, BASE, BASE + 16);
        let stack = unwinder.unwind(&regs, &StackCopy { base: BASE, bytes: &bytes }, &NoImages);
        let addresses: Vec<u64> = stack.frames.iter().map(|f| f.address).collect();
        assert_eq!(addresses, [0x1111, 0x2222, 0x3333]);
        assert_eq!(stack.frames[1].method, FrameMethod::FramePointer);
        assert!(!stack.frames[0].is_return_address && stack.frames[1].is_return_address);
        assert_eq!(stack.frames[1].lookup_address(), 0x2221);
        assert_eq!(stack.stop, UnwindStop::EndOfStack);
    }

    #[test]
    fn a_stack_copy_that_ends_too_soon_says_so() {
        let mut unwinder = unwinder_with_module(0x1000..0x9000);
        let bytes = stack_bytes(&[0, 0, BASE + 64, 0x2222]);
        let regs = RegistersX86_64::new(0x1111, BASE, BASE + 16);
        let stack = unwinder.unwind(&regs, &StackCopy { base: BASE, bytes: &bytes }, &NoImages);
        assert_eq!(stack.frames.len(), 2);
        assert_eq!(stack.stop, UnwindStop::StackCopyEnded { address: BASE + 64 });
    }

    #[test]
    fn a_return_address_outside_every_module_stops_the_walk() {
        let mut unwinder = unwinder_with_module(0x1000..0x9000);
        let bytes = stack_bytes(&[0, 0, BASE + 32, 0xdead_beef, BASE + 48, 0x3333, 0, 0]);
        let regs = RegistersX86_64::new(0x1111, BASE, BASE + 16);
        let stack = unwinder.unwind(&regs, &StackCopy { base: BASE, bytes: &bytes }, &NoImages);
        assert_eq!(stack.frames.last().unwrap().module, None);
        assert_eq!(stack.stop, UnwindStop::OutsideModules { address: 0xdead_beef });
    }

    #[test]
    fn a_removed_module_is_no_longer_known() {
        let mut unwinder = unwinder_with_module(0x1000..0x9000);
        let id = unwinder.modules[0].id;
        unwinder.remove_module(id);
        let bytes = stack_bytes(&[0, 0, 0, 0x2222]);
        let regs = RegistersX86_64::new(0x1111, BASE, BASE + 16);
        let stack = unwinder.unwind(&regs, &StackCopy { base: BASE, bytes: &bytes }, &NoImages);
        assert_eq!(stack.frames[0].module, None);
    }
}

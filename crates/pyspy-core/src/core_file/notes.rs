//! The notes of an x86_64 Linux core that `object` leaves as bytes: each thread's status and
//! registers (`NT_PRSTATUS`), the process (`NT_PRPSINFO`), the mapped files (`NT_FILE`) and the
//! auxiliary vector (`NT_AUXV`). Layouts are the kernel's (`struct elf_prstatus`,
//! `struct elf_prpsinfo`, `fill_files_note`), which gdb's gcore writes too.

use super::elf::RawNote;

const NT_PRSTATUS: u32 = 1;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_FILE: u32 = 0x4649_4c45;

/// `struct elf_prstatus` on x86_64: `pr_pid` after the signal info and masks, the registers
/// (`struct user_regs_struct`, 27 words) after four `timeval`s.
const PRSTATUS_PID: usize = 32;
const PRSTATUS_CURSIG: usize = 12;
const PRSTATUS_REGS: usize = 112;
const PRSTATUS_SIZE: usize = PRSTATUS_REGS + 27 * 8;

/// `struct elf_prpsinfo` on x86_64.
const PRPSINFO_SNAME: usize = 1;
const PRPSINFO_PID: usize = 24;
const PRPSINFO_FNAME: usize = 40;
const PRPSINFO_PSARGS: usize = 56;
const PRPSINFO_SIZE: usize = 136;

/// At most this many mapped files and auxv entries are taken from the notes (the notes themselves
/// are capped in size; this caps what one note can make us allocate).
const MAX_ENTRIES: usize = 1 << 20;

/// A thread's general registers, `struct user_regs_struct` in the kernel's order. Kept whole for
/// native unwinding; the names below are the ones read today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registers(pub [u64; 27]);

impl Registers {
    pub const RBP: usize = 4;
    pub const ORIG_RAX: usize = 15;
    pub const RIP: usize = 16;
    pub const RSP: usize = 19;

    pub fn instruction_pointer(&self) -> u64 {
        self.0[Self::RIP]
    }
    pub fn stack_pointer(&self) -> u64 {
        self.0[Self::RSP]
    }
    pub fn frame_pointer(&self) -> u64 {
        self.0[Self::RBP]
    }
    /// The kernel keeps the system call number here while a thread is inside one, and -1 while it
    /// runs user code (also when a signal or a debugger stopped it there).
    pub fn in_system_call(&self) -> bool {
        (self.0[Self::ORIG_RAX] as i64) >= 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreThread {
    /// Thread id as the process's own PID namespace numbers it (what CPython stores).
    pub tid: u32,
    /// The signal being delivered when the core was written (the fatal one for a crash).
    pub signal: u16,
    pub registers: Registers,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    /// State letter of the main thread (R, S, D, T, ...).
    pub state: char,
    /// The main thread's name (comm), at most 15 bytes.
    pub name: String,
    /// The command line, its arguments joined by spaces and cut at 80 bytes.
    pub arguments: String,
}

/// A file mapping, as `/proc/PID/maps` would list it (without the permissions, which are the
/// segments').
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMapping {
    pub start: u64,
    pub end: u64,
    /// In bytes.
    pub file_offset: u64,
    pub path: String,
}

#[derive(Debug, Default)]
pub struct CoreNotes {
    pub threads: Vec<CoreThread>,
    pub process: Option<ProcessInfo>,
    pub files: Vec<FileMapping>,
    pub auxv: Vec<(u64, u64)>,
}

impl CoreNotes {
    pub fn auxv_value(&self, key: u64) -> Option<u64> {
        self.auxv.iter().find(|(k, _)| *k == key).map(|&(_, v)| v)
    }
}

pub const AT_PHDR: u64 = 3;
pub const AT_ENTRY: u64 = 9;
pub const AT_EXECFN: u64 = 31;

pub fn decode(notes: &[RawNote]) -> CoreNotes {
    let mut decoded = CoreNotes::default();
    for note in notes.iter().filter(|n| n.owner == b"CORE") {
        match note.kind {
            NT_PRSTATUS => decoded.threads.extend(thread(&note.desc)),
            NT_PRPSINFO => decoded.process = decoded.process.take().or_else(|| process(&note.desc)),
            NT_FILE if decoded.files.is_empty() => decoded.files = files(&note.desc),
            NT_AUXV if decoded.auxv.is_empty() => decoded.auxv = auxv(&note.desc),
            _ => {}
        }
    }
    decoded
}

fn u64_at(bytes: &[u8], offset: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(offset..offset + 8)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(offset..offset + 4)?.try_into().ok()?))
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn thread(desc: &[u8]) -> Option<CoreThread> {
    if desc.len() < PRSTATUS_SIZE {
        return None;
    }
    let mut registers = [0u64; 27];
    for (i, r) in registers.iter_mut().enumerate() {
        *r = u64_at(desc, PRSTATUS_REGS + 8 * i)?;
    }
    Some(CoreThread {
        tid: u32_at(desc, PRSTATUS_PID)?,
        signal: u16::from_le_bytes([desc[PRSTATUS_CURSIG], desc[PRSTATUS_CURSIG + 1]]),
        registers: Registers(registers),
    })
}

fn process(desc: &[u8]) -> Option<ProcessInfo> {
    if desc.len() < PRPSINFO_SIZE {
        return None;
    }
    Some(ProcessInfo {
        pid: u32_at(desc, PRPSINFO_PID)?,
        state: char::from(desc[PRPSINFO_SNAME]),
        name: c_string(&desc[PRPSINFO_FNAME..PRPSINFO_PSARGS]),
        arguments: c_string(&desc[PRPSINFO_PSARGS..PRPSINFO_SIZE]).trim_end().to_string(),
    })
}

/// `count, page_size, count * (start, end, page offset), count NUL-terminated names`.
fn files(desc: &[u8]) -> Vec<FileMapping> {
    let (Some(count), Some(page_size)) = (u64_at(desc, 0), u64_at(desc, 8)) else { return Vec::new() };
    let count = usize::try_from(count).unwrap_or(usize::MAX).min(MAX_ENTRIES);
    let names_start = 16usize.saturating_add(count.saturating_mul(24));
    let Some(names) = desc.get(names_start..) else { return Vec::new() };
    let mut names = names.split(|&b| b == 0);
    let mut mappings = Vec::with_capacity(count);
    for i in 0..count {
        let entry = 16 + 24 * i;
        let (Some(start), Some(end), Some(page), Some(name)) =
            (u64_at(desc, entry), u64_at(desc, entry + 8), u64_at(desc, entry + 16), names.next())
        else {
            break;
        };
        mappings.push(FileMapping {
            start,
            end,
            file_offset: page.saturating_mul(page_size),
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    mappings
}

fn auxv(desc: &[u8]) -> Vec<(u64, u64)> {
    desc.chunks_exact(16)
        .take(MAX_ENTRIES)
        .map(|pair| (u64_at(pair, 0).unwrap_or(0), u64_at(pair, 8).unwrap_or(0)))
        .take_while(|&(key, _)| key != 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: u32, desc: Vec<u8>) -> RawNote {
        RawNote { owner: b"CORE".to_vec(), kind, desc }
    }

    #[test]
    fn prstatus_gives_the_tid_and_the_registers() {
        let mut desc = vec![0u8; 336];
        desc[PRSTATUS_PID..PRSTATUS_PID + 4].copy_from_slice(&4242u32.to_le_bytes());
        desc[PRSTATUS_CURSIG..PRSTATUS_CURSIG + 2].copy_from_slice(&6u16.to_le_bytes());
        let reg = |i: usize| PRSTATUS_REGS + 8 * i;
        desc[reg(Registers::RIP)..reg(Registers::RIP) + 8].copy_from_slice(&0x40_1000u64.to_le_bytes());
        desc[reg(Registers::ORIG_RAX)..reg(Registers::ORIG_RAX) + 8].copy_from_slice(&202u64.to_le_bytes());
        let notes = decode(&[note(NT_PRSTATUS, desc.clone()), note(NT_PRSTATUS, desc[..100].to_vec())]);
        assert_eq!(notes.threads.len(), 1, "a short prstatus is left out");
        let thread = &notes.threads[0];
        assert_eq!((thread.tid, thread.signal, thread.registers.instruction_pointer()), (4242, 6, 0x40_1000));
        assert!(thread.registers.in_system_call());
        desc[reg(Registers::ORIG_RAX)..reg(Registers::ORIG_RAX) + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(!decode(&[note(NT_PRSTATUS, desc)]).threads[0].registers.in_system_call());
    }

    #[test]
    fn nt_file_lists_mappings_with_byte_offsets_and_survives_a_short_note() {
        let mut desc = Vec::new();
        for word in [2u64, 4096, 0x400000, 0x401000, 0, 0x7f00_0000_0000, 0x7f00_0000_2000, 3] {
            desc.extend_from_slice(&word.to_le_bytes());
        }
        desc.extend_from_slice(b"/usr/bin/python3.11\0/lib/x86_64-linux-gnu/libc.so.6\0");
        let notes = decode(&[note(NT_FILE, desc.clone())]);
        assert_eq!(notes.files.len(), 2);
        assert_eq!(notes.files[1].file_offset, 3 * 4096);
        assert_eq!(notes.files[1].path, "/lib/x86_64-linux-gnu/libc.so.6");
        // A count far beyond the note's size reads nothing rather than allocating for it.
        desc[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&[note(NT_FILE, desc)]).files.is_empty());
    }

    #[test]
    fn prpsinfo_and_auxv() {
        let mut desc = vec![0u8; PRPSINFO_SIZE];
        desc[PRPSINFO_SNAME] = b'S';
        desc[PRPSINFO_PID..PRPSINFO_PID + 4].copy_from_slice(&77u32.to_le_bytes());
        desc[PRPSINFO_FNAME..PRPSINFO_FNAME + 7].copy_from_slice(b"python3");
        desc[PRPSINFO_PSARGS..PRPSINFO_PSARGS + 13].copy_from_slice(b"python3 a.py ");
        let mut auxv = Vec::new();
        for word in [AT_PHDR, 0x400040, AT_EXECFN, 0x7ffd_0000_1000, 0, 0, 99, 99] {
            auxv.extend_from_slice(&word.to_le_bytes());
        }
        let notes = decode(&[note(NT_PRPSINFO, desc), note(NT_AUXV, auxv)]);
        let process = notes.process.clone().unwrap();
        assert_eq!(
            (process.pid, process.state, process.name.as_str(), process.arguments.as_str()),
            (77, 'S', "python3", "python3 a.py")
        );
        assert_eq!(notes.auxv.len(), 2);
        assert_eq!(notes.auxv_value(AT_EXECFN), Some(0x7ffd_0000_1000));
    }
}

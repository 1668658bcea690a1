//! The ELF structure of a core file: its loadable segments (the process's memory) and its notes
//! (threads, process, mapped files, auxiliary vector), through the `object` crate, reading only
//! the headers and the notes. Every way a file can fail to be a core we read gets its own error.

use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::read::ReadCache;
use object::Endianness;

use super::source::{ByteSource, SeekableSource};
use crate::{Error, ErrorKind, Result};

/// The kernel maps at most 65530 areas by default (vm.max_map_count); this is four times that.
const MAX_SEGMENTS: u32 = 1 << 18;
/// Notes hold a few KiB per thread plus the mapped file names: far less than this.
const MAX_NOTES_BYTES: u64 = 64 << 20;

/// A `PT_LOAD` segment: `memory_size` bytes of the process at `address`, of which the first
/// `file_size` are in the core at `offset`. The rest was not dumped (gcore and the kernel leave out
/// file-backed pages that were never written) and is read from the mapped file, when there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub address: u64,
    pub memory_size: u64,
    pub offset: u64,
    pub file_size: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

impl Segment {
    pub fn end(&self) -> u64 {
        self.address.saturating_add(self.memory_size)
    }
}

/// A note of the core, owned: the cache that read it is gone once the headers are parsed.
#[derive(Debug, Clone)]
pub struct RawNote {
    pub owner: Vec<u8>,
    pub kind: u32,
    pub desc: Vec<u8>,
}

#[derive(Debug)]
pub struct CoreElf {
    /// Sorted by address.
    pub segments: Vec<Segment>,
    pub notes: Vec<RawNote>,
}

/// Reads the headers and notes of the core `name` (its name only serves the messages).
pub fn read_core_elf(source: &dyn ByteSource, name: &str) -> Result<CoreElf> {
    let len = source.len();
    if len == 0 {
        return Err(Error::new(
            ErrorKind::EmptyCore,
            format!("{name} is empty: no core was written into it (was the core size limit, ulimit -c, 0, or the disk full?)"),
        ));
    }
    let mut ident = [0u8; 16];
    let have = len.min(16) as usize;
    source.read_exact_at(0, &mut ident[..have])?;
    if have < 4 || ident[..4] != elf::ELFMAG {
        return Err(not_a_core(name, "it is not an ELF file"));
    }
    if have < 16 {
        return Err(truncated(name, 64, len));
    }
    let cache = ReadCache::new(SeekableSource { source, position: 0 });
    // e_ident[EI_CLASS]
    match ident[4] {
        elf::ELFCLASS64 => {
            let header = elf::FileHeader64::<Endianness>::parse(&cache).map_err(|_| truncated(name, 64, len))?;
            let endian = header.endian().map_err(|_| not_a_core(name, "its byte order is not valid"))?;
            check_kind_and_machine(name, header.e_type(endian), header.e_machine(endian), endian)?;
            read_segments_and_notes(&cache, header, endian, name, len)
        }
        elf::ELFCLASS32 => {
            let header = elf::FileHeader32::<Endianness>::parse(&cache).map_err(|_| truncated(name, 52, len))?;
            let endian = header.endian().map_err(|_| not_a_core(name, "its byte order is not valid"))?;
            check_kind_and_machine(name, header.e_type(endian), header.e_machine(endian), endian)?;
            // EM_X86_64 in a 32-bit file: the x32 ABI, whose pointers are 4 bytes.
            Err(Error::new(
                ErrorKind::UnsupportedArchitecture,
                format!("{name} is a core of a process on x32: pyspy-ts reads cores of x86_64 processes"),
            ))
        }
        _ => Err(not_a_core(name, "its ELF class is neither 32 nor 64 bit")),
    }
}

fn check_kind_and_machine(name: &str, kind: u16, machine: u16, endian: Endianness) -> Result<()> {
    let what = match kind {
        elf::ET_CORE => None,
        elf::ET_EXEC => Some("an ELF executable"),
        elf::ET_DYN => Some("an ELF shared object or position-independent executable"),
        elf::ET_REL => Some("an ELF object file"),
        _ => Some("an ELF file of an unknown type"),
    };
    if let Some(what) = what {
        return Err(Error::new(
            ErrorKind::NotACore,
            format!("{name} is {what}, not a core file (pass the core itself; a binary goes to --binary)"),
        ));
    }
    if machine != elf::EM_X86_64 || endian != Endianness::Little {
        return Err(Error::new(
            ErrorKind::UnsupportedArchitecture,
            format!(
                "{name} is a core of a process on {}: pyspy-ts reads cores of x86_64 processes",
                machine_name(machine, endian)
            ),
        ));
    }
    Ok(())
}

fn machine_name(machine: u16, endian: Endianness) -> String {
    let name = match machine {
        elf::EM_386 => "i386",
        elf::EM_X86_64 => "x86_64",
        elf::EM_AARCH64 => "aarch64",
        elf::EM_ARM => "32-bit ARM",
        elf::EM_RISCV => "RISC-V",
        elf::EM_PPC64 => "PowerPC 64",
        elf::EM_PPC => "PowerPC",
        elf::EM_S390 => "s390x",
        elf::EM_MIPS => "MIPS",
        elf::EM_LOONGARCH => "LoongArch",
        elf::EM_SPARCV9 => "SPARC",
        _ => return format!("machine {machine}"),
    };
    if endian == Endianness::Big && machine == elf::EM_X86_64 {
        return "big-endian x86_64".into();
    }
    name.into()
}

fn read_segments_and_notes(
    cache: &ReadCache<SeekableSource<'_>>,
    header: &elf::FileHeader64<Endianness>,
    endian: Endianness,
    name: &str,
    len: u64,
) -> Result<CoreElf> {
    let phnum =
        header.phnum(endian, cache).map_err(|e| not_a_core(name, &format!("its program headers are unreadable ({e})")))?;
    if phnum as u64 > u64::from(MAX_SEGMENTS) {
        return Err(not_a_core(name, &format!("it claims {phnum} segments")));
    }
    let table_end = header.e_phoff(endian).saturating_add(phnum as u64 * 56);
    if table_end > len {
        return Err(truncated(name, table_end, len));
    }
    let headers = header
        .program_headers(endian, cache)
        .map_err(|e| not_a_core(name, &format!("its program headers are unreadable ({e})")))?;

    // The whole file first: a core cut short fails as that, not as whichever read hits the cut.
    let needed = headers
        .iter()
        .filter(|p| matches!(p.p_type(endian), elf::PT_LOAD | elf::PT_NOTE))
        .map(|p| p.p_offset(endian).saturating_add(p.p_filesz(endian)))
        .max()
        .unwrap_or(0);
    if needed > len {
        return Err(truncated(name, needed, len));
    }

    let mut segments = Vec::new();
    let mut notes = Vec::new();
    let mut notes_bytes = 0u64;
    for phdr in headers {
        match phdr.p_type(endian) {
            elf::PT_LOAD => {
                let flags = phdr.p_flags(endian);
                let memory_size = phdr.p_memsz(endian);
                segments.push(Segment {
                    address: phdr.p_vaddr(endian),
                    memory_size,
                    offset: phdr.p_offset(endian),
                    file_size: phdr.p_filesz(endian).min(memory_size),
                    readable: flags & elf::PF_R != 0,
                    writable: flags & elf::PF_W != 0,
                    executable: flags & elf::PF_X != 0,
                });
            }
            elf::PT_NOTE => {
                notes_bytes += phdr.p_filesz(endian);
                if notes_bytes > MAX_NOTES_BYTES {
                    return Err(not_a_core(name, &format!("its notes take more than {} MiB", MAX_NOTES_BYTES >> 20)));
                }
                let Ok(Some(mut iter)) = phdr.notes(endian, cache) else {
                    return Err(not_a_core(name, "its notes are unreadable"));
                };
                while let Some(note) = iter.next().map_err(|e| not_a_core(name, &format!("its notes are malformed ({e})")))? {
                    notes.push(RawNote { owner: note.name().to_vec(), kind: note.n_type(endian), desc: note.desc().to_vec() });
                }
            }
            _ => {}
        }
    }
    if notes.is_empty() {
        return Err(not_a_core(name, "it has no notes, so no threads"));
    }
    segments.sort_by_key(|s| s.address);
    Ok(CoreElf { segments, notes })
}

fn not_a_core(name: &str, why: &str) -> Error {
    Error::new(ErrorKind::NotACore, format!("{name} is not a core file: {why}"))
}

fn truncated(name: &str, needed: u64, len: u64) -> Error {
    Error::new(
        ErrorKind::TruncatedCore,
        format!(
            "{name} is truncated: its headers describe {needed} bytes but it has {len} (cut by the core size limit, ulimit -c, or an unfinished copy?)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An x86_64 little-endian ELF header of type `kind` for `machine`, with `phnum` program
    /// headers right after it.
    fn header(kind: u16, machine: u16, phnum: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(&elf::ELFMAG);
        h[4] = elf::ELFCLASS64;
        h[5] = elf::ELFDATA2LSB;
        h[6] = 1;
        h[16..18].copy_from_slice(&kind.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[52..54].copy_from_slice(&64u16.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&phnum.to_le_bytes());
        h
    }

    fn program_header(kind: u32, flags: u32, offset: u64, address: u64, file_size: u64, memory_size: u64) -> Vec<u8> {
        let mut p = Vec::with_capacity(56);
        p.extend_from_slice(&kind.to_le_bytes());
        p.extend_from_slice(&flags.to_le_bytes());
        for word in [offset, address, 0, file_size, memory_size, 4] {
            p.extend_from_slice(&word.to_le_bytes());
        }
        p
    }

    /// A core with one 4 KiB segment and one note ("CORE", type 1, 8 bytes of desc).
    fn small_core() -> Vec<u8> {
        let mut core = header(elf::ET_CORE, elf::EM_X86_64, 2);
        let notes_at = 64 + 2 * 56;
        let mut note = Vec::new();
        note.extend_from_slice(&5u32.to_le_bytes());
        note.extend_from_slice(&8u32.to_le_bytes());
        note.extend_from_slice(&1u32.to_le_bytes());
        note.extend_from_slice(b"CORE\0\0\0\0");
        note.extend_from_slice(&42u64.to_le_bytes());
        let load_at = (notes_at + note.len()) as u64;
        core.extend(program_header(elf::PT_NOTE, 0, notes_at as u64, 0, note.len() as u64, 0));
        core.extend(program_header(elf::PT_LOAD, elf::PF_R | elf::PF_W, load_at, 0x7f00_0000_0000, 4096, 8192));
        core.extend(note);
        core.extend(vec![7u8; 4096]);
        core
    }

    fn kind_of(bytes: &[u8]) -> Option<ErrorKind> {
        read_core_elf(&bytes.to_vec(), "core").err().map(|e| e.kind)
    }

    #[test]
    fn a_small_core_gives_its_segment_and_note() {
        let core = read_core_elf(&small_core(), "core").unwrap();
        assert_eq!(core.segments.len(), 1);
        let s = core.segments[0];
        assert_eq!(
            (s.address, s.file_size, s.memory_size, s.writable, s.executable),
            (0x7f00_0000_0000, 4096, 8192, true, false)
        );
        assert_eq!(core.notes.len(), 1);
        assert_eq!((core.notes[0].owner.as_slice(), core.notes[0].kind, core.notes[0].desc.len()), (&b"CORE"[..], 1, 8));
    }

    #[test]
    fn each_way_of_not_being_a_readable_core_has_its_own_kind() {
        assert_eq!(kind_of(b""), Some(ErrorKind::EmptyCore));
        assert_eq!(kind_of(b"#!/bin/sh\necho hello\n"), Some(ErrorKind::NotACore));
        assert_eq!(kind_of(&small_core()[..10]), Some(ErrorKind::TruncatedCore));
        assert_eq!(kind_of(&small_core()[..40]), Some(ErrorKind::TruncatedCore));
        assert_eq!(kind_of(&small_core()[..200]), Some(ErrorKind::TruncatedCore));
        assert_eq!(kind_of(&small_core()[..small_core().len() - 1]), Some(ErrorKind::TruncatedCore));
        assert_eq!(kind_of(&header(elf::ET_EXEC, elf::EM_X86_64, 0)), Some(ErrorKind::NotACore));
        assert_eq!(kind_of(&header(elf::ET_DYN, elf::EM_AARCH64, 0)), Some(ErrorKind::NotACore));
        let mut arm = small_core();
        arm[18..20].copy_from_slice(&elf::EM_AARCH64.to_le_bytes());
        assert_eq!(kind_of(&arm), Some(ErrorKind::UnsupportedArchitecture));
        let mut big_endian = header(elf::ET_CORE, elf::EM_X86_64, 0);
        big_endian[5] = elf::ELFDATA2MSB;
        big_endian[16..18].copy_from_slice(&elf::ET_CORE.to_be_bytes());
        big_endian[18..20].copy_from_slice(&elf::EM_S390.to_be_bytes());
        assert_eq!(kind_of(&big_endian), Some(ErrorKind::UnsupportedArchitecture));
        let mut x32 = header(elf::ET_CORE, elf::EM_X86_64, 0);
        x32[4] = elf::ELFCLASS32;
        assert_eq!(kind_of(&x32), Some(ErrorKind::UnsupportedArchitecture));
        assert_eq!(kind_of(&header(elf::ET_CORE, elf::EM_X86_64, 0)), Some(ErrorKind::NotACore), "no notes");
    }

    #[test]
    fn absurd_headers_fail_without_allocating_for_them() {
        // PN_XNUM: the real count is in section 0, which is not there.
        let mut many = header(elf::ET_CORE, elf::EM_X86_64, 0xffff);
        many.extend(vec![0u8; 4096]);
        assert!(matches!(kind_of(&many), Some(ErrorKind::NotACore | ErrorKind::TruncatedCore)));
        // A note segment claiming 2^60 bytes: truncated, before anything is read.
        let mut huge = small_core();
        huge[64 + 32..64 + 40].copy_from_slice(&(1u64 << 60).to_le_bytes());
        assert_eq!(kind_of(&huge), Some(ErrorKind::TruncatedCore));
    }
}

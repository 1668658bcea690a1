//! Reading the parts of an ELF image that unwinding and symbols need, through `ImageBytes`:
//! object's `ReadCache` fetches just the ranges asked for.

use std::ops::Range;
use std::sync::Arc;

use object::read::ReadCacheOps;
use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, ObjectSymbolTable, ReadCache, SectionKind, SymbolKind};

use super::ImageBytes;

/// `ImageBytes` as the seekable stream `ReadCache` wants.
pub(crate) struct ImageStream<'a> {
    image: &'a dyn ImageBytes,
    position: u64,
}

impl ReadCacheOps for ImageStream<'_> {
    fn len(&mut self) -> Result<u64, ()> {
        Ok(self.image.len())
    }
    fn seek(&mut self, pos: u64) -> Result<u64, ()> {
        self.position = pos;
        Ok(pos)
    }
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ()> {
        let n = (self.image.len().saturating_sub(self.position)).min(buf.len() as u64) as usize;
        if !self.image.read_at(self.position, &mut buf[..n]) {
            return Err(());
        }
        self.position += n as u64;
        Ok(n)
    }
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ()> {
        if !self.image.read_at(self.position, buf) {
            return Err(());
        }
        self.position += buf.len() as u64;
        Ok(())
    }
}

pub(crate) fn read_cache(image: &dyn ImageBytes) -> ReadCache<ImageStream<'_>> {
    ReadCache::new(ImageStream { image, position: 0 })
}

/// A PT_LOAD segment, for the load bias.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoadSegment {
    pub file_offset: u64,
    pub file_size: u64,
    pub vaddr: u64,
}

/// Where the image's addresses (SVMAs) land in the target: avma = svma + bias. Found from the
/// first mapping: it maps file offset `mapping_offset` at `mapping_start`, and the PT_LOAD
/// segment covering that offset says which SVMA that byte has.
pub(crate) fn load_bias(segments: &[LoadSegment], mapping_start: u64, mapping_offset: u64) -> Option<u64> {
    let page = 0x1000u64;
    let segment = segments.iter().find(|s| {
        let aligned = s.file_offset & !(page - 1);
        aligned <= mapping_offset && mapping_offset < s.file_offset + s.file_size.max(1)
    })?;
    // The byte at file offset `s.file_offset` is at vaddr `s.vaddr`.
    let svma_at_mapping_start = s_vaddr_of_offset(segment, mapping_offset);
    Some(mapping_start.wrapping_sub(svma_at_mapping_start))
}

fn s_vaddr_of_offset(segment: &LoadSegment, offset: u64) -> u64 {
    segment.vaddr.wrapping_add(offset).wrapping_sub(segment.file_offset)
}

/// Unwind tables and what identifies the image.
#[derive(Default)]
pub(crate) struct UnwindSections {
    pub segments: Vec<LoadSegment>,
    pub text_svma: Option<Range<u64>>,
    pub got_svma: Option<Range<u64>>,
    pub eh_frame: Option<(Range<u64>, Arc<[u8]>)>,
    pub eh_frame_hdr: Option<(Range<u64>, Arc<[u8]>)>,
    pub debug_frame: Option<Arc<[u8]>>,
}

fn section_range<'d, R: object::ReadRef<'d>>(section: &object::Section<'d, '_, R>) -> Range<u64> {
    section.address()..section.address() + section.size()
}

fn section_bytes<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>, name: &str) -> Option<Arc<[u8]>> {
    let section = file.section_by_name(name)?;
    if section.kind() == SectionKind::UninitializedData {
        return None;
    }
    section.uncompressed_data().ok().filter(|d| !d.is_empty()).map(|d| Arc::from(&*d))
}

pub(crate) fn read_unwind_sections(image: &dyn ImageBytes) -> Option<UnwindSections> {
    let cache = read_cache(image);
    let file = object::File::parse(&cache).ok()?;
    let mut out = UnwindSections { segments: load_segments(&file), ..Default::default() };
    out.text_svma = file.section_by_name(".text").map(|s| section_range(&s));
    out.got_svma = file.section_by_name(".got").map(|s| section_range(&s));
    if let (Some(s), Some(data)) = (file.section_by_name(".eh_frame"), section_bytes(&file, ".eh_frame")) {
        out.eh_frame = Some((section_range(&s), data));
    }
    if let (Some(s), Some(data)) = (file.section_by_name(".eh_frame_hdr"), section_bytes(&file, ".eh_frame_hdr")) {
        out.eh_frame_hdr = Some((section_range(&s), data));
    }
    out.debug_frame = section_bytes(&file, ".debug_frame");
    Some(out)
}

pub(crate) fn load_segments<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>) -> Vec<LoadSegment> {
    file.segments()
        .map(|s| {
            let (file_offset, file_size) = s.file_range();
            LoadSegment { file_offset, file_size, vaddr: s.address() }
        })
        .collect()
}

/// One function symbol: SVMA range and name.
#[derive(Debug, Clone)]
pub(crate) struct RawSymbol {
    pub address: u64,
    pub size: u64,
    pub name: String,
}

/// Function symbols of `.symtab` and `.dynsym`.
pub(crate) fn function_symbols<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>, out: &mut Vec<RawSymbol>) {
    for symbol in file.symbols().chain(file.dynamic_symbols()) {
        if symbol.kind() != SymbolKind::Text || symbol.address() == 0 || symbol.is_undefined() {
            continue;
        }
        if let Ok(name) = symbol.name() {
            if !name.is_empty() {
                out.push(RawSymbol { address: symbol.address(), size: symbol.size(), name: name.to_string() });
            }
        }
    }
}

/// x86_64 PLT stubs as `name@plt` symbols (no symbol table names them, and a sample lands in
/// one on many calls into another library). Each 16-byte stub of `.plt.sec` (or of `.plt`, after
/// its header) jumps through a GOT slot, `jmp *slot(%rip)`, possibly after `endbr64` and with a
/// `bnd` prefix; the `.rela.plt` entry for that slot names the function. Stubs are not in
/// relocation order (libc's are not), so each stub is decoded. `.plt.got` stubs (8 bytes, 16 with
/// `endbr64`) jump through GLOB_DAT slots of `.rela.dyn`. Slots of ifuncs (IRELATIVE) have no
/// name: `<plt>`.
pub(crate) fn plt_symbols<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>, out: &mut Vec<RawSymbol>) {
    const STUB: usize = 16;
    const RELA_SIZE: usize = 24;
    let Some(dynsym) = file.dynamic_symbol_table() else { return };
    let mut names_by_slot = rustc_hash::FxHashMap::default();
    for section in [".rela.plt", ".rela.dyn"] {
        let Some(Ok(rela)) = file.section_by_name(section).map(|s| s.data()) else { continue };
        for entry in rela.chunks_exact(RELA_SIZE) {
            let slot = u64::from_le_bytes(entry[0..8].try_into().unwrap());
            let info = u64::from_le_bytes(entry[8..16].try_into().unwrap());
            let kind = (info & 0xffff_ffff) as u32;
            if kind == object::elf::R_X86_64_JUMP_SLOT || kind == object::elf::R_X86_64_GLOB_DAT {
                if let Some(name) = dynsym
                    .symbol_by_index(object::SymbolIndex((info >> 32) as usize))
                    .ok()
                    .and_then(|s| s.name().ok().map(str::to_string))
                {
                    names_by_slot.insert(slot, name);
                }
            }
        }
    }
    let mut add_stubs = |name: &str, skip: usize, stub_size: &dyn Fn(&[u8]) -> usize| {
        let Some(section) = file.section_by_name(name) else { return };
        let Ok(code) = section.data() else { return };
        let mut offset = skip;
        while offset < code.len() {
            let stub = &code[offset..];
            let size = stub_size(stub).min(stub.len());
            let address = section.address() + offset as u64;
            let slot = plt_stub_slot(&stub[..size], address);
            let name = slot.and_then(|slot| names_by_slot.get(&slot)).map_or_else(|| "<plt>".to_string(), |n| format!("{n}@plt"));
            out.push(RawSymbol { address, size: size as u64, name });
            offset += size;
        }
    };
    if file.section_by_name(".plt.sec").is_some() {
        add_stubs(".plt.sec", 0, &|_| STUB);
    } else {
        add_stubs(".plt", STUB, &|_| STUB);
    }
    add_stubs(".plt.got", 0, &|stub| if stub.starts_with(&ENDBR64) { 16 } else { 8 });
}

const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// The GOT slot a PLT stub jumps through.
fn plt_stub_slot(stub: &[u8], address: u64) -> Option<u64> {
    let start = if stub.starts_with(&ENDBR64) { 4 } else { 0 };
    let start = if stub.get(start) == Some(&0xf2) { start + 1 } else { start }; // bnd
    if stub.get(start..start + 2)? != [0xff, 0x25] {
        return None;
    }
    let displacement = i32::from_le_bytes(stub.get(start + 2..start + 6)?.try_into().ok()?);
    let next_instruction = address + start as u64 + 6;
    Some(next_instruction.wrapping_add_signed(i64::from(displacement)))
}

/// What symbolization learns from an image in one pass over its headers.
#[derive(Default)]
pub(crate) struct SymbolSources {
    pub segments: Vec<LoadSegment>,
    pub symbols: Vec<RawSymbol>,
    pub build_id: Option<Vec<u8>>,
    /// `.gnu_debuglink`: file name of the separate debug file.
    pub debuglink: Option<String>,
    pub has_dwarf: bool,
}

pub(crate) fn read_symbol_sources(image: &dyn ImageBytes) -> Option<SymbolSources> {
    let cache = read_cache(image);
    let file = object::File::parse(&cache).ok()?;
    let mut out = SymbolSources { segments: load_segments(&file), ..Default::default() };
    function_symbols(&file, &mut out.symbols);
    if file.architecture() == object::Architecture::X86_64 {
        plt_symbols(&file, &mut out.symbols);
    }
    out.build_id = file.build_id().ok().flatten().map(<[u8]>::to_vec);
    out.debuglink = file.gnu_debuglink().ok().flatten().map(|(name, _crc)| String::from_utf8_lossy(name).into_owned());
    out.has_dwarf = has_dwarf(&file);
    // MiniDebugInfo (Fedora, Debian's stripped binaries): an xz-compressed ELF in .gnu_debugdata
    // holding the .symtab that stripping removed.
    if let Some(compressed) = section_bytes(&file, ".gnu_debugdata") {
        let mut decompressed = Vec::new();
        if lzma_rs::xz_decompress(&mut &compressed[..], &mut decompressed).is_ok() {
            if let Ok(inner) = object::File::parse(&decompressed[..]) {
                function_symbols(&inner, &mut out.symbols);
            }
        }
    }
    Some(out)
}

pub(crate) fn has_dwarf<'d, R: object::ReadRef<'d>>(file: &object::File<'d, R>) -> bool {
    file.section_by_name(".debug_info").is_some_and(|s| s.size() > 0 && s.kind() != SectionKind::UninitializedData)
}

/// The DWARF sections of an image, owned, for addr2line; and how many bytes they take.
pub(crate) fn load_dwarf(image: &dyn ImageBytes) -> Option<(gimli::Dwarf<gimli::EndianArcSlice<gimli::LittleEndian>>, u64)> {
    let cache = read_cache(image);
    let file = object::File::parse(&cache).ok()?;
    if !has_dwarf(&file) {
        return None;
    }
    let empty: Arc<[u8]> = Arc::from(&[][..]);
    let mut bytes = 0u64;
    let dwarf = gimli::Dwarf::load(|id: gimli::SectionId| -> Result<_, gimli::Error> {
        let data = section_bytes(&file, id.name()).unwrap_or_else(|| empty.clone());
        bytes += data.len() as u64;
        Ok(gimli::EndianArcSlice::new(data, gimli::LittleEndian))
    })
    .ok()?;
    Some((dwarf, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_of_a_shared_library_is_where_its_first_mapping_starts() {
        let segments = [
            LoadSegment { file_offset: 0, file_size: 0x1000, vaddr: 0 },
            LoadSegment { file_offset: 0x1000, file_size: 0x3000, vaddr: 0x1000 },
        ];
        assert_eq!(load_bias(&segments, 0x7f00_0000_0000, 0), Some(0x7f00_0000_0000));
        // Only the executable mapping is known: same answer.
        assert_eq!(load_bias(&segments, 0x7f00_0000_1000, 0x1000), Some(0x7f00_0000_0000));
    }

    #[test]
    fn bias_of_a_non_pie_executable_is_zero() {
        let segments = [LoadSegment { file_offset: 0, file_size: 0x5000, vaddr: 0x400000 }];
        assert_eq!(load_bias(&segments, 0x400000, 0), Some(0));
    }

    #[test]
    fn plt_stubs_are_decoded_to_the_got_slot_they_jump_through() {
        // jmp *0x2fe2(%rip); push $0; jmp .plt   at 0x1030: slot = 0x1036 + 0x2fe2
        let plain = [0xff, 0x25, 0xe2, 0x2f, 0, 0, 0x68, 0, 0, 0, 0, 0xe9, 0xe0, 0xff, 0xff, 0xff];
        assert_eq!(plt_stub_slot(&plain, 0x1030), Some(0x4018));
        // endbr64; bnd jmp *0x2fe2(%rip)   (.plt.sec with IBT)
        let ibt = [0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xe2, 0x2f, 0, 0, 0x0f, 0x1f, 0x44, 0, 0];
        assert_eq!(plt_stub_slot(&ibt, 0x1030), Some(0x1030 + 11 + 0x2fe2));
        assert_eq!(plt_stub_slot(&[0x90; 16], 0x1030), None);
    }

    #[test]
    fn bias_when_vaddr_and_offset_differ_within_a_page() {
        // lld-style: a segment at file offset 0x1234 linked at vaddr 0x2234, mapped from page 0x1000.
        let segments = [LoadSegment { file_offset: 0x1234, file_size: 0x100, vaddr: 0x2234 }];
        assert_eq!(load_bias(&segments, 0x10000, 0x1000), Some(0x10000 - 0x2000));
    }
}

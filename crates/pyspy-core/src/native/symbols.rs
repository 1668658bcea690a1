//! Names, files and lines for native frames: `.symtab`, `.dynsym`, MiniDebugInfo
//! (`.gnu_debugdata`), a separate debug file found by build-id or `.gnu_debuglink`, and DWARF
//! line tables (addr2line) where any of these images has them. Loaded per module on its first
//! frame, kept until the module is unmapped.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::elf::{self, RawSymbol};
use super::modules::{ModuleChanges, ModuleId, ModuleInfo, ModuleMap};
use super::unwind::NativeFrame;
use super::{ImageBytes, ModuleProvider};

type DwarfReader = gimli::EndianArcSlice<gimli::LittleEndian>;

/// One function at an address: the function itself, or one inlined into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameSymbol {
    /// Demangled.
    pub function: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// What an address resolves to. `frames` has more than one entry where DWARF shows inlining:
/// innermost (inlined) first, the function the code physically belongs to last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolInfo {
    pub address: u64,
    pub module: Option<ModuleId>,
    /// The module's file name (`libc.so.6`), if the address is in one.
    pub module_name: Option<String>,
    /// The address in the module's own numbering (what `addr2line -e module` takes): the same
    /// from run to run, unlike `address`, so an unnamed frame aggregates and diffs.
    pub module_offset: Option<u64>,
    pub frames: Vec<FrameSymbol>,
    /// A signal trampoline: named `<signal handler called>` whatever the symbols say.
    pub signal_trampoline: bool,
}

impl SymbolInfo {
    /// The function the machine code belongs to (what the symbol table says).
    pub fn physical_function(&self) -> Option<&str> {
        self.frames.last()?.function.as_deref()
    }

    pub fn is_resolved(&self) -> bool {
        self.signal_trampoline || self.physical_function().is_some()
    }

    /// `c_inner (hotext.c:7)` with a line, else `c_inner (hotext.so)`, else `0x7f… (hotext.so)`.
    pub fn display(&self, frame: &FrameSymbol) -> String {
        let module = self.module_name.as_deref().unwrap_or("?");
        if self.signal_trampoline {
            return "<signal handler called>".to_string();
        }
        match (&frame.function, &frame.file, frame.line) {
            (Some(function), Some(file), Some(line)) if line > 0 => {
                format!("{function} ({}:{line})", file.rsplit('/').next().unwrap_or(file))
            }
            (Some(function), _, _) => format!("{function} ({module})"),
            _ => format!("{:#x} ({module})", self.module_offset.unwrap_or(self.address)),
        }
    }
}

/// Where a separate debug file may be, in the order gdb looks: by build-id, then by
/// `.gnu_debuglink` next to the module, in its `.debug/`, and under /usr/lib/debug.
///
/// A module in a tree unpacked elsewhere (`/opt/x/usr/lib/libc.so.6`, as the provisioned test
/// interpreters are) is also looked for in that tree's own `/opt/x/usr/lib/debug`.
pub fn debug_file_candidates(module_path: &str, build_id: Option<&[u8]>, debuglink: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let tree_root = module_path.find("/usr/").filter(|&i| i > 0).map(|i| &module_path[..i]);
    let debug_roots: Vec<String> = std::iter::once(String::new()).chain(tree_root.map(str::to_string)).collect();
    if let Some(id) = build_id.filter(|id| id.len() >= 2) {
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        for root in &debug_roots {
            out.push(format!("{root}/usr/lib/debug/.build-id/{}/{}.debug", &hex[..2], &hex[2..]));
        }
    }
    if let Some(link) = debuglink.filter(|l| !l.is_empty() && !l.contains('/')) {
        let dir = module_path.rsplit_once('/').map_or("", |(d, _)| d);
        out.push(format!("{dir}/{link}"));
        out.push(format!("{dir}/.debug/{link}"));
        out.push(format!("/usr/lib/debug{dir}/{link}"));
        if let Some(root) = tree_root {
            let inner_dir = &dir[root.len()..];
            out.push(format!("{root}/usr/lib/debug{inner_dir}/{link}"));
        }
    }
    out.retain(|p| p != module_path);
    out
}

/// Demangles C++ (Itanium) and Rust (legacy and v0) names; anything else comes back as it was.
pub fn demangle(name: &str) -> String {
    // glibc's DWARF names its internal aliases `__GI_name` (`__GI___clock_gettime`): the name
    // people know is the one after it.
    let name = name.strip_prefix("__GI_").filter(|n| !n.is_empty()).unwrap_or(name);
    if let Ok(rust) = rustc_demangle::try_demangle(name) {
        return format!("{rust:#}");
    }
    if name.starts_with("_Z") {
        if let Ok((symbol, tail)) = cpp_demangle::BorrowedSymbol::with_tail(name.as_bytes()) {
            let options = cpp_demangle::DemangleOptions::new().no_params().no_return_type();
            if let Ok(demangled) = symbol.demangle_with_options(&options) {
                // GCC's clones keep their suffix: `foo(int) [clone .cold]` reads as `foo.cold`.
                return format!("{demangled}{}", String::from_utf8_lossy(tail));
            }
        }
    }
    name.to_string()
}

/// Past this many remembered addresses, start again (a target with endless distinct code
/// addresses must not grow our memory without bound).
const MAX_REMEMBERED_ADDRESSES: usize = 1 << 16;

/// DWARF kept for all modules together; past it, further modules get symbol names only.
pub const DEFAULT_DWARF_BUDGET_BYTES: u64 = 512 << 20;

struct ModuleSymbols {
    bias: Option<u64>,
    /// Sorted by address.
    symbols: Vec<RawSymbol>,
    dwarf: Option<addr2line::Context<DwarfReader>>,
}

enum SymbolState {
    NotLoaded,
    Loaded(Box<ModuleSymbols>),
}

pub struct Symbolizer {
    modules: FxHashMap<ModuleId, SymbolState>,
    remembered: FxHashMap<u64, Arc<SymbolInfo>>,
    dwarf_bytes: u64,
    pub dwarf_budget_bytes: u64,
    /// Read DWARF line tables at all (off: names from symbol tables only, much less memory).
    pub use_dwarf: bool,
}

impl Default for Symbolizer {
    fn default() -> Self {
        Symbolizer {
            modules: FxHashMap::default(),
            remembered: FxHashMap::default(),
            dwarf_bytes: 0,
            dwarf_budget_bytes: DEFAULT_DWARF_BUDGET_BYTES,
            use_dwarf: true,
        }
    }
}

impl Symbolizer {
    /// Follows `ModuleMap::sync`: forgets removed modules; added ones load on their first frame.
    pub fn apply(&mut self, changes: &ModuleChanges) {
        for id in &changes.removed {
            self.modules.remove(id);
        }
        if !changes.removed.is_empty() {
            self.remembered.retain(|_, info| info.module.is_none_or(|m| !changes.removed.contains(&m)));
        }
        // An address that was outside every module may be inside a new one now.
        if !changes.added.is_empty() {
            self.remembered.retain(|_, info| info.module.is_some());
        }
        for added in &changes.added {
            self.modules.insert(added.id, SymbolState::NotLoaded);
        }
    }

    pub fn symbolize(&mut self, map: &ModuleMap, provider: &dyn ModuleProvider, frame: &NativeFrame) -> Arc<SymbolInfo> {
        let probe = frame.lookup_address();
        if let Some(info) = self.remembered.get(&probe).filter(|i| i.signal_trampoline == frame.signal_trampoline) {
            return info.clone();
        }
        let module = map.find(probe);
        let mut info = SymbolInfo {
            address: frame.address,
            module: module.map(|m| m.id),
            module_name: module.map(|m| m.name().to_string()),
            module_offset: module.map(|m| frame.address - m.avma.start),
            frames: Vec::new(),
            signal_trampoline: frame.signal_trampoline,
        };
        if let Some(module) = module {
            if let Some(symbols) = self.loaded(module, provider) {
                info.frames = symbols.lookup(probe);
                if let Some(bias) = symbols.bias {
                    info.module_offset = Some(frame.address.wrapping_sub(bias));
                }
            }
        }
        if info.frames.is_empty() {
            info.frames.push(FrameSymbol { function: None, file: None, line: None });
        }
        let info = Arc::new(info);
        if self.remembered.len() >= MAX_REMEMBERED_ADDRESSES {
            self.remembered.clear();
        }
        self.remembered.insert(probe, info.clone());
        info
    }

    fn loaded(&mut self, module: &ModuleInfo, provider: &dyn ModuleProvider) -> Option<&ModuleSymbols> {
        let state = self.modules.entry(module.id).or_insert(SymbolState::NotLoaded);
        if let SymbolState::NotLoaded = state {
            let dwarf_allowed = self.use_dwarf && self.dwarf_bytes < self.dwarf_budget_bytes;
            let (symbols, dwarf_bytes) = load_module_symbols(module, provider, dwarf_allowed);
            self.dwarf_bytes += dwarf_bytes;
            *state = SymbolState::Loaded(Box::new(symbols));
        }
        match state {
            SymbolState::Loaded(symbols) => Some(symbols),
            SymbolState::NotLoaded => None,
        }
    }
}

impl ModuleSymbols {
    fn lookup(&self, avma: u64) -> Vec<FrameSymbol> {
        let Some(bias) = self.bias else { return Vec::new() };
        let svma = avma.wrapping_sub(bias);
        let symbol_name = self.symbol_at(svma).map(demangle);
        let mut frames = self.dwarf.as_ref().map(|ctx| dwarf_frames(ctx, svma)).unwrap_or_default();
        match frames.last_mut() {
            Some(outer) if outer.function.is_none() => outer.function = symbol_name,
            Some(_) => {}
            None if symbol_name.is_some() => frames.push(FrameSymbol { function: symbol_name, file: None, line: None }),
            None => {}
        }
        frames
    }

    fn symbol_at(&self, svma: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.address <= svma);
        let symbol = &self.symbols[..i].last()?;
        if symbol.size > 0 && svma >= symbol.address + symbol.size {
            return None;
        }
        Some(&symbol.name)
    }
}

fn dwarf_frames(ctx: &addr2line::Context<DwarfReader>, svma: u64) -> Vec<FrameSymbol> {
    let mut out = Vec::new();
    let Ok(mut iter) = ctx.find_frames(svma).skip_all_loads() else { return out };
    while let Ok(Some(frame)) = iter.next() {
        let function = frame.function.as_ref().and_then(|f| f.raw_name().ok()).map(|n| demangle(&n));
        let (file, line) = match frame.location {
            Some(loc) => (loc.file.map(|f| f.to_string()), loc.line),
            None => (None, None),
        };
        out.push(FrameSymbol { function, file, line });
    }
    out
}

/// Symbols of the module's image, its MiniDebugInfo and its separate debug file; DWARF from the
/// debug file, or from the image itself. Returns the DWARF bytes kept.
fn load_module_symbols(module: &ModuleInfo, provider: &dyn ModuleProvider, dwarf_allowed: bool) -> (ModuleSymbols, u64) {
    let mut out = ModuleSymbols { bias: None, symbols: Vec::new(), dwarf: None };
    let Some(image) = provider.open_image(module) else { return (out, 0) };
    let Some(sources) = elf::read_symbol_sources(&*image) else { return (out, 0) };
    let first = &module.mappings[0];
    out.bias = elf::load_bias(&sources.segments, first.start, first.file_offset);
    out.symbols = sources.symbols;
    let mut dwarf_image: Option<Box<dyn ImageBytes>> = None;
    for candidate in debug_file_candidates(&module.path, sources.build_id.as_deref(), sources.debuglink.as_deref()) {
        if let Some(debug) = provider.open_debug_file(&candidate) {
            if let Some(debug_sources) = elf::read_symbol_sources(&*debug) {
                // A debug file for another build would give wrong names: the build-ids must agree.
                if sources.build_id.is_some() && debug_sources.build_id.is_some() && debug_sources.build_id != sources.build_id {
                    continue;
                }
                out.symbols.extend(debug_sources.symbols);
                if debug_sources.has_dwarf {
                    dwarf_image = Some(debug);
                }
                break;
            }
        }
    }
    out.symbols.sort_by(|a, b| a.address.cmp(&b.address).then(b.size.cmp(&a.size)));
    out.symbols.dedup_by(|a, b| a.address == b.address);
    let mut dwarf_bytes = 0;
    if dwarf_allowed {
        let source: Option<&dyn ImageBytes> = match &dwarf_image {
            Some(debug) => Some(&**debug),
            None if sources.has_dwarf => Some(&*image),
            None => None,
        };
        if let Some((dwarf, bytes)) = source.and_then(elf::load_dwarf) {
            dwarf_bytes = bytes;
            out.dwarf = addr2line::Context::from_dwarf(dwarf).ok();
        }
    }
    (out, dwarf_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_files_by_build_id_then_debuglink() {
        let c = debug_file_candidates(
            "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
            Some(&[0xab, 0xcd, 0xef]),
            Some("libpython3.11.so.1.0.debug"),
        );
        assert_eq!(
            c,
            [
                "/usr/lib/debug/.build-id/ab/cdef.debug",
                "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0.debug",
                "/usr/lib/x86_64-linux-gnu/.debug/libpython3.11.so.1.0.debug",
                "/usr/lib/debug/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0.debug",
            ]
        );
        assert!(debug_file_candidates("/a/b.so", None, Some("../../etc/passwd")).is_empty());
        let relocated = debug_file_candidates("/opt/py/usr/lib/libc.so.6", Some(&[0xab, 0xcd]), Some("libc.debug"));
        assert!(relocated.contains(&"/opt/py/usr/lib/debug/.build-id/ab/cd.debug".to_string()));
        assert!(relocated.contains(&"/opt/py/usr/lib/debug/usr/lib/libc.debug".to_string()));
    }

    #[test]
    fn demangles_cpp_and_rust_and_leaves_c_alone() {
        assert_eq!(demangle("_ZN5boost6detail7do_workEv"), "boost::detail::do_work");
        assert_eq!(demangle("_ZN3foo3barE.cold"), "foo::bar.cold");
        assert_eq!(demangle("_ZN4core3ptr13drop_in_place17h0123456789abcdefE"), "core::ptr::drop_in_place");
        assert_eq!(demangle("_RNvCs1234_7mycrate4main"), "mycrate::main");
        assert_eq!(demangle("_PyEval_EvalFrameDefault.cold"), "_PyEval_EvalFrameDefault.cold");
        assert_eq!(demangle("__GI___clock_gettime"), "__clock_gettime");
    }

    #[test]
    fn display_prefers_lines_then_module_then_address() {
        let info = |frames| SymbolInfo {
            address: 0x7f00,
            module: None,
            module_name: Some("hotext.so".into()),
            module_offset: None,
            frames,
            signal_trampoline: false,
        };
        let with_line = FrameSymbol { function: Some("c_inner".into()), file: Some("/tmp/x/hotext.c".into()), line: Some(7) };
        let name_only = FrameSymbol { function: Some("c_inner".into()), file: None, line: None };
        let nothing = FrameSymbol { function: None, file: None, line: None };
        assert_eq!(info(vec![]).display(&with_line), "c_inner (hotext.c:7)");
        assert_eq!(info(vec![]).display(&name_only), "c_inner (hotext.so)");
        assert_eq!(info(vec![]).display(&nothing), "0x7f00 (hotext.so)");
    }
}

//! The target's mapped modules: mappings grouped per loaded file, and what changed since the last
//! look (a `dlopen`, a `dlclose`, a library replaced on disk and loaded again).

use std::ops::Range;

/// One mapping of the target, as /proc/PID/maps or a core dump's NT_FILE describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    /// Offset into the mapped file of the byte at `start`.
    pub file_offset: u64,
    pub executable: bool,
    /// The file's path as the target sees it, or a pseudo-name such as `[vdso]`.
    pub path: String,
    /// Tells two files at one path apart (device and inode, for example); 0 when unknown.
    pub identity: u64,
}

/// Stable for as long as the module stays mapped; never reused within one `ModuleMap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

/// A loaded module: every mapping of one file at one load address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    pub id: ModuleId,
    pub path: String,
    pub identity: u64,
    /// From the start of its first mapping to the end of its last.
    pub avma: Range<u64>,
    /// The mappings, lowest address first: the load bias follows from them and the ELF headers.
    pub mappings: Vec<Mapping>,
}

impl ModuleInfo {
    /// The file name, for display: `libc.so.6`, `[vdso]`.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn is_vdso(&self) -> bool {
        self.path == "[vdso]"
    }

    pub fn contains(&self, address: u64) -> bool {
        self.avma.contains(&address)
    }

    /// What makes two loads the same: same file, same place.
    fn same_load(&self, other: &ModuleInfo) -> bool {
        self.path == other.path && self.identity == other.identity && self.avma.start == other.avma.start
    }
}

#[derive(Debug, Default, Clone)]
pub struct ModuleChanges {
    pub added: Vec<ModuleInfo>,
    pub removed: Vec<ModuleId>,
}

impl ModuleChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// The modules currently mapped, sorted by address.
#[derive(Debug, Default)]
pub struct ModuleMap {
    modules: Vec<ModuleInfo>,
    next_id: u32,
}

impl ModuleMap {
    pub fn modules(&self) -> &[ModuleInfo] {
        &self.modules
    }

    pub fn get(&self, id: ModuleId) -> Option<&ModuleInfo> {
        self.modules.iter().find(|m| m.id == id)
    }

    pub fn find(&self, address: u64) -> Option<&ModuleInfo> {
        let i = self.modules.partition_point(|m| m.avma.start <= address);
        self.modules[..i].last().filter(|m| m.contains(address))
    }

    /// Brings the map in line with the target's mappings; a module whose file, identity or
    /// load address changed counts as removed and added again, so its caches are rebuilt.
    pub fn sync(&mut self, mappings: &[Mapping]) -> ModuleChanges {
        let current = group_into_modules(mappings);
        let mut changes = ModuleChanges::default();
        let old = std::mem::take(&mut self.modules);
        for module in &old {
            if !current.iter().any(|c| c.same_load(module)) {
                changes.removed.push(module.id);
            }
        }
        for mut module in current {
            match old.iter().find(|o| o.same_load(&module)) {
                Some(existing) => {
                    module.id = existing.id;
                    // A module's later segments may be mapped after its first (ld.so maps the
                    // file, then its segments): keep the widest view.
                    self.modules.push(module);
                }
                None => {
                    module.id = ModuleId(self.next_id);
                    self.next_id += 1;
                    changes.added.push(module.clone());
                    self.modules.push(module);
                }
            }
        }
        self.modules.sort_by_key(|m| m.avma.start);
        changes
    }
}

/// Consecutive mappings of one file form a module; a mapping at file offset 0 starts a new one
/// (the same library loaded twice). Modules without executable code are left out: nothing can
/// be running in them.
fn group_into_modules(mappings: &[Mapping]) -> Vec<ModuleInfo> {
    let mut sorted: Vec<&Mapping> = mappings.iter().filter(|m| is_module_path(&m.path)).collect();
    sorted.sort_by_key(|m| m.start);
    let mut modules: Vec<ModuleInfo> = Vec::new();
    for mapping in sorted {
        let continues = modules
            .last()
            .is_some_and(|last| last.path == mapping.path && last.identity == mapping.identity && mapping.file_offset != 0);
        if continues {
            let last = modules.last_mut().unwrap();
            last.avma.end = last.avma.end.max(mapping.end);
            last.mappings.push(mapping.clone());
        } else {
            modules.push(ModuleInfo {
                id: ModuleId(u32::MAX),
                path: mapping.path.clone(),
                identity: mapping.identity,
                avma: mapping.start..mapping.end,
                mappings: vec![mapping.clone()],
            });
        }
    }
    modules.retain(|m| m.mappings.iter().any(|x| x.executable));
    modules
}

fn is_module_path(path: &str) -> bool {
    path.starts_with('/') || path == "[vdso]"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(start: u64, end: u64, offset: u64, exec: bool, path: &str) -> Mapping {
        Mapping { start, end, file_offset: offset, executable: exec, path: path.into(), identity: 7 }
    }

    #[test]
    fn mappings_of_one_file_form_one_module_and_data_files_are_left_out() {
        let mut map = ModuleMap::default();
        let changes = map.sync(&[
            mapping(0x1000, 0x2000, 0, false, "/lib/libc.so.6"),
            mapping(0x2000, 0x5000, 0x1000, true, "/lib/libc.so.6"),
            mapping(0x5000, 0x6000, 0x4000, false, "/lib/libc.so.6"),
            mapping(0x7000, 0x8000, 0, false, "/usr/lib/locale/locale-archive"),
            mapping(0x9000, 0xa000, 0, true, "[vdso]"),
            mapping(0xb000, 0xc000, 0, false, "[stack]"),
        ]);
        assert_eq!(changes.added.len(), 2);
        let libc = map.find(0x5800).unwrap();
        assert_eq!(libc.avma, 0x1000..0x6000);
        assert_eq!(libc.name(), "libc.so.6");
        assert!(map.find(0x9100).unwrap().is_vdso());
        assert!(map.find(0x7100).is_none());
        assert!(map.find(0x6800).is_none());
    }

    #[test]
    fn a_dlopen_adds_and_a_dlclose_removes_while_the_rest_keep_their_ids() {
        let libc = [mapping(0x1000, 0x2000, 0, true, "/lib/libc.so.6")];
        let ext = mapping(0x3000, 0x4000, 0, true, "/tmp/hotext.so");
        let mut map = ModuleMap::default();
        map.sync(&libc);
        let libc_id = map.find(0x1000).unwrap().id;
        let opened = map.sync(&[libc[0].clone(), ext.clone()]);
        assert_eq!(opened.added.len(), 1);
        assert!(opened.removed.is_empty());
        assert_eq!(map.find(0x1000).unwrap().id, libc_id);
        let ext_id = map.find(0x3000).unwrap().id;
        let closed = map.sync(&libc);
        assert_eq!(closed.removed, vec![ext_id]);
        assert!(map.sync(&libc).is_empty());
    }

    #[test]
    fn a_library_replaced_at_the_same_path_is_a_new_module() {
        let mut map = ModuleMap::default();
        map.sync(&[mapping(0x1000, 0x2000, 0, true, "/tmp/hotext.so")]);
        let mut replaced = mapping(0x1000, 0x2000, 0, true, "/tmp/hotext.so");
        replaced.identity = 8;
        let changes = map.sync(&[replaced]);
        assert_eq!((changes.added.len(), changes.removed.len()), (1, 1));
    }
}

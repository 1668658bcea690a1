//! Python's names for threads (`threading.Thread.name`, e.g. "MainThread", "worker-1"), read from
//! the target's memory: `sys.modules['threading']._active` maps `threading.get_ident()` to each
//! Thread, whose name is its `_name` attribute (2.7: `_Thread__name`, a byte string). The kernel's comm only carries that name from 3.14
//! on, cut to 15 bytes; older minors leave "python3.X" there.
//!
//! Getting there crosses three dicts (sys.modules, the module's globals, `_active`) and one
//! instance's attributes per thread, each stored the way its minor stores them: the layout says
//! which. Every size is bounded and every pointer may be garbage: a failed read is "no name".

use rustc_hash::FxHashMap;

use crate::memory::{at, Memory, MemoryExt};
use crate::python::dicts::{DictReader, Table};
use crate::python::layout::Layout;
use crate::python::strings;
use crate::{Error, Result};

const MAX_INTERPRETERS: usize = 64;

/// What one lookup learns that the next can skip: where each interpreter's threading module keeps
/// its globals (a module's dict lives as long as the module). Searching sys.modules is the
/// costly step: hundreds of keys to compare.
#[derive(Default)]
pub struct ThreadNames {
    /// sys.modules dict -> the threading module's globals dict.
    threading_globals: FxHashMap<u64, u64>,
}

impl ThreadNames {
    /// `threading.get_ident()` -> name, for the threads of every interpreter that imported threading.
    /// Interpreters whose dicts cannot be read (or that never imported threading) add nothing.
    pub fn read(&mut self, memory: &dyn Memory, layout: &Layout, runtime_addr: u64) -> FxHashMap<u64, String> {
        let mut reader = DictReader::new(memory, layout);
        let mut names = FxHashMap::default();
        let mut interp = memory.read_u64(at(runtime_addr, layout.runtime_interpreters_head)).unwrap_or(0);
        let mut interps_seen = Vec::new();
        let mut modules_seen = Vec::new();
        while interp != 0 && interps_seen.len() < MAX_INTERPRETERS && !interps_seen.contains(&interp) {
            interps_seen.push(interp);
            if let Ok(modules) = memory.read_u64(at(interp, layout.interp_modules)) {
                modules_seen.push(modules);
                let _ = self.read_interpreter(&mut reader, modules, &mut names);
            }
            interp = memory.read_u64(at(interp, layout.interp_next)).unwrap_or(0);
        }
        // Interpreters that ended take their cached dicts with them.
        self.threading_globals.retain(|modules, _| modules_seen.contains(modules));
        names
    }

    fn read_interpreter(&mut self, reader: &mut DictReader, modules: u64, names: &mut FxHashMap<u64, String>) -> Result<()> {
        // sys.modules is a dict in every minor: its type is the one `_active` must have.
        let dict_type = reader.dict(modules)?.type_addr;
        // `_active` itself is looked up every time, not remembered: read while the target imports
        // threading (dicts resizing under us), a lookup can return another dict, and a remembered
        // wrong answer would hide every name for the whole run.
        let cached = self.threading_globals.get(&modules);
        let mut active = cached.and_then(|&globals| active_dict(reader, globals).ok().flatten());
        if active.is_none() {
            self.threading_globals.remove(&modules);
            let Some(globals) = threading_globals(reader, modules)? else { return Ok(()) };
            active = active_dict(reader, globals)?;
            if active.is_some() {
                self.threading_globals.insert(modules, globals);
            }
        }
        let Some(active) = active else { return Ok(()) };
        let active = reader.dict(active)?;
        if active.type_addr != dict_type {
            return Err(Error::read_failed("threading._active is not a dict"));
        }
        names_in_active(reader, &active.table, names)
    }
}

/// What `ThreadNames::read` does once it has found a `threading._active` dict: each entry's name.
/// Public so that the walk can be fuzzed from an arbitrary address.
pub fn names_in_active_dict(memory: &dyn Memory, layout: &Layout, active: u64) -> Result<FxHashMap<u64, String>> {
    let mut reader = DictReader::new(memory, layout);
    let mut names = FxHashMap::default();
    let table = reader.dict(active)?.table;
    names_in_active(&mut reader, &table, &mut names)?;
    Ok(names)
}

/// The name a thread is shown with: Python's (`threading.Thread.name`) where the threading module
/// knows the thread, else the kernel's (threads started from C, or not registered yet).
pub fn display_name(python_name: Option<&str>, kernel_name: Option<&str>) -> Option<String> {
    python_name.or(kernel_name).map(str::to_string)
}

fn names_in_active(reader: &mut DictReader, active: &Table, names: &mut FxHashMap<u64, String>) -> Result<()> {
    let items = reader.items(active)?;
    let idents = reader.small_ints(items.iter().map(|&(key, _)| key));
    for (ident, &(_, thread)) in idents.into_iter().zip(&items) {
        let Some(ident) = ident.filter(|&i| i > 0) else { continue };
        // 2.7's Thread keeps it as `self.__name`, mangled to `_Thread__name`.
        let attribute = reader.layout.thread_name_attr.unwrap_or("_name");
        let name = reader.instance_attribute(thread, attribute).ok().flatten();
        if let Some(name) = name.and_then(|name| strings::read_str(reader.memory, reader.layout, name).ok()) {
            names.insert(ident as u64, name);
        }
    }
    Ok(())
}

/// `sys.modules['threading'].__dict__`, None while threading is not imported.
fn threading_globals(reader: &mut DictReader, modules: u64) -> Result<Option<u64>> {
    let modules = reader.dict(modules)?;
    let Some(threading) = reader.get_str(&modules.table, "threading")? else { return Ok(None) };
    Ok(Some(reader.memory.read_u64(at(threading, reader.layout.module_dict))?))
}

fn active_dict(reader: &mut DictReader, threading_globals: u64) -> Result<Option<u64>> {
    let globals = reader.dict(threading_globals)?;
    reader.get_str(&globals.table, "_active")
}

//! Plants what python/thread_names.rs reads: `sys.modules['threading']._active`, a dict from
//! `threading.get_ident()` to each Thread, whose `_name` is in its attributes, stored each way a
//! minor stores an instance's attributes (see `Attributes`).

use std::collections::BTreeMap;

use pyspy_core::memory::at;
use pyspy_core::python::layout::ManagedDict;

use crate::builder::Builder;
use crate::program::{Attributes, ThreadSpec};

/// Tables planted have at least 8 slots, and room for their entries at CPython's 2/3 load factor;
/// at most 128, so that their indices are one byte each.
const MIN_LOG2_TABLE_SIZE: u8 = 3;

/// 3.11+ `dk_kind`.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum KeysKind {
    General = 0,
    Unicode = 1,
    Split = 2,
}

/// Idents past this do not fit the two digits the reader decodes (only a pthread_t near the top
/// of the address space is that large).
const LARGEST_SMALL_INT: u64 = (1 << 60) - 1;

/// A `threading.Thread`'s attributes, its name among others, in the order they are set; `_name`
/// is the layout's `thread_name_attr` (2.7: `_Thread__name`).
const THREAD_ATTRIBUTES: [&str; 3] = ["_target", "_name", "_ident"];

/// 2.7 keeps a deleted entry's key (this dummy string) with a NULL value.
const PYTHON2_DUMMY_KEY: &str = "<dummy key>";

impl Builder<'_> {
    /// Returns the names the reader must find, by ident.
    pub(crate) fn threading_module(&mut self, interp: u64, threads: &[ThreadSpec], idents: &[u64]) -> BTreeMap<u64, String> {
        let l = self.layout;
        let mut active = Vec::new();
        let mut expected = BTreeMap::new();
        for (thread, &ident) in threads.iter().zip(idents) {
            let Some(name) = thread.name else { continue };
            // 2.7's `thread.get_ident()` is a C long: what does not fit wraps negative, as in C.
            let (key, largest) = match l.int_value {
                Some(_) => (ident as i64, i64::MAX as u64),
                None => (i64::try_from(ident).unwrap_or(i64::MAX), LARGEST_SMALL_INT),
            };
            let key = self.long("int", key);
            active.push((key, self.thread_object(name, ident, thread.attributes)));
            if ident <= largest {
                expected.insert(ident, name.to_string());
            }
        }
        let active = self.dict(&active, KeysKind::General);
        let globals_entries = [(self.str("__name__"), self.str("threading")), (self.str("_active"), active)];
        let globals = self.dict(&globals_entries, KeysKind::Unicode);
        let threading = self.object("module", l.module_dict + 8);
        self.memory.put_u64(at(threading, l.module_dict), globals);
        let sys = self.object("module", l.module_dict + 8);
        let mut modules_entries = vec![(self.str("sys"), sys), (self.str("threading"), threading)];
        for (name, module) in std::mem::take(&mut self.modules) {
            modules_entries.push((self.str(name), module));
        }
        let modules = self.dict(&modules_entries, KeysKind::Unicode);
        self.memory.put_u64(at(interp, l.interp_modules), modules);
        expected
    }

    fn thread_object(&mut self, name: &str, ident: u64, attributes: Attributes) -> u64 {
        let l = self.layout;
        let values = [self.object("NoneType", 16), self.str(name), self.long("int", i64::try_from(ident).unwrap_or(i64::MAX))];
        let basicsize = 32;
        let managed = |flag: Option<u32>| u64::from(flag.expect("3.11+ has managed dicts"));
        match attributes {
            Attributes::DictAtOffset => {
                let dictoffset = 16;
                let ty = self.heap_type(0, basicsize, dictoffset, 0);
                let dict = self.attribute_dict(&values);
                let obj = self.instance(ty, 0, basicsize);
                self.memory.put_u64(obj + dictoffset, dict);
                obj
            }
            Attributes::ManagedDict => {
                let ty = self.heap_type(managed(l.tpflag_managed_dict), basicsize, 0, 0);
                let dict = self.attribute_dict(&values);
                let before = l.managed_dict_before_object.unwrap().max(l.managed_values_before_object.unwrap_or(0));
                let obj = self.instance(ty, before, basicsize);
                // 3.11 also has a values pointer before the object: NULL once the dict exists.
                self.memory.put_u64(obj - u64::from(l.managed_dict_before_object.unwrap()), dict);
                obj
            }
            Attributes::ManagedValues => {
                let keys: Vec<(u64, u64)> = self.attribute_names().iter().map(|k| (self.str(k), 0)).collect();
                let cached_keys = self.keys(&keys, KeysKind::Split);
                let inline = l.managed_dict == ManagedDict::DictOrInlineValues;
                let flags = managed(l.tpflag_managed_dict) | if inline { managed(l.tpflag_inline_values) } else { 0 };
                let ty = self.heap_type(flags, basicsize, 0, cached_keys);
                let before = l.managed_dict_before_object.unwrap().max(l.managed_values_before_object.unwrap_or(0));
                let values_len = l.dict_values_items + 8 * values.len() as u32;
                let obj = self.instance(ty, before, basicsize + if inline { values_len } else { 0 });
                let values_addr = if inline { obj + u64::from(basicsize) } else { self.alloc(values_len) };
                if let Some(capacity) = l.dict_values_capacity {
                    self.memory.put(at(values_addr, capacity), &[values.len() as u8]);
                }
                if let Some(valid) = l.dict_values_valid {
                    self.memory.put(at(values_addr, valid), &[1]);
                }
                for (i, &value) in values.iter().enumerate() {
                    self.memory.put_u64(at(values_addr, l.dict_values_items) + 8 * i as u64, value);
                }
                match l.managed_dict {
                    ManagedDict::ValuesOrDict => {
                        self.memory.put_u64(obj - u64::from(l.managed_values_before_object.unwrap()), values_addr);
                    }
                    // 3.12 tags a values pointer by storing it minus one.
                    ManagedDict::TaggedDictOrValues => {
                        self.memory.put_u64(obj - u64::from(l.managed_dict_before_object.unwrap()), values_addr - 1);
                    }
                    _ => {}
                }
                obj
            }
        }
    }

    fn attribute_dict(&mut self, values: &[u64]) -> u64 {
        let names = self.attribute_names();
        let entries: Vec<(u64, u64)> = names.iter().zip(values).map(|(k, &v)| (self.str(k), v)).collect();
        self.dict(&entries, KeysKind::Unicode)
    }

    fn attribute_names(&self) -> [&'static str; 3] {
        let name = self.layout.thread_name_attr.unwrap_or("_name");
        THREAD_ATTRIBUTES.map(|a| if a == "_name" { name } else { a })
    }

    /// A heap type named "Thread" with what attribute lookup reads from it.
    fn heap_type(&mut self, flags: u64, basicsize: u32, dictoffset: u64, cached_keys: u64) -> u64 {
        let l = self.layout;
        let size =
            [l.type_name, l.type_flags, l.type_basicsize, l.type_dictoffset, l.heap_type_cached_keys].into_iter().max().unwrap()
                + 8;
        let ty = self.alloc(size);
        let name = self.alloc(8);
        self.memory.put(name, b"Thread\0");
        let metatype = self.type_object("type");
        self.memory.put_u64(at(ty, l.object_type), metatype);
        self.memory.put_u64(at(ty, l.type_name), name);
        self.memory.put_u64(at(ty, l.type_flags), flags);
        self.put_i64(at(ty, l.type_basicsize), i64::from(basicsize));
        self.memory.put_u64(at(ty, l.type_dictoffset), dictoffset);
        self.memory.put_u64(at(ty, l.heap_type_cached_keys), cached_keys);
        ty
    }

    /// An instance of `ty`, with `before` bytes ahead of it for a managed dict or values pointer.
    fn instance(&mut self, ty: u64, before: u32, size: u32) -> u64 {
        let obj = self.alloc(before + size.max(self.layout.object_type + 8)) + u64::from(before);
        self.memory.put_u64(at(obj, self.layout.object_type), ty);
        obj
    }

    /// An instance of a plain class whose attributes are `entries` (str key, value), in a dict at
    /// its `tp_dictoffset`.
    pub(super) fn attributes_instance(&mut self, entries: &[(u64, u64)]) -> u64 {
        let (basicsize, dictoffset) = (32, 16);
        let ty = self.heap_type(0, basicsize, dictoffset, 0);
        let dict = self.dict(entries, KeysKind::Unicode);
        let obj = self.instance(ty, 0, basicsize);
        self.memory.put_u64(obj + dictoffset, dict);
        obj
    }

    /// A combined dict (its values in its entries).
    pub(crate) fn dict(&mut self, entries: &[(u64, u64)], kind: KeysKind) -> u64 {
        let l = self.layout;
        if let (Some(table), Some(mask)) = (l.dict_table, l.dict_mask) {
            return self.python2_dict(entries, table, mask);
        }
        let keys = self.keys(entries, kind);
        let dict = self.object("dict", [l.dict_used, l.dict_keys, l.dict_values].into_iter().max().unwrap() + 8);
        self.put_i64(at(dict, l.dict_used), entries.len() as i64);
        self.memory.put_u64(at(dict, l.dict_keys), keys);
        dict
    }

    /// 2.7: one table of {hash, key, value} slots, the entries in a row (a preview shows them in
    /// table order, which here is the order given), a deleted entry after them, then free slots.
    fn python2_dict(&mut self, entries: &[(u64, u64)], table: u32, mask: u32) -> u64 {
        let l = self.layout;
        let table_size = (entries.len() as u32 * 2 + 2).next_power_of_two().max(8);
        let slots = self.alloc(table_size * l.dict_entry_size);
        let slot = |i: usize| slots + i as u64 * u64::from(l.dict_entry_size);
        for (i, &(key, value)) in entries.iter().enumerate() {
            self.memory.put_u64(slot(i) + 8, key);
            self.memory.put_u64(slot(i) + 16, value);
        }
        let dummy = self.str(PYTHON2_DUMMY_KEY);
        self.memory.put_u64(slot(entries.len()) + 8, dummy);
        let dict = self.object("dict", table.max(mask).max(l.dict_used) + 8);
        self.put_i64(at(dict, l.dict_used), entries.len() as i64);
        self.put_i64(at(dict, mask), i64::from(table_size) - 1);
        self.memory.put_u64(at(dict, table), slots);
        dict
    }

    /// A keys object holding `entries` (key, value) in insertion order.
    fn keys(&mut self, entries: &[(u64, u64)], kind: KeysKind) -> u64 {
        let l = self.layout;
        let log2_size = (MIN_LOG2_TABLE_SIZE..).find(|&n| entries.len() * 3 <= 2 << n).unwrap();
        assert!(log2_size <= 7, "tables here have one-byte indices");
        let table_size = 1u32 << log2_size;
        let entry_size = match kind {
            KeysKind::Unicode | KeysKind::Split if l.dict_keys_kind.is_some() => l.dict_unicode_entry_size.unwrap(),
            _ => l.dict_entry_size,
        };
        let addr = self.alloc(l.dict_keys_indices + table_size + entries.len() as u32 * entry_size);
        match (l.dict_keys_log2_index_bytes, l.dict_keys_kind) {
            (Some(log2_index_bytes), Some(kind_offset)) => {
                self.memory.put(at(addr, l.dict_keys_size), &[log2_size]);
                self.memory.put(at(addr, log2_index_bytes), &[log2_size]);
                self.memory.put(at(addr, kind_offset), &[kind as u8]);
            }
            _ => self.put_i64(at(addr, l.dict_keys_size), i64::from(table_size)),
        }
        self.put_i64(at(addr, l.dict_keys_nentries), entries.len() as i64);
        let indices = at(addr, l.dict_keys_indices);
        // Slot i holds entry i; the rest are empty (-1). The reader goes by entries, not slots.
        for slot in 0..table_size as usize {
            self.memory.put(indices + slot as u64, &[if slot < entries.len() { slot as u8 } else { 0xff }]);
        }
        let entries_addr = indices + u64::from(table_size);
        for (i, &(key, value)) in entries.iter().enumerate() {
            // Both kinds of entry end with me_key, me_value (a general entry starts with the hash).
            let entry_end = entries_addr + (i as u64 + 1) * u64::from(entry_size);
            self.memory.put_u64(entry_end - 16, key);
            self.memory.put_u64(entry_end - 8, value);
        }
        addr
    }
}

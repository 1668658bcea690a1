//! Dicts and instance attributes in the target, in each minor's layout: a dict's keys object
//! (3.6-3.10 `dk_size`, 3.11+ log2 sizes and kinds), split tables, 2.7's single open-addressed
//! table, and where an instance keeps its attributes (a `__dict__` at `tp_dictoffset`, or 3.11+
//! managed dicts and inline values).
//! Every size is bounded and every pointer may be garbage: a failed read is an error, never a panic.

use rustc_hash::FxHashMap;

use crate::memory::{at, field_i64, field_u64, field_u8, read_words, Memory, MemoryExt, ReadRequest};
use crate::python::layout::{Layout, ManagedDict};
use crate::python::strings;
use crate::{Error, Result};

/// sys.modules of a large program has a few thousand entries; `_active` one per thread.
const MAX_DICT_ENTRIES: u64 = 1 << 16;
/// No type is near this large; a bigger `tp_dictoffset` is garbage.
const MAX_DICT_OFFSET: i64 = 1 << 20;

/// Where a table's values are when its entries hold only keys (a split table): a dict's
/// `ma_values`, or an instance's own values.
#[derive(Debug, Clone, Copy)]
struct SplitValues {
    /// The array of value pointers.
    items: u64,
    /// How many it holds, where the minor says (3.13+).
    capacity: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// The keys object; 2.7: the entries themselves (`ma_table`).
    keys: u64,
    split: Option<SplitValues>,
    /// 2.7: how many slots `ma_table` has (`ma_mask` + 1); free and deleted slots are entries too.
    python2_slots: Option<u64>,
}

pub struct Dict {
    pub type_addr: u64,
    pub table: Table,
    /// `ma_used`: how many items it holds.
    pub used: i64,
}

/// A preview scans this many entries of a keys object at most for the items it shows: a dict
/// whose first entries were all deleted shows fewer items rather than costing a large read.
const MAX_PREVIEW_ENTRIES: usize = 1024;

/// The entries of a keys object.
struct Entries {
    /// (me_key, me_value) of each, in insertion order, deleted ones included (key 0) so that a
    /// position is the index into a split table's values.
    pairs: Vec<(u64, u64)>,
    addr: u64,
    entry_size: u32,
}

/// Where a key was found in a keys object: its entry's index, and the address of the entry's value.
#[derive(Debug, Clone, Copy)]
struct Slot {
    index: usize,
    entry_value: u64,
}

#[derive(Debug, Clone, Copy)]
struct TypeInfo {
    flags: u64,
    basicsize: u64,
    dictoffset: i64,
    cached_keys: u64,
}

/// The first `len` bytes of `buf`, for a header whose size the layout gives.
fn header<'b>(buf: &'b mut [u8], len: usize, what: &str) -> Result<&'b mut [u8]> {
    buf.get_mut(..len).ok_or_else(|| Error::read_failed(format!("{what} header larger than expected")))
}

enum DictOrValues {
    Dict(u64),
    /// Address of a `PyDictValues`.
    Values(u64),
}

/// Reads dicts for one pass over the target. Instances share their type and, through it, the keys
/// their attributes are indexed by: each of those is read once a pass.
pub struct DictReader<'a> {
    pub memory: &'a dyn Memory,
    pub layout: &'a Layout,
    types: FxHashMap<u64, TypeInfo>,
    /// (keys object, key) -> where that key is in it.
    slots: FxHashMap<(u64, &'static str), Option<Slot>>,
}

impl<'a> DictReader<'a> {
    pub fn new(memory: &'a dyn Memory, layout: &'a Layout) -> Self {
        DictReader { memory, layout, types: FxHashMap::default(), slots: FxHashMap::default() }
    }

    pub fn dict(&self, dict: u64) -> Result<Dict> {
        let l = self.layout;
        if let (Some(table), Some(mask)) = (l.dict_table, l.dict_mask) {
            return self.python2_dict(dict, table, mask);
        }
        let mut head = [0u8; 64];
        let len = [l.object_type, l.dict_keys, l.dict_values, l.dict_used].into_iter().max().unwrap_or(0) as usize + 8;
        let head = header(&mut head, len, "dict")?;
        self.memory.read(dict, head)?;
        let keys = field_u64(head, l.dict_keys);
        if keys == 0 {
            return Err(Error::read_failed(format!("dict at {dict:#x} has no keys")));
        }
        let values = field_u64(head, l.dict_values);
        let split = if values == 0 { None } else { Some(self.split_values(values)?.0) };
        Ok(Dict {
            type_addr: field_u64(head, l.object_type),
            table: Table { keys, split, python2_slots: None },
            used: field_i64(head, l.dict_used),
        })
    }

    /// 2.7: `ma_table` holds `ma_mask + 1` entries {hash, key, value}, at `ma_smalltable` inside the
    /// dict while it has at most 8 slots.
    fn python2_dict(&self, dict: u64, table: u32, mask: u32) -> Result<Dict> {
        let l = self.layout;
        let mut head = [0u8; 64];
        let len = [l.object_type, table, mask, l.dict_used].into_iter().max().unwrap_or(0) as usize + 8;
        let head = header(&mut head, len, "dict")?;
        self.memory.read(dict, head)?;
        let slots = field_u64(head, mask).wrapping_add(1);
        let entries = field_u64(head, table);
        if entries == 0 || !slots.is_power_of_two() || slots > MAX_DICT_ENTRIES {
            return Err(Error::read_failed(format!("dict at {dict:#x} is not plausible")));
        }
        Ok(Dict {
            type_addr: field_u64(head, l.object_type),
            table: Table { keys: entries, split: None, python2_slots: Some(slots) },
            used: field_i64(head, l.dict_used),
        })
    }

    /// The values array of the `PyDictValues` at `values`, and whether it is in use (3.13+ `valid`).
    fn split_values(&self, values: u64) -> Result<(SplitValues, bool)> {
        let l = self.layout;
        let mut head = [0u8; 16];
        let head = header(&mut head, l.dict_values_items as usize, "dict values")?;
        self.memory.read(values, head)?;
        let capacity = l.dict_values_capacity.map(|o| usize::from(field_u8(head, o)));
        let valid = l.dict_values_valid.is_none_or(|o| field_u8(head, o) != 0);
        Ok((SplitValues { items: at(values, l.dict_values_items), capacity }, valid))
    }

    fn entries(&self, table: &Table) -> Result<Entries> {
        self.first_entries(table, usize::MAX)
    }

    /// The first `limit` entries of a table (all of them when it has fewer).
    fn first_entries(&self, table: &Table, limit: usize) -> Result<Entries> {
        let l = self.layout;
        let keys = table.keys;
        if let Some(slots) = table.python2_slots {
            let raw = self.memory.read_vec(keys, slots as usize * l.dict_entry_size as usize)?;
            return Ok(Entries { pairs: entry_pairs(&raw, l.dict_entry_size), addr: keys, entry_size: l.dict_entry_size });
        }
        let mut head = [0u8; 64];
        let head = header(&mut head, l.dict_keys_indices as usize, "dict keys")?;
        self.memory.read(keys, head)?;
        let garbage = || Error::read_failed(format!("dict keys at {keys:#x} are not plausible"));
        let (table_size, index_bytes, entry_size) = match (l.dict_keys_log2_index_bytes, l.dict_keys_kind) {
            (Some(log2_index_bytes), Some(kind)) => {
                // 3.11+: sizes as log2; unicode-only tables (kind 1 unicode, 2 split) drop the hash.
                let log2_size = u32::from(field_u8(head, l.dict_keys_size));
                let log2_index_bytes = u32::from(field_u8(head, log2_index_bytes));
                if log2_size > 32 || !(log2_size..=log2_size + 3).contains(&log2_index_bytes) {
                    return Err(garbage());
                }
                let entry_size = match field_u8(head, kind) {
                    0 => l.dict_entry_size,
                    1 | 2 => l.dict_unicode_entry_size.ok_or_else(garbage)?,
                    _ => return Err(garbage()),
                };
                (1u64 << log2_size, 1u64 << log2_index_bytes, entry_size)
            }
            _ => {
                // <= 3.10: dk_size, indices as wide as the table needs.
                let size = field_i64(head, l.dict_keys_size);
                if size <= 0 || size > 1 << 32 || size & (size - 1) != 0 {
                    return Err(garbage());
                }
                let width = if size <= 0xff {
                    1
                } else if size <= 0xffff {
                    2
                } else {
                    4
                };
                (size as u64, size as u64 * width, l.dict_entry_size)
            }
        };
        let nentries = field_i64(head, l.dict_keys_nentries);
        if nentries < 0 || nentries as u64 > table_size.min(MAX_DICT_ENTRIES) || entry_size < 16 {
            return Err(garbage());
        }
        let entries_addr = at(keys, l.dict_keys_indices).wrapping_add(index_bytes);
        let raw = self.memory.read_vec(entries_addr, (nentries as usize).min(limit) * entry_size as usize)?;
        Ok(Entries { pairs: entry_pairs(&raw, entry_size), addr: entries_addr, entry_size })
    }

    /// The live (key, value) pairs of a table, in insertion order.
    pub fn items(&self, table: &Table) -> Result<Vec<(u64, u64)>> {
        self.scan_items(table, usize::MAX)
    }

    /// The first `count` live pairs, found among the first `MAX_PREVIEW_ENTRIES` entries: a few
    /// more entries than that are read first, all of those only when deletions left gaps.
    pub fn first_items(&self, table: &Table, count: usize) -> Result<Vec<(u64, u64)>> {
        let mut pairs = self.scan_items(table, 2 * count + 8)?;
        if pairs.len() < count {
            pairs = self.scan_items(table, MAX_PREVIEW_ENTRIES)?;
        }
        pairs.truncate(count);
        Ok(pairs)
    }

    fn scan_items(&self, table: &Table, entries: usize) -> Result<Vec<(u64, u64)>> {
        let mut pairs = self.first_entries(table, entries)?.pairs;
        if let Some(split) = &table.split {
            let count = pairs.len().min(split.capacity.unwrap_or(usize::MAX));
            let values = self.memory.read_vec(split.items, count * 8)?;
            for (i, pair) in pairs.iter_mut().enumerate() {
                pair.1 = if i < count { field_u64(&values, i as u32 * 8) } else { 0 };
            }
        }
        pairs.retain(|&(key, value)| key != 0 && value != 0);
        Ok(pairs)
    }

    /// The value under the str key `key` (ASCII), if the table has it.
    pub fn get_str(&mut self, table: &Table, key: &'static str) -> Result<Option<u64>> {
        // 2.7 rehashes a small table in place (inside the dict), so where a key was is not kept.
        let cached = if table.python2_slots.is_none() { self.slots.get(&(table.keys, key)).copied() } else { None };
        let slot = match cached {
            Some(slot) => slot,
            None => {
                let entries = self.entries(table)?;
                // A deleted 2.7 entry keeps a key ("<dummy key>") but no value: never the one wanted.
                // (A split table's entries have no values of their own: those are kept apart.)
                let python2 = table.python2_slots.is_some();
                let keys: Vec<u64> =
                    entries.pairs.iter().map(|&(key, value)| if python2 && value == 0 { 0 } else { key }).collect();
                let size = u64::from(entries.entry_size);
                let slot = strings::position_of_ascii(self.memory, self.layout, &keys, key)
                    .map(|index| Slot { index, entry_value: entries.addr.wrapping_add(index as u64 * size + size - 8) });
                self.slots.insert((table.keys, key), slot);
                slot
            }
        };
        let Some(slot) = slot else { return Ok(None) };
        let value = match &table.split {
            None => self.memory.read_u64(slot.entry_value)?,
            Some(split) if split.capacity.is_some_and(|c| slot.index >= c) => 0,
            Some(split) => self.memory.read_u64(split.items.wrapping_add(slot.index as u64 * 8))?,
        };
        Ok((value != 0).then_some(value))
    }

    /// An attribute stored on the instance `obj` itself (not on its class, not in a slot).
    pub fn instance_attribute(&mut self, obj: u64, name: &'static str) -> Result<Option<u64>> {
        match self.instance_table(obj)? {
            Some(table) => self.get_str(&table, name),
            None => Ok(None),
        }
    }

    fn type_info(&mut self, type_addr: u64) -> Result<TypeInfo> {
        if let Some(&info) = self.types.get(&type_addr) {
            return Ok(info);
        }
        let l = self.layout;
        // Instances with attributes are of heap types, so the read may run to ht_cached_keys.
        let fields = [l.type_flags, l.type_basicsize, l.type_dictoffset, l.heap_type_cached_keys];
        let len = fields.into_iter().max().unwrap_or(0) as usize + 8;
        let raw = self.memory.read_vec(type_addr, len)?;
        let info = TypeInfo {
            flags: field_u64(&raw, l.type_flags),
            basicsize: field_u64(&raw, l.type_basicsize),
            dictoffset: field_i64(&raw, l.type_dictoffset),
            cached_keys: field_u64(&raw, l.heap_type_cached_keys),
        };
        self.types.insert(type_addr, info);
        Ok(info)
    }

    /// Where `obj`'s attributes are: a dict, or (3.11+, until someone asks for `__dict__`) values
    /// indexed by the keys its type caches.
    fn instance_table(&mut self, obj: u64) -> Result<Option<Table>> {
        let l = self.layout;
        let ty = self.type_info(self.memory.read_u64(at(obj, l.object_type))?)?;
        let has_flag = |flag: Option<u32>| flag.is_some_and(|f| ty.flags & u64::from(f) != 0);
        let found = match (has_flag(l.tpflag_managed_dict), l.managed_dict_before_object) {
            (true, Some(dict_before)) => {
                let word = self.memory.read_u64(obj.wrapping_sub(u64::from(dict_before)))?;
                match l.managed_dict {
                    ManagedDict::ValuesOrDict => {
                        let before = l
                            .managed_values_before_object
                            .ok_or_else(|| Error::read_failed("no values pointer in this layout"))?;
                        match self.memory.read_u64(obj.wrapping_sub(u64::from(before)))? {
                            0 => DictOrValues::Dict(word),
                            values => DictOrValues::Values(values),
                        }
                    }
                    // The word holds values - 1 when its low bit is set (`_PyDictOrValues_GetValues`).
                    ManagedDict::TaggedDictOrValues if word & 1 == 1 => DictOrValues::Values(word.wrapping_add(1)),
                    ManagedDict::DictOrInlineValues if word == 0 && has_flag(l.tpflag_inline_values) => {
                        DictOrValues::Values(obj.wrapping_add(ty.basicsize))
                    }
                    _ => DictOrValues::Dict(word),
                }
            }
            _ => {
                // A negative tp_dictoffset counts from the end of a variable-size object; Threads are not.
                if !(1..MAX_DICT_OFFSET).contains(&ty.dictoffset) {
                    return Ok(None);
                }
                DictOrValues::Dict(self.memory.read_u64(obj.wrapping_add(ty.dictoffset as u64))?)
            }
        };
        match found {
            DictOrValues::Dict(0) => Ok(None),
            DictOrValues::Dict(dict) => Ok(Some(self.dict(dict)?.table)),
            DictOrValues::Values(values) => {
                let (split, valid) = self.split_values(values)?;
                Ok((valid && ty.cached_keys != 0).then_some(Table {
                    keys: ty.cached_keys,
                    split: Some(split),
                    python2_slots: None,
                }))
            }
        }
    }

    /// Ints that fit in two 30-bit digits (thread idents do), read in one batch; None for others.
    /// 2.7: its `int` (a C long), what `thread.get_ident()` returns.
    pub fn small_ints(&self, addrs: impl Iterator<Item = u64>) -> Vec<Option<i64>> {
        let l = self.layout;
        let addrs: Vec<u64> = addrs.collect();
        if let Some(value_at) = l.int_value {
            let values = read_words(self.memory, addrs.iter().map(|&a| at(a, value_at)));
            return values.into_iter().map(|v| v.map(|v| v as i64)).collect();
        }
        let len = l.long_digits as usize + 8;
        let mut heads = vec![0u8; len * addrs.len()];
        let mut requests: Vec<ReadRequest> =
            addrs.iter().zip(heads.chunks_exact_mut(len)).map(|(&a, buf)| ReadRequest::new(a, buf)).collect();
        if self.memory.read_many(&mut requests).is_err() {
            return vec![None; addrs.len()];
        }
        requests
            .iter()
            .map(|r| {
                let digits = r.buf.get(l.long_digits as usize..)?;
                r.ok.then(|| l.long_model.small_value(field_u64(r.buf, l.long_size_or_tag), digits)).flatten()
            })
            .collect()
    }
}

/// (me_key, me_value) of each entry: every kind of entry ends with those two words.
fn entry_pairs(raw: &[u8], entry_size: u32) -> Vec<(u64, u64)> {
    raw.chunks_exact(entry_size as usize).map(|e| (field_u64(e, entry_size - 16), field_u64(e, entry_size - 8))).collect()
}

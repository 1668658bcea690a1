//! Plants the values of local slots (`VALUES`): ints of every size, floats, str, bytes, cells,
//! objects of built-in types and of classes, tuples, lists, sets and dicts, nested.

use pyspy_core::memory::at;

use crate::builder::thread_names::KeysKind;
use crate::builder::Builder;
use crate::values::{PlantedValue, Value};

/// `Py_TPFLAGS_HEAPTYPE`: what a class statement makes.
const TPFLAGS_HEAPTYPE: u64 = 1 << 9;

impl Builder<'_> {
    pub(crate) fn value(&mut self, value: &Value) -> PlantedValue {
        let l = self.layout;
        let leaf = |addr| PlantedValue { addr, items: Vec::new() };
        match *value {
            Value::Unset => leaf(0),
            Value::None => leaf(self.object("NoneType", 16)),
            Value::Bool(b) => leaf(self.long("bool", i64::from(b))),
            Value::Int(v) => leaf(self.long("int", v)),
            Value::BigInt => leaf(self.long("int", i64::MAX)),
            Value::Huge { negative, digits } => leaf(self.huge_int(negative, digits)),
            Value::Float(v) => {
                let addr = self.object("float", l.float_value + 8);
                self.memory.put(at(addr, l.float_value), &v.to_bits().to_le_bytes());
                leaf(addr)
            }
            Value::Str(s) => leaf(self.str(s)),
            Value::Unicode(s) => leaf(self.text(s)),
            Value::Bytes(b) => leaf(self.bytes(b)),
            Value::Cell(contents) => {
                let inner = contents.map_or(0, |v| self.value(&Value::Int(v)).addr);
                let offset = l.cell_contents.unwrap_or(16);
                let addr = self.object("cell", offset + 8);
                self.memory.put_u64(at(addr, offset), inner);
                leaf(addr)
            }
            Value::Other(type_name) => leaf(self.object(type_name, 64)),
            Value::Object(class) => {
                let ty = self.type_object(class);
                let flags = self.memory.get_u64(at(ty, l.type_flags));
                self.memory.put_u64(at(ty, l.type_flags), flags | TPFLAGS_HEAPTYPE);
                leaf(self.object(class, 64))
            }
            Value::Tuple(items) => {
                let items: Vec<PlantedValue> = items.iter().map(|v| self.value(v)).collect();
                let addrs: Vec<u64> = items.iter().map(|p| p.addr).collect();
                PlantedValue { addr: self.tuple(&addrs), items }
            }
            Value::List(items) => {
                let items: Vec<PlantedValue> = items.iter().map(|v| self.value(v)).collect();
                let array = self.alloc(8 * items.len() as u32);
                for (i, item) in items.iter().enumerate() {
                    self.memory.put_u64(array + 8 * i as u64, item.addr);
                }
                let addr = self.object("list", l.var_object_size.max(l.list_items) + 8);
                self.put_i64(at(addr, l.var_object_size), items.len() as i64);
                self.memory.put_u64(at(addr, l.list_items), array);
                PlantedValue { addr, items }
            }
            Value::Set { items, frozen } => {
                let items: Vec<PlantedValue> = items.iter().map(|v| self.value(v)).collect();
                let addrs: Vec<u64> = items.iter().map(|p| p.addr).collect();
                PlantedValue { addr: self.set(&addrs, frozen), items }
            }
            Value::Dict(pairs) => {
                let items: Vec<PlantedValue> = pairs.iter().flat_map(|(k, v)| [self.value(k), self.value(v)]).collect();
                let entries: Vec<(u64, u64)> = items.chunks_exact(2).map(|kv| (kv[0].addr, kv[1].addr)).collect();
                PlantedValue { addr: self.dict(&entries, KeysKind::General), items }
            }
        }
    }

    /// An int of `digits` 30-bit digits: all ones but the top one, which is 1.
    fn huge_int(&mut self, negative: bool, digits: u32) -> u64 {
        let l = self.layout;
        // 2.7's `int` is a C long: its bignums are `long`s.
        let addr = self.object(if l.int_value.is_some() { "long" } else { "int" }, l.long_digits + 4 * digits);
        for i in 0..digits {
            let digit: u32 = if i == digits - 1 { 1 } else { 0x3fff_ffff };
            self.memory.put(at(addr, l.long_digits) + 4 * u64::from(i), &digit.to_le_bytes());
        }
        let head = match l.long_model {
            pyspy_core::python::layout::LongModel::SignedSize if negative => -i64::from(digits),
            pyspy_core::python::layout::LongModel::SignedSize => i64::from(digits),
            pyspy_core::python::layout::LongModel::Tagged => i64::from(digits) << 3 | if negative { 2 } else { 0 },
        };
        self.put_i64(at(addr, l.long_size_or_tag), head);
        addr
    }

    /// A set (or frozenset) whose table holds `keys` in this order, with a deleted slot (the dummy
    /// key, hash -1) and a free one among them, as a set that has had items removed does.
    fn set(&mut self, keys: &[u64], frozen: bool) -> u64 {
        let l = self.layout;
        let slots = (keys.len() as u32 * 2 + 2).next_power_of_two().max(8);
        let entry = l.set_entry_size;
        let hash_offset = if l.set_entry_key == 0 { 8 } else { 0 };
        let table = self.alloc(slots * entry);
        let dummy = self.object("dummy", 16);
        let mut slot = 0u64;
        let mut put = |builder: &mut Self, key: u64, hash: i64| {
            let at_slot = table + slot * u64::from(entry);
            builder.memory.put_u64(at(at_slot, l.set_entry_key), key);
            builder.put_i64(at(at_slot, hash_offset), hash);
            slot += 1;
        };
        put(self, dummy, -1);
        for (i, &key) in keys.iter().enumerate() {
            put(self, key, 17 + i as i64);
            if i == 0 {
                // A free slot: no key at all.
                put(self, 0, 0);
            }
        }
        let size = [l.set_used, l.set_mask, l.set_table].into_iter().max().unwrap() + 8;
        let addr = self.object(if frozen { "frozenset" } else { "set" }, size);
        self.put_i64(at(addr, l.set_used), keys.len() as i64);
        self.put_i64(at(addr, l.set_mask), i64::from(slots - 1));
        self.memory.put_u64(at(addr, l.set_table), table);
        addr
    }
}

//! Short, safe previews of objects in the target, for `dump --locals`, in the manner of Python's
//! `reprlib`: the value of None, bools, ints (in full up to `MAX_INT_DIGITS` digits), floats, str
//! and bytes; tuples, lists, sets, frozensets and dicts with their first items (`MAX_ITEMS`,
//! `MAX_DICT_ITEMS`) and the count of the rest (`[0, 1, 2, 3, 4, 5, ...+94]`), nested to
//! `MAX_DEPTH`; the class name and address of anything else (`<Foo object at 0x7f0a12345678>`).
//!
//! The rules, which the ground-truth test's target mirrors with `reprlib.Repr`:
//! - str and bytes as Python's repr, cut to `MAX_TOP_STR_CHARS` (`MAX_ITEM_STR_CHARS` inside a
//!   container) with `...` in place of the rest; only the first `STR_PREFIX_CHARS` are read, and
//!   the quote is chosen by them;
//! - a container at depth `MAX_DEPTH` shows no items: `[...+3]`; a tuple of one is `(x,)`; the
//!   empty set is `set()`, a frozenset `frozenset({...})`;
//! - an int of more than `MAX_INT_DIGITS` digits is `<int of N bits>` (`-<int of N bits>`);
//! - the whole preview is cut to `MAX_REPR_CHARS` with `...` at the end.
//!
//! Every read is bounded: a container's first items only, a prefix of a string, and no more
//! objects than it takes to fill `MAX_REPR_CHARS`. Only exact built-in types are shown by value
//! (a subclass, or a class of the program's that happens to be called `list`, is an object).

use rustc_hash::FxHashMap;

use crate::memory::{at, field_f64_bits, field_i64, field_u32, field_u64, Memory, MemoryExt};
use crate::python::dicts::DictReader;
use crate::python::layout::Layout;
use crate::python::scalar_reprs::{bits_of, bytes_repr, float_repr, python2_repr, str_repr, to_decimal, truncate};
use crate::python::strings;
use crate::Result;

/// The longest preview, in characters.
pub const MAX_REPR_CHARS: usize = 120;
/// A str or bytes on its own, and inside a container.
pub const MAX_TOP_STR_CHARS: usize = 80;
pub const MAX_ITEM_STR_CHARS: usize = 40;
/// Items shown of a tuple, list, set or frozenset, and of a dict.
pub const MAX_ITEMS: usize = 6;
pub const MAX_DICT_ITEMS: usize = 4;
/// Containers this deep (the local itself is at 0) show no items.
pub const MAX_DEPTH: u32 = 3;
/// Ints with more digits than this are shown by their size.
pub const MAX_INT_DIGITS: usize = 40;
/// How much of a str (characters) or bytes a preview reads.
const STR_PREFIX_CHARS: usize = 256;
/// An int of more 30-bit digits than this has more than `MAX_INT_DIGITS` decimal ones.
const MAX_INT_READ_DIGITS: u64 = 5;
/// A set's slots scanned for the items shown, at most.
const MAX_SET_SLOTS: u64 = 1024;
/// `Py_TPFLAGS_HEAPTYPE`: a type made by a class statement (a stable ABI constant since 2.x).
const TPFLAGS_HEAPTYPE: u64 = 1 << 9;

pub fn type_name(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<String> {
    let type_addr = memory.read_u64(at(obj, layout.object_type))?;
    read_type(memory, layout, type_addr).map(|t| t.name)
}

#[derive(Debug, Clone)]
struct TypeInfo {
    name: String,
    heap: bool,
}

fn read_type(memory: &dyn Memory, layout: &Layout, type_addr: u64) -> Result<TypeInfo> {
    let mut head = [0u8; 256];
    let len = (layout.type_name.max(layout.type_flags) as usize + 8).min(head.len());
    memory.read(type_addr, &mut head[..len])?;
    let mut name = [0u8; 64];
    memory.read(field_u64(&head, layout.type_name), &mut name)?;
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    let heap = field_u64(&head, layout.type_flags) & TPFLAGS_HEAPTYPE != 0;
    Ok(TypeInfo { name: String::from_utf8_lossy(&name[..end]).into_owned(), heap })
}

/// What a cell holds; None when it cannot be read.
pub fn cell_contents(memory: &dyn Memory, layout: &Layout, cell: u64) -> Option<u64> {
    let offset = u64::from(layout.cell_contents.unwrap_or(CELL_CONTENTS_OFFSET));
    memory.read_u64(cell.wrapping_add(offset)).ok()
}

/// A preview of the object at `obj` (see the module comment).
pub fn short_repr(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<String> {
    let mut preview = Preview { memory, layout, text: String::new(), chars: 0, types: FxHashMap::default(), cell_opened: false };
    preview.value(obj, 0)?;
    Ok(preview.finish())
}

struct Preview<'a> {
    memory: &'a dyn Memory,
    layout: &'a Layout,
    text: String,
    chars: usize,
    /// Types by address: a list of ints reads the int type once.
    types: FxHashMap<u64, TypeInfo>,
    /// The local was a cell, shown by its contents: a cell in there is an object like any other.
    cell_opened: bool,
}

impl Preview<'_> {
    fn push(&mut self, s: &str) {
        self.chars += s.chars().count();
        self.text.push_str(s);
    }

    /// Past the longest preview: whatever comes next would be cut anyway.
    fn full(&self) -> bool {
        self.chars > MAX_REPR_CHARS
    }

    fn finish(self) -> String {
        truncate(&self.text, MAX_REPR_CHARS)
    }

    fn type_of(&mut self, obj: u64) -> Result<TypeInfo> {
        let type_addr = self.memory.read_u64(at(obj, self.layout.object_type))?;
        if let Some(info) = self.types.get(&type_addr) {
            return Ok(info.clone());
        }
        let info = read_type(self.memory, self.layout, type_addr)?;
        self.types.insert(type_addr, info.clone());
        Ok(info)
    }

    /// Appends the preview of `obj`; fails, having appended nothing, when `obj` itself cannot be read.
    fn value(&mut self, obj: u64, depth: u32) -> Result<()> {
        if obj == 0 {
            self.push("<NULL>");
            return Ok(());
        }
        let ty = self.type_of(obj)?;
        if ty.heap {
            self.push(&format!("<{} object at {obj:#x}>", ty.name));
            return Ok(());
        }
        let (memory, layout) = (self.memory, self.layout);
        let limit = if depth == 0 { MAX_TOP_STR_CHARS } else { MAX_ITEM_STR_CHARS };
        match ty.name.as_str() {
            "NoneType" => self.push("None"),
            "bool" => {
                let text = if read_int(memory, layout, obj)?.is_some_and(|v| v != 0) { "True" } else { "False" };
                self.push(text);
            }
            // 2.7's int is a C long; its arbitrary-precision ints are `long`s, shown with an L.
            "int" if layout.int_value.is_some() => {
                let value = read_int(memory, layout, obj)?.unwrap_or_default();
                self.push(&value.to_string());
            }
            "int" => {
                let text = int_repr(memory, layout, obj)?;
                self.push(&text);
            }
            "long" if layout.int_value.is_some() => {
                let text = int_repr(memory, layout, obj)?;
                self.push(&format!("{text}L"));
            }
            "float" => {
                let mut buf = [0u8; 8];
                memory.read(at(obj, layout.float_value), &mut buf)?;
                self.push(&float_repr(f64::from_bits(field_f64_bits(&buf, 0))));
            }
            // 2.7's str is a byte string, its text type `unicode`: shown as Python 2 shows them.
            "str" if layout.str_is_bytes == Some(true) => {
                let (data, _) = strings::read_bytes_prefix(memory, layout, obj, STR_PREFIX_CHARS)?;
                self.push(&truncate(&python2_repr(data.iter().map(|&b| u32::from(b))), limit));
            }
            "unicode" if layout.unicode_str_pointer.is_some() => {
                let (text, _) = strings::read_unicode_prefix(memory, layout, obj, STR_PREFIX_CHARS)?;
                let chars = text.chars().take(STR_PREFIX_CHARS).map(u32::from);
                self.push(&truncate(&format!("u{}", python2_repr(chars)), limit));
            }
            "str" => {
                let (text, _) = strings::read_unicode_prefix(memory, layout, obj, STR_PREFIX_CHARS)?;
                self.push(&truncate(&str_repr(&text), limit));
            }
            "bytes" => {
                let (data, _) = strings::read_bytes_prefix(memory, layout, obj, STR_PREFIX_CHARS)?;
                self.push(&truncate(&bytes_repr(&data), limit));
            }
            "tuple" => {
                let total = self.size(obj, layout.tuple_size)?;
                let items = self.pointers(at(obj, layout.tuple_items), total, MAX_ITEMS, depth)?;
                self.sequence("(", ")", &items, total, depth, true);
            }
            "list" => {
                let total = self.size(obj, layout.var_object_size)?;
                let array = memory.read_u64(at(obj, layout.list_items))?;
                let items = self.pointers(array, total, MAX_ITEMS, depth)?;
                self.sequence("[", "]", &items, total, depth, false);
            }
            "set" | "frozenset" => {
                let (items, total) = self.set_items(obj, depth)?;
                let frozen = ty.name == "frozenset";
                match (frozen, total) {
                    (false, 0) => self.push("set()"),
                    (true, 0) => self.push("frozenset()"),
                    (false, _) => self.sequence("{", "}", &items, total, depth, false),
                    (true, _) => {
                        self.push("frozenset(");
                        self.sequence("{", "}", &items, total, depth, false);
                        self.push(")");
                    }
                }
            }
            "dict" => self.dict(obj, depth)?,
            // Closure variables sit in cells; what people want to see is the value inside, as if
            // it were the local itself.
            "cell" if depth == 0 && !self.cell_opened => {
                let inner = memory.read_u64(at(obj, layout.cell_contents.unwrap_or(CELL_CONTENTS_OFFSET)))?;
                self.cell_opened = true;
                if inner == 0 {
                    self.push("<empty cell>");
                } else {
                    self.value(inner, depth)?;
                }
            }
            other => self.push(&format!("<{other} object at {obj:#x}>")),
        }
        Ok(())
    }

    /// An item of a container: one that cannot be read says so in its place.
    fn item(&mut self, obj: u64, depth: u32) {
        if self.value(obj, depth).is_err() {
            self.push("<unreadable>");
        }
    }

    /// `ob_size` (or a set's `used`) at `offset`, checked to be a size.
    fn size(&self, obj: u64, offset: u32) -> Result<usize> {
        let size = self.memory.read_u64(at(obj, offset))? as i64;
        if !(0..=i64::from(i32::MAX)).contains(&size) {
            return Err(crate::Error::read_failed(format!("object at {obj:#x} has implausible size {size}")));
        }
        Ok(size as usize)
    }

    /// The first item pointers of an array of `total`, as many as a container at `depth` shows.
    fn pointers(&self, array: u64, total: usize, max: usize, depth: u32) -> Result<Vec<u64>> {
        let shown = if depth >= MAX_DEPTH { 0 } else { total.min(max) };
        let raw = self.memory.read_vec(array, shown * 8)?;
        Ok(raw.chunks_exact(8).map(|c| field_u64(c, 0)).collect())
    }

    /// `open item, item, ...+rest close`; at `MAX_DEPTH`, `open...+total close`.
    fn sequence(&mut self, open: &str, close: &str, items: &[u64], total: usize, depth: u32, tuple: bool) {
        self.push(open);
        for (i, &item) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            if self.full() {
                return;
            }
            self.item(item, depth + 1);
        }
        self.rest(items.len(), total);
        if tuple && total == 1 && items.len() == 1 {
            self.push(",");
        }
        self.push(close);
    }

    /// `...+N` for the items not shown.
    fn rest(&mut self, shown: usize, total: usize) {
        if total > shown {
            self.push(&format!("{}...+{}", if shown > 0 { ", " } else { "" }, total - shown));
        }
    }

    /// A set's first live keys, in its table's order (Python's iteration order), and its size.
    fn set_items(&self, obj: u64, depth: u32) -> Result<(Vec<u64>, usize)> {
        let l = self.layout;
        let total = self.size(obj, l.set_used)?;
        let mask = self.memory.read_u64(at(obj, l.set_mask))?;
        let table = self.memory.read_u64(at(obj, l.set_table))?;
        let wanted = if depth >= MAX_DEPTH { 0 } else { total.min(MAX_ITEMS) };
        let mut keys = Vec::with_capacity(wanted);
        let entry = u64::from(l.set_entry_size);
        let slots = mask.saturating_add(1).min(MAX_SET_SLOTS);
        let mut slot = 0;
        // A few slots at a time: a small set is read in one go, a sparse big one a bit at a time.
        while keys.len() < wanted && slot < slots {
            let count = (slots - slot).min(64);
            let raw = self.memory.read_vec(table.wrapping_add(slot * entry), (count * entry) as usize)?;
            for e in raw.chunks_exact(entry as usize) {
                let key = field_u64(e, l.set_entry_key);
                // A free slot has no key; a deleted one the dummy key, whose hash is -1 (no
                // object hashes to -1: CPython makes that -2).
                let hash_offset = if l.set_entry_key == 0 { 8 } else { 0 };
                if key != 0 && field_i64(e, hash_offset) != -1 && keys.len() < wanted {
                    keys.push(key);
                }
            }
            slot += count;
        }
        Ok((keys, total))
    }

    fn dict(&mut self, obj: u64, depth: u32) -> Result<()> {
        let reader = DictReader::new(self.memory, self.layout);
        let dict = reader.dict(obj)?;
        let total = usize::try_from(dict.used).unwrap_or(0);
        let shown = if depth >= MAX_DEPTH { 0 } else { total.min(MAX_DICT_ITEMS) };
        let items = if shown > 0 { reader.first_items(&dict.table, shown)? } else { Vec::new() };
        self.push("{");
        for (i, &(key, value)) in items.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            if self.full() {
                return Ok(());
            }
            self.item(key, depth + 1);
            self.push(": ");
            self.item(value, depth + 1);
        }
        self.rest(items.len(), total);
        self.push("}");
        Ok(())
    }
}

/// `PyCellObject.ob_ref`, right after the object header, where the layout does not say otherwise.
const CELL_CONTENTS_OFFSET: u32 = 16;

/// An int in full up to `MAX_INT_DIGITS` decimal digits, else by its size in bits (with its sign).
fn int_repr(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<String> {
    let mut head = [0u8; 64];
    let len = (layout.long_digits as usize + 4 * MAX_INT_READ_DIGITS as usize).min(head.len());
    memory.read(obj, &mut head[..len])?;
    let (ndigits, negative) = layout.long_model.digits_and_sign(field_u64(&head, layout.long_size_or_tag));
    let sign = if negative { "-" } else { "" };
    let bits_per_digit = layout.long_digit_bits.unwrap_or(30);
    let digit_mask = (1u32 << bits_per_digit) - 1;
    let digit = |i: u64| field_u32(&head, layout.long_digits + 4 * i as u32) & digit_mask;
    if ndigits <= MAX_INT_READ_DIGITS {
        let digits: Vec<u32> = (0..ndigits).map(digit).collect();
        let decimal = to_decimal(&digits, bits_per_digit);
        if decimal.len() <= MAX_INT_DIGITS {
            return Ok(format!("{sign}{decimal}"));
        }
        let top = digits.last().copied().unwrap_or(0);
        return Ok(format!("{sign}<int of {} bits>", bits_of(ndigits, top, bits_per_digit)));
    }
    if ndigits > 1 << 32 {
        return Err(crate::Error::read_failed(format!("int at {obj:#x} has implausible size {ndigits}")));
    }
    let top = memory.read_u32(at(obj, layout.long_digits).wrapping_add(4 * (ndigits - 1)))? & digit_mask;
    Ok(format!("{sign}<int of {} bits>", bits_of(ndigits, top, bits_per_digit)))
}

/// An `int` (or `bool`) that fits in an i64; None for bigger ones. 2.7's `int` is a C long
/// (`int_value`), its big ints are `long`s.
fn read_int(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<Option<i64>> {
    match layout.int_value {
        Some(offset) => Ok(Some(memory.read_u64(at(obj, offset))? as i64)),
        None => read_long(memory, layout, obj),
    }
}

fn read_long(memory: &dyn Memory, layout: &Layout, obj: u64) -> Result<Option<i64>> {
    // One read for the size and up to two digits; a shorter int leaves the rest unused.
    let mut head = [0u8; 64];
    let len = (layout.long_digits as usize + 8).min(head.len());
    memory.read(obj, &mut head[..len])?;
    let digits = head.get(layout.long_digits as usize..len).unwrap_or(&[]);
    Ok(layout.long_model.small_value(field_u64(&head, layout.long_size_or_tag), digits))
}

/// The item pointers of a tuple (bounded: a garbage size must not make us read megabytes).
pub fn tuple_items(memory: &dyn Memory, layout: &Layout, tuple: u64) -> Result<Vec<u64>> {
    let size = memory.read_u64(at(tuple, layout.tuple_size))? as i64;
    if !(0..=65_536).contains(&size) {
        return Err(crate::Error::read_failed(format!("tuple at {tuple:#x} has implausible size {size}")));
    }
    let mut raw = vec![0u8; size as usize * 8];
    memory.read(at(tuple, layout.tuple_items), &mut raw)?;
    Ok(raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect())
}

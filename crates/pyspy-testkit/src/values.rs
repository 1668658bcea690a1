//! The values planted in local slots (`VALUES`), and what `dump --locals` must show for each: the
//! preview rules of pyspy-core's `python/objects.rs`, written again here from its description
//! (values, first items and the count of the rest, depth, cuts), so that a slip in either shows.

use pyspy_core::python::layout::Layout;
use pyspy_core::python::objects::{
    MAX_DEPTH, MAX_DICT_ITEMS, MAX_INT_DIGITS, MAX_ITEMS, MAX_ITEM_STR_CHARS, MAX_REPR_CHARS, MAX_TOP_STR_CHARS,
};

/// A local variable's value; `Unset` is a NULL slot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Unset,
    None,
    Bool(bool),
    Int(i64),
    /// i64::MAX: three 30-bit digits.
    BigInt,
    /// An int of this many 30-bit digits, the top one 1: more decimal digits than are shown.
    Huge {
        negative: bool,
        digits: u32,
    },
    Float(f64),
    Str(&'static str),
    /// Text: 2.7's `unicode`, a `str` anywhere else.
    Unicode(&'static str),
    Bytes(&'static [u8]),
    Cell(Option<i64>),
    /// An object of a built-in type the preview does not show by value.
    Other(&'static str),
    /// An instance of a class (a heap type) with this name.
    Object(&'static str),
    Tuple(&'static [Value]),
    List(&'static [Value]),
    /// Items in the order of the set's table (Python's iteration order); `frozen`: a frozenset.
    Set {
        items: &'static [Value],
        frozen: bool,
    },
    Dict(&'static [(Value, Value)]),
}

/// Where a planted value and its parts are: `items` follow the value's own (a dict's keys and
/// values alternate).
#[derive(Debug, Clone, Default)]
pub struct PlantedValue {
    pub addr: u64,
    pub items: Vec<PlantedValue>,
}

impl Value {
    /// What `objects::short_repr` (through dump's locals) shows for it, planted at `planted`.
    /// 2.7 (`layout.str_is_bytes`) shows its `str` (a byte string, planted as UTF-8) and `unicode`
    /// as Python 2 does, and its ints past a C long are `long`s, with an L.
    pub fn expected_repr(&self, planted: &PlantedValue, layout: &Layout) -> String {
        cut(&self.render(planted, 0, layout.str_is_bytes == Some(true)), MAX_REPR_CHARS)
    }

    fn render(&self, planted: &PlantedValue, depth: u32, python2: bool) -> String {
        let text_limit = if depth == 0 { MAX_TOP_STR_CHARS } else { MAX_ITEM_STR_CHARS };
        match *self {
            Value::Unset => "<unset>".into(),
            Value::None => "None".into(),
            Value::Bool(b) => (if b { "True" } else { "False" }).into(),
            Value::Int(v) => v.to_string(),
            Value::Cell(Some(v)) if depth == 0 => v.to_string(),
            Value::Cell(None) if depth == 0 => "<empty cell>".into(),
            Value::BigInt => i64::MAX.to_string(),
            Value::Huge { negative, digits } => {
                assert!(30 * (digits - 1) > 4 * MAX_INT_DIGITS as u32, "not huge enough to be shown by size");
                let long = if python2 { "L" } else { "" };
                format!("{}<int of {} bits>{long}", if negative { "-" } else { "" }, 30 * (digits - 1) + 1)
            }
            Value::Float(v) => format!("{v:?}"),
            Value::Str(s) if python2 => cut(&python_bytes_repr(s.as_bytes())[1..], text_limit),
            Value::Bytes(b) if python2 => cut(&python_bytes_repr(b)[1..], text_limit),
            Value::Unicode(s) if python2 => cut(&format!("u'{}'", python2_escape(s)), text_limit),
            Value::Str(s) | Value::Unicode(s) => cut(&format!("'{s}'"), text_limit),
            Value::Bytes(b) => cut(&python_bytes_repr(b), text_limit),
            Value::Other(name) | Value::Object(name) => format!("<{name} object at {:#x}>", planted.addr),
            Value::Cell(_) => format!("<cell object at {:#x}>", planted.addr),
            Value::Tuple(items) if items.len() == 1 && depth < MAX_DEPTH => {
                format!("({},)", items[0].render(&planted.items[0], depth + 1, python2))
            }
            Value::Tuple(items) => sequence("(", ")", items, planted, depth, MAX_ITEMS, python2),
            Value::List(items) => sequence("[", "]", items, planted, depth, MAX_ITEMS, python2),
            Value::Set { items: &[], frozen: false } => "set()".into(),
            Value::Set { items: &[], frozen: true } => "frozenset()".into(),
            Value::Set { items, frozen } => {
                let set = sequence("{", "}", items, planted, depth, MAX_ITEMS, python2);
                if frozen {
                    format!("frozenset({set})")
                } else {
                    set
                }
            }
            Value::Dict(pairs) => {
                let shown = if depth >= MAX_DEPTH { 0 } else { pairs.len().min(MAX_DICT_ITEMS) };
                let mut parts: Vec<String> = (0..shown)
                    .map(|i| {
                        let (k, v) = &pairs[i];
                        format!(
                            "{}: {}",
                            k.render(&planted.items[2 * i], depth + 1, python2),
                            v.render(&planted.items[2 * i + 1], depth + 1, python2)
                        )
                    })
                    .collect();
                if pairs.len() > shown {
                    parts.push(format!("...+{}", pairs.len() - shown));
                }
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

fn sequence(open: &str, close: &str, items: &[Value], planted: &PlantedValue, depth: u32, max: usize, python2: bool) -> String {
    let shown = if depth >= MAX_DEPTH { 0 } else { items.len().min(max) };
    let mut parts: Vec<String> = (0..shown).map(|i| items[i].render(&planted.items[i], depth + 1, python2)).collect();
    if items.len() > shown {
        parts.push(format!("...+{}", items.len() - shown));
    }
    format!("{open}{}{close}", parts.join(", "))
}

/// As Python writes a bytes: `b'...'`, or `b"..."` when there is a `'` and no `"` to quote.
fn python_bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') { '"' } else { '\'' };
    let body: String = data
        .iter()
        .map(|&b| match b {
            b'\\' => "\\\\".to_string(),
            b'\t' => "\\t".to_string(),
            b'\n' => "\\n".to_string(),
            b'\r' => "\\r".to_string(),
            b if b as char == quote => format!("\\{quote}"),
            0x20..=0x7e => (b as char).to_string(),
            b => format!("\\x{b:02x}"),
        })
        .collect();
    format!("b{quote}{body}{quote}")
}

/// Python 2's escapes for a `unicode`'s characters past ASCII (the planted ones have no quotes or
/// control characters).
fn python2_escape(s: &str) -> String {
    s.chars()
        .map(|c| match u32::from(c) {
            n @ 0..=0x7f => char::from(n as u8).to_string(),
            n @ 0x80..=0xff => format!("\\x{n:02x}"),
            n @ 0x100..=0xffff => format!("\\u{n:04x}"),
            n => format!("\\U{n:08x}"),
        })
        .collect()
}

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    format!("{}...", text.chars().take(limit - 3).collect::<String>())
}

const LONG_TEXT: &str = "a string of more than eighty characters, which a preview cuts short at eighty...";

/// Values planted in local slots, shared by every frame that holds them.
pub const VALUES: &[Value] = &[
    Value::Unset,
    Value::None,
    Value::Bool(true),
    Value::Bool(false),
    Value::Int(0),
    Value::Int(7),
    Value::Int(-12345),
    // Two digits: the high one shifted past 30 bits.
    Value::Int(1 << 40),
    Value::Int(-(1 << 59)),
    Value::BigInt,
    Value::Huge { negative: false, digits: 8 },
    Value::Huge { negative: true, digits: 300 },
    Value::Float(1.5),
    Value::Float(-3.0),
    Value::Str("hi"),
    Value::Str("ñandú"),
    Value::Str(LONG_TEXT),
    Value::Unicode("ñ関𝔣"),
    Value::Bytes(b"ab\x00\xff"),
    Value::Cell(Some(3)),
    Value::Cell(None),
    Value::Other("deque"),
    Value::Object("Widget"),
    Value::Tuple(&[]),
    Value::Tuple(&[Value::Int(1)]),
    Value::Tuple(&[Value::Str("a"), Value::None, Value::Float(2.5), Value::Object("Widget")]),
    Value::List(&[
        Value::Int(0),
        Value::Int(1),
        Value::Int(2),
        Value::Int(3),
        Value::Int(4),
        Value::Int(5),
        Value::Int(6),
        Value::Int(7),
    ]),
    Value::List(&[Value::List(&[Value::List(&[Value::List(&[Value::Int(1)]), Value::Tuple(&[])])])]),
    Value::List(&[Value::Str(LONG_TEXT), Value::Bytes(b"it's"), Value::Huge { negative: false, digits: 9 }]),
    Value::Set { items: &[Value::Int(2), Value::Str("x")], frozen: false },
    Value::Set { items: &[], frozen: false },
    Value::Set { items: &[Value::Tuple(&[Value::Int(1), Value::Int(2)])], frozen: true },
    Value::Set { items: &[], frozen: true },
    Value::Dict(&[]),
    Value::Dict(&[(Value::Str("k"), Value::Int(1)), (Value::Int(2), Value::List(&[Value::None, Value::Bool(true)]))]),
    Value::Dict(&[
        (Value::Str("a"), Value::Int(1)),
        (Value::Str("b"), Value::Int(2)),
        (Value::Str("c"), Value::Int(3)),
        (Value::Str("d"), Value::Int(4)),
        (Value::Str("e"), Value::Int(5)),
        (Value::Str("f"), Value::Int(6)),
    ]),
    // Long enough to be cut at MAX_REPR_CHARS.
    Value::List(&[Value::Str(LONG_TEXT), Value::Str(LONG_TEXT), Value::Str(LONG_TEXT), Value::Str(LONG_TEXT)]),
];

//! A frame's arguments and local variables: names from its code object, values from its slots,
//! shown as short reprs. Only `dump --locals` asks for them: a profile never holds a value.

use crate::memory::{at, field_u64, Memory};
use crate::python::code::CodeInfo;
use crate::python::frames::{RawFrame, STACKREF_TAG_MASK};
use crate::python::layout::{FrameModel, Layout};
use crate::python::{objects, strings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalVariable {
    pub name: String,
    /// A short preview: values of simple types, the first items of containers, the class name and
    /// address of other objects (see `objects`).
    pub repr: String,
    /// True for the function's parameters.
    pub is_arg: bool,
}

/// Locals that cannot be read show as `<unreadable>` rather than failing the whole read; None when
/// the code object's names cannot be read at all.
pub fn read_locals(memory: &dyn Memory, layout: &Layout, code: &CodeInfo, frame: &RawFrame) -> Option<Vec<LocalVariable>> {
    let names = objects::tuple_items(memory, layout, code.varnames_addr).ok()?;
    let mut values = vec![0u8; names.len() * 8];
    let have_values = memory.read(at(frame.frame_addr, layout.frame_localsplus), &mut values).is_ok();
    let locals = names
        .iter()
        .enumerate()
        .map(|(i, &name_addr)| {
            let name = strings::read_str(memory, layout, name_addr).unwrap_or_else(|_| "?".into());
            let mut value = if have_values { field_u64(&values, (i * 8) as u32) } else { 0 };
            if layout.frame_model == FrameModel::InterpreterFrame {
                // 3.14+ slots are _PyStackRefs; real objects are at least 8-aligned, so the mask
                // is harmless before.
                value &= !STACKREF_TAG_MASK;
            }
            let repr = match value {
                0 => "<unset>".to_string(),
                _ => objects::short_repr(memory, layout, value).unwrap_or_else(|_| "<unreadable>".into()),
            };
            LocalVariable { name, repr, is_arg: (i as u32) < code.argcount }
        })
        .collect();
    Some(locals)
}

/// What a frame's local slots point at, as addresses (cells opened), never decoded or shown: how
/// `dump --async` finds the done tasks a coroutine still holds, which 3.14+ keeps on no list.
pub fn slot_references(memory: &dyn Memory, layout: &Layout, code: &CodeInfo, frame: &RawFrame) -> Vec<u64> {
    let Ok(names) = objects::tuple_items(memory, layout, code.varnames_addr) else { return Vec::new() };
    let mut values = vec![0u8; names.len() * 8];
    if memory.read(at(frame.frame_addr, layout.frame_localsplus), &mut values).is_err() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for i in 0..names.len() {
        let value = field_u64(&values, (i * 8) as u32) & !STACKREF_TAG_MASK;
        if value == 0 {
            continue;
        }
        found.push(value);
        // A variable a closure shares is a cell in the slot; the object is inside.
        if objects::type_name(memory, layout, value).is_ok_and(|t| t == "cell") {
            found.extend(objects::cell_contents(memory, layout, value).filter(|&v| v != 0));
        }
    }
    found
}

//! What we need to know about one CPython build's memory layout, as plain byte offsets.
//!
//! One `Layout` per build (a minor, free-threaded or not) lives in `layouts/vX_Y[t].rs`, generated
//! from CPython's own headers by `scripts/layouts/generate.py` (offsetof/sizeof compiled against
//! the headers; never hand-typed).
//! For 3.13+ the target also describes itself in `_Py_DebugOffsets`; `debug_offsets.rs` reads
//! that and overrides the static table, which then serves as the definition and as a check.
//!
//! Every offset is in bytes from the start of the struct named by the field's prefix.
//! `None` means "this minor has no such field"; the walker branches on that, never on version
//! numbers, so a new minor is a new table, not new code.

/// One CPython ABI: `major.minor`, and whether it was built with `--disable-gil` (PEP 703, the
/// "t" builds such as 3.13t), which moves most offsets. `layouts::BUILDS` lists those we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Build {
    pub major: u8,
    pub minor: u8,
    pub free_threaded: bool,
}

impl Build {
    pub fn layout(self) -> Option<&'static Layout> {
        crate::python::layouts::layout_for(self)
    }

    /// 3.13+: where each field of `_Py_DebugOffsets` sits.
    pub fn debug_offsets_positions(self) -> Option<&'static crate::python::debug_offsets_positions::DebugOffsetsPositions> {
        crate::python::layouts::debug_offsets_positions_for(self)
    }

    /// Whether `layouts::BUILDS` has it.
    pub fn is_supported(self) -> bool {
        crate::python::layouts::BUILDS.contains(&self)
    }
}

impl std::fmt::Display for Build {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}{}", self.major, self.minor, if self.free_threaded { "t" } else { "" })
    }
}

/// How a thread state leads to its innermost frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameModel {
    /// 3.8-3.10: `PyThreadState.frame` is a `PyFrameObject*`; frames are heap objects linked by `f_back`.
    FrameObject,
    /// 3.11+: `_PyInterpreterFrame`s, linked by `previous`, living in the thread's data stack.
    InterpreterFrame,
}

/// How a code object maps instruction offsets to lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTable {
    /// 3.8-3.9: `co_lnotab`, pairs of (byte offset delta, line delta).
    Lnotab,
    /// 3.10: `co_linetable`, pairs of (byte offset delta, line delta) with -128 meaning "no line" (PEP 626).
    Linetable310,
    /// 3.11+: `co_linetable` as the location table (varint entries with columns).
    Locations311,
}

/// How a `PyLongObject` stores its sign and digit count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongModel {
    /// <= 3.11: `ob_size` is the signed digit count.
    SignedSize,
    /// 3.12+: `lv_tag` = ndigits << 3 | sign (0 positive, 1 zero, 2 negative).
    Tagged,
}

impl LongModel {
    /// The value of an int of at most two 30-bit digits, from the word at `long_size_or_tag` and
    /// the bytes at `long_digits`; None for bigger ones (we do no bignum arithmetic).
    pub fn small_value(self, size_or_tag: u64, digits: &[u8]) -> Option<i64> {
        let (ndigits, negative) = self.digits_and_sign(size_or_tag);
        if ndigits > 2 || digits.len() < ndigits as usize * 4 {
            return None;
        }
        // Least significant digit first.
        let value = digits[..ndigits as usize * 4]
            .chunks_exact(4)
            .rev()
            .fold(0i64, |value, d| (value << 30) | i64::from(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) & 0x3fff_ffff));
        Some(if negative { -value } else { value })
    }

    /// How many digits an int has and whether it is negative, from the word at `long_size_or_tag`.
    pub fn digits_and_sign(self, size_or_tag: u64) -> (u64, bool) {
        match self {
            LongModel::SignedSize => ((size_or_tag as i64).unsigned_abs(), (size_or_tag as i64) < 0),
            LongModel::Tagged => (size_or_tag >> 3, size_or_tag & 3 == 2),
        }
    }
}

/// Where an instance of a `Py_TPFLAGS_MANAGED_DICT` type keeps its attributes (see
/// `managed_dict_before_object`). Types without that flag use `tp_dictoffset` in every minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagedDict {
    /// <= 3.10: there are no managed dicts.
    Absent,
    /// 3.11: a values pointer and a dict pointer sit before the object; values (keys shared with
    /// the type's `ht_cached_keys`) until something asks for `__dict__`.
    ValuesOrDict,
    /// 3.12: one word before the object: a dict, or the values' address - 1 (low bit set).
    TaggedDictOrValues,
    /// 3.13+: a dict pointer before the object; without one, the values are inline right after
    /// `tp_basicsize` (types with `Py_TPFLAGS_INLINE_VALUES`), meaningful while their `valid` byte is set.
    DictOrInlineValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub major: u8,
    pub minor: u8,
    pub frame_model: FrameModel,
    pub line_table: LineTable,
    pub long_model: LongModel,
    pub managed_dict: ManagedDict,

    // _PyRuntimeState (the `_PyRuntime` symbol)
    pub runtime_interpreters_head: u32,
    /// <= 3.11: `_PyRuntime.gilstate.tstate_current`, the thread state holding the GIL (NULL when released).
    pub runtime_tstate_current: Option<u32>,
    /// <= 3.11: offset of the `struct _gil_runtime_state` embedded in `_PyRuntime` (`ceval.gil`).
    pub runtime_gil: Option<u32>,

    // PyInterpreterState
    pub interp_next: u32,
    /// `tstate_head` (<= 3.11) or `threads.head` (3.12+).
    pub interp_threads_head: u32,
    /// 3.12+: `ceval.gil`, a pointer to the interpreter's `struct _gil_runtime_state`.
    pub interp_gil_ptr: Option<u32>,
    /// `modules` (<= 3.11) or `imports.modules` (3.12+): the `sys.modules` dict.
    pub interp_modules: u32,

    // struct _gil_runtime_state
    pub gil_locked: u32,
    pub gil_last_holder: u32,

    // PyThreadState
    pub tstate_next: u32,
    pub tstate_interp: u32,
    /// <= 3.10 `frame` (PyFrameObject*); 3.11-3.12 `cframe` (_PyCFrame*); 3.13+ `current_frame`.
    pub tstate_frame: u32,
    /// 3.11-3.12: `_PyCFrame.current_frame`, followed when `tstate_frame` points at a cframe.
    pub cframe_current_frame: Option<u32>,
    /// `thread_id`: the pthread_t (an address in glibc).
    pub tstate_thread_id: u32,
    /// 3.11+: `native_thread_id`, the kernel TID.
    pub tstate_native_thread_id: Option<u32>,
    /// 3.11+: `datastack_chunk`, the newest `_PyStackChunk` holding interpreter frames.
    pub tstate_datastack_chunk: Option<u32>,

    // PyFrameObject (<= 3.10) or _PyInterpreterFrame (3.11+)
    /// `f_back` / `previous`.
    pub frame_back: u32,
    /// `f_code` (<= 3.12) / `f_executable` (3.13+; a tagged _PyStackRef from 3.14, mask the low bits).
    pub frame_code: u32,
    /// `f_lasti` (<= 3.10, C int: byte offset in 3.8-3.9, code-unit index in 3.10),
    /// `prev_instr` (3.11-3.12) or `instr_ptr` (3.13+): a pointer into the code's instructions.
    pub frame_instr: u32,
    /// 3.11+: `owner` (char). FRAME_OWNED_BY_CSTACK frames are C shims, not Python code.
    pub frame_owner: Option<u32>,
    /// 3.11: `is_entry` (bool): the first frame its C eval call ran. 3.12+ mark that frame by a
    /// shim frame right outside it instead (an owner of 3 or more); 3.8-3.10 run one frame a call.
    pub frame_is_entry: Option<u32>,
    /// `f_localsplus` (<= 3.10, in PyFrameObject) / `localsplus` (3.11+).
    pub frame_localsplus: u32,
    /// sizeof(_PyInterpreterFrame) without localsplus (3.11+), sizeof(PyFrameObject) before.
    pub frame_size: u32,

    // PyCodeObject
    pub code_filename: u32,
    pub code_name: u32,
    /// 3.11+: `co_qualname`.
    pub code_qualname: Option<u32>,
    pub code_firstlineno: u32,
    /// `co_lnotab` (<= 3.9) / `co_linetable` (3.10+): a bytes object.
    pub code_linetable: u32,
    /// <= 3.10: `co_code`, the bytes object holding instructions.
    pub code_code: Option<u32>,
    /// 3.11+: offset of `co_code_adaptive`, the instructions inline in the code object.
    pub code_code_adaptive: Option<u32>,
    /// `co_varnames` (<= 3.10) / `co_localsplusnames` (3.11+): tuple of local names.
    pub code_varnames: u32,
    /// `co_nlocals` (<= 3.10) / `co_nlocalsplus` (3.11+): C int.
    pub code_nlocals: u32,
    pub code_argcount: u32,
    /// sizeof(PyCodeObject); a read of this many bytes covers every field above.
    pub code_size: u32,

    // PyObject / PyVarObject
    pub object_type: u32,
    pub var_object_size: u32,
    // PyTypeObject
    pub type_name: u32,
    pub type_flags: u32,
    // PyUnicodeObject
    pub unicode_length: u32,
    pub unicode_state: u32,
    /// sizeof(PyASCIIObject): compact ASCII data follows it.
    pub unicode_ascii_size: u32,
    /// sizeof(PyCompactUnicodeObject): compact non-ASCII data follows it.
    pub unicode_compact_size: u32,
    // PyBytesObject
    pub bytes_size: u32,
    pub bytes_data: u32,
    // PyTupleObject
    pub tuple_size: u32,
    pub tuple_items: u32,
    // PyLongObject
    pub long_size_or_tag: u32,
    pub long_digits: u32,
    // PyFloatObject
    pub float_value: u32,
    // PyDictObject
    pub dict_used: u32,
    pub dict_keys: u32,
    pub dict_values: u32,

    // PyDictKeysObject (3.8-3.10 from Objects/dict-common.h, which is not installed)
    /// `dk_size` (<= 3.10, Py_ssize_t) or `dk_log2_size` (3.11+, uint8_t).
    pub dict_keys_size: u32,
    pub dict_keys_nentries: u32,
    /// `dk_indices`: the hash table, then the entries.
    pub dict_keys_indices: u32,
    /// 3.11+: `dk_log2_index_bytes` (uint8_t): the hash table's size in bytes. Before, the width of
    /// an index follows from dk_size.
    pub dict_keys_log2_index_bytes: Option<u32>,
    /// 3.11+: `dk_kind` (uint8_t): DICT_KEYS_GENERAL (0) has PyDictKeyEntry, others PyDictUnicodeEntry.
    pub dict_keys_kind: Option<u32>,
    /// sizeof(PyDictKeyEntry); both kinds of entry end with `me_key`, `me_value` (checked by the generator).
    pub dict_entry_size: u32,
    /// 3.11+: sizeof(PyDictUnicodeEntry), entries without the hash.
    pub dict_unicode_entry_size: Option<u32>,
    // PyDictValues (a split table's values: `ma_values`, or an instance's own)
    /// `values`: the array of value pointers (<= 3.10 `ma_values` is that array itself).
    pub dict_values_items: u32,
    /// 3.13+: `capacity` (uint8_t): how many values the array holds.
    pub dict_values_capacity: Option<u32>,
    /// 3.13+: `valid` (uint8_t): inline values are in use (not superseded by a dict).
    pub dict_values_valid: Option<u32>,

    // PyModuleObject
    pub module_dict: u32,
    // PyTypeObject / PyHeapTypeObject
    pub type_basicsize: u32,
    /// `tp_dictoffset` (Py_ssize_t): where a non-managed instance keeps its dict pointer.
    pub type_dictoffset: u32,
    /// `ht_cached_keys`: the keys an instance's values are indexed by (3.11+ managed dicts).
    pub heap_type_cached_keys: u32,
    /// 3.11+: Py_TPFLAGS_MANAGED_DICT.
    pub tpflag_managed_dict: Option<u32>,
    /// 3.13+: Py_TPFLAGS_INLINE_VALUES.
    pub tpflag_inline_values: Option<u32>,
    /// 3.11+: how many bytes before the object its managed dict pointer (3.12: dict-or-values word) sits.
    pub managed_dict_before_object: Option<u32>,
    /// 3.11: how many bytes before the object its values pointer sits.
    pub managed_values_before_object: Option<u32>,

    // The cyclic GC's `collecting` flag (C int), set while a collection runs
    /// 3.7-3.8: `_PyRuntime.gc.collecting`.
    pub runtime_gc_collecting: Option<u32>,
    /// 3.9+: `PyInterpreterState.gc.collecting`.
    pub interp_gc_collecting: Option<u32>,

    // Containers, for `dump --locals` previews
    /// `PyListObject.ob_item`: a pointer to the items (the count is `var_object_size`).
    pub list_items: u32,
    /// `PySetObject.used`: live entries.
    pub set_used: u32,
    /// `PySetObject.mask`: slots - 1.
    pub set_mask: u32,
    /// `PySetObject.table`: the slots, `set_entry_size` bytes each (a NULL or dummy key is free).
    pub set_table: u32,
    pub set_entry_size: u32,
    /// `setentry.key`.
    pub set_entry_key: u32,

    // Added with the free-threaded builds (3.13t+, built with `--disable-gil`), 2.7, 3.6 and 3.7.
    // Every table fills those that apply to its build; the walkers read None as the fixed value
    // each comment gives.

    // Free-threaded builds
    /// Free-threaded builds: `struct _gil_runtime_state.enabled` (int). Such a build has no GIL
    /// unless this says it was turned on (PYTHON_GIL=1, or an extension module without
    /// `Py_mod_gil`); Some(_) is what marks a free-threaded table.
    pub gil_enabled: Option<u32>,
    /// 3.13+: `PyThreadState.state` (int): 0 detached, 1 attached (running Python; with a GIL, holding
    /// it), 2 suspended (stopped by the runtime for a GC or a fork).
    pub tstate_state: Option<u32>,
    /// 3.14t+: `co_tlbc` (`_PyCodeArray*`): each thread runs its own copy of the bytecode, so
    /// `frame_instr` points into `co_tlbc->entries[frame_tlbc_index]`, not into `co_code_adaptive`
    /// (entry 0 is `co_code_adaptive` itself).
    pub code_tlbc: Option<u32>,
    /// 3.14t+: offset of `entries` (char*[]) in `_PyCodeArray`, after its `size` (Py_ssize_t).
    pub code_array_entries: Option<u32>,
    /// 3.14t+: `_PyInterpreterFrame.tlbc_index` (int32): which copy of the bytecode the frame runs.
    pub frame_tlbc_index: Option<u32>,

    // Objects, where the fixed values of 3.8-3.15 do not hold
    /// The shift of `kind` (3 bits) in the 32-bit word at `unicode_state` (2 when None). 3.14t
    /// made `interned` a whole byte, which moves `kind` to 8 and the bits below with it.
    pub unicode_kind_shift: Option<u32>,
    /// The bit of `compact` in the word at `unicode_state` (5 when None).
    pub unicode_compact_shift: Option<u32>,
    /// The bit of `ascii` in the word at `unicode_state` (6 when None).
    pub unicode_ascii_shift: Option<u32>,
    /// `PyCellObject.ob_ref` (16 when None): right after the object header, which is 32 bytes in
    /// free-threaded builds.
    pub cell_contents: Option<u32>,
    /// `PyLong_SHIFT`: bits per digit of an int (30 when None).
    pub long_digit_bits: Option<u32>,

    // 2.7 and 3.6: no `_PyRuntime`
    /// <= 3.6: the symbol (a static of Python/pystate.c, in `.symtab` only) whose pointer is the
    /// first interpreter; `runtime_interpreters_head` is then 0, an offset from that symbol.
    pub interp_head_symbol: Option<&'static str>,
    /// <= 3.6: the global holding the thread state that holds the GIL (NULL when released);
    /// `gil_locked`, `gil_last_holder` are then 0 and unused.
    pub tstate_current_symbol: Option<&'static str>,
    /// <= 3.9 (`LineTable::Lnotab`): whether `co_lnotab` line deltas are unsigned bytes (2.7)
    /// rather than signed ones (3.6+; what None means).
    pub lnotab_unsigned_line_delta: Option<bool>,

    // 2.7: str is bytes
    /// Whether `str` is the byte string (2.7's `PyStringObject`, read through `bytes_size` and
    /// `bytes_data`; text is the `unicode` type). Code and file names, module names and most
    /// dict keys are then byte strings.
    pub str_is_bytes: Option<bool>,
    /// 2.7: `PyUnicodeObject.str`, a pointer to `unicode_length` Py_UNICODE units (no PEP 393
    /// `state`; `unicode_state`, `unicode_ascii_size` and `unicode_compact_size` are 0).
    pub unicode_str_pointer: Option<u32>,
    /// 2.7: Py_UNICODE_SIZE, the bytes per unit at `unicode_str_pointer` (2 or 4, a build option).
    pub unicode_char_size: Option<u32>,
    /// 2.7: `PyIntObject.ob_ival` (C long) of the `int` type; `long` is PyLongObject.
    pub int_value: Option<u32>,
    /// 2.7: `PyDictObject.ma_table`, the entries (`dict_entry_size` bytes each: hash, key, value;
    /// a NULL key is free) of an open-addressed table of `dict_mask` + 1 slots. There is no keys
    /// object: `dict_keys`, `dict_values` and the `dict_keys_*` offsets are 0.
    pub dict_table: Option<u32>,
    /// 2.7: `PyDictObject.ma_mask` (Py_ssize_t): slots - 1.
    pub dict_mask: Option<u32>,
    /// The attribute of a `threading.Thread` that holds its name, from that build's
    /// Lib/threading.py (`_name` when None; 2.7's `self.__name` is `_Thread__name`).
    pub thread_name_attr: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::LongModel;

    #[test]
    fn small_ints_decode_in_both_long_models() {
        // 2**40 + 5 = digits [5, 2**10], least significant first.
        let digits = [5u32, 1 << 10].iter().flat_map(|d| d.to_le_bytes()).collect::<Vec<u8>>();
        assert_eq!(LongModel::SignedSize.small_value(2, &digits), Some((1 << 40) + 5));
        assert_eq!(LongModel::SignedSize.small_value((-2i64) as u64, &digits), Some(-(1 << 40) - 5));
        assert_eq!(LongModel::Tagged.small_value(2 << 3, &digits), Some((1 << 40) + 5));
        assert_eq!(LongModel::Tagged.small_value(1 << 3 | 2, &digits), Some(-5));
        assert_eq!(LongModel::Tagged.small_value(1, &digits), Some(0));
        assert_eq!(LongModel::SignedSize.small_value(3, &digits), None);
        assert_eq!(LongModel::SignedSize.small_value(2, &digits[..4]), None);
    }
}

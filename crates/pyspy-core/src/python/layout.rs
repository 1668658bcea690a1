//! What we need to know about one CPython minor's memory layout, as plain byte offsets.
//!
//! One `Layout` per minor lives in `layouts/v3_X.rs`, generated from CPython's own headers by
//! `scripts/layouts/generate.py` (offsetof/sizeof compiled against the headers; never hand-typed).
//! For 3.13+ the target also describes itself in `_Py_DebugOffsets`; `debug_offsets.rs` reads
//! that and overrides the static table, which then serves as the definition and as a check.
//!
//! Every offset is in bytes from the start of the struct named by the field's prefix.
//! `None` means "this minor has no such field"; the walker branches on that, never on version
//! numbers, so a new minor is a new table, not new code.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub major: u8,
    pub minor: u8,
    pub frame_model: FrameModel,
    pub line_table: LineTable,
    pub long_model: LongModel,

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
}

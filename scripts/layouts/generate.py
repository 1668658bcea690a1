#!/usr/bin/env python3
"""Generates crates/pyspy-core/src/python/layouts/vX_Y[t].rs from CPython's own headers.

For each build (a minor, free-threaded or not: 3.13 and 3.13t differ in most offsets) it writes a
small C program that prints offsetof/sizeof of every field pyspy reads, compiles it with `cc`
against that build's headers (with Py_BUILD_CORE, to reach the internal structs) and turns the
numbers into a Rust `Layout` constant. For 3.13+ it also records where each field sits inside
`_Py_DebugOffsets`, which the target fills with its own offsets at run time.

Headers: the pyenv builds on this machine image (2.7, 3.6-3.13), the Debian `libpython3.X-dev`
packages and the free-threaded builds that scripts/provision-pythons.sh provisions (listed in
.cache/pythons/manifest.json).
Usage: scripts/layouts/generate.py [--only 2.7,3.8,3.13t] [--headers 3.14=/dir1:/dir2 ...]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = Path(os.environ.get("LAYOUTS_OUT", REPO / "crates/pyspy-core/src/python/layouts"))


class Build(NamedTuple):
    """One CPython ABI: `major.minor`, and whether it was built with --disable-gil (PEP 703)."""
    major: int
    minor: int
    free_threaded: bool = False

    @property
    def v(self):
        return (self.major, self.minor)

    @property
    def tag(self):
        return f"{self.major}.{self.minor}{'t' if self.free_threaded else ''}"

    @property
    def module(self):
        return f"v{self.major}_{self.minor}{'t' if self.free_threaded else ''}"

    @staticmethod
    def parse(text):
        m = re.fullmatch(r"(\d+)\.(\d+)(t?)", text)
        if not m:
            sys.exit(f"not a build: {text!r} (want e.g. 2.7, 3.13 or 3.13t)")
        return Build(int(m.group(1)), int(m.group(2)), m.group(3) == "t")


# Builds with a default ABI that every run generates; free-threaded ones are generated when a
# provisioned one has headers (they are compiled from source, and not every source is served).
DEFAULT_BUILDS = [Build(2, 7), Build(3, 6), Build(3, 7)] + [Build(3, m) for m in range(8, 16)]
FREE_THREADED_BUILDS = [Build(3, m, True) for m in range(13, 16)]

# (rust field, C expression per build). An expression is evaluated as `(size_t)(EXPR)`;
# None means the build has no such field (the Rust type is then Option and gets None).
OPTIONAL = {
    "runtime_tstate_current", "runtime_gil", "interp_gil_ptr", "cframe_current_frame",
    "tstate_native_thread_id", "tstate_datastack_chunk", "frame_owner", "frame_is_entry", "code_qualname",
    "code_code", "code_code_adaptive", "dict_keys_log2_index_bytes", "dict_keys_kind", "dict_unicode_entry_size",
    "dict_values_capacity", "dict_values_valid", "tpflag_managed_dict", "tpflag_inline_values",
    "managed_dict_before_object", "managed_values_before_object", "runtime_gc_collecting", "interp_gc_collecting",
}
# Fields added with the free-threaded builds, 2.7, 3.6 and 3.7 (all Option). Numeric ones come
# from the compiler like the rest; the others are facts that are no struct offset (LITERAL_FIELDS).
NEW_FIELDS = [
    "gil_enabled", "tstate_state", "code_tlbc", "code_array_entries", "frame_tlbc_index",
    "unicode_kind_shift", "unicode_compact_shift", "unicode_ascii_shift", "cell_contents", "long_digit_bits",
    "interp_head_symbol", "tstate_current_symbol", "lnotab_unsigned_line_delta", "str_is_bytes",
    "unicode_str_pointer", "unicode_char_size", "int_value", "dict_table", "dict_mask", "thread_name_attr",
]
LITERAL_FIELDS = {"interp_head_symbol", "tstate_current_symbol", "lnotab_unsigned_line_delta", "str_is_bytes", "thread_name_attr"}

# 3.6-3.10 declare PyDictKeysObject and PyDictKeyEntry in Objects/dict-common.h, which is not
# installed, so offsetof cannot reach them: these are that struct's offsets
# ({dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[]}, entries {me_hash, me_key,
# me_value}), checked against live 3.6.15, 3.7.16, 3.8.18, 3.9.18 and 3.10.13 dicts with ctypes.
DICT_KEYS_PRE311 = {
    "dict_keys_size": "8",
    "dict_keys_nentries": "32",
    "dict_keys_indices": "40",
    "dict_entry_size": "24",
}


def off(t, f):
    return f"offsetof({t}, {f})"


def fields(b):
    """The C expression for every numeric Layout field of this build."""
    v = b.v
    interp_frame = v >= (3, 11)
    frame_t = "_PyInterpreterFrame" if interp_frame else "PyFrameObject"
    # 3.7 gathered the process-wide state into _PyRuntime. Before, the interpreter list starts at
    # the static `interp_head` of Python/pystate.c (interp_head_symbol), a pointer read at offset 0.
    has_runtime = v >= (3, 7)
    f = {}
    f["runtime_interpreters_head"] = off("_PyRuntimeState", "interpreters.head") if has_runtime else "0"
    # 3.7-3.11 the GIL holder is the runtime's current thread state; 3.12 moved it to a thread
    # local; 2.7 and 3.6 keep it in the global _PyThreadState_Current (tstate_current_symbol).
    f["runtime_tstate_current"] = off("_PyRuntimeState", "gilstate.tstate_current") if (3, 7) <= v <= (3, 11) else None
    f["runtime_gil"] = off("_PyRuntimeState", "ceval.gil") if (3, 7) <= v <= (3, 11) else None
    f["interp_next"] = off("PyInterpreterState", "next")
    f["interp_threads_head"] = off("PyInterpreterState", "tstate_head" if v <= (3, 10) else "threads.head")
    # 3.12 gave each interpreter its own GIL (PEP 684), reached through ceval.gil.
    f["interp_gil_ptr"] = off("PyInterpreterState", "ceval.gil") if v >= (3, 12) else None
    f["interp_modules"] = off("PyInterpreterState", "modules" if v <= (3, 11) else "imports.modules")
    # 3.6's GIL is statics of Python/ceval_gil.h and 2.7's a bare lock: no struct (0, unused).
    f["gil_locked"] = off("struct _gil_runtime_state", "locked") if has_runtime else "0"
    f["gil_last_holder"] = off("struct _gil_runtime_state", "last_holder") if has_runtime else "0"
    f["tstate_next"] = off("PyThreadState", "next")
    f["tstate_interp"] = off("PyThreadState", "interp")
    f["tstate_frame"] = off("PyThreadState", "frame" if v <= (3, 10) else "cframe" if v <= (3, 12) else "current_frame")
    f["cframe_current_frame"] = off("_PyCFrame", "current_frame") if (3, 11) <= v <= (3, 12) else None
    f["tstate_thread_id"] = off("PyThreadState", "thread_id")
    f["tstate_native_thread_id"] = off("PyThreadState", "native_thread_id") if v >= (3, 11) else None
    f["tstate_datastack_chunk"] = off("PyThreadState", "datastack_chunk") if v >= (3, 11) else None
    f["frame_back"] = off(frame_t, "previous" if interp_frame else "f_back")
    f["frame_code"] = off(frame_t, "f_code" if v <= (3, 12) else "f_executable")
    f["frame_instr"] = off(frame_t, "f_lasti" if v <= (3, 10) else "prev_instr" if v <= (3, 12) else "instr_ptr")
    f["frame_owner"] = off(frame_t, "owner") if interp_frame else None
    # 3.11 marks the first frame each C eval call runs (--native merges Python frames into the C
    # stack by it); 3.12 replaced the flag with a shim frame outside that first frame.
    f["frame_is_entry"] = off(frame_t, "is_entry") if v == (3, 11) else None
    f["frame_localsplus"] = off(frame_t, "localsplus" if interp_frame else "f_localsplus")
    f["frame_size"] = f"sizeof({frame_t})"
    f["code_filename"] = off("PyCodeObject", "co_filename")
    f["code_name"] = off("PyCodeObject", "co_name")
    f["code_qualname"] = off("PyCodeObject", "co_qualname") if v >= (3, 11) else None
    f["code_firstlineno"] = off("PyCodeObject", "co_firstlineno")
    f["code_linetable"] = off("PyCodeObject", "co_lnotab" if v <= (3, 9) else "co_linetable")
    f["code_code"] = off("PyCodeObject", "co_code") if v <= (3, 10) else None
    f["code_code_adaptive"] = off("PyCodeObject", "co_code_adaptive") if v >= (3, 11) else None
    f["code_varnames"] = off("PyCodeObject", "co_varnames" if v <= (3, 10) else "co_localsplusnames")
    f["code_nlocals"] = off("PyCodeObject", "co_nlocals" if v <= (3, 10) else "co_nlocalsplus")
    f["code_argcount"] = off("PyCodeObject", "co_argcount")
    f["code_size"] = "sizeof(PyCodeObject)"
    f["object_type"] = off("PyObject", "ob_type")
    f["var_object_size"] = off("PyVarObject", "ob_size")
    f["type_name"] = off("PyTypeObject", "tp_name")
    f["type_flags"] = off("PyTypeObject", "tp_flags")
    if v >= (3, 3):
        f["unicode_length"] = off("PyASCIIObject", "length")
        # `state` is a bitfield, which offsetof cannot take: it is the first member after `hash`
        # (checked at run time below by setting state.interned and looking for the changed byte).
        f["unicode_state"] = off("PyASCIIObject", "hash") + " + sizeof(Py_hash_t)"
        f["unicode_ascii_size"] = "sizeof(PyASCIIObject)"
        f["unicode_compact_size"] = "sizeof(PyCompactUnicodeObject)"
    else:
        # 2.7's unicode is a length and a pointer to Py_UNICODE (unicode_str_pointer), not PEP 393.
        f["unicode_length"] = off("PyUnicodeObject", "length")
        f["unicode_state"] = f["unicode_ascii_size"] = f["unicode_compact_size"] = "0"
    # 2.7's bytesobject.h names PyStringObject PyBytesObject: `str` is read through these.
    f["bytes_size"] = off("PyVarObject", "ob_size")
    f["bytes_data"] = off("PyBytesObject", "ob_sval")
    f["tuple_size"] = off("PyVarObject", "ob_size")
    f["tuple_items"] = off("PyTupleObject", "ob_item")
    # 3.12 replaced the signed digit count in ob_size with long_value.lv_tag.
    f["long_size_or_tag"] = off("PyVarObject", "ob_size") if v <= (3, 11) else off("PyLongObject", "long_value.lv_tag")
    f["long_digits"] = off("PyLongObject", "ob_digit" if v <= (3, 11) else "long_value.ob_digit")
    f["float_value"] = off("PyFloatObject", "ob_fval")
    f["dict_used"] = off("PyDictObject", "ma_used")
    # 2.7's dict is one open-addressed table of entries (dict_table, dict_mask): no keys object.
    f["dict_keys"] = off("PyDictObject", "ma_keys") if v >= (3, 0) else "0"
    f["dict_values"] = off("PyDictObject", "ma_values") if v >= (3, 0) else "0"
    # The keys table (3.11 stored its size as a log2 and added unicode-only entries).
    if v < (3, 0):
        f.update({k: "0" for k in DICT_KEYS_PRE311})
        f["dict_entry_size"] = "sizeof(PyDictEntry)"
    elif v <= (3, 10):
        f.update(DICT_KEYS_PRE311)
    else:
        f["dict_keys_size"] = off("PyDictKeysObject", "dk_log2_size")
        f["dict_keys_nentries"] = off("PyDictKeysObject", "dk_nentries")
        f["dict_keys_indices"] = off("PyDictKeysObject", "dk_indices")
        f["dict_entry_size"] = "sizeof(PyDictKeyEntry)"
    f["dict_keys_log2_index_bytes"] = off("PyDictKeysObject", "dk_log2_index_bytes") if v >= (3, 11) else None
    f["dict_keys_kind"] = off("PyDictKeysObject", "dk_kind") if v >= (3, 11) else None
    f["dict_unicode_entry_size"] = "sizeof(PyDictUnicodeEntry)" if v >= (3, 11) else None
    # Split-table values: a bare PyObject*[] before 3.11; 3.13 put capacity/valid bytes before the array.
    f["dict_values_items"] = off("PyDictValues", "values") if v >= (3, 11) else "0"
    f["dict_values_capacity"] = off("PyDictValues", "capacity") if v >= (3, 13) else None
    f["dict_values_valid"] = off("PyDictValues", "valid") if v >= (3, 13) else None
    # PyModuleObject is private to Objects/moduleobject.c before 3.10; md_dict follows the header there too.
    f["module_dict"] = off("PyModuleObject", "md_dict") if v >= (3, 10) else off("PyObject", "ob_type") + " + sizeof(PyObject *)"
    f["type_basicsize"] = off("PyTypeObject", "tp_basicsize")
    f["type_dictoffset"] = off("PyTypeObject", "tp_dictoffset")
    # 3.3 added shared-key dicts (PEP 412); 2.7 has no cached keys (0, unused).
    f["heap_type_cached_keys"] = off("PyHeapTypeObject", "ht_cached_keys") if v >= (3, 3) else "0"
    f["tpflag_managed_dict"] = "Py_TPFLAGS_MANAGED_DICT" if v >= (3, 11) else None
    f["tpflag_inline_values"] = "Py_TPFLAGS_INLINE_VALUES" if v >= (3, 13) else None
    # Where CPython's own accessors find a managed dict, measured on a fake object (see c_program).
    managed_dict_accessor = "_PyObject_DictOrValuesPointer" if v == (3, 12) else "_PyObject_ManagedDictPointer"
    f["managed_dict_before_object"] = f"(char *)fake - (char *){managed_dict_accessor}(fake)" if v >= (3, 11) else None
    f["managed_values_before_object"] = "(char *)fake - (char *)_PyObject_ValuesPointer(fake)" if v == (3, 11) else None
    # The cyclic GC's "collecting" flag (an int), set while a collection runs (callbacks included):
    # 3.7-3.8 in _PyRuntime.gc, 3.9 moved the GC state into each interpreter. 2.7 and 3.6 keep it
    # in a static of Modules/gcmodule.c.
    f["runtime_gc_collecting"] = off("_PyRuntimeState", "gc.collecting") if (3, 7) <= v <= (3, 8) else None
    f["interp_gc_collecting"] = off("PyInterpreterState", "gc.collecting") if v >= (3, 9) else None
    # Containers, for dump --locals previews.
    f["list_items"] = off("PyListObject", "ob_item")
    f["set_used"] = off("PySetObject", "used")
    f["set_mask"] = off("PySetObject", "mask")
    f["set_table"] = off("PySetObject", "table")
    f["set_entry_size"] = "sizeof(setentry)"
    # 2.7's setentry is {hash, key}; 3.x put the key first.
    f["set_entry_key"] = off("setentry", "key")

    # NEW_FIELDS. Free-threaded builds (Py_GIL_DISABLED) keep a GIL that is off unless PYTHON_GIL=1
    # or an extension module without Py_mod_gil turned it on: `enabled` says which.
    f["gil_enabled"] = off("struct _gil_runtime_state", "enabled") if b.free_threaded else None
    # 3.13: _Py_THREAD_DETACHED/ATTACHED/SUSPENDED; without a GIL, "attached" is what says a
    # thread runs Python.
    f["tstate_state"] = off("PyThreadState", "state") if v >= (3, 13) else None
    # 3.14t gives each thread its own copy of a code's bytecode (co_tlbc, indexed by the frame's
    # tlbc_index): instr_ptr points into that copy, not into co_code_adaptive.
    tlbc = b.free_threaded and v >= (3, 14)
    f["code_tlbc"] = off("PyCodeObject", "co_tlbc") if tlbc else None
    f["code_array_entries"] = off("_PyCodeArray", "entries") if tlbc else None
    f["frame_tlbc_index"] = off("_PyInterpreterFrame", "tlbc_index") if tlbc else None
    # The bits of PyASCIIObject.state (a 32-bit word at unicode_state); 3.14t made `interned` a
    # whole byte, which moves the others. Measured by setting each bitfield (see c_program).
    for name in ("kind", "compact", "ascii"):
        f[f"unicode_{name}_shift"] = f"state_shift_{name}" if v >= (3, 3) else None
    f["cell_contents"] = off("PyCellObject", "ob_ref")
    f["long_digit_bits"] = "PyLong_SHIFT"
    f["unicode_str_pointer"] = off("PyUnicodeObject", "str") if v < (3, 0) else None
    f["unicode_char_size"] = "Py_UNICODE_SIZE" if v < (3, 0) else None
    f["int_value"] = off("PyIntObject", "ob_ival") if v < (3, 0) else None
    f["dict_table"] = off("PyDictObject", "ma_table") if v < (3, 0) else None
    f["dict_mask"] = off("PyDictObject", "ma_mask") if v < (3, 0) else None
    return f


def literal_fields(b, dirs):
    """The NEW_FIELDS that are no offset: symbol names, format flags, an attribute name (Rust literals)."""
    v = b.v
    f = {}
    # Statics of Python/pystate.c (interp_head) and the global of 2.7 and 3.6 that _PyRuntime replaced.
    f["interp_head_symbol"] = '"interp_head"' if v < (3, 7) else None
    f["tstate_current_symbol"] = '"_PyThreadState_Current"' if v < (3, 7) else None
    if v < (3, 7):
        require_symbols(b, dirs, ["interp_head", "_PyThreadState_Current"])
    # co_lnotab line deltas became signed bytes in 3.6 (Objects/lnotab_notes.txt); 2.7's
    # PyCode_Addr2Line adds them as unsigned char.
    f["lnotab_unsigned_line_delta"] = ("true" if v < (3, 6) else "false") if v <= (3, 9) else None
    # In 2.7 `str` (code and file names, most thread names) is the byte string PyStringObject.
    f["str_is_bytes"] = "true" if v < (3, 0) else "false"
    f["thread_name_attr"] = f'"{thread_name_attribute(b, dirs)}"'
    return f


def require_symbols(b, dirs, names):
    """Fails unless the build's libpython (or binary) defines these symbols: the walkers look them up."""
    prefix = Path(dirs[0]).parents[1]
    candidates = sorted(prefix.glob("lib/libpython*.so*")) + sorted(prefix.glob("bin/python*"))
    for binary in candidates:
        out = subprocess.run(["nm", str(binary)], capture_output=True, text=True).stdout
        defined = {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}
        if all(n in defined for n in names):
            return
    sys.exit(f"{b.tag}: no binary under {prefix} defines {', '.join(names)}")


def thread_name_attribute(b, dirs):
    """Where threading.Thread keeps its name, from the build's own Lib/threading.py (2.7's
    `self.__name` is mangled to `_Thread__name`)."""
    prefix = Path(dirs[0]).parents[1]
    libdir = Path(dirs[0]).name.rstrip("m")
    for path in (prefix / "lib" / libdir / "threading.py", prefix / "lib" / f"python{b.major}.{b.minor}" / "threading.py"):
        if path.exists():
            m = re.search(r"^class Thread\b.*?^\s+self\.(_{1,2}name) = ", path.read_text(), re.S | re.M)
            if not m:
                sys.exit(f"{b.tag}: {path} sets no self._name or self.__name in class Thread")
            return "_Thread__name" if m.group(1) == "__name" else m.group(1)
    sys.exit(f"{b.tag}: no threading.py beside {dirs[0]}")


# DebugOffsetsPositions field -> member of _Py_DebugOffsets (None: absent in that minor).
def debug_positions(minor):
    p = {
        "version": "version",
        "free_threaded": "free_threaded",
        "runtime_interpreters_head": "runtime_state.interpreters_head",
        "interp_next": "interpreter_state.next",
        "interp_threads_head": "interpreter_state.threads_head",
        "interp_imports_modules": "interpreter_state.imports_modules",
        "interp_gil_runtime_state": "interpreter_state.gil_runtime_state",
        "interp_gil_runtime_state_locked": "interpreter_state.gil_runtime_state_locked",
        "interp_gil_runtime_state_holder": "interpreter_state.gil_runtime_state_holder",
        "tstate_next": "thread_state.next",
        "tstate_interp": "thread_state.interp",
        "tstate_current_frame": "thread_state.current_frame",
        "tstate_thread_id": "thread_state.thread_id",
        "tstate_native_thread_id": "thread_state.native_thread_id",
        "tstate_datastack_chunk": "thread_state.datastack_chunk",
        "frame_size": "interpreter_frame.size",
        "frame_previous": "interpreter_frame.previous",
        "frame_executable": "interpreter_frame.executable",
        "frame_instr_ptr": "interpreter_frame.instr_ptr",
        "frame_localsplus": "interpreter_frame.localsplus",
        "frame_owner": "interpreter_frame.owner",
        "code_size": "code_object.size",
        "code_filename": "code_object.filename",
        "code_name": "code_object.name",
        "code_qualname": "code_object.qualname",
        "code_linetable": "code_object.linetable",
        "code_firstlineno": "code_object.firstlineno",
        "code_argcount": "code_object.argcount",
        "code_localsplusnames": "code_object.localsplusnames",
        "code_co_code_adaptive": "code_object.co_code_adaptive",
        "pyobject_ob_type": "pyobject.ob_type",
        "type_tp_name": "type_object.tp_name",
        "type_tp_flags": "type_object.tp_flags",
        "tuple_ob_item": "tuple_object.ob_item",
        "tuple_ob_size": "tuple_object.ob_size",
        "unicode_state": "unicode_object.state",
        "unicode_length": "unicode_object.length",
        "unicode_asciiobject_size": "unicode_object.asciiobject_size",
        "long_lv_tag": "long_object.lv_tag",
        "long_ob_digit": "long_object.ob_digit",
        "float_ob_fval": "float_object.ob_fval",
        "bytes_ob_size": "bytes_object.ob_size",
        "bytes_ob_sval": "bytes_object.ob_sval",
        "dict_ma_keys": "dict_object.ma_keys",
        "dict_ma_values": "dict_object.ma_values",
        "type_tp_basicsize": "type_object.tp_basicsize",
        "type_tp_dictoffset": "type_object.tp_dictoffset",
        "heap_type_ht_cached_keys": "heap_type_object.ht_cached_keys",
        "interp_gc": "interpreter_state.gc",
        "gc_collecting": "gc.collecting",
        "list_ob_item": "list_object.ob_item",
        "set_used": "set_object.used",
        "set_table": "set_object.table",
        "set_mask": "set_object.mask",
    }
    return p


DEBUG_OPTIONAL = {
    "free_threaded", "interp_imports_modules", "interp_gil_runtime_state", "interp_gil_runtime_state_locked",
    "interp_gil_runtime_state_holder", "tstate_datastack_chunk", "type_tp_flags", "tuple_ob_size", "long_lv_tag",
    "long_ob_digit", "float_ob_fval", "bytes_ob_size", "bytes_ob_sval", "dict_ma_keys", "dict_ma_values",
    "type_tp_basicsize", "type_tp_dictoffset", "heap_type_ht_cached_keys", "interp_gc", "gc_collecting", "list_ob_item",
    "set_used", "set_table", "set_mask",
}

ENUMS = {
    "frame_model": lambda v: "FrameModel::FrameObject" if v <= (3, 10) else "FrameModel::InterpreterFrame",
    "line_table": lambda v: "LineTable::Lnotab" if v <= (3, 9) else "LineTable::Linetable310" if v == (3, 10)
    else "LineTable::Locations311",
    "long_model": lambda v: "LongModel::SignedSize" if v <= (3, 11) else "LongModel::Tagged",
    "managed_dict": lambda v: "ManagedDict::Absent" if v <= (3, 10) else "ManagedDict::ValuesOrDict" if v == (3, 11)
    else "ManagedDict::TaggedDictOrValues" if v == (3, 12) else "ManagedDict::DictOrInlineValues",
}


def includes(b):
    v = b.v
    inc = ["Python.h", "frameobject.h"]
    if v <= (3, 7):
        # Before 3.8 the code object and the long's digits have headers of their own, and 3.7's
        # _PyRuntimeState is in internal/pystate.h (2.7 and 3.6 have none).
        inc += ["code.h", "longintrepr.h"] + (["internal/pystate.h"] if v == (3, 7) else [])
    elif v == (3, 8):
        inc += ["internal/pycore_pystate.h"]
    else:
        inc += ["internal/pycore_runtime.h", "internal/pycore_interp.h"]
    if v >= (3, 10):
        inc += ["internal/pycore_moduleobject.h"]
    if v >= (3, 11):
        inc += ["internal/pycore_frame.h", "internal/pycore_code.h", "internal/pycore_dict.h", "internal/pycore_object.h"]
    if v >= (3, 14):
        inc += ["internal/pycore_debug_offsets.h"]
    return inc


def c_program(b):
    v = b.v
    lines = [
        "#define Py_BUILD_CORE 1",
        *[f'#include "{h}"' for h in includes(b)],
        "#include <stddef.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "int main(void) {",
        # An object whose type says "managed dict", for the accessors that assert it.
        "    static PyTypeObject fake_type; static PyObject fake_block[8]; PyObject *fake = &fake_block[4];",
        f"    fake_type.tp_flags = {'Py_TPFLAGS_MANAGED_DICT' if v >= (3, 11) else '0'}; fake->ob_type = &fake_type;",
        "    (void)fake;",
    ]
    if v >= (3, 3):
        # Check that `state` really starts right after `hash`: set `interned` (its first member in
        # every build) in a zeroed object, find the byte; then find each other bitfield's bit in
        # the 32-bit word there.
        state = fields(b)["unicode_state"]
        lines += [
            "    { PyASCIIObject o; memset(&o, 0, sizeof o); o.state.interned = 1;",
            "      size_t at = (size_t)-1; for (size_t i = 0; i < sizeof o; i++) if (((unsigned char*)&o)[i]) { at = i; break; }",
            '      printf("check unicode_state_byte %zu\\n", at); }',
        ]
        for name, value in (("kind", 1), ("compact", 1), ("ascii", 1)):
            lines += [
                f"    unsigned state_shift_{name}; {{ PyASCIIObject o; unsigned word; memset(&o, 0, sizeof o); o.state.{name} = {value};",
                f"      memcpy(&word, (char *)&o + ({state}), sizeof word); state_shift_{name} = __builtin_ctz(word); }}",
                f"    (void)state_shift_{name};",
            ]
    for name, expr in fields(b).items():
        if expr is not None:
            lines.append(f'    printf("layout {name} %zu\\n", (size_t)({expr}));')
    # The dict walker reads me_key and me_value as the last two words of either kind of entry.
    if v >= (3, 11):
        tail = " && ".join(f"offsetof({e}, me_key) + 2 * sizeof(PyObject *) == sizeof({e}) && "
                           f"offsetof({e}, me_value) + sizeof(PyObject *) == sizeof({e})"
                           for e in ("PyDictKeyEntry", "PyDictUnicodeEntry"))
        lines.append(f'    printf("check dict_entry_tail %d\\n", (int)({tail}));')
    if b.free_threaded:
        lines.append('    printf("check gil_disabled %d\\n", (int)Py_GIL_DISABLED);')
    lines += ['    printf("version %s\\n", PY_VERSION);', "    return 0;", "}"]
    return "\n".join(lines) + "\n"


def compile_and_run(b, include_dirs):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "layout.c"
        exe = Path(tmp) / "layout"
        src.write_text(c_program(b))
        flags = [f"-I{d}" for d in include_dirs] + [f"-I{d}/internal" for d in include_dirs]
        r = subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{b.tag}: compiling against {include_dirs} failed:\n{r.stderr[-4000:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    values = {"layout": {}, "check": {}}
    version = None
    for line in out.splitlines():
        kind, rest = line.split(" ", 1)
        if kind == "version":
            version = rest.strip()
            continue
        name, value = rest.split()
        values[kind][name] = int(value)
    return values, version


def find_debug_members(b, include_dirs):
    """Which _Py_DebugOffsets members this minor's header declares (3.14 added some, may drop others)."""
    header = "pycore_runtime.h" if b.minor == 13 else "pycore_debug_offsets.h"
    for d in include_dirs:
        path = Path(d) / "internal" / header
        if path.exists():
            text = path.read_text()
            body = text[text.index("typedef struct _Py_DebugOffsets"):]
            body = body[: body.index("} _Py_DebugOffsets;")]
            present = set()
            group = None
            for line in body.splitlines():
                m = re.match(r"\s*struct\s+_?(\w+)\s*{", line)
                if m:
                    group = m.group(1)
                    continue
                m = re.match(r"\s*}\s*(\w+);", line)
                if m:
                    group = None
                    continue
                m = re.match(r"\s*(?:uint64_t|char)\s+(\w+)", line)
                if m:
                    member = m.group(1)
                    present.add(member if group is None else f"{group_name(group, body)}.{member}")
            return present
    sys.exit(f"{b.tag}: {header} not found in {include_dirs}")


def group_name(struct_tag, body):
    m = re.search(r"struct\s+_?" + struct_tag + r"\s*{[^}]*}\s*(\w+);", body, re.S)
    return m.group(1) if m else struct_tag


def header_dirs(args, builds):
    """Include folders per build: --headers, else the pyenv build of that minor, else the manifest's
    provisioned interpreter (Debian packages; free-threaded builds)."""
    dirs = {}
    for spec in args.headers or []:
        tag, paths = spec.split("=", 1)
        dirs[Build.parse(tag)] = paths.split(":")
    pyenv = Path("/root/.pyenv/versions")
    manifest = REPO / ".cache/pythons/manifest.json"
    listed = json.loads(manifest.read_text())["interpreters"] if manifest.exists() else []
    for b in builds:
        if b in dirs:
            continue
        if not b.free_threaded and pyenv.exists():
            # 3.6 and 3.7 name the folder after their ABI flags (python3.7m).
            candidates = sorted(pyenv.glob(f"{b.major}.{b.minor}.*/include/python{b.major}.{b.minor}*"))
            candidates = [c for c in candidates if re.fullmatch(rf"{b.major}\.{b.minor}\.\d+", c.parent.parent.name)]
            if candidates:
                dirs[b] = [str(candidates[-1])]
                continue
        for interp in listed:
            if (interp.get("minor") == f"{b.major}.{b.minor}" and interp.get("include") and not interp.get("debug")
                    and bool(interp.get("freeThreaded")) == b.free_threaded):
                dirs[b] = interp["include"]
                break
    return dirs


def rust_literal(value):
    return "None" if value is None else f"Some({value})"


def rust_file(b, values, literals, version, source, debug_values, debug_present):
    lines = [
        f"// Generated by scripts/layouts/generate.py from CPython {version} headers ({source}). Do not edit.",
        "",
        "#[allow(unused_imports)]",
        "use crate::python::debug_offsets_positions::DebugOffsetsPositions;",
        "use crate::python::layout::*;",
        "",
        "pub const LAYOUT: Layout = Layout {",
        f"    major: {b.major},",
        f"    minor: {b.minor},",
    ]
    for name, fn in ENUMS.items():
        lines.append(f"    {name}: {fn(b.v)},")
    numeric = fields(b)
    for name, expr in numeric.items():
        if name in NEW_FIELDS:
            continue
        if name in OPTIONAL:
            lines.append(f"    {name}: {rust_literal(values.get(name) if expr is not None else None)},")
        else:
            lines.append(f"    {name}: {values[name]},")
    for name in NEW_FIELDS:
        value = literals[name] if name in LITERAL_FIELDS else values.get(name) if numeric[name] is not None else None
        lines.append(f"    {name}: {rust_literal(value)},")
    lines.append("};")
    if debug_values is not None:
        lines += ["", "pub const DEBUG_OFFSETS: DebugOffsetsPositions = DebugOffsetsPositions {",
                  f"    struct_size: {debug_values['struct_size']},"]
        for name, member in debug_positions(b.minor).items():
            present = member in debug_present
            if name in DEBUG_OPTIONAL:
                lines.append(f"    {name}: " + (f"Some({debug_values[name]})," if present else "None,"))
            else:
                if not present:
                    sys.exit(f"{b.tag}: _Py_DebugOffsets has no {member}, which pyspy requires")
                lines.append(f"    {name}: {debug_values[name]},")
        lines.append("};")
    return "\n".join(lines) + "\n"


def source_of(include_dir):
    if "/.pyenv/" in include_dir:
        return "pyenv"
    if "-debian-src/" in include_dir:
        return "built with --disable-gil from Debian's source tarball"
    return "Debian package"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated builds, e.g. 2.7,3.8,3.13t")
    parser.add_argument("--headers", action="append", help="3.X[t]=/include/dir[:/pyconfig/dir]")
    args = parser.parse_args()
    wanted = [Build.parse(t) for t in args.only.split(",")] if args.only else DEFAULT_BUILDS + FREE_THREADED_BUILDS
    dirs = header_dirs(args, wanted)
    for b in wanted:
        if b not in dirs:
            if b.free_threaded and not args.only:
                print(f"{b.tag}: no free-threaded build provisioned, no table")
                continue
            sys.exit(f"no headers for {b.tag}: run scripts/provision-pythons.sh, or pass --headers {b.tag}=DIR")
        values, version = compile_and_run(b, dirs[b])
        debug_values = present = None
        if b.v >= (3, 13):
            present = find_debug_members(b, dirs[b])
            debug_values = compile_debug(b, dirs[b], present)
        if b.v >= (3, 3) and values["check"]["unicode_state_byte"] != values["layout"]["unicode_state"]:
            sys.exit(f"{b.tag}: unicode state bitfield is not where expected")
        if b.v >= (3, 11) and values["check"]["dict_entry_tail"] != 1:
            sys.exit(f"{b.tag}: dict entries do not end with me_key, me_value")
        if b.free_threaded and values["check"].get("gil_disabled") != 1:
            sys.exit(f"{b.tag}: the headers in {dirs[b]} are not a free-threaded build's (no Py_GIL_DISABLED)")
        literals = literal_fields(b, dirs[b])
        text = rust_file(b, values["layout"], literals, version, source_of(dirs[b][0]), debug_values, present)
        (OUT_DIR / f"{b.module}.rs").write_text(text)
        print(f"{b.tag}: {version} from {dirs[b][0]} -> layouts/{b.module}.rs")
    write_mod()


def compile_debug(b, include_dirs, present):
    lines = ["#define Py_BUILD_CORE 1", *[f'#include "{h}"' for h in includes(b)],
             "#include <stddef.h>", "#include <stdio.h>", "int main(void) {",
             '    printf("struct_size %zu\\n", sizeof(_Py_DebugOffsets));']
    for name, member in debug_positions(b.minor).items():
        if member in present:
            lines.append(f'    printf("{name} %zu\\n", offsetof(_Py_DebugOffsets, {member}));')
    lines += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "debug.c", Path(tmp) / "debug"
        src.write_text("\n".join(lines) + "\n")
        flags = [f"-I{d}" for d in include_dirs] + [f"-I{d}/internal" for d in include_dirs]
        r = subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"{b.tag}: compiling _Py_DebugOffsets positions failed:\n{r.stderr[-4000:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


def write_mod():
    present = sorted(Build.parse(re.sub(r"^v(\d+)_(\d+)", r"\1.\2", p.stem)) for p in OUT_DIR.glob("v*_*.rs"))
    lines = ["// Generated by scripts/layouts/generate.py. Do not edit.", "",
             "use crate::python::debug_offsets_positions::DebugOffsetsPositions;",
             "use crate::python::layout::{Build, Layout};", ""]
    # In rustfmt's order (it sorts module declarations as text), so the output is already formatted.
    lines += sorted(f"pub mod {b.module};" for b in present)
    build = lambda b: f"Build {{ major: {b.major}, minor: {b.minor}, free_threaded: {str(b.free_threaded).lower()} }}"
    lines += ["", "/// Every CPython build pyspy-ts reads, oldest first (a free-threaded build after its default",
              "/// twin): the one list of what is supported. Error messages, the testkit, the property tests and",
              "/// the fuzz target all go by it.",
              "pub const BUILDS: &[Build] = &["]
    lines += [f"    {build(b)}," for b in present]
    lines += ["];", "",
              "/// The layout compiled from headers for a build in `BUILDS`.",
              "pub fn layout_for(build: Build) -> Option<&'static Layout> {",
              "    match (build.major, build.minor, build.free_threaded) {"]
    lines += [f"        ({b.major}, {b.minor}, {str(b.free_threaded).lower()}) => Some(&{b.module}::LAYOUT)," for b in present]
    lines += ["        _ => None,", "    }", "}", "",
              "/// Where each field sits in `_Py_DebugOffsets`, for the builds that have it (3.13+).",
              "pub fn debug_offsets_positions_for(build: Build) -> Option<&'static DebugOffsetsPositions> {",
              "    match (build.major, build.minor, build.free_threaded) {"]
    lines += [f"        ({b.major}, {b.minor}, {str(b.free_threaded).lower()}) => Some(&{b.module}::DEBUG_OFFSETS),"
              for b in present if b.v >= (3, 13)]
    lines += ["        _ => None,", "    }", "}"]
    (OUT_DIR / "mod.rs").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

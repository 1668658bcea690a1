#!/usr/bin/env python3
"""Generates crates/pyspy-core/src/python/layouts/v3_X.rs from CPython's own headers.

For each minor it writes a small C program that prints offsetof/sizeof of every field pyspy reads,
compiles it with `cc` against that minor's headers (with Py_BUILD_CORE, to reach the internal
structs) and turns the numbers into a Rust `Layout` constant. For 3.13+ it also records where each
field sits inside `_Py_DebugOffsets`, which the target fills with its own offsets at run time.

Headers: the pyenv builds on this machine image (3.8-3.13) and the Debian `libpython3.X-dev`
packages that scripts/provision-pythons.sh extracts (listed in .cache/pythons/manifest.json).
Usage: scripts/layouts/generate.py [--only 3.8,3.14] [--headers 3.14=/dir1:/dir2 ...]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = Path(os.environ.get("LAYOUTS_OUT", REPO / "crates/pyspy-core/src/python/layouts"))
MINORS = list(range(8, 16))

# (rust field, C expression per minor range). An expression is evaluated as `(size_t)(EXPR)`;
# None means the minor has no such field (the Rust type is then Option and gets None).
OPTIONAL = {
    "runtime_tstate_current", "runtime_gil", "interp_gil_ptr", "cframe_current_frame",
    "tstate_native_thread_id", "tstate_datastack_chunk", "frame_owner", "code_qualname",
    "code_code", "code_code_adaptive", "dict_keys_log2_index_bytes", "dict_keys_kind", "dict_unicode_entry_size",
    "dict_values_capacity", "dict_values_valid", "tpflag_managed_dict", "tpflag_inline_values",
    "managed_dict_before_object", "managed_values_before_object",
}

# 3.8-3.10 declare PyDictKeysObject and PyDictKeyEntry in Objects/dict-common.h, which is not
# installed, so offsetof cannot reach them: these are that struct's offsets
# ({dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[]}, entries {me_hash, me_key,
# me_value}), checked against live 3.8.18, 3.9.18 and 3.10.13 dicts with ctypes.
DICT_KEYS_PRE311 = {
    "dict_keys_size": "8",
    "dict_keys_nentries": "32",
    "dict_keys_indices": "40",
    "dict_entry_size": "24",
}


def off(t, f):
    return f"offsetof({t}, {f})"


def fields(minor):
    """The C expression for every Layout field of this minor."""
    interp_frame = minor >= 11
    frame_t = "_PyInterpreterFrame" if interp_frame else "PyFrameObject"
    f = {}
    f["runtime_interpreters_head"] = off("_PyRuntimeState", "interpreters.head")
    # <= 3.11 the GIL holder is the runtime's current thread state; 3.12 moved it to a thread local.
    f["runtime_tstate_current"] = off("_PyRuntimeState", "gilstate.tstate_current") if minor <= 11 else None
    f["runtime_gil"] = off("_PyRuntimeState", "ceval.gil") if minor <= 11 else None
    f["interp_next"] = off("PyInterpreterState", "next")
    f["interp_threads_head"] = off("PyInterpreterState", "tstate_head" if minor <= 10 else "threads.head")
    # 3.12 gave each interpreter its own GIL (PEP 684), reached through ceval.gil.
    f["interp_gil_ptr"] = off("PyInterpreterState", "ceval.gil") if minor >= 12 else None
    f["interp_modules"] = off("PyInterpreterState", "modules" if minor <= 11 else "imports.modules")
    f["gil_locked"] = off("struct _gil_runtime_state", "locked")
    f["gil_last_holder"] = off("struct _gil_runtime_state", "last_holder")
    f["tstate_next"] = off("PyThreadState", "next")
    f["tstate_interp"] = off("PyThreadState", "interp")
    f["tstate_frame"] = off("PyThreadState", "frame" if minor <= 10 else "cframe" if minor <= 12 else "current_frame")
    f["cframe_current_frame"] = off("_PyCFrame", "current_frame") if minor in (11, 12) else None
    f["tstate_thread_id"] = off("PyThreadState", "thread_id")
    f["tstate_native_thread_id"] = off("PyThreadState", "native_thread_id") if minor >= 11 else None
    f["tstate_datastack_chunk"] = off("PyThreadState", "datastack_chunk") if minor >= 11 else None
    f["frame_back"] = off(frame_t, "previous" if interp_frame else "f_back")
    f["frame_code"] = off(frame_t, "f_code" if minor <= 12 else "f_executable")
    f["frame_instr"] = off(frame_t, "f_lasti" if minor <= 10 else "prev_instr" if minor <= 12 else "instr_ptr")
    f["frame_owner"] = off(frame_t, "owner") if interp_frame else None
    f["frame_localsplus"] = off(frame_t, "localsplus" if interp_frame else "f_localsplus")
    f["frame_size"] = f"sizeof({frame_t})"
    f["code_filename"] = off("PyCodeObject", "co_filename")
    f["code_name"] = off("PyCodeObject", "co_name")
    f["code_qualname"] = off("PyCodeObject", "co_qualname") if minor >= 11 else None
    f["code_firstlineno"] = off("PyCodeObject", "co_firstlineno")
    f["code_linetable"] = off("PyCodeObject", "co_lnotab" if minor <= 9 else "co_linetable")
    f["code_code"] = off("PyCodeObject", "co_code") if minor <= 10 else None
    f["code_code_adaptive"] = off("PyCodeObject", "co_code_adaptive") if minor >= 11 else None
    f["code_varnames"] = off("PyCodeObject", "co_varnames" if minor <= 10 else "co_localsplusnames")
    f["code_nlocals"] = off("PyCodeObject", "co_nlocals" if minor <= 10 else "co_nlocalsplus")
    f["code_argcount"] = off("PyCodeObject", "co_argcount")
    f["code_size"] = "sizeof(PyCodeObject)"
    f["object_type"] = off("PyObject", "ob_type")
    f["var_object_size"] = off("PyVarObject", "ob_size")
    f["type_name"] = off("PyTypeObject", "tp_name")
    f["type_flags"] = off("PyTypeObject", "tp_flags")
    f["unicode_length"] = off("PyASCIIObject", "length")
    # `state` is a bitfield, which offsetof cannot take: it is the first member after `hash`
    # (checked at run time below by setting state.kind and looking for the changed byte).
    f["unicode_state"] = off("PyASCIIObject", "hash") + " + sizeof(Py_hash_t)"
    f["unicode_ascii_size"] = "sizeof(PyASCIIObject)"
    f["unicode_compact_size"] = "sizeof(PyCompactUnicodeObject)"
    f["bytes_size"] = off("PyVarObject", "ob_size")
    f["bytes_data"] = off("PyBytesObject", "ob_sval")
    f["tuple_size"] = off("PyVarObject", "ob_size")
    f["tuple_items"] = off("PyTupleObject", "ob_item")
    # 3.12 replaced the signed digit count in ob_size with long_value.lv_tag.
    f["long_size_or_tag"] = off("PyVarObject", "ob_size") if minor <= 11 else off("PyLongObject", "long_value.lv_tag")
    f["long_digits"] = off("PyLongObject", "ob_digit" if minor <= 11 else "long_value.ob_digit")
    f["float_value"] = off("PyFloatObject", "ob_fval")
    f["dict_used"] = off("PyDictObject", "ma_used")
    f["dict_keys"] = off("PyDictObject", "ma_keys")
    f["dict_values"] = off("PyDictObject", "ma_values")
    # The keys table (3.11 stored its size as a log2 and added unicode-only entries).
    if minor <= 10:
        f.update(DICT_KEYS_PRE311)
    else:
        f["dict_keys_size"] = off("PyDictKeysObject", "dk_log2_size")
        f["dict_keys_nentries"] = off("PyDictKeysObject", "dk_nentries")
        f["dict_keys_indices"] = off("PyDictKeysObject", "dk_indices")
        f["dict_entry_size"] = "sizeof(PyDictKeyEntry)"
    f["dict_keys_log2_index_bytes"] = off("PyDictKeysObject", "dk_log2_index_bytes") if minor >= 11 else None
    f["dict_keys_kind"] = off("PyDictKeysObject", "dk_kind") if minor >= 11 else None
    f["dict_unicode_entry_size"] = "sizeof(PyDictUnicodeEntry)" if minor >= 11 else None
    # Split-table values: a bare PyObject*[] before 3.11; 3.13 put capacity/valid bytes before the array.
    f["dict_values_items"] = off("PyDictValues", "values") if minor >= 11 else "0"
    f["dict_values_capacity"] = off("PyDictValues", "capacity") if minor >= 13 else None
    f["dict_values_valid"] = off("PyDictValues", "valid") if minor >= 13 else None
    # PyModuleObject is private to Objects/moduleobject.c before 3.10; md_dict follows the header there too.
    f["module_dict"] = off("PyModuleObject", "md_dict") if minor >= 10 else off("PyObject", "ob_type") + " + sizeof(PyObject *)"
    f["type_basicsize"] = off("PyTypeObject", "tp_basicsize")
    f["type_dictoffset"] = off("PyTypeObject", "tp_dictoffset")
    f["heap_type_cached_keys"] = off("PyHeapTypeObject", "ht_cached_keys")
    f["tpflag_managed_dict"] = "Py_TPFLAGS_MANAGED_DICT" if minor >= 11 else None
    f["tpflag_inline_values"] = "Py_TPFLAGS_INLINE_VALUES" if minor >= 13 else None
    # Where CPython's own accessors find a managed dict, measured on a fake object (see c_program).
    managed_dict_accessor = "_PyObject_DictOrValuesPointer" if minor == 12 else "_PyObject_ManagedDictPointer"
    f["managed_dict_before_object"] = f"(char *)fake - (char *){managed_dict_accessor}(fake)" if minor >= 11 else None
    f["managed_values_before_object"] = "(char *)fake - (char *)_PyObject_ValuesPointer(fake)" if minor == 11 else None
    return f


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
    }
    return p


DEBUG_OPTIONAL = {
    "free_threaded", "interp_imports_modules", "interp_gil_runtime_state", "interp_gil_runtime_state_locked",
    "interp_gil_runtime_state_holder", "tstate_datastack_chunk", "type_tp_flags", "tuple_ob_size", "long_lv_tag",
    "long_ob_digit", "float_ob_fval", "bytes_ob_size", "bytes_ob_sval", "dict_ma_keys", "dict_ma_values",
    "type_tp_basicsize", "type_tp_dictoffset", "heap_type_ht_cached_keys",
}

ENUMS = {
    "frame_model": lambda m: "FrameModel::FrameObject" if m <= 10 else "FrameModel::InterpreterFrame",
    "line_table": lambda m: "LineTable::Lnotab" if m <= 9 else "LineTable::Linetable310" if m == 10 else "LineTable::Locations311",
    "long_model": lambda m: "LongModel::SignedSize" if m <= 11 else "LongModel::Tagged",
    "managed_dict": lambda m: "ManagedDict::Absent" if m <= 10 else "ManagedDict::ValuesOrDict" if m == 11
    else "ManagedDict::TaggedDictOrValues" if m == 12 else "ManagedDict::DictOrInlineValues",
}


def includes(minor):
    inc = ["Python.h", "frameobject.h"]
    if minor == 8:
        inc += ["internal/pycore_pystate.h"]
    else:
        inc += ["internal/pycore_runtime.h", "internal/pycore_interp.h"]
    if minor >= 10:
        inc += ["internal/pycore_moduleobject.h"]
    if minor >= 11:
        inc += ["internal/pycore_frame.h", "internal/pycore_code.h", "internal/pycore_dict.h", "internal/pycore_object.h"]
    if minor >= 14:
        inc += ["internal/pycore_debug_offsets.h"]
    return inc


def c_program(minor, with_debug):
    lines = [
        "#define Py_BUILD_CORE 1",
        *[f'#include "{h}"' for h in includes(minor)],
        "#include <stddef.h>",
        "#include <stdio.h>",
        "#include <string.h>",
        "int main(void) {",
        # An object whose type says "managed dict", for the accessors that assert it.
        "    static PyTypeObject fake_type; static PyObject fake_block[8]; PyObject *fake = &fake_block[4];",
        f"    fake_type.tp_flags = {'Py_TPFLAGS_MANAGED_DICT' if minor >= 11 else '0'}; fake->ob_type = &fake_type;",
        "    (void)fake;",
    ]
    for name, expr in fields(minor).items():
        if expr is not None:
            lines.append(f'    printf("layout {name} %zu\\n", (size_t)({expr}));')
    # Check that `state` really starts right after `hash`: set kind in a zeroed object, find the byte.
    lines += [
        "    { PyASCIIObject o; memset(&o, 0, sizeof o); o.state.kind = 7;",
        "      size_t at = (size_t)-1; for (size_t i = 0; i < sizeof o; i++) if (((unsigned char*)&o)[i]) { at = i; break; }",
        '      printf("check unicode_state_byte %zu\\n", at); }',
    ]
    # The dict walker reads me_key and me_value as the last two words of either kind of entry.
    if minor >= 11:
        tail = " && ".join(f"offsetof({e}, me_key) + 2 * sizeof(PyObject *) == sizeof({e}) && "
                           f"offsetof({e}, me_value) + sizeof(PyObject *) == sizeof({e})"
                           for e in ("PyDictKeyEntry", "PyDictUnicodeEntry"))
        lines.append(f'    printf("check dict_entry_tail %d\\n", (int)({tail}));')
    if with_debug:
        lines.append('    printf("debug struct_size %zu\\n", sizeof(_Py_DebugOffsets));')
        for name, member in debug_positions(minor).items():
            lines.append(f'    printf("debug {name} %zu\\n", offsetof(_Py_DebugOffsets, {member}));')
    lines += ['    printf("version %s\\n", PY_VERSION);', "    return 0;", "}"]
    return "\n".join(lines) + "\n"


def compile_and_run(minor, include_dirs, with_debug, present_debug_fields):
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "layout.c"
        exe = Path(tmp) / "layout"
        src.write_text(c_program(minor, with_debug))
        flags = [f"-I{d}" for d in include_dirs] + [f"-I{d}/internal" for d in include_dirs]
        r = subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"3.{minor}: compiling against {include_dirs} failed:\n{r.stderr[-4000:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    values = {"layout": {}, "debug": {}, "check": {}}
    version = None
    for line in out.splitlines():
        kind, rest = line.split(" ", 1)
        if kind == "version":
            version = rest.strip()
            continue
        name, value = rest.split()
        values[kind][name] = int(value)
    return values, version


def find_debug_members(minor, include_dirs):
    """Which _Py_DebugOffsets members this minor's header declares (3.14 added some, may drop others)."""
    header = "pycore_runtime.h" if minor == 13 else "pycore_debug_offsets.h"
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
    sys.exit(f"3.{minor}: {header} not found in {include_dirs}")


def group_name(struct_tag, body):
    m = re.search(r"struct\s+_?" + struct_tag + r"\s*{[^}]*}\s*(\w+);", body, re.S)
    return m.group(1) if m else struct_tag


def header_dirs(args):
    dirs = {}
    for spec in args.headers or []:
        minor, paths = spec.split("=", 1)
        dirs[int(minor.split(".")[1])] = paths.split(":")
    pyenv = Path("/root/.pyenv/versions")
    manifest = REPO / ".cache/pythons/manifest.json"
    listed = json.loads(manifest.read_text())["interpreters"] if manifest.exists() else []
    for minor in MINORS:
        if minor in dirs:
            continue
        candidates = sorted(pyenv.glob(f"3.{minor}.*/include/python3.{minor}")) if pyenv.exists() else []
        candidates = [c for c in candidates if re.fullmatch(rf"3\.{minor}\.\d+", c.parent.parent.name)]
        if candidates:
            dirs[minor] = [str(candidates[-1])]
            continue
        for interp in listed:
            if interp.get("minor") == f"3.{minor}" and interp.get("include") and not interp.get("debug"):
                dirs[minor] = interp["include"]
                break
    return dirs


def rust_file(minor, values, version, source, debug_values, debug_present):
    lines = [
        f"// Generated by scripts/layouts/generate.py from CPython {version} headers ({source}). Do not edit.",
        "",
        "#[allow(unused_imports)]",
        "use crate::python::debug_offsets_positions::DebugOffsetsPositions;",
        "use crate::python::layout::*;",
        "",
        "pub const LAYOUT: Layout = Layout {",
        "    major: 3,",
        f"    minor: {minor},",
    ]
    for name, fn in ENUMS.items():
        lines.append(f"    {name}: {fn(minor)},")
    for name, expr in fields(minor).items():
        if name in OPTIONAL:
            lines.append(f"    {name}: " + (f"Some({values[name]})," if expr is not None else "None,"))
        else:
            lines.append(f"    {name}: {values[name]},")
    lines.append("};")
    if debug_values is not None:
        lines += ["", "pub const DEBUG_OFFSETS: DebugOffsetsPositions = DebugOffsetsPositions {",
                  f"    struct_size: {debug_values['struct_size']},"]
        for name, member in debug_positions(minor).items():
            present = member in debug_present
            if name in DEBUG_OPTIONAL:
                lines.append(f"    {name}: " + (f"Some({debug_values[name]})," if present else "None,"))
            else:
                if not present:
                    sys.exit(f"3.{minor}: _Py_DebugOffsets has no {member}, which pyspy requires")
                lines.append(f"    {name}: {debug_values[name]},")
        lines.append("};")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated minors, e.g. 3.8,3.14")
    parser.add_argument("--headers", action="append", help="3.X=/include/dir[:/pyconfig/dir]")
    args = parser.parse_args()
    minors = [int(m.split(".")[1]) for m in args.only.split(",")] if args.only else MINORS
    dirs = header_dirs(args)
    for minor in minors:
        if minor not in dirs:
            sys.exit(f"no headers for 3.{minor}: run scripts/provision-pythons.sh, or pass --headers 3.{minor}=DIR")
        with_debug = minor >= 13
        present = find_debug_members(minor, dirs[minor]) if with_debug else set()
        # Ask the compiler only for members the header declares; the rest become None.
        saved = debug_positions
        values, version = compile_and_run(minor, dirs[minor], False, present)
        debug_values = None
        if with_debug:
            debug_values = compile_debug(minor, dirs[minor], present)
        if values["check"]["unicode_state_byte"] != values["layout"]["unicode_state"]:
            sys.exit(f"3.{minor}: unicode state bitfield is not where expected")
        if minor >= 11 and values["check"]["dict_entry_tail"] != 1:
            sys.exit(f"3.{minor}: dict entries do not end with me_key, me_value")
        source = "pyenv" if "/.pyenv/" in dirs[minor][0] else "Debian package"
        (OUT_DIR / f"v3_{minor}.rs").write_text(rust_file(minor, values["layout"], version, source, debug_values, present))
        print(f"3.{minor}: {version} from {dirs[minor][0]} -> layouts/v3_{minor}.rs")
    write_mod()


def compile_debug(minor, include_dirs, present):
    lines = ["#define Py_BUILD_CORE 1", *[f'#include "{h}"' for h in includes(minor)],
             "#include <stddef.h>", "#include <stdio.h>", "int main(void) {",
             '    printf("struct_size %zu\\n", sizeof(_Py_DebugOffsets));']
    for name, member in debug_positions(minor).items():
        if member in present:
            lines.append(f'    printf("{name} %zu\\n", offsetof(_Py_DebugOffsets, {member}));')
    lines += ["    return 0;", "}"]
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "debug.c", Path(tmp) / "debug"
        src.write_text("\n".join(lines) + "\n")
        flags = [f"-I{d}" for d in include_dirs] + [f"-I{d}/internal" for d in include_dirs]
        r = subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"3.{minor}: compiling _Py_DebugOffsets positions failed:\n{r.stderr[-4000:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    return {k: int(v) for k, v in (line.split() for line in out.splitlines())}


def write_mod():
    present = sorted(int(p.stem.split("_")[1]) for p in OUT_DIR.glob("v3_*.rs"))
    lines = ["// Generated by scripts/layouts/generate.py. Do not edit.", "",
             "use crate::python::debug_offsets_positions::DebugOffsetsPositions;",
             "use crate::python::layout::Layout;", ""]
    # In rustfmt's order (it sorts module declarations as text), so the output is already formatted.
    lines += sorted(f"pub mod v3_{m};" for m in present)
    lines += ["", "/// Every CPython 3 minor pyspy-ts reads, oldest first: the one list of what is supported.",
              f"pub const MINORS: &[u8] = &[{', '.join(str(m) for m in present)}];"]
    lines += ["", "/// The layout compiled from headers for 3.`minor`.",
              "pub fn static_layout(minor: u8) -> Option<&'static Layout> {", "    match minor {"]
    lines += [f"        {m} => Some(&v3_{m}::LAYOUT)," for m in present]
    lines += ["        _ => None,", "    }", "}", "",
              "/// Where each field sits in `_Py_DebugOffsets`, for minors that have it (3.13+).",
              "pub fn debug_offsets_positions(minor: u8) -> Option<&'static DebugOffsetsPositions> {", "    match minor {"]
    lines += [f"        {m} => Some(&v3_{m}::DEBUG_OFFSETS)," for m in present if m >= 13]
    lines += ["        _ => None,", "    }", "}"]
    (OUT_DIR / "mod.rs").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

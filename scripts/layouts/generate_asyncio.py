#!/usr/bin/env python3
"""Generates crates/pyspy-core/src/python/asyncio_layouts/v3_X.rs: what `--async` reads, per minor.

The private structs of _asyncio (TaskObj, FutureObj, ...) are not in any header, so
scripts/layouts/asyncio_structs.h declares them per minor, transcribed from that minor's sources
(each block names its source). This script compiles, for each minor, a C program that includes
that minor's own headers plus asyncio_structs.h and prints offsetof/sizeof of every field and the
constants (frame states, tag bits) the walkers need; the numbers become a Rust `AsyncioLayout`.

`--check` then runs every interpreter of .cache/pythons/manifest.json on a small program that
reads its own Task, Future, coroutine chain, set, weakref, partial, bound-method and closure
objects, and its thread state (running loop and task, the 3.8-3.12 thread dict, the 3.14+ task
lists including the one a finished thread hands to the interpreter, the module state), through
ctypes at the generated offsets and compares with what Python says (task._coro, get_name(), ...):
a wrong transcription fails there, on the build the tests run. On 3.14+ the table is also compared
with the AsyncioDebug section the interpreter publishes (a debug build may differ: reported).

Headers: the same as scripts/layouts/generate.py (pyenv builds 3.8-3.13, Debian's for 3.14/3.15).
Usage: scripts/layouts/generate_asyncio.py [--only 3.9,3.14] [--headers 3.14=DIR] [--check]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (header discovery and include lists are shared with the main table)

REPO = generate.REPO
# The minors `--async` reads: the walked default-ABI builds from 3.8 on.
MINORS = list(range(8, 16))
HERE = Path(__file__).resolve().parent
OUT_DIR = Path(os.environ.get("ASYNCIO_LAYOUTS_OUT", REPO / "crates/pyspy-core/src/python/asyncio_layouts"))


def off(t, f):
    return f"offsetof({t}, {f})"


def fields(minor):
    """Rust field -> C expression (None: the minor has no such thing; the Rust field is then None)."""
    f = {}
    # Future and Task of the C accelerator.
    for name in ("loop", "callback0", "context0", "callbacks", "exception", "result", "state"):
        f[f"future_{name}"] = off("FutureObj", f"fut_{name}")
    f["future_awaited_by"] = off("FutureObj", "fut_awaited_by") if minor >= 14 else None
    f["future_is_task"] = off("FutureObj", "fut_is_task") if minor >= 14 else None
    f["future_awaited_by_is_set"] = off("FutureObj", "fut_awaited_by_is_set") if minor >= 14 else None
    f["future_size"] = "sizeof(FutureObj)"
    f["task_fut_waiter"] = off("TaskObj", "task_fut_waiter")
    f["task_coro"] = off("TaskObj", "task_coro")
    f["task_name"] = off("TaskObj", "task_name")
    f["task_context"] = off("TaskObj", "task_context")
    f["task_node"] = off("TaskObj", "task_node") if minor >= 14 else None
    f["task_size"] = "sizeof(TaskObj)"
    f["state_pending"] = "STATE_PENDING"
    f["state_cancelled"] = "STATE_CANCELLED"
    f["state_finished"] = "STATE_FINISHED"
    # Which loop runs on a thread, and which task runs in it.
    f["tstate_dict"] = off("PyThreadState", "dict")
    f["running_loop_holder_loop"] = off("PyRunningLoopHolder", "rl_loop") if minor <= 11 else None
    f["tstate_asyncio_running_loop"] = off("_PyThreadStateImpl", "asyncio_running_loop") if minor >= 13 else None
    f["tstate_asyncio_running_task"] = off("_PyThreadStateImpl", "asyncio_running_task") if minor >= 14 else None
    # 3.14+: every _asyncio.Task is on a circular list headed in the thread that created it; the
    # list of a thread that ends moves to the interpreter's head.
    f["tstate_asyncio_tasks_head"] = off("_PyThreadStateImpl", "asyncio_tasks_head") if minor >= 14 else None
    f["interp_asyncio_tasks_head"] = off("PyInterpreterState", "asyncio_tasks_head") if minor >= 14 else None
    f["llist_next"] = off("struct llist_node", "next") if minor >= 14 else None
    f["module_state"] = off("PyModuleObject", "md_state") if minor >= 10 else None
    f["module_state_non_asyncio_tasks"] = off("pyspy_asyncio_state_head", "non_asyncio_tasks") if minor >= 14 else None
    f["module_state_non_asyncio_eager_tasks"] = off("pyspy_asyncio_state_head", "non_asyncio_eager_tasks") if minor >= 14 else None
    # The done-callback a task leaves on what it awaits: who is waiting.
    f["task_wakeup_task"] = off("TaskWakeupMethWrapper", "ww_task") if minor <= 9 else off("PyCFunctionObject", "m_self")
    f["cfunction_self"] = off("PyCFunctionObject", "m_self")
    f["method_self"] = off("PyMethodObject", "im_self")
    f["method_func"] = off("PyMethodObject", "im_func")
    f["function_closure"] = off("PyFunctionObject", "func_closure")
    f["function_code"] = off("PyFunctionObject", "func_code")
    f["cell_ref"] = off("PyCellObject", "ob_ref")
    f["partial_func"] = off("pyspy_partial_head", "fn")
    f["partial_args"] = off("pyspy_partial_head", "args")
    # Coroutines, generators, async generators (one header, so cr_/ag_ offsets equal gi_ ones).
    f["gen_frame"] = off("PyGenObject", "gi_frame") if minor <= 10 else None
    f["gen_iframe"] = off("PyGenObject", "gi_iframe") if minor >= 11 else None
    f["gen_frame_state"] = off("PyGenObject", "gi_frame_state") if minor >= 11 else None
    f["asend_gen"] = off("pyspy_asend_head", "ags_gen")
    f["code_flags"] = off("PyCodeObject", "co_flags")
    # What a suspended coroutine awaits is the top of its frame's value stack (_PyGen_yf).
    f["frame_stacktop"] = off("PyFrameObject", "f_stacktop") if minor <= 9 else None
    f["frame_valuestack"] = off("PyFrameObject", "f_valuestack") if minor == 10 else None
    f["frame_stackdepth"] = off("PyFrameObject", "f_stackdepth") if minor == 10 else None
    f["frame_state"] = off("PyFrameObject", "f_state") if minor == 10 else None
    f["iframe_stacktop"] = off("_PyInterpreterFrame", "stacktop") if 11 <= minor <= 13 else None
    # The value stack starts where the locals end: `stacktop` counts from the first local slot.
    f["iframe_localsplus"] = off("_PyInterpreterFrame", "localsplus") if 11 <= minor <= 13 else None
    f["iframe_stackpointer"] = off("_PyInterpreterFrame", "stackpointer") if minor >= 14 else None
    f["stackref_tag_bits"] = "Py_TAG_BITS" if minor >= 14 else "0"
    # How deep below the top the awaited object sits. 3.15's _PyFrame_StackPeek takes a depth and
    # a suspended `await` keeps a NULL stackref above the awaitable (found with --check on 3.15.2,
    # where the slot right under stackpointer reads 0); before, it is the top itself.
    f["awaited_depth"] = "2" if minor >= 15 else "1"
    f["frame_state_created"] = "FRAME_CREATED" if minor >= 10 else None
    f["frame_state_suspended"] = "FRAME_SUSPENDED" if minor >= 10 else None
    f["frame_state_suspended_yield_from"] = "FRAME_SUSPENDED_YIELD_FROM" if minor >= 13 else None
    f["frame_state_executing"] = "FRAME_EXECUTING" if minor >= 10 else None
    f["frame_state_cleared"] = "FRAME_CLEARED" if minor >= 10 else None
    # Python objects on the way: WeakSet.data is a set of weakrefs; callbacks and gather children are lists.
    f["set_mask"] = off("PySetObject", "mask")
    f["set_table"] = off("PySetObject", "table")
    f["set_used"] = off("PySetObject", "used")
    f["set_entry_size"] = "sizeof(setentry)"
    f["set_entry_key"] = off("setentry", "key")
    f["weakref_object"] = off("PyWeakReference", "wr_object")
    f["list_items"] = off("PyListObject", "ob_item")
    f["list_size"] = off("PyVarObject", "ob_size")
    # "Is this a Task?": an object's type or one of its bases is _asyncio.Task (subclasses).
    f["type_base"] = off("PyTypeObject", "tp_base")
    return f


ALWAYS = {"future_loop", "future_callback0", "future_context0", "future_callbacks", "future_exception",
          "future_result", "future_state", "future_size", "task_fut_waiter", "task_coro", "task_name",
          "task_context", "task_size", "state_pending", "state_cancelled", "state_finished", "tstate_dict",
          "task_wakeup_task", "cfunction_self", "method_self", "method_func", "function_closure",
          "function_code", "cell_ref", "partial_func", "partial_args", "asend_gen", "code_flags",
          "stackref_tag_bits", "awaited_depth", "set_mask", "set_table", "set_used", "set_entry_size", "set_entry_key",
          "weakref_object", "list_items", "list_size", "type_base"}

ENUMS = {
    "task_registry": lambda m: "TaskRegistry::AllTasksWeakSet" if m <= 11
    else "TaskRegistry::ScheduledWeakSetAndEagerSet" if m <= 13 else "TaskRegistry::ThreadTaskLists",
    "running_loop": lambda m: "RunningLoop::ThreadDictHolder" if m <= 11
    else "RunningLoop::ThreadDictLoop" if m == 12 else "RunningLoop::ThreadState",
    "current_task": lambda m: "CurrentTask::CurrentTasksDict" if m <= 13 else "CurrentTask::ThreadState",
    "task_name_kind": lambda m: "TaskName::Str" if m <= 11 else "TaskName::StrOrCounter",
    "task_wakeup": lambda m: "TaskWakeup::MethWrapper" if m <= 9 else "TaskWakeup::BuiltinFunction",
    "awaited": lambda m: "Awaited::FrameStacktop" if m <= 9 else "Awaited::FrameStackdepth" if m == 10
    else "Awaited::InterpreterFrameStacktop" if m <= 13 else "Awaited::InterpreterFrameStackpointer",
}


def includes(minor):
    inc = generate.includes(generate.Build(3, minor))
    if minor == 8:
        inc += ["genobject.h"]
    if minor >= 13:
        inc += ["internal/pycore_llist.h", "internal/pycore_tstate.h"]
    if minor >= 14:
        inc += ["internal/pycore_genobject.h", "internal/pycore_interpframe_structs.h", "internal/pycore_stackref.h"]
    return inc


def c_program(minor):
    lines = ["#define Py_BUILD_CORE 1", *[f'#include "{h}"' for h in includes(minor)],
             f'#include "{HERE / "asyncio_structs.h"}"', "#include <stddef.h>", "#include <stdio.h>",
             "int main(void) {"]
    for name, expr in fields(minor).items():
        if expr is not None:
            lines.append(f'    printf("field {name} %lld\\n", (long long)({expr}));')
    # The walkers read a coroutine, a generator and an async generator through the gi_ offsets.
    frame_member = "frame" if minor <= 10 else "iframe"
    same = " && ".join([f"offsetof(PyCoroObject, cr_{frame_member}) == offsetof(PyGenObject, gi_{frame_member})",
                        f"offsetof(PyAsyncGenObject, ag_{frame_member}) == offsetof(PyGenObject, gi_{frame_member})"]
                       + ([f"offsetof(PyCoroObject, cr_frame_state) == offsetof(PyGenObject, gi_frame_state)"]
                          if minor >= 11 else []))
    lines.append(f'    printf("check gen_heads_agree %d\\n", (int)({same}));')
    lines.append('    printf("check tag_bits_fit %d\\n", (int)(sizeof(void *) == 8));')
    lines += ['    printf("version %s\\n", PY_VERSION);', "    return 0;", "}"]
    return "\n".join(lines) + "\n"


def compile_and_run(minor, include_dirs):
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = Path(tmp) / "asyncio_layout.c", Path(tmp) / "asyncio_layout"
        src.write_text(c_program(minor))
        flags = [f"-I{d}" for d in include_dirs] + [f"-I{d}/internal" for d in include_dirs]
        r = subprocess.run(["cc", "-w", *flags, str(src), "-o", str(exe)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"3.{minor}: compiling against {include_dirs} failed:\n{r.stderr[-4000:]}")
        out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    values, checks, version = {}, {}, None
    for line in out.splitlines():
        kind, rest = line.split(" ", 1)
        if kind == "version":
            version = rest.strip()
        else:
            name, value = rest.split()
            (values if kind == "field" else checks)[name] = int(value)
    for name, ok in checks.items():
        if ok != 1:
            sys.exit(f"3.{minor}: check {name} failed")
    return values, version


def rust_file(minor, values, version, source):
    lines = [
        f"// Generated by scripts/layouts/generate_asyncio.py from CPython {version} headers ({source})",
        "// and scripts/layouts/asyncio_structs.h. Do not edit.",
        "",
        "use crate::python::asyncio_layout::*;",
        "",
        "pub const ASYNCIO_LAYOUT: AsyncioLayout = AsyncioLayout {",
        f"    minor: {minor},",
    ]
    for name, fn in ENUMS.items():
        lines.append(f"    {name}: {fn(minor)},")
    for name, expr in fields(minor).items():
        if name in ALWAYS:
            lines.append(f"    {name}: {values[name]},")
        else:
            lines.append(f"    {name}: " + (f"Some({values[name]})," if expr is not None else "None,"))
    lines.append("};")
    return "\n".join(lines) + "\n"


def write_mod():
    present = sorted(int(p.stem.split("_")[1]) for p in OUT_DIR.glob("v3_*.rs"))
    lines = ["// Generated by scripts/layouts/generate_asyncio.py. Do not edit.", "",
             "use crate::python::asyncio_layout::AsyncioLayout;", ""]
    lines += sorted(f"pub mod v3_{m};" for m in present)  # rustfmt's order
    lines += ["", "/// What `--async` reads in 3.`minor`, compiled from that minor's headers.",
              "pub fn asyncio_layout(minor: u8) -> Option<&'static AsyncioLayout> {", "    match minor {"]
    lines += [f"        {m} => Some(&v3_{m}::ASYNCIO_LAYOUT)," for m in present]
    lines += ["        _ => None,", "    }", "}"]
    (OUT_DIR / "mod.rs").write_text("\n".join(lines) + "\n")


# --- checking the tables against live objects -------------------------------------------------

CHECK_PROGRAM = r'''
import asyncio, ctypes, functools, json, sys, threading, time, weakref
L = json.loads(sys.argv[1])
failures = []

def word(addr):
    return ctypes.c_uint64.from_address(addr).value

def byte(addr):
    return ctypes.c_int8.from_address(addr).value

def expect(what, got, want):
    if got != want:
        failures.append(f"{what}: read {got!r}, expected {want!r}")

def field(obj, name):
    return word(id(obj) + L[name])

def task_list(head):
    """The tasks on a 3.14+ llist: node addresses minus task_node, at most 10000."""
    found, node = set(), word(head + L["llist_next"])
    while node != head and node and len(found) < 10000:
        found.add(node - L["task_node"])
        node = word(node + L["llist_next"])
    return found

async def inner(ev):
    await ev.wait()

async def outer(ev):
    await inner(ev)

async def run():
    loop = asyncio.get_running_loop()
    ev = asyncio.Event()
    task = asyncio.create_task(outer(ev), name="checked-task")
    unnamed = asyncio.create_task(outer(ev))
    await asyncio.sleep(0)
    if type(task).__module__ != "_asyncio":
        failures.append("asyncio.Task is not the C Task")
    expect("task_coro", field(task, "task_coro"), id(task.get_coro()))
    if hasattr(task, "get_context"):  # 3.12+
        expect("task_context", field(task, "task_context"), id(task.get_context()))
    expect("future_loop", field(task, "future_loop"), id(loop))
    name_ptr = field(task, "task_name")
    expect("task_name", name_ptr, id(task.get_name()))
    unnamed_name = ctypes.cast(field(unnamed, "task_name"), ctypes.py_object).value
    want = unnamed.get_name() if L["task_name_model"] == "Str" else int(unnamed.get_name()[5:])
    expect("task_name (default)", unnamed_name, want)
    waiter = task._fut_waiter
    expect("task_fut_waiter", field(task, "task_fut_waiter"), id(waiter))
    expect("future_state pending", ctypes.c_int.from_address(id(task) + L["future_state"]).value, L["state_pending"])
    # The waiter is a plain Future that the task's wakeup callback sits on.
    cb = ctypes.cast(field(waiter, "future_callback0"), ctypes.py_object).value
    owner = word(id(cb) + L["task_wakeup_task"])
    expect("task_wakeup_task", owner, id(task))
    if L.get("future_awaited_by") is not None:
        expect("future_awaited_by", field(waiter, "future_awaited_by"), id(task))
        expect("future_is_task", byte(id(task) + L["future_is_task"]), 1)
        expect("future_is_task (future)", byte(id(waiter) + L["future_is_task"]), 0)
    # The thread state: the running loop, the running task, the task list (what a walker reads).
    get_tstate = ctypes.pythonapi.PyThreadState_Get
    get_tstate.restype = ctypes.c_void_p
    tstate = get_tstate()
    get_dict = ctypes.pythonapi.PyThreadState_GetDict
    get_dict.restype = ctypes.c_void_p
    thread_dict = get_dict()  # 3.13+ creates it on first use: asyncio no longer needs it
    expect("tstate_dict", word(tstate + L["tstate_dict"]), thread_dict)
    if L.get("running_loop_holder_loop") is not None:
        holder = ctypes.cast(get_dict(), ctypes.py_object).value["__asyncio_running_event_loop__"]
        expect("running_loop_holder_loop", word(id(holder) + L["running_loop_holder_loop"]), id(loop))
    if L.get("tstate_asyncio_running_loop") is not None:
        expect("tstate_asyncio_running_loop", word(tstate + L["tstate_asyncio_running_loop"]), id(loop))
    if L.get("tstate_asyncio_running_task") is not None:
        expect("tstate_asyncio_running_task", word(tstate + L["tstate_asyncio_running_task"]),
               id(asyncio.current_task()))
    if L.get("tstate_asyncio_tasks_head") is not None:
        listed = task_list(tstate + L["tstate_asyncio_tasks_head"])
        expect("tasks on this thread's list", {id(task), id(unnamed)} <= listed, True)
        # A thread that ends hands its pending tasks to the interpreter's list.
        box = []
        def other():
            async def park():  # an Event of this thread's own loop
                await asyncio.Event().wait()
            async def make():
                box.append(asyncio.create_task(park(), name="from-a-thread"))
            other_loop = asyncio.new_event_loop()
            other_loop.run_until_complete(make())
            box.append(other_loop)
        t = threading.Thread(target=other)
        t.start()
        t.join()
        get_interp = ctypes.pythonapi.PyInterpreterState_Get
        get_interp.restype = ctypes.c_void_p
        # join() can return before the dying thread state has moved its list over: poll a while.
        for _ in range(100):
            interp_listed = task_list(get_interp() + L["interp_asyncio_tasks_head"])
            if id(box[0]) in interp_listed:
                break
            time.sleep(0.02)
        expect("a dead thread's task on the interpreter's list", id(box[0]) in interp_listed, True)
        # Tasks registered through _asyncio that are not _asyncio.Task (third-party task types) live
        # in the module state's WeakSet. (3.14's own _PyTask registers in asyncio.tasks'
        # Python-level _scheduled_tasks instead.)
        import _asyncio
        state = word(id(_asyncio) + L["module_state"])
        py_task = asyncio.tasks._PyTask(outer(ev), loop=loop, name="python-task")
        expect("_PyTask in asyncio.tasks._scheduled_tasks", py_task in asyncio.tasks._scheduled_tasks, True)
        _asyncio._register_task(py_task)
        weak = ctypes.cast(word(state + L["module_state_non_asyncio_tasks"]), ctypes.py_object).value
        expect("module_state_non_asyncio_tasks", py_task in weak, True)
        _asyncio._unregister_task(py_task)
        py_task.cancel()
    # The coroutine chain: outer awaits inner, inner awaits Event.wait, Event.wait a Future.
    coro = task.get_coro()
    while hasattr(coro, "cr_await"):
        what = coro.cr_code.co_name
        if L.get("gen_iframe") is not None:
            state = byte(id(coro) + L["gen_frame_state"])
            want_state = L.get("frame_state_suspended_yield_from")
            if want_state is None:
                want_state = L["frame_state_suspended"]
            expect(f"gen_frame_state of {what}", state, want_state)
            frame = id(coro) + L["gen_iframe"]
            depth = L["awaited_depth"]
            if L.get("iframe_stacktop") is not None:
                top = ctypes.c_int.from_address(frame + L["iframe_stacktop"]).value
                awaited = word(frame + L["iframe_localsplus"] + 8 * (top - depth))
            else:
                sp = word(frame + L["iframe_stackpointer"])
                awaited = word(sp - 8 * depth) & ~L["stackref_tag_bits"]
        else:
            frame = field(coro, "gen_frame")
            expect(f"gen_frame of {what}", frame, id(coro.cr_frame))
            if L.get("frame_stacktop") is not None:
                awaited = word(word(frame + L["frame_stacktop"]) - 8)
            else:
                depth = ctypes.c_int.from_address(frame + L["frame_stackdepth"]).value
                awaited = word(word(frame + L["frame_valuestack"]) + 8 * (depth - 1))
                expect(f"frame_state of {what}", byte(frame + L["frame_state"]), L["frame_state_suspended"])
        expect(f"awaited by {what} (cr_await)", awaited, id(coro.cr_await))
        coro = coro.cr_await
    coro = task.get_coro()
    flags = ctypes.c_int.from_address(id(coro.cr_code) + L["code_flags"]).value
    expect("code_flags", flags, coro.cr_code.co_flags)
    # Python objects on the way.
    ws = weakref.WeakSet([task, unnamed])
    data = ws.data
    mask = word(id(data) + L["set_mask"])
    table = word(id(data) + L["set_table"])
    keys = set()
    for i in range(mask + 1):
        key = word(table + i * L["set_entry_size"] + L["set_entry_key"])
        if key:
            keys.add(key)
    refs = {id(r) for r in data}
    expect("set entries", refs <= keys, True)
    expect("set_used", word(id(data) + L["set_used"]), len(data))
    r = next(iter(data))
    expect("weakref_object", word(id(r) + L["weakref_object"]), id(r()))
    lst = [task, unnamed]
    expect("list_size", word(id(lst) + L["list_size"]), 2)
    expect("list_items", word(word(id(lst) + L["list_items"]) + 8), id(unnamed))
    expect("type_base", word(id(type(waiter)) + L["type_base"]), id(type(waiter).__base__))
    p = functools.partial(print, waiter, 1)
    expect("partial_func", word(id(p) + L["partial_func"]), id(print))
    expect("partial_args", word(id(p) + L["partial_args"]), id(p.args))
    m = task.get_name
    expect("cfunction_self", word(id(m) + L["cfunction_self"]), id(task))
    class Holder:
        def method(self):
            return waiter
    h = Holder()
    bound = h.method
    expect("method_self", word(id(bound) + L["method_self"]), id(h))
    expect("method_func", word(id(bound) + L["method_func"]), id(Holder.method))
    def make():
        captured = waiter
        def cb():
            return captured
        return cb
    fn = make()
    expect("function_closure", word(id(fn) + L["function_closure"]), id(fn.__closure__))
    expect("cell_ref", word(id(fn.__closure__[0]) + L["cell_ref"]), id(waiter))
    expect("function_code", word(id(fn) + L["function_code"]), id(fn.__code__))
    async def agen():
        yield 1
    ag = agen()
    asend = ag.__anext__()
    expect("asend_gen", word(id(asend) + L["asend_gen"]), id(ag))
    asend.close()
    ev.set()
    await asyncio.gather(task, unnamed)
    expect("future_state finished", ctypes.c_int.from_address(id(task) + L["future_state"]).value, L["state_finished"])
    expect("future_result", field(task, "future_result"), id(task.result()))

asyncio.run(run())
print(json.dumps(failures))
'''


def layout_for_check(minor, values):
    """The generated values, with what the check needs to know of the minor, as JSON for the child."""
    d = dict(values)
    d["task_name_model"] = "Str" if minor <= 11 else "StrOrCounter"
    for name, expr in fields(minor).items():
        if expr is None:
            d[name] = None
    return d


def asyncio_debug_section(interp):
    """3.14+: the offsets the interpreter publishes in its AsyncioDebug section (_Py_AsyncioModuleDebugOffsets:
    task {size, name, awaited_by, is_task, awaited_by_is_set, coro, node}, interpreter {size, tasks_head},
    thread {size, running_loop, running_task, tasks_head}), read from the ELF file that holds _asyncio."""
    import glob
    import struct
    env = dict(os.environ, **interp.get("env", {}))
    r = subprocess.run([interp["exe"], "-c", "import _asyncio, sys; print(getattr(_asyncio, '__file__', sys.executable))"],
                       env=env, capture_output=True, text=True)
    path = r.stdout.strip()
    if r.returncode != 0 or not os.path.exists(path):
        return None
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "AsyncioDebug" in line:
            cols = line.split("]", 1)[1].split()
            offset, size = int(cols[3], 16), int(cols[4], 16)
            with open(path, "rb") as f:
                f.seek(offset)
                return struct.unpack(f"<{size // 8}Q", f.read(size))
    return None


def debug_section_offsets(interp):
    """The AsyncioDebug words by AsyncioLayout field name, or None without a section."""
    words = asyncio_debug_section(interp)
    if words is None or len(words) < 13:
        return None
    return {"task_size": words[0], "task_name": words[1], "future_awaited_by": words[2], "future_is_task": words[3],
            "future_awaited_by_is_set": words[4], "task_coro": words[5], "task_node": words[6],
            "interp_asyncio_tasks_head": words[8], "tstate_asyncio_running_loop": words[10],
            "tstate_asyncio_running_task": words[11], "tstate_asyncio_tasks_head": words[12]}


def check_interpreters(tables):
    manifest = REPO / ".cache/pythons/manifest.json"
    if not manifest.exists():
        sys.exit("--check needs .cache/pythons/manifest.json: run scripts/provision-pythons.sh")
    failed = False
    for interp in json.loads(manifest.read_text())["interpreters"]:
        minor = int(interp["minor"].split(".")[1])
        if minor not in tables:
            continue
        env = dict(os.environ, **interp.get("env", {}))
        probe = subprocess.run([interp["exe"], "-c", "import ctypes"], env=env, capture_output=True, text=True)
        if probe.returncode != 0:
            # e.g. 3.9-bullseye: its _ctypes wants libffi.so.7, which the image lacks.
            print(f"check {interp['id']} ({interp['version']}): skipped, ctypes does not import: "
                  + probe.stderr.strip().splitlines()[-1])
            continue
        table, problems, notes = dict(tables[minor]), [], []
        if minor >= 14:
            section = debug_section_offsets(interp)
            if section is None:
                problems.append("no AsyncioDebug section found")
            else:
                diffs = [f"{k}: section {v}, table {table[k]}" for k, v in section.items() if table[k] != v]
                # A Py_DEBUG build's interpreter state is larger: there the walker must take these
                # offsets from the section (as it does _Py_DebugOffsets); the table describes
                # release builds. The live check below then uses the section's values.
                (notes if interp.get("debug") else problems).extend(diffs)
                table.update(section)
        r = subprocess.run([interp["exe"], "-c", CHECK_PROGRAM, json.dumps(table)], env=env,
                           capture_output=True, text=True, timeout=120)
        problems += json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else [r.stderr.strip()[-600:]]
        print(f"check {interp['id']} ({interp['version']}): " + ("ok" if not problems else "; ".join(problems))
              + (f" (debug build; AsyncioDebug differs from the release table: {'; '.join(notes)})" if notes else ""))
        failed |= bool(problems)
    if failed:
        sys.exit("the asyncio layouts disagree with live objects")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated minors, e.g. 3.9,3.14")
    parser.add_argument("--headers", action="append", help="3.X=/include/dir[:/pyconfig/dir]")
    parser.add_argument("--check", action="store_true", help="check the tables on every provisioned interpreter")
    args = parser.parse_args()
    minors = [int(m.split(".")[1]) for m in args.only.split(",")] if args.only else MINORS
    builds = {generate.Build(3, m): m for m in minors}
    dirs = {builds[b]: d for b, d in generate.header_dirs(args, list(builds)).items() if b in builds}
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    tables = {}
    for minor in minors:
        if minor not in dirs:
            sys.exit(f"no headers for 3.{minor}: run scripts/provision-pythons.sh, or pass --headers 3.{minor}=DIR")
        values, version = compile_and_run(minor, dirs[minor])
        source = "pyenv" if "/.pyenv/" in dirs[minor][0] else "Debian package"
        (OUT_DIR / f"v3_{minor}.rs").write_text(rust_file(minor, values, version, source))
        print(f"3.{minor}: {version} from {dirs[minor][0]} -> asyncio_layouts/v3_{minor}.rs")
        tables[minor] = layout_for_check(minor, values)
    write_mod()
    if args.check:
        check_interpreters(tables)


if __name__ == "__main__":
    main()

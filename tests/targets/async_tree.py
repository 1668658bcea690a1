"""A target for `--async` tests: a known tree of asyncio tasks, plus its own ground truth.

Usage: python async_tree.py GROUND_TRUTH.json [--uvloop | --pytask]

--uvloop runs both loops under uvloop: scripts/provision-pythons.sh provisions it per interpreter
(run with PYTHONPATH and the env of the manifest entry's "uvloop"); uvloop.run() adds its own
`run.<locals>.wrapper` coroutine under the main task. --pytask makes every task a pure-Python
`asyncio.tasks._PyTask` (through the loops' task factories): 3.8-3.13 only, as 3.14's asyncio
no longer sees them (its current_task(), all_tasks(), TaskGroup and wait_for go by the C state).

The main thread's loop runs this tree (3.9/3.10 have no TaskGroup and use gather instead):

    Task main            main() awaits gather(alpha, beta, cpu)
      Task alpha         server(): a TaskGroup of two handlers
        Task alpha.h0    handler() parked on an Event
        Task alpha.h1    handler_wait_for(): wait_for(Event.wait()) (3.9-3.11 add an unnamed task)
        Task alpha.h2    handler_agen(): `async for` over an async generator parked on the Event
      Task beta          server(): a TaskGroup of two handlers
        Task beta.h0     handler() parked on an Event
        Task beta.h1     handler_shield(): shield(Task beta.shielded)
          Task beta.shielded
      Task cpu           cpu_burner(): burns CPU in burn(), yielding every 20 ms
    Task finished        done, still referenced by main()
    Task cancelled       cancelled, still referenced by main()

A second thread runs its own loop (eager tasks on 3.12+) with a default-named top task and one
named task parked on a future. Once everything is parked and the CPU task has yielded once, a
loop callback (so no task is running) writes the ground truth, computed by the target itself:

- every loop's tasks from asyncio.all_tasks(loop), with Task.get_name(), the state, the default
  name flag, Task.get_stack() as is (the task's own frame; asyncio does not follow awaits) and the
  full coroutine stack, innermost first, followed through cr_await / gi_yieldfrom / ag_await;
- who awaits whom, derived from the tasks' own objects by the rules below ("awaited_by"), checked
  against the tree this file built ("expected_awaited_by"); a mismatch is written as "errors";
- on 3.14+, asyncio.capture_call_graph() of every task, to compare with both.

Then it prints "ready" and keeps running (the CPU task never stops) until killed.
"""
import asyncio
import functools
import gc
import json
import os
import re
import sys
import threading
import time
import types

USE_UVLOOP = "--uvloop" in sys.argv[2:]
USE_PYTASK = "--pytask" in sys.argv[2:]
if USE_PYTASK and sys.version_info >= (3, 14):
    sys.exit("async_tree: --pytask needs 3.8-3.13: 3.14's asyncio does not track _PyTask in current_task()")
BURST_SECONDS = 0.02
HAS_TASK_GROUP = hasattr(asyncio, "TaskGroup")
# uvloop's create_task passes eager_start=, which 3.13's eager_task_factory does not take.
HAS_EAGER = hasattr(asyncio, "eager_task_factory") and (not USE_UVLOOP or sys.version_info >= (3, 14))
# What each named task is awaited by, as this file builds it. Unnamed helper tasks that asyncio
# itself creates (wait_for's inner task before 3.12) are checked by their position instead.
EXPECTED_PARENT = {
    "main": None,
    "alpha": "main",
    "beta": "main",
    "cpu": "main",
    "alpha.h0": "alpha",
    "alpha.h1": "alpha",
    "alpha.h2": "alpha",
    "beta.h0": "beta",
    "beta.h1": "beta",
    "beta.shielded": "beta.h1",
    "side.worker": "side-main",
}

release = None  # asyncio.Event, never set
parked = None  # asyncio.Event, set when all handlers wait
parked_count = 0
PARKERS = 6  # alpha.h0, alpha.h1, alpha.h2, beta.h0, beta.shielded, and beta.h1 (after shield())
truth_path = None
finished_tasks = []
side_truth = None  # filled by the side thread
side_truth_ready = threading.Event()


def note_parked():
    global parked_count
    parked_count += 1
    if parked_count == PARKERS:
        parked.set()


async def wait_released():
    note_parked()
    await release.wait()


async def handler(name):
    await wait_released()


async def handler_wait_for(name):
    await asyncio.wait_for(wait_released(), timeout=24 * 3600)


async def ticks():
    await wait_released()
    yield 1


async def handler_agen(name):
    # What `async for` awaits is the generator's __anext__() object, not a coroutine: asyncio.graph
    # and pstree stop there, so the truth's coroutine stack ends at this frame.
    async for _ in ticks():
        pass


async def handler_shield(name):
    inner = asyncio.create_task(wait_released(), name=f"{name.rsplit('.', 1)[0]}.shielded")
    await asyncio.sleep(0)
    note_parked()
    await asyncio.shield(inner)


async def server(name):
    if HAS_TASK_GROUP:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(handler(f"{name}.h0"), name=f"{name}.h0")
            second = handler_wait_for if name == "alpha" else handler_shield
            tg.create_task(second(f"{name}.h1"), name=f"{name}.h1")
            if name == "alpha":
                tg.create_task(handler_agen(f"{name}.h2"), name=f"{name}.h2")
    else:
        second = handler_wait_for if name == "alpha" else handler_shield
        handlers = [
            asyncio.create_task(handler(f"{name}.h0"), name=f"{name}.h0"),
            asyncio.create_task(second(f"{name}.h1"), name=f"{name}.h1"),
        ]
        if name == "alpha":
            handlers.append(asyncio.create_task(handler_agen(f"{name}.h2"), name=f"{name}.h2"))
        await asyncio.gather(*handlers)


def burn(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


async def cpu_burner():
    await parked.wait()
    wrote = False
    while True:
        burn(BURST_SECONDS)
        if not wrote:
            # Runs once this step has ended, with every task of this loop suspended.
            asyncio.get_running_loop().call_soon(write_truth)
            wrote = True
        await asyncio.sleep(0)


async def quick():
    return 42


async def main():
    global release, parked
    # asyncio.run() names its task Task-N; this tree's root is called main.
    asyncio.current_task().set_name("main")
    release = asyncio.Event()
    parked = asyncio.Event()
    finished = asyncio.create_task(quick(), name="finished")
    finished_tasks.append(finished)
    await finished
    cancelled = asyncio.create_task(release.wait(), name="cancelled")
    finished_tasks.append(cancelled)
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    alpha = asyncio.create_task(server("alpha"), name="alpha")
    beta = asyncio.create_task(server("beta"), name="beta")
    cpu = asyncio.create_task(cpu_burner(), name="cpu")
    await asyncio.gather(alpha, beta, cpu)
    return finished  # keeps the done task referenced


# --- the side loop: another thread, default-named top task, eager tasks where asyncio has them

async def side_worker(fut):
    await fut


async def side_main():
    loop = asyncio.get_running_loop()
    if HAS_EAGER:
        loop.set_task_factory(
            asyncio.create_eager_task_factory(PyTask) if USE_PYTASK else asyncio.eager_task_factory
        )
    fut = loop.create_future()
    worker = asyncio.create_task(side_worker(fut), name="side.worker")
    await asyncio.sleep(0)
    loop.call_soon(side_snapshot)
    await worker


def side_snapshot():
    global side_truth
    side_truth = snapshot_loop(asyncio.get_running_loop())
    side_truth["eager_task_factory"] = HAS_EAGER
    side_truth_ready.set()


def side_thread():
    try:
        run(side_main())
    except BaseException as e:  # a target that cannot build its tree must not sit there looking fine
        print(f"async_tree: the side loop failed: {e!r}", file=sys.stderr, flush=True)
        os._exit(3)


# --- ground truth

def code_name(code):
    return getattr(code, "co_qualname", code.co_name)


def frame_entry(frame):
    code = frame.f_code
    return {"name": code_name(code), "filename": code.co_filename, "line": frame.f_lineno}


def asend_generator(obj):
    """The async generator behind an `async for` step (its __anext__() object), else None."""
    if type(obj).__name__ != "async_generator_asend":
        return None
    return next((r for r in gc.get_referents(obj) if isinstance(r, types.AsyncGeneratorType)), None)


def coroutine_stack(coro):
    """The frames of a suspended task, innermost first, through what each coroutine awaits.

    The rule of `python -m asyncio pstree` (3.14/3.15): follow cr_await (ag_await) while it leads
    to a coroutine or an async generator, also through the __anext__() object of `async for`;
    stop at anything else, e.g. a Future, or the plain generator behind asyncio.sleep(0).
    (asyncio.capture_call_graph() stops at the __anext__() object: its stack is a suffix of this.)
    """
    frames = []
    seen = set()
    while coro is not None and id(coro) not in seen:
        seen.add(id(coro))
        coro = asend_generator(coro) or coro
        if hasattr(coro, "cr_await"):
            if coro.cr_frame is not None:
                frames.append(frame_entry(coro.cr_frame))
            coro = coro.cr_await
        elif hasattr(coro, "ag_await"):
            if coro.ag_frame is not None:
                frames.append(frame_entry(coro.ag_frame))
            coro = coro.ag_await
        else:
            break
    frames.reverse()
    return frames


def task_callbacks(task):
    # The C Task and asyncio.futures.Future both expose their callbacks as (callback, context) pairs.
    return [cb for cb, _ctx in (getattr(task, "_callbacks", None) or [])]


def awaited_by(tasks):
    """{child task: [awaiting tasks]}, derived from the tasks' own objects.

    A task P awaits a task C when:
      1. P._fut_waiter is C (`await C`);
      2. P._fut_waiter is a gather() future whose _children hold C;
      3. P._fut_waiter is a future F that one of C's done-callbacks resolves: a closure cell
         (gather's _done_callback, shield's _inner_done_callback) or a functools.partial argument
         (wait_for's _release_waiter before 3.12) holding F;
      4. one of C's done-callbacks is a bound method of a TaskGroup whose _parent_task is P.
    """
    by_waiter = {}
    edges = {id(t): [] for t in tasks}

    def add(child, parent):
        if id(child) in edges and parent not in edges[id(child)]:
            edges[id(child)].append(parent)

    for parent in tasks:
        waiter = getattr(parent, "_fut_waiter", None)
        if waiter is None:
            continue
        by_waiter[id(waiter)] = parent
        add(waiter, parent)  # a task (C or pure-Python); add() ignores anything else
        for child in getattr(waiter, "_children", None) or []:
            add(child, parent)
    for child in tasks:
        for cb in task_callbacks(child):
            owner = getattr(cb, "__self__", None)
            if HAS_TASK_GROUP and isinstance(owner, asyncio.TaskGroup) and owner._parent_task is not None:
                add(child, owner._parent_task)
                continue
            held = []
            if isinstance(cb, functools.partial):
                held += list(cb.args)
                cb = cb.func
            for cell in getattr(cb, "__closure__", None) or ():
                try:
                    held.append(cell.cell_contents)
                except ValueError:  # an empty cell
                    pass
            for obj in held:
                if id(obj) in by_waiter:
                    add(child, by_waiter[id(obj)])
    return {child: parents for child, parents in edges.items()}


def task_state(task):
    if not task.done():
        return "pending"
    return "cancelled" if task.cancelled() else "done"


def snapshot_loop(loop, extra_tasks=()):
    tasks = list(asyncio.all_tasks(loop)) + [t for t in extra_tasks if t.get_loop() is loop]
    tasks.sort(key=lambda t: t.get_name())
    parents = awaited_by(tasks)
    names = {id(t): t.get_name() for t in tasks}
    entries = []
    for task in tasks:
        name = task.get_name()
        entries.append({
            "id": id(task),
            "name": name,
            "default_name": re.fullmatch(r"Task-\d+", name) is not None,
            "type": f"{type(task).__module__}.{type(task).__qualname__}",
            "state": task_state(task),
            "coro": code_name(task.get_coro().cr_code) if hasattr(task.get_coro(), "cr_code") else None,
            "stack": coroutine_stack(task.get_coro()) if not task.done() else [],
            "get_stack": [frame_entry(f) for f in task.get_stack()][::-1],
            "awaited_by": sorted(names.get(id(p), f"<not in all_tasks: {id(p)}>") for p in parents[id(task)]),
            "awaited_by_ids": sorted(id(p) for p in parents[id(task)]),
        })
    return {
        "thread_ident": threading.get_ident(),
        "native_thread_id": threading.get_native_id(),
        "thread_name": threading.current_thread().name,
        "loop_type": f"{type(loop).__module__}.{type(loop).__qualname__}",
        "loop_id": id(loop),
        "running_task": None,
        "tasks": entries,
    }


def check(loops):
    """Compares the derived awaited_by with the tree this file built; returns the differences."""
    errors = []
    by_name = {t["name"]: t for loop in loops for t in loop["tasks"]}
    for name, parent in EXPECTED_PARENT.items():
        if name == "side.worker":
            side_top = [t["name"] for t in loops[1]["tasks"] if t["default_name"]]
            parent = side_top[0] if side_top else "<no default-named side task>"
        if name not in by_name:
            errors.append(f"{name}: not in asyncio.all_tasks()")
            continue
        got = by_name[name]["awaited_by"]
        want = [] if parent is None else [parent]
        if name == "alpha.h1" or got == want:
            continue
        errors.append(f"{name}: awaited by {got}, built under {want}")
    # alpha.h1 awaits wait_for(); before 3.12 wait_for runs the coroutine in a task of its own.
    helpers = [t for t in loops[0]["tasks"] if t["awaited_by"] == ["alpha.h1"]]
    if sys.version_info < (3, 12) and len(helpers) != 1:
        errors.append(f"wait_for helper tasks under alpha.h1: {[t['name'] for t in helpers]}")
    if sys.version_info >= (3, 12) and helpers:
        errors.append(f"3.12+ wait_for should run no helper task: {[t['name'] for t in helpers]}")
    for task in by_name.values():
        if task["state"] == "pending" and not task["stack"]:
            errors.append(f"{task['name']}: pending without a coroutine stack")
    return errors


def call_graphs(loop):
    """3.14+: asyncio's own view, the same data `python -m asyncio pstree` reads from outside."""
    graphs = []
    for task in sorted(asyncio.all_tasks(loop), key=lambda t: t.get_name()):
        graph = asyncio.capture_call_graph(task)
        graphs.append({
            "name": task.get_name(),
            "call_stack": [
                {"name": code_name(e.frame.f_code), "filename": e.frame.f_code.co_filename, "line": e.frame.f_lineno}
                for e in graph.call_stack
            ],
            "awaited_by": sorted(g.future.get_name() for g in graph.awaited_by if isinstance(g.future, asyncio.Task)),
        })
    return graphs


def write_truth():
    loop = asyncio.get_running_loop()
    if not side_truth_ready.wait(30):
        sys.exit("async_tree: the side loop did not park in 30 s")
    finished = [t for t in finished_tasks if t.done()]
    main_loop = snapshot_loop(loop)
    # The done task is not in all_tasks(); it is listed apart, as asyncio still holds it.
    # Whether a reader of the task registry meets them: the WeakSet keeps done tasks while they
    # live (3.8-3.13); 3.14+ takes a task off its thread's list when it finishes (null: not
    # visible from Python).
    registry = getattr(asyncio.tasks, "_all_tasks", None)
    if registry is None and sys.version_info < (3, 14):
        registry = asyncio.tasks._scheduled_tasks
    main_loop["done_tasks"] = [
        {"id": id(t), "name": t.get_name(), "state": task_state(t),
         "result": None if t.cancelled() else repr(t.result()),
         "in_registry": None if registry is None else t in registry}
        for t in finished
    ]
    loops = [main_loop, side_truth]
    truth = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "implementation": "uvloop" if USE_UVLOOP else "asyncio",
        "pytask": USE_PYTASK,
        "c_tasks": asyncio.Task.__module__ == "_asyncio",
        "task_group": HAS_TASK_GROUP,
        "loops": loops,
        "errors": check(loops),
    }
    if USE_UVLOOP:
        import uvloop
        truth["uvloop_version"] = uvloop.__version__
    if hasattr(asyncio, "capture_call_graph"):
        truth["call_graphs"] = call_graphs(loop)
        derived = {t["name"]: t for t in main_loop["tasks"]}
        for graph in truth["call_graphs"]:
            task = derived[graph["name"]]
            graph_stack = graph["call_stack"]
            if graph["awaited_by"] != task["awaited_by"] or graph_stack != task["stack"][len(task["stack"]) - len(graph_stack):]:
                truth["errors"].append(f"{graph['name']}: capture_call_graph disagrees with the derived tree")
    tmp = truth_path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)
    os.rename(tmp, truth_path)
    print("ready", flush=True)


class PyTask(asyncio.tasks._PyTask):
    """A pure-Python task (and a subclass, as programs make them). 3.12+'s create_task() calls
    set_name(None) on what a task factory returns, which would name it "None"."""

    def set_name(self, value):
        if value is not None:
            super().set_name(value)


def pytask_factory(loop, coro, **kwargs):
    return PyTask(coro, loop=loop, **kwargs)


def run(coro):
    if USE_PYTASK:
        loop = asyncio.new_event_loop()
        loop.set_task_factory(pytask_factory)
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()
    if USE_UVLOOP:
        import uvloop
        if hasattr(uvloop, "run"):
            return uvloop.run(coro)
        uvloop.install()
    return asyncio.run(coro)


if __name__ == "__main__":
    truth_path = sys.argv[1]
    threading.Thread(target=side_thread, name="side-loop", daemon=True).start()
    run(main())

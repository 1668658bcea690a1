# -*- coding: utf-8 -*-
"""A target for dump tests: named threads parked at known lines, plus its own ground truth.

Usage: python parked_threads.py GROUND_TRUTH.json [ABORT_TRIGGER]

With ABORT_TRIGGER, the reporter stays (sleeping in report) after writing the truth, and once that
file exists it calls os.abort() there, with the other threads still parked: a crash that writes a
core (the core size limit is raised to its hard limit first). The core tests compare that core
with a live dump taken just before.

The truth also holds, for the thread parked in `with_previews`, the preview `dump --locals` must
show of each of its locals, as the target itself makes it with `Preview` (reprlib's machinery,
set to pyspy-ts's rules: crates/pyspy-core/src/python/objects.rs).

Once every thread is parked, a reporter thread writes each thread's stack as CPython itself sees
it (sys._current_frames), innermost frame first, and its name as the thread itself sees it
(threading.current_thread().name), then exits. The test waits for the file, then for the reporter
to be gone, then dumps the process and compares. Some names are longer than the 15 bytes the
kernel keeps of a thread's name (where 3.14+ copies them) and some are not ASCII: only names read
from Python's own objects match. Runs on Python 2.7 too (compat.py; its names are UTF-8 bytes).
"""
import importlib
import io
import json
import os
import sys
import threading
import time

from compat import get_ident, native_id, text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "paquete_ü"))
# Non-ASCII module and function names: Latin-1, CJK and emoji. Python 2 has no such identifiers:
# its twin of the module renames its code objects instead.
nonascii = importlib.import_module("módulo_ñandú" if sys.version_info[0] >= 3 else "módulo_ñandú_py2")

DEPTH = 200
release = threading.Event()
parked = threading.Semaphore(0)


def park():
    parked.release()
    release.wait()


def recurse(n):
    if n == 0:
        park()
    else:
        recurse(n - 1)


def with_locals(count, label="ünï"):
    text = "it's \"quoted\""
    data = b"\x00ab"
    big = -12345678901
    ratio = 2.5
    flag = True
    nothing = None
    items = [1, 2]
    park()


class Worker:
    def run_nested(self):
        park()


class Widget:
    pass


def with_previews():
    empty_tuple = ()
    single = (1,)
    pair = ("a", None, 2.5)
    numbers = list(range(100))
    nested = [[[[1]]], ()]
    mapping = {"k": 1, 2: [None, True]}
    letters = dict(zip("abcdef", range(6)))
    empty_dict = {}
    tags = {"x", "y", 3}
    nothing = set()
    frozen = frozenset({(1, 2)})
    no_frozen = frozenset()
    big = 10**30
    forty_digits = -(10**39)
    past_forty = 10**40
    huge = -(7**5000)
    widget = Widget()
    plain = object()
    text = "x" * 100
    blob = b"it's"
    mixed = [text, blob, 10**45, 2.5, widget, {"deep": [[[0]]]}]
    park()


def code_name(code):
    return text(getattr(code, "co_qualname", code.co_name))


def stack_of(frame):
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append({"name": code_name(code), "filename": text(code.co_filename), "line": frame.f_lineno})
        frame = frame.f_back
    return frames


def wait_then_abort(trigger):
    # os.stat, not os.path.exists: that is Python code, and a live dump taken while the reporter is in
    # it would have a frame above this one that the core cannot have.
    while True:
        try:
            os.stat(trigger)
            break
        except OSError:
            time.sleep(0.01)
    os.abort()  # the line the core tests expect the reporter at


def report(path, expected, main_ident, trigger=None):
    for _ in range(expected):
        parked.acquire()
    me = get_ident()
    # A parked thread is inside Event.wait; give the main thread time to get from release() to acquire.
    time.sleep(0.2)
    frames = sys._current_frames()
    truth = {
        "pid": os.getpid(),
        "version": sys.version.split()[0],
        "threads": [
            {"ident": ident, "native_id": native_ids.get(ident), "name": own_names.get(ident), "frames": stack_of(frame)}
            for ident, frame in frames.items()
            if ident != me
        ],
        "previews": previews_of(frames),
    }
    tmp = path + ".tmp"
    with io.open(tmp, "w", encoding="utf-8") as f:
        f.write(text(json.dumps(truth, ensure_ascii=False)))
    os.rename(tmp, path)
    if trigger is not None:
        wait_then_abort(trigger)


def previews_of(frames):
    if sys.version_info[0] < 3:
        # pyspy-ts shows 2.7's containers in Python 3's notation: previews are checked on 3 only.
        return {}
    from previews import Preview

    for frame in frames.values():
        while frame is not None and frame.f_code.co_name != "with_previews":
            frame = frame.f_back
        if frame is not None:
            preview = Preview()
            return {name: preview.repr(value) for name, value in frame.f_locals.items()}
    raise RuntimeError("no thread in with_previews")


native_ids = {}
own_names = {}


def remember_native_id(target, *args):
    def run():
        native_ids[get_ident()] = native_id()
        own_names[get_ident()] = text(threading.current_thread().name)
        target(*args)
    return run


def daemon(thread):
    thread.daemon = True  # Python 2's Thread takes no daemon= argument
    return thread


def main():
    path = sys.argv[1]
    trigger = sys.argv[2] if len(sys.argv) > 2 else None
    if trigger is not None:
        # Imported here, not at the top: the stripped embedders export no symbols, so they
        # cannot load extension modules such as `resource`, and they never pass a trigger.
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    native_ids[get_ident()] = native_id()
    own_names[get_ident()] = text(threading.current_thread().name)
    threads = [
        daemon(threading.Thread(target=remember_native_id(recurse, DEPTH), name="deep-recursion")),
        daemon(threading.Thread(target=remember_native_id(Worker().run_nested), name="worker-nested-in-a-class")),
        daemon(threading.Thread(target=remember_native_id(with_locals, 7), name="locals")),
        daemon(threading.Thread(target=remember_native_id(with_previews), name="previews")),
        daemon(threading.Thread(target=remember_native_id(getattr(nonascii, "función_ñandú"), park), name="hilo-ñandú")),
        daemon(threading.Thread(target=remember_native_id(getattr(nonascii, "関数"), park), name="スレッド・関数を待つ")),
    ]
    for t in threads:
        t.start()
    reporter = threading.Thread(target=report, args=(path, len(threads) + 1, get_ident(), trigger), name="reporter")
    reporter.start()
    park()


if __name__ == "__main__":
    main()

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
from Python's own objects match.
"""
import json
import os
import reprlib
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "paquete_ü"))
import módulo_ñandú  # noqa: E402  (non-ASCII module and function names: Latin-1, CJK and emoji)

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


class Preview(reprlib.Repr):
    """pyspy-ts's preview of a value, with reprlib's machinery: by type, nested to `maxlevel`, the
    first items of containers and the count of the rest (`...+N`), str and bytes cut, big ints by
    their size, other objects by class and address. Only exact built-in types go by value."""

    HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE
    MAX_CHARS = 120

    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxtuple = self.maxlist = self.maxset = self.maxfrozenset = 6
        self.maxdict = 4
        self.maxstring = 80  # on its own; 40 inside a container
        self.maxlong = 40

    def repr(self, x):
        s = self.repr1(x, self.maxlevel)
        return s if len(s) <= self.MAX_CHARS else s[: self.MAX_CHARS - 3] + "..."

    def repr1(self, x, level):
        t = type(x)
        handler = {
            tuple: self.repr_tuple, list: self.repr_list, set: self.repr_set, frozenset: self.repr_frozenset,
            dict: self.repr_dict, str: self.repr_text, bytes: self.repr_text, int: self.repr_int,
        }.get(t)
        if t in (type(None), bool, float):
            return repr(x)
        if handler is None:
            # The type's tp_name: a class's own name; a built-in type's, with its module outside builtins.
            name = t.__name__ if t.__flags__ & self.HEAP_TYPE or t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
            return f"<{name} object at {id(x):#x}>"
        return handler(x, level)

    def items(self, items, count, level, most):
        shown = [] if level <= 0 else [self.repr1(i, level - 1) for i in items[:most]]
        if count > len(shown):
            shown.append(f"...+{count - len(shown)}")
        return ", ".join(shown)

    def repr_tuple(self, x, level):
        if len(x) == 1 and level > 0:
            return f"({self.repr1(x[0], level - 1)},)"
        return f"({self.items(list(x), len(x), level, self.maxtuple)})"

    def repr_list(self, x, level):
        return f"[{self.items(x, len(x), level, self.maxlist)}]"

    def repr_set(self, x, level):
        return f"{{{self.items(list(x), len(x), level, self.maxset)}}}" if x else "set()"

    def repr_frozenset(self, x, level):
        return f"frozenset({{{self.items(list(x), len(x), level, self.maxfrozenset)}}})" if x else "frozenset()"

    def repr_dict(self, x, level):
        pairs = [] if level <= 0 else [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}" for k, v in list(x.items())[: self.maxdict]]
        if len(x) > len(pairs):
            pairs.append(f"...+{len(x) - len(pairs)}")
        return "{" + ", ".join(pairs) + "}"

    def repr_text(self, x, level):
        limit = self.maxstring if level == self.maxlevel else self.maxstring // 2
        s = repr(x)
        return s if len(s) <= limit else s[: limit - 3] + "..."

    def repr_int(self, x, level):
        if x.bit_length() <= 200 and len(str(abs(x))) <= self.maxlong:
            return str(x)
        return f"{'-' if x < 0 else ''}<int of {abs(x).bit_length()} bits>"


def code_name(code):
    return getattr(code, "co_qualname", code.co_name)


def stack_of(frame):
    frames = []
    while frame is not None:
        code = frame.f_code
        frames.append({"name": code_name(code), "filename": code.co_filename, "line": frame.f_lineno})
        frame = frame.f_back
    return frames


def wait_then_abort(trigger):
    while not os.path.exists(trigger):
        time.sleep(0.01)
    os.abort()  # the line the core tests expect the reporter at


def report(path, expected, main_ident, trigger=None):
    for _ in range(expected):
        parked.acquire()
    me = threading.get_ident()
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
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False)
    os.rename(tmp, path)
    if trigger is not None:
        wait_then_abort(trigger)


def previews_of(frames):
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
        native_ids[threading.get_ident()] = threading.get_native_id()
        own_names[threading.get_ident()] = threading.current_thread().name
        target(*args)
    return run


def main():
    path = sys.argv[1]
    trigger = sys.argv[2] if len(sys.argv) > 2 else None
    if trigger is not None:
        # Imported here, not at the top: the stripped embedders export no symbols, so they
        # cannot load extension modules such as `resource`, and they never pass a trigger.
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
    native_ids[threading.get_ident()] = threading.get_native_id()
    own_names[threading.get_ident()] = threading.current_thread().name
    threads = [
        threading.Thread(target=remember_native_id(recurse, DEPTH), name="deep-recursion", daemon=True),
        threading.Thread(target=remember_native_id(Worker().run_nested), name="worker-nested-in-a-class", daemon=True),
        threading.Thread(target=remember_native_id(with_locals, 7), name="locals", daemon=True),
        threading.Thread(target=remember_native_id(with_previews), name="previews", daemon=True),
        threading.Thread(target=remember_native_id(módulo_ñandú.función_ñandú, park), name="hilo-ñandú", daemon=True),
        threading.Thread(target=remember_native_id(módulo_ñandú.関数, park), name="スレッド・関数を待つ", daemon=True),
    ]
    for t in threads:
        t.start()
    reporter = threading.Thread(target=report, args=(path, len(threads) + 1, threading.get_ident(), trigger), name="reporter")
    reporter.start()
    park()


if __name__ == "__main__":
    main()

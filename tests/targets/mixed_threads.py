"""Threads in every state the record options tell apart, each in its own function:
- main thread: pure Python work, holds the GIL whenever it runs (`python_work`);
- "compressor": CPU work in zlib, which releases the GIL (`gil_free_work`);
- "sleeper": waits in time.sleep, idle (`idle_wait`).
At the end it prints `CPU {"MainThread": s, "compressor": s}`, the CPU seconds each busy thread
used in its loop: how many samples they should get depends on that, not on how fast the machine is.
argv[1]: seconds to run (default 10). Runs on Python 2.7 too (compat.py)."""
import json
import sys
import threading
import time
import zlib

from compat import monotonic, thread_time


def _text(tokens):
    # Word-like text that zlib works on for ~100 ms a call. With short calls (a 1 MiB
    # repetitive buffer took 2 ms) the thread spent most of its time waiting to take the GIL
    # back, asleep in a futex and so idle, and on a loaded machine it dropped under any bound.
    words = [b"alpha", b"beta", b"gamma", b"delta ", b"\n", b"epsilon", b"zeta,"]
    x, out = 12345, bytearray()
    for _ in range(tokens):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out += words[x % len(words)]
    return bytes(out)


DATA = _text(120000)


def python_work():
    total = 0
    for i in range(20000):
        total += i * i
    return total


def gil_free_work():
    return zlib.compress(DATA, 9)


def idle_wait():
    # Longer than any record of this target: a thread that wakes up now and then is really
    # runnable for a moment, for longer the busier the machine is, and that is not what this
    # thread is here to show.
    time.sleep(60)


CPU_SECONDS = {}


def loop(fn, deadline):
    started = thread_time()
    while monotonic() < deadline:
        fn()
    CPU_SECONDS[threading.current_thread().name] = thread_time() - started


def main(seconds):
    deadline = monotonic() + seconds
    threads = [
        threading.Thread(target=loop, args=(gil_free_work, deadline), name="compressor"),
        threading.Thread(target=loop, args=(idle_wait, deadline), name="sleeper"),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    loop(python_work, deadline)
    threads[0].join()
    sys.stdout.write("CPU " + json.dumps(CPU_SECONDS) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)

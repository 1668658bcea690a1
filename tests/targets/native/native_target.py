"""Target for the --native tests: Python -> hotext (C) -> Python, a thread parked in the vdso's
clock_gettime, C interrupted by a signal handler, and a thread parked in C between Python frames.

The main loop runs at module level, so its stacks read `<module> -> c_side -> burn -> c_outer ->
c_middle -> c_inner` and `<module> -> python_side -> call_back -> c_callback_inner -> py_spin`. It
measures its own CPU split between the two with time.thread_time() and prints it at the end
(`SPLIT c_seconds python_seconds`). A round lasts 10 ms times the golden ratio (see
split_70_30.py for why), half in each phase.

argv[1]: directory holding hotext.so; argv[2]: seconds to run (default: until killed)."""
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import hotext  # noqa: E402

# time.thread_time() is 3.7+; 3.6 has the same clock under its POSIX name.
thread_time = getattr(time, "thread_time", None) or (lambda: time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID))

ROUND_S = 0.010 * (1 + 5 ** 0.5) / 2


def py_spin():
    x = 0
    for i in range(300):
        x += i
    return x


def c_side(n):
    return hotext.burn(n)


def python_side(k):
    return hotext.call_back(py_spin, k)


def vdso_side():
    # Never back for the GIL: a thread that competed for it in one phase and not in the other
    # would skew the main thread's split (the sampler counts a runnable thread, CPU or not).
    hotext.clock_spin(0)


def parked_inner():
    hotext.park()


def parked():
    hotext.call_back(parked_inner, 1)


def per_round(run, probe):
    """How many units of `run` take half a round of CPU."""
    start = thread_time()
    run(probe)
    spent = max(thread_time() - start, 1e-6)
    return max(1, int(probe * 0.5 * ROUND_S / spent))


threading.Thread(target=vdso_side, name="vdso", daemon=True).start()
threading.Thread(target=parked, name="parked", daemon=True).start()
n = per_round(c_side, 2_000_000)
k = per_round(python_side, 200)
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else None
deadline = time.monotonic() + (seconds or 0)
c_cpu = py_cpu = 0.0
rounds = 0
print("ready", flush=True)
while seconds is None or time.monotonic() < deadline:
    t0 = thread_time()
    c_side(n)
    t1 = thread_time()
    python_side(k)
    t2 = thread_time()
    c_cpu += t1 - t0
    py_cpu += t2 - t1
    rounds += 1
    if rounds % 64 == 0:
        hotext.signal_spin(4.0)
print(f"SPLIT {c_cpu:.6f} {py_cpu:.6f}", flush=True)

"""Benchmark target for --native: a fixed amount of work in and out of a C extension, timed by
the target itself.

usage: native_work.py EXT_DIR ROUNDS [WARMUP_SECONDS]
EXT_DIR holds hotext.so (tests/targets/native/hotext.c). Sleeps WARMUP_SECONDS (default 0.5) so
a profiler that launched it is attached, then runs ROUNDS rounds of C (hotext.burn: three nested
C calls) and Python called back from C (hotext.call_back), prints "elapsed_s=<seconds>", exits."""
import sys
import time

sys.path.insert(0, sys.argv[1])
import hotext  # noqa: E402


def py_spin():
    x = 0
    for i in range(300):
        x += i
    return x


def c_side():
    return hotext.burn(400_000)


def python_side():
    return hotext.call_back(py_spin, 40)


def main():
    rounds = int(sys.argv[2])
    time.sleep(float(sys.argv[3]) if len(sys.argv) > 3 else 0.5)
    start = time.perf_counter()
    for _ in range(rounds):
        c_side()
        python_side()
    print(f"elapsed_s={time.perf_counter() - start:.6f}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark target: a Python stack that changes on every call, in THREADS threads.

usage: churn.py THREADS [MAX_SECONDS]
Each thread loops over call chains of varying depth (0..12) through four different functions,
so consecutive samples should rarely see the same stack. Prints "ready"; exits after MAX_SECONDS.
"""
import sys
import threading
import time


def leaf():
    return sum(range(40))


def alpha(d, i):
    return leaf() if d == 0 else CHAIN[(i + d) % 4](d - 1, i)


def beta(d, i):
    return leaf() if d == 0 else CHAIN[(i + d) % 4](d - 1, i)


def gamma(d, i):
    return leaf() if d == 0 else CHAIN[(i + d) % 4](d - 1, i)


def delta(d, i):
    return leaf() if d == 0 else CHAIN[(i + d) % 4](d - 1, i)


CHAIN = [alpha, beta, gamma, delta]


def worker(deadline):
    i = 0
    while time.monotonic() < deadline:
        for _ in range(200):
            i += 1
            CHAIN[i % 4](i % 13, i)


def main():
    threads = int(sys.argv[1])
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    deadline = time.monotonic() + max_seconds
    others = [threading.Thread(target=worker, args=(deadline,), daemon=True) for _ in range(threads - 1)]
    for t in others:
        t.start()
    print("ready", flush=True)
    worker(deadline)


if __name__ == "__main__":
    main()

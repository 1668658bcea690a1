"""A multiprocessing pool of four workers (forked: the parent and its four workers are the only
Python processes), each busy in `worker_task`, for --subprocesses.

Usage: python pool_tree.py SECONDS TRUTH.json

Writes {"parent": pid, "workers": [pids], "command_line": "..."} to TRUTH.json once the pool is
up (a forked worker's command line is its parent's), then keeps the workers busy.
"""
import json
import multiprocessing
import os
import sys
import time


def worker_task(n):
    total = 0
    end = time.perf_counter() + 0.05
    while time.perf_counter() < end:
        total += n
    return total


def main(seconds, truth):
    deadline = time.monotonic() + seconds
    with open("/proc/self/cmdline", "rb") as f:
        command_line = " ".join(arg.decode() for arg in f.read().split(b"\0") if arg)
    with multiprocessing.get_context("fork").Pool(4) as pool:
        workers = sorted(p.pid for p in pool._pool)
        tmp = truth + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"parent": os.getpid(), "workers": workers, "command_line": command_line}, f)
        os.rename(tmp, truth)
        while time.monotonic() < deadline:
            pool.map(worker_task, range(8))


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2])

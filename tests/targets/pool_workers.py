"""A multiprocessing pool whose workers spend their time in `worker_task`; the parent mostly waits.
argv[1]: seconds to run (default 8)."""
import multiprocessing
import sys
import time


def worker_task(n):
    total = 0
    end = time.perf_counter() + 0.05
    while time.perf_counter() < end:
        total += n
    return total


def main(seconds):
    deadline = time.monotonic() + seconds
    with multiprocessing.Pool(2) as pool:
        while time.monotonic() < deadline:
            pool.map(worker_task, range(8))


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0)

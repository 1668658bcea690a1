"""A multiprocessing pool whose workers spend their time in `worker_task`; the parent mostly waits.
argv[1]: seconds to run (default 8). Runs on Python 2.7 too (compat.py)."""
import multiprocessing
import sys

from compat import monotonic


def worker_task(n):
    total = 0
    end = monotonic() + 0.05
    while monotonic() < end:
        total += n
    return total


def main(seconds):
    deadline = monotonic() + seconds
    # Python 2's Pool is no context manager: terminate() is what leaving the `with` would do.
    pool = multiprocessing.Pool(2)
    try:
        while monotonic() < deadline:
            pool.map(worker_task, range(8))
    finally:
        pool.terminate()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 8.0)

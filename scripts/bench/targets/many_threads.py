"""Benchmark target: THREADS threads, SPINNING of them spinning in pure Python, the rest parked.

usage: many_threads.py THREADS SPINNING [MAX_SECONDS]
The parked threads wait on an Event (idle in the kernel), as a thread pool of a service waits for
work. Prints "ready" once every thread has started; exits on its own after MAX_SECONDS (default 900).
"""
import sys
import threading
import time


def park(release):
    release.wait()


def spin(deadline):
    x = 0
    while time.monotonic() < deadline:
        for _ in range(10000):
            x += 1
    return x


def main():
    threads = int(sys.argv[1])
    spinning = int(sys.argv[2])
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 900.0
    deadline = time.monotonic() + max_seconds
    release = threading.Event()
    workers = [threading.Thread(target=park, args=(release,), name=f"parked-{i}", daemon=True) for i in range(threads - spinning)]
    # The main thread spins too: THREADS threads in all.
    workers += [threading.Thread(target=spin, args=(deadline,), name=f"spin-{i}", daemon=True) for i in range(spinning - 1)]
    for w in workers:
        w.start()
    print("ready", flush=True)
    spin(deadline)
    release.set()


if __name__ == "__main__":
    main()

"""Threads that burn known amounts of CPU time, for `record --cpu`.

Usage: python cpu_threads.py GO_FILE [SCALE]

Waits for GO_FILE to exist (the test creates it once the record reads this process), then starts:
- "splitter": CPU-bound, split 70/30 by its own CPU time between `seventy` and `thirty`;
- "half": 5 ms of work, 5 ms asleep, over and over;
- "light": 1 ms of work, 9 ms asleep: mostly waiting, which a record without --cpu counts as
  busy whenever the thread waits for a core on a loaded machine.
Budgets are CPU seconds (times SCALE), so the work is the same however busy the machine is. Each
thread then parks, so that a sampler reading its CPU time sees the final count, and the target
prints `CPU {"name": {"tid": native id, "cpu_s": CPU seconds the kernel counted}, ...}`.
"""
import json
import os
import sys
import threading
import time

ROUND_S = 0.010 * (1 + 5 ** 0.5) / 2
done = threading.Event()
report = {}


def spin(cpu_seconds):
    end = time.thread_time() + cpu_seconds
    while time.thread_time() < end:
        pass


def seventy():
    spin(0.7 * ROUND_S)


def thirty():
    spin(0.3 * ROUND_S)


def splitter(budget):
    while time.thread_time() < budget:
        seventy()
        thirty()


def bursts(work_s, sleep_s):
    def run(budget):
        while time.thread_time() < budget:
            spin(work_s)
            time.sleep(sleep_s)
    return run


def park():
    done.wait()


def worker(name, body, budget):
    def run():
        body(budget)
        # thread_time() counts from the thread's creation: what the kernel counted for it.
        report[name] = {"tid": threading.get_native_id(), "cpu_s": time.thread_time()}
        park()
    return threading.Thread(target=run, name=name)


def main():
    go, scale = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    while not os.path.exists(go):
        time.sleep(0.01)
    threads = [
        worker("splitter", splitter, 3.0 * scale),
        worker("half", bursts(0.005, 0.005), 1.0 * scale),
        worker("light", bursts(0.001, 0.009), 0.25 * scale),
    ]
    for t in threads:
        t.start()
    while len(report) < len(threads):
        time.sleep(0.05)
    # A few ticks more, for the sampler to read each parked thread's final count.
    time.sleep(0.5)
    print("CPU " + json.dumps(report), flush=True)
    done.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()

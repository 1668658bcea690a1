"""Many named threads, all parked, for --thread-name and --tid.

Usage: python many_threads.py COUNT TRUTH.json

Starts COUNT threads named t-000, t-001, ... parked in `parked`, then writes
{"threads": {name: native id}} to TRUTH.json and waits to be killed.
"""
import json
import os
import sys
import threading

release = threading.Event()


def parked(ready):
    ready.release()
    release.wait()


def main(count, truth):
    ready = threading.Semaphore(0)
    threads = [threading.Thread(target=parked, args=(ready,), name=f"t-{i:03}", daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    for _ in threads:
        ready.acquire()
    tmp = truth + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"threads": {t.name: t.native_id for t in threads}}, f)
    os.rename(tmp, truth)
    release.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])

"""Benchmark target: COUNT threads named t-000, t-001, ..., all parked on an event.

usage: parked.py COUNT [MAX_SECONDS]
Prints "ready" once every thread is parked; exits on its own after MAX_SECONDS (default 900).
"""
import sys
import threading
import time

release = threading.Event()


def main():
    count = int(sys.argv[1])
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    threads = [threading.Thread(target=release.wait, name=f"t-{i:03}", daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    print("ready", flush=True)
    time.sleep(max_seconds)


if __name__ == "__main__":
    main()

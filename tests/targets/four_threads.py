"""Four threads running Python at once, for free-threaded builds: they start spinning together
(a barrier), each in `spin`, until the deadline; meanwhile the main thread waits in join() (idle).
Once all four spin it writes argv[2] (if given): `{"spinner-0": TID, ...}`, so that a record can
start then and the test can read each thread's scheduler statistics. argv[1]: seconds to spin."""
import json
import os
import sys
import threading
import time

NATIVE_IDS = {}


def spin(start, deadline):
    NATIVE_IDS[threading.current_thread().name] = threading.get_native_id()
    start.wait()
    n = 0
    while time.monotonic() < deadline:
        n += 1


def main(seconds, ready_path):
    start = threading.Barrier(5)
    deadline = time.monotonic() + seconds
    threads = [threading.Thread(target=spin, args=(start, deadline), name=f"spinner-{i}") for i in range(4)]
    for t in threads:
        t.start()
    start.wait()
    if ready_path:
        with open(ready_path + ".tmp", "w") as f:
            json.dump(NATIVE_IDS, f)
        os.rename(ready_path + ".tmp", ready_path)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 10.0, sys.argv[2] if len(sys.argv) > 2 else None)

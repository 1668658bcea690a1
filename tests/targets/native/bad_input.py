"""Target for the --native bad-input tests: a thread in a library without unwind information, a
thread that loads, calls and unloads a library over and over (modules mapped and unmapped while
the record runs), and a thread whose C function has overwritten its own return address (a
corrupted stack). argv[1]: folder holding hotext.so, libnoinfo.so and libchurn.so; argv[2]:
seconds."""
import os
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import hotext  # noqa: E402

LIBRARY = os.path.join(sys.argv[1], "libnoinfo.so")
deadline = time.monotonic() + float(sys.argv[2])


def in_noinfo():
    while time.monotonic() < deadline:
        hotext.dl_call(LIBRARY, 2_000_000, False)


def churn():
    while time.monotonic() < deadline:
        hotext.dl_call(CHURNED, 20_000, True)


def corrupted():
    while time.monotonic() < deadline:
        hotext.corrupt_spin(2_000_000)


CHURNED = os.path.join(sys.argv[1], "libchurn.so")
threads = [
    threading.Thread(target=in_noinfo, name="noinfo"),
    threading.Thread(target=churn, name="churn"),
    threading.Thread(target=corrupted, name="corrupted"),
]
for t in threads:
    t.start()
print("ready", flush=True)
for t in threads:
    t.join()

"""--native with a Cython module (cymod.pyx, compiled by the tests). argv[1]: the folder holding
cymod*.so; argv[2]: seconds."""
import sys
import time

sys.path.insert(0, sys.argv[1])
import cymod  # noqa: E402


def run():
    return cymod.work(2_000_000)


print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    run()

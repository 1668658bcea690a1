"""Works for a second in `before_exec`, then execs something else in the same process.

Usage: python exec_into.py sleep|python
- sleep: /bin/sleep 2, which is no Python;
- python: this interpreter again, running exec_after.py (`after_exec` works for a second).
"""
import os
import sys
import time


def before_exec():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        pass


def main(what):
    before_exec()
    if what == "sleep":
        os.execv("/bin/sleep", ["sleep", "2"])
    after = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_after.py")
    os.execv(sys.executable, [sys.executable, after])


if __name__ == "__main__":
    main(sys.argv[1])

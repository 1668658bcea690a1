"""What exec_into.py execs into: a second in `after_exec`."""
import time


def after_exec():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        pass


if __name__ == "__main__":
    after_exec()

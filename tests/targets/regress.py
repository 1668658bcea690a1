"""A benchmark-like loop over three functions with fixed CPU budgets, for testing `diff`: with
--slow, compute() does twice the work, as a real regression would. Budgets are in this thread's
CPU time and a round lasts 10 ms times the golden ratio (see split_70_30.py for why), so shares
are stable from run to run and a diff of two unchanged runs shows only sampling noise.
argv: [seconds] [--slow]"""
import sys
import time

ROUND_S = 0.010 * (1 + 5 ** 0.5) / 2


# Each function burns its budget in its own body, not in a shared helper, so the time is its
# self time: what `diff --fail-on self:...` looks at.
def parse():
    end = time.thread_time() + 0.25 * ROUND_S
    while time.thread_time() < end:
        pass


def compute(slow):
    end = time.thread_time() + (0.60 if slow else 0.30) * ROUND_S
    while time.thread_time() < end:
        pass


def render():
    end = time.thread_time() + 0.45 * ROUND_S
    while time.thread_time() < end:
        pass


def main(seconds, slow):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        parse()
        compute(slow)
        render()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--slow"]
    main(float(args[0]) if args else 4.0, "--slow" in sys.argv[1:])

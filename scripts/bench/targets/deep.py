"""Benchmark target: recurse to DEPTH Python frames, then spin in pure Python at the bottom.

usage: deep.py DEPTH [MAX_SECONDS]
Prints "ready" once the stack is deep; exits on its own after MAX_SECONDS (default 900).
"""
import sys
import time


def spin(deadline):
    x = 0
    while True:
        for _ in range(10000):
            x += 1
        if time.monotonic() > deadline:
            return x


def descend(n, deadline):
    if n <= 1:
        print("ready", flush=True)
        return spin(deadline)
    return descend(n - 1, deadline)


def main():
    depth = int(sys.argv[1])
    max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 900.0
    sys.setrecursionlimit(max(1000, depth + 100))
    # <module>, main() and spin() are three frames: recurse so the stack is DEPTH frames in total.
    descend(max(1, depth - 3), time.monotonic() + max_seconds)


if __name__ == "__main__":
    main()

"""Example target: recursive fibonacci, the classic CPU-bound flame graph."""
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main(seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fib(22)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)

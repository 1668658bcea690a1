"""Benchmark target: a few frames deep, asleep, so it takes no CPU from what is measured.

usage: idle.py [MAX_SECONDS]
Prints "ready", then sleeps until MAX_SECONDS (default 600) have passed.
"""
import sys
import time


def wait(seconds):
    time.sleep(seconds)


def main():
    print("ready", flush=True)
    wait(float(sys.argv[1]) if len(sys.argv) > 1 else 600.0)


if __name__ == "__main__":
    main()

"""Benchmark target for core dumps: SIZE_MIB of heap, every page written, then a known stack.

usage: big_heap.py SIZE_MIB DEPTH [MAX_SECONDS]
Prints "ready" once the memory is touched and the stack is DEPTH frames deep, then sleeps there
(a gcore of it is then a core of about SIZE_MIB); exits on its own after MAX_SECONDS.
"""
import sys
import time

CHUNK = 64 << 20
PAGE = 4096


def touch(size):
    blocks = []
    for _ in range(size // CHUNK):
        block = bytearray(CHUNK)
        # A written page is dumped into the core; an untouched one is not even allocated.
        block[::PAGE] = b"\x01" * (CHUNK // PAGE)
        blocks.append(block)
    return blocks


def descend(n, deadline):
    if n <= 1:
        print("ready", flush=True)
        while time.monotonic() < deadline:
            time.sleep(1)
        return
    descend(n - 1, deadline)


def main():
    size = int(sys.argv[1]) << 20
    depth = int(sys.argv[2])
    max_seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 900.0
    blocks = touch(size)
    # <module> and main() are two frames: recurse so the stack is DEPTH frames in total.
    descend(max(1, depth - 2), time.monotonic() + max_seconds)
    return blocks


if __name__ == "__main__":
    main()

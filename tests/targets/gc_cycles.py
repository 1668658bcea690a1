"""Reference cycles made in a loop, so that the cyclic garbage collector runs often and long,
and the share of time it took, as the target measures it itself.

Usage: python gc_cycles.py SECONDS

`churn` makes cycles that only the collector frees, and keeps a crowd of long-lived objects that
every full collection walks. gc.callbacks time each collection, start to stop, in this thread's
wall time; at the end the target prints `GC {"gc_s": ..., "loop_s": ...}`: the time inside
collections and the time of the whole loop.
"""
import gc
import json
import sys
import time

gc_seconds = 0.0
collections = 0
started = None


def on_gc(phase, info):
    global gc_seconds, collections, started
    if phase == "start":
        started = time.perf_counter()
    elif started is not None:
        gc_seconds += time.perf_counter() - started
        collections += 1
        started = None


class Node:
    def __init__(self, other=None):
        self.other = other


def churn():
    for _ in range(1000):
        a = Node()
        b = Node(a)
        a.other = b


def main(seconds):
    # Long-lived objects: every full collection traverses them.
    crowd = [Node() for _ in range(200_000)]
    # Fewer, longer collections: the time a collection spends calling the callbacks themselves is
    # the collector's but not measured, and with the default threshold (700) it runs thousands of
    # tiny collections a second, where that time is a few points of the total.
    gc.set_threshold(20_000, 10, 10)
    gc.callbacks.append(on_gc)
    loop_started = time.perf_counter()
    deadline = loop_started + seconds
    while time.perf_counter() < deadline:
        churn()
    loop_s = time.perf_counter() - loop_started
    gc.callbacks.remove(on_gc)
    print("GC " + json.dumps({"gc_s": gc_seconds, "loop_s": loop_s, "collections": collections, "crowd": len(crowd)}), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)

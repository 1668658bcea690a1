"""Reference cycles made in a loop, so that the cyclic garbage collector runs often and long,
and the share of time it took, as the target measures it itself.

Usage: python gc_cycles.py SECONDS

`churn` makes cycles that only the collector frees, and keeps a crowd of long-lived objects that
every full collection walks. gc.callbacks time each collection, start to stop, in this thread's
wall time (2.7 has no gc.callbacks: it measures none); at the end the target prints `GC {"gc_s": ..., "loop_s": ...}`: the time inside
collections and the time of the whole loop.
"""
import gc
import json
import sys
import time

clock = getattr(time, "perf_counter", time.time)

gc_seconds = 0.0
collections = 0
started = None


def on_gc(phase, info):
    global gc_seconds, collections, started
    if phase == "start":
        started = clock()
    elif started is not None:
        gc_seconds += clock() - started
        collections += 1
        started = None


class Node(object):
    def __init__(self, other=None):
        self.other = other


def churn():
    for _ in range(1000):
        a = Node()
        b = Node(a)
        a.other = b


def main(seconds):
    # Long-lived objects: every full collection traverses them.
    crowd = [Node() for _ in range(200000)]
    # Fewer, longer collections: the time a collection spends calling the callbacks themselves is
    # the collector's but not measured, and with the default threshold (700) it runs thousands of
    # tiny collections a second, where that time is a few points of the total.
    gc.set_threshold(20000, 10, 10)
    callbacks = getattr(gc, "callbacks", [])
    callbacks.append(on_gc)
    loop_started = clock()
    deadline = loop_started + seconds
    while clock() < deadline:
        churn()
    loop_s = clock() - loop_started
    callbacks.remove(on_gc)
    sys.stdout.write("GC " + json.dumps({"gc_s": gc_seconds, "loop_s": loop_s, "collections": collections, "crowd": len(crowd)}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)

"""Example target: an asyncio service, to watch with `pyspy-ts top` or record.

A few tasks share one event loop: a request handler that parses and scores "requests" (CPU in
Python), a background refresher that waits on timers, and a slow task that hands blocking work to
a thread pool with run_in_executor. Only the work that runs shows in a profile: waiting tasks
have no Python frame on the loop's thread.

    python3 examples/asyncio_monitor.py --seconds 60 &
    ./node_modules/.bin/pyspy-ts top --pid $!
    ./node_modules/.bin/pyspy-ts record -o asyncio.svg --idle -- python3 examples/asyncio_monitor.py
"""
import argparse
import asyncio
import hashlib
import time


def score(payload):
    # Pure Python on purpose: this is the hot spot a profile should show.
    total = 0
    for i, ch in enumerate(payload):
        total = (total * 31 + ord(ch) * i) % 1_000_003
    return total


async def handle_requests(stop):
    n = 0
    while time.monotonic() < stop:
        payload = f"request-{n}-" * 200
        score(payload)
        n += 1
        # Yield to the loop, like a server between requests.
        await asyncio.sleep(0)
    return n


async def refresh_cache(stop):
    refreshed = 0
    while time.monotonic() < stop:
        await asyncio.sleep(0.05)
        refreshed += 1
    return refreshed


def blocking_digest(rounds):
    # Runs on a thread of the default executor, off the event loop.
    data = b"x" * 65536
    for _ in range(rounds):
        data = hashlib.sha256(data).digest() * 2048
    return data[:8]


async def offload(stop):
    loop = asyncio.get_running_loop()
    while time.monotonic() < stop:
        await loop.run_in_executor(None, blocking_digest, 200)


async def main(seconds):
    stop = time.monotonic() + seconds
    served, refreshed, _ = await asyncio.gather(handle_requests(stop), refresh_cache(stop), offload(stop))
    print(f"served {served} requests, refreshed {refreshed} times")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args().seconds))

"""Benchmark target for `--async`: TASKS live asyncio tasks, and one task doing a fixed amount of
work, timed by the target itself.

usage: tasks.py TASKS N REPEAT [WARMUP_SECONDS]
TASKS tasks park on an Event three coroutines deep, in groups of 100 under a task each (gathered by
the main task, as a server gathers its connections). After WARMUP_SECONDS (default 0.5; the tasks
are all parked by then) a worker task computes fib(N) REPEAT times, yielding to the loop between
two, prints "elapsed_s=<seconds>" for that work only, and the program ends. REPEAT 0 works until
killed (for attaching with --pid), 900 s at most; "ready" is printed once the tasks are parked.
"""
import asyncio
import sys
import time

GROUP = 100


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


async def parked(event, depth):
    if depth:
        await parked(event, depth - 1)
    else:
        await event.wait()


async def group(event, count):
    await asyncio.gather(*(asyncio.create_task(parked(event, 2), name=f"conn-{i}") for i in range(count)))


async def worker(n, repeat, warmup):
    await asyncio.sleep(warmup)
    print("ready", flush=True)
    start = time.perf_counter()
    done = 0
    while (repeat == 0 and time.perf_counter() - start < 900) or done < repeat:
        fib(n)
        done += 1
        await asyncio.sleep(0)
    print(f"elapsed_s={time.perf_counter() - start:.6f}", flush=True)


async def main(tasks, n, repeat, warmup):
    event = asyncio.Event()
    groups = [asyncio.create_task(group(event, min(GROUP, tasks - g)), name=f"group-{g // GROUP}") for g in range(0, tasks, GROUP)]
    await asyncio.create_task(worker(n, repeat, warmup), name="worker")
    event.set()
    await asyncio.gather(*groups)


if __name__ == "__main__":
    tasks, n, repeat = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    warmup = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
    asyncio.run(main(tasks, n, repeat, warmup))

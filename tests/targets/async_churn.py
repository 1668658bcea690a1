"""A target for `--async` under churn: loops torn down while they are read, task lists that change
under every read.

Usage: python async_churn.py COUNTER_FILE [SECONDS]

The main thread runs one loop in which tasks are created, awaited through gather and finished
without pause (the registry and, on 3.14+, the thread's task list change all the time). Two
threads each run loops of their own back to back: asyncio.run() of a small tree of tasks, then
the loop closed and a new one made (a loop torn down, its thread's running loop and, on 3.14+,
its task list handed over, while a reader may be in the middle of them). Every so often a third
thread starts and ends with a pending task on its loop (3.14+ moves its list to the interpreter).
Progress is written to COUNTER_FILE; "ready" is printed once everything runs.
"""
import asyncio
import sys
import threading
import time

counter_path = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 600.0
progress = [0]


async def leaf(n):
    await asyncio.sleep(0)
    return n


async def branch(n):
    return sum(await asyncio.gather(*(leaf(i) for i in range(n))))


async def churn_main(stop):
    rounds = 0
    while time.monotonic() < stop:
        await asyncio.gather(*(asyncio.create_task(branch(3), name=f"branch-{i}") for i in range(5)))
        rounds += 1
        progress[0] += 1
        if rounds % 50 == 0:
            with open(counter_path, "w") as f:
                f.write(str(progress[0]))


def loops_back_to_back(stop):
    while time.monotonic() < stop:
        asyncio.run(branch(4))
        loop = asyncio.new_event_loop()
        loop.run_until_complete(branch(2))
        loop.close()


def thread_that_ends_with_a_pending_task():
    async def forever():
        await asyncio.Event().wait()

    async def start():
        asyncio.get_running_loop().create_task(forever(), name="left-behind")
        await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(start())


def ending_threads(stop):
    while time.monotonic() < stop:
        t = threading.Thread(target=thread_that_ends_with_a_pending_task)
        t.start()
        t.join()
        time.sleep(0.05)


if __name__ == "__main__":
    stop = time.monotonic() + seconds
    for target in (loops_back_to_back, loops_back_to_back, ending_threads):
        threading.Thread(target=target, args=(stop,), daemon=True).start()
    print("ready", flush=True)
    asyncio.run(churn_main(stop))

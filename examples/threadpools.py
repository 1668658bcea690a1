"""Example target: a thread pool computing primes and a main thread waiting on it.

Run it under pyspy-ts:  ./node_modules/.bin/pyspy-ts dump --pid $(pgrep -f threadpools.py)
It runs for --seconds (default 5) and exits.
"""
import argparse
import concurrent.futures
import time


def is_prime(n):
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


def count_primes(start, stop):
    return sum(1 for n in range(start, stop) if is_prime(n))


def slow_io(seconds):
    time.sleep(seconds)
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    with concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="pool") as pool:
        while time.monotonic() < deadline:
            futures = [pool.submit(count_primes, i * 20_000, (i + 1) * 20_000) for i in range(3)]
            futures.append(pool.submit(slow_io, 0.05))
            total = sum(f.result() for f in futures)
    print(f"done ({total})")


if __name__ == "__main__":
    main()

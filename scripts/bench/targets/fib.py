"""Benchmark target: a fixed amount of work, timed by the target itself.

usage: fib.py N REPEAT [WARMUP_SECONDS]
Sleeps WARMUP_SECONDS (default 0.5) so a profiler that launched it is attached, then computes
fib(N) REPEAT times and prints "elapsed_s=<seconds>" for that work only, and exits.
"""
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    n = int(sys.argv[1])
    repeat = int(sys.argv[2])
    warmup = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
    time.sleep(warmup)
    start = time.perf_counter()
    for _ in range(repeat):
        fib(n)
    print(f"elapsed_s={time.perf_counter() - start:.6f}", flush=True)


if __name__ == "__main__":
    main()

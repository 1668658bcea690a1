"""CPU time split 70/30 between two functions, for checking a profiler's accuracy.

Budgets are in this thread's CPU time, so time the thread spends preempted or paused by the
profiler stretches both functions alike instead of whichever one it happened to end in. A round
lasts 10 ms times the golden ratio: against a 100 Hz sampler the phase of each sample moves on by
the most irrational step there is, so 1,000 samples sweep the round evenly (a round commensurate
with the interval would put every sample in the same place). argv[1]: seconds to run. Runs on
Python 2.7 and 3.6 too (compat.py)."""
import sys

try:
    from time import monotonic, thread_time
except ImportError:  # 2.7 and 3.6; imported only there, so that start-up elsewhere stays as short as it was
    from compat import monotonic, thread_time

ROUND_S = 0.010 * (1 + 5 ** 0.5) / 2


def spin(cpu_seconds):
    end = thread_time() + cpu_seconds
    while thread_time() < end:
        pass


def seventy():
    spin(0.7 * ROUND_S)


def thirty():
    spin(0.3 * ROUND_S)


def main(seconds):
    deadline = monotonic() + seconds
    while monotonic() < deadline:
        seventy()
        thirty()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 12.0)

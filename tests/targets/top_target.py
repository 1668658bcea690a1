"""A known hot spot for `top`: the leaf `hot_spin` does 80% of the work and the leaf `warm_spin`
20%, both under `outer`. Counted in loop iterations, not by the clock: on a busy machine a
clock-bound spin that loses the CPU ends early, which would skew the split toward whichever
function the scheduler happened to interrupt. argv[1]: seconds to run (default 600)."""
import sys
import time

HOT_ITERATIONS = 1_000_000
WARM_ITERATIONS = 250_000


def hot_spin():
    for _ in range(HOT_ITERATIONS):
        pass


def warm_spin():
    for _ in range(WARM_ITERATIONS):
        pass


def outer():
    hot_spin()
    warm_spin()


def main(seconds):
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outer()


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 600.0)

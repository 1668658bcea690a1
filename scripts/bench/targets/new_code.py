"""Benchmark target: a new function every SPIN_MS of pure-Python work, so nearly every sample
sees a stack (and a code object) never seen before, as a program that generates code without
end does. For the --max-stacks soak: a profiler's memory must stay bounded on it.

usage: new_code.py SPIN_MS [MAX_SECONDS]
Prints "ready"; exits on its own after MAX_SECONDS (default 2400).
"""
import sys
import time

spin_s = float(sys.argv[1]) / 1000
max_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2400.0
deadline = time.monotonic() + max_seconds
print("ready", flush=True)
i = 0
while time.monotonic() < deadline:
    namespace = {"time": time}
    exec(
        f"def generated_{i}(s):\n"
        "    end = time.monotonic() + s\n"
        "    while time.monotonic() < end:\n"
        "        pass\n",
        namespace,
    )
    namespace[f"generated_{i}"](spin_s)
    i += 1

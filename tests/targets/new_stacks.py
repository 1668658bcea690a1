"""A target that makes a new stack on every call: CALLS functions with generated names, each
sleeping a little, then exits. For --max-stacks: a record of it must stay under the cap and count
the rest as "<other stacks>".

Usage: python new_stacks.py CALLS SLEEP_S
"""
import sys
import time

calls = int(sys.argv[1])
sleep_s = float(sys.argv[2])
for i in range(calls):
    namespace = {"time": time}
    exec(f"def generated_{i}(s):\n    time.sleep(s)\n", namespace)
    namespace[f"generated_{i}"](sleep_s)
print(f"made {calls} functions", flush=True)

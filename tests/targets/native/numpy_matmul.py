"""--native with numpy: a matrix product, whose time is spent in OpenBLAS (run it with
OPENBLAS_NUM_THREADS=1, so that the product runs on the calling thread). argv[1]: seconds."""
import sys
import time

import numpy as np

rng = np.random.default_rng(1)
a = rng.random((300, 300))
b = rng.random((300, 300))


def multiply():
    return a @ b


print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    multiply()

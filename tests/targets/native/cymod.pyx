# cython: language_level=3
"""Compiled by the --native tests with Cython and gcc: its time is in the C function Cython
makes of c_loop."""


cdef double c_loop(long n) noexcept:
    cdef double x = 0
    cdef long i
    for i in range(n):
        x += i * 0.5
        if x > 1e300:
            x = 0
    return x


def work(long n):
    return c_loop(n)

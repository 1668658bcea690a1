"""What the test targets need that Python 2.7 and 3.6 spell differently or lack, so that one
target serves every interpreter. ctypes is imported only where it is needed: a stripped embedder
cannot load extension modules, and every newer Python has what it would stand in for."""
import threading
import time

# 3.3+: time.monotonic; 2.7 only has the wall clock, which is good enough for a test's deadline.
monotonic = getattr(time, "monotonic", time.time)

# 3.3+: threading.get_ident; 2.7: thread.get_ident, kept as threading._get_ident.
get_ident = getattr(threading, "get_ident", None) or threading._get_ident


def _libc():
    import ctypes
    import ctypes.util

    return ctypes, ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _thread_time_from_libc():
    ctypes, libc = _libc()

    class Timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

    clock_thread_cputime_id = 3

    def thread_time():
        now = Timespec()
        libc.clock_gettime(clock_thread_cputime_id, ctypes.byref(now))
        return now.tv_sec + now.tv_nsec * 1e-9

    return thread_time


def _native_id_from_libc():
    _, libc = _libc()
    sys_gettid = 186  # x86_64

    def native_id():
        return libc.syscall(sys_gettid)

    return native_id


def _thread_time_from_time():
    def thread_time():
        return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)

    return thread_time


# This thread's CPU seconds: time.thread_time (3.7+), else clock_gettime(CLOCK_THREAD_CPUTIME_ID),
# from the time module (3.3+) or libc (2.7).
thread_time = getattr(time, "thread_time", None) or (
    _thread_time_from_time() if hasattr(time, "clock_gettime") else _thread_time_from_libc()
)
# The kernel's id of this thread: threading.get_native_id (3.8+), else gettid(2).
native_id = getattr(threading, "get_native_id", None) or _native_id_from_libc()


def text(value):
    """A name as text: Python 2's names (of code objects, files, threads) are UTF-8 byte strings."""
    return value if isinstance(value, type(u"")) else value.decode("utf-8")

/* A C extension whose time is spent in known C functions, for the --native tests:
 *   burn(n):          c_outer -> c_middle -> c_inner, pure C arithmetic
 *   call_back(fn, k): call_back -> c_callback_inner -> fn() k times (C calling Python)
 *   clock_spin(n):    clock_gettime n times (through the vdso), GIL released; 0: forever
 *   signal_spin(ms):  spins in c_wait_loop while a SIGALRM handler (on_alarm -> c_in_handler)
 *                     interrupts it every millisecond: stacks with a signal frame
 *   park():           sleeps forever in c_park_inner, GIL released (for dump --native)
 *   dl_call(path, n, unload): dlopen path, call its noinfo_work(n), dlclose it if unload
 *   corrupt_spin(n):  spins in c_corrupted with its own return address overwritten meanwhile
 *                     (restored before it returns): a corrupted stack, for --native
 * Every C function on those stacks is exported (not static): a build stripped to .dynsym then
 * still names them, so an unnamed frame there is the profiler's fault, not the build's. The
 * nested ones are noinline so that each keeps its own frame at -O2. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <dlfcn.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>

volatile double hotext_sink;

__attribute__((noinline)) double c_inner(long n) {
    double x = 0;
    for (long i = 0; i < n; i++) {
        x += (double)i * 0.5;
        hotext_sink = x;
    }
    return x;
}

__attribute__((noinline)) double c_middle(long n) {
    double r = c_inner(n);
    hotext_sink += 1;
    return r;
}

__attribute__((noinline)) double c_outer(long n) {
    double r = c_middle(n);
    hotext_sink += 1;
    return r;
}

PyObject *burn(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n < 0 && PyErr_Occurred()) return NULL;
    return PyFloat_FromDouble(c_outer(n));
}

__attribute__((noinline)) PyObject *c_callback_inner(PyObject *fn, long times) {
    PyObject *result = NULL;
    for (long i = 0; i < times; i++) {
        Py_XDECREF(result);
        result = PyObject_CallObject(fn, NULL);
        if (result == NULL) return NULL;
    }
    return result;
}

PyObject *call_back(PyObject *self, PyObject *args) {
    PyObject *fn;
    long times;
    if (!PyArg_ParseTuple(args, "Ol", &fn, &times)) return NULL;
    PyObject *r = c_callback_inner(fn, times);
    hotext_sink += 1;
    return r;
}

__attribute__((noinline)) long c_clock_loop(long n) {
    struct timespec ts;
    long sum = 0;
    for (long i = 0; n <= 0 || i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sum += ts.tv_nsec & 1;
    }
    return sum;
}

PyObject *clock_spin(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    long r;
    Py_BEGIN_ALLOW_THREADS
    r = c_clock_loop(n);
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(r);
}

static volatile sig_atomic_t handler_calls;

__attribute__((noinline)) void c_in_handler(void) {
    /* About 0.3 ms of work, so that samples land inside the handler. */
    double x = 0;
    for (long i = 0; i < 300000; i++) {
        x += (double)i;
        hotext_sink = x;
    }
}

void on_alarm(int sig) {
    (void)sig;
    handler_calls++;
    c_in_handler();
}

double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

__attribute__((noinline)) void c_wait_loop(double until_ms) {
    while (now_ms() < until_ms) hotext_sink += 1;
}

PyObject *signal_spin(PyObject *self, PyObject *arg) {
    double ms = PyFloat_AsDouble(arg);
    /* The handler stays installed: a SIGALRM still in flight after the timer stops (one held
     * while a profiler had the thread stopped, say) must not find the default action, which
     * ends the process. */
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    sigemptyset(&action.sa_mask);
    sigaction(SIGALRM, &action, NULL);
    struct itimerval timer = {{0, 1000}, {0, 1000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &timer, NULL);
    c_wait_loop(now_ms() + ms);
    setitimer(ITIMER_REAL, &off, NULL);
    return PyLong_FromLong(handler_calls);
}

__attribute__((noinline)) void c_park_inner(void) {
    for (;;) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        hotext_sink += 1;
    }
}

PyObject *park(PyObject *self, PyObject *unused) {
    Py_BEGIN_ALLOW_THREADS
    c_park_inner();
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

PyObject *dl_call(PyObject *self, PyObject *args) {
    const char *path;
    long n;
    int unload;
    if (!PyArg_ParseTuple(args, "slp", &path, &n, &unload)) return NULL;
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        PyErr_SetString(PyExc_OSError, dlerror());
        return NULL;
    }
    double (*work)(long) = (double (*)(long))dlsym(library, "noinfo_work");
    double r = work ? work(n) : -1;
    if (unload) dlclose(library);
    return PyFloat_FromDouble(r);
}

/* The return address sits right above the saved frame pointer that __builtin_frame_address
 * points at; the function keeps a frame pointer because it asks for it. */
__attribute__((noinline)) double c_corrupted(long n) {
    void **return_slot = (void **)__builtin_frame_address(0) + 1;
    void *saved = *return_slot;
    *(void *volatile *)return_slot = (void *)0x10;
    double x = 0;
    for (long i = 0; i < n; i++) {
        x += (double)i * 0.5;
        hotext_sink = x;
    }
    *(void *volatile *)return_slot = saved;
    return x;
}

PyObject *corrupt_spin(PyObject *self, PyObject *arg) {
    long n = PyLong_AsLong(arg);
    if (n < 0 && PyErr_Occurred()) return NULL;
    double r;
    Py_BEGIN_ALLOW_THREADS
    r = c_corrupted(n);
    Py_END_ALLOW_THREADS
    return PyFloat_FromDouble(r);
}

static PyMethodDef methods[] = {
    {"burn", burn, METH_O, "c_outer -> c_middle -> c_inner(n)"},
    {"call_back", call_back, METH_VARARGS, "call fn() from C, k times"},
    {"clock_spin", clock_spin, METH_O, "clock_gettime n times, GIL released"},
    {"signal_spin", signal_spin, METH_O, "spin for ms milliseconds under a 1 kHz SIGALRM handler"},
    {"park", park, METH_NOARGS, "sleep forever in C, GIL released"},
    {"dl_call", dl_call, METH_VARARGS, "dlopen a library, call its noinfo_work(n), dlclose it if asked"},
    {"corrupt_spin", corrupt_spin, METH_O, "spin with the return address overwritten"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hotext", NULL, -1, methods};

PyMODINIT_FUNC PyInit_hotext(void) { return PyModule_Create(&module); }

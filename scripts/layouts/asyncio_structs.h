/* Private structs that pyspy reads for asyncio, declared here because CPython keeps them in .c
 * files (Modules/_asynciomodule.c, Modules/_functoolsmodule.c, Objects/genobject.c), where
 * offsetof cannot reach them. Facts transcribed per minor, each with the source it comes from;
 * scripts/layouts/generate_asyncio.py compiles this against that minor's own headers (so
 * PyObject_HEAD, _PyErr_StackItem and struct llist_node are the minor's) and checks the result
 * against live objects of every provisioned interpreter (--check).
 *
 * Sources: "vX.Y.Z" is the release's Modules/_asynciomodule.c as read (Debian source packages
 * python3.9 3.9.2, python3.11 3.11.2, python3.13 3.13.5; python/cpython's 3.14 branch);
 * "DWARF vX.Y.Z" is the declaration as compiled into that release's _asyncio module (the pyenv
 * builds 3.8.18 ... 3.13.0 and Debian's python3.14-dbg 3.14.10 carry debug info; `gdb -batch -ex
 * 'ptype /o TaskObj' _asyncio*.so`), and the two agree wherever both were read. For 3.15 the
 * target publishes TaskObj's offsets itself (the AsyncioDebug section, read from Debian's 3.15.2
 * binary): size 168, task_name 136, awaited_by 96, is_task 108, awaited_by_is_set 109, coro 128,
 * task_node 152, the same as 3.14.
 */
#ifndef PYSPY_ASYNCIO_STRUCTS_H
#define PYSPY_ASYNCIO_STRUCTS_H

#define PYSPY_MINOR PY_MINOR_VERSION

typedef enum { STATE_PENDING, STATE_CANCELLED, STATE_FINISHED } fut_state;

#if PYSPY_MINOR == 8
/* v3.8.18 Modules/_asynciomodule.c (FutureObj_HEAD); DWARF v3.8.18 */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_result; \
    PyObject *prefix##_source_tb; fut_state prefix##_state; int prefix##_log_tb; \
    int prefix##_blocking; PyObject *dict; PyObject *prefix##_weakreflist;
#define PYSPY_TASK_TAIL \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context; \
    int task_must_cancel; int task_log_destroy_pending;

#elif PYSPY_MINOR == 9
/* v3.9.2 Modules/_asynciomodule.c; DWARF v3.9.18 (3.9 added cancel_msg and the saved exc state) */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_result; \
    PyObject *prefix##_source_tb; PyObject *prefix##_cancel_msg; fut_state prefix##_state; \
    int prefix##_log_tb; int prefix##_blocking; PyObject *dict; PyObject *prefix##_weakreflist; \
    _PyErr_StackItem prefix##_cancelled_exc_state;
#define PYSPY_TASK_TAIL \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context; \
    int task_must_cancel; int task_log_destroy_pending;

#elif PYSPY_MINOR == 10
/* DWARF v3.10.13 (3.10 added exception_tb) */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_exception_tb; \
    PyObject *prefix##_result; PyObject *prefix##_source_tb; PyObject *prefix##_cancel_msg; \
    fut_state prefix##_state; int prefix##_log_tb; int prefix##_blocking; PyObject *dict; \
    PyObject *prefix##_weakreflist; _PyErr_StackItem prefix##_cancelled_exc_state;
#define PYSPY_TASK_TAIL \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context; \
    int task_must_cancel; int task_log_destroy_pending;

#elif PYSPY_MINOR == 11 || PYSPY_MINOR == 12
/* v3.11.2 Modules/_asynciomodule.c; DWARF v3.11.7 and v3.12.1 (the saved exc state became an
   object; num_cancels_requested added) */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_exception_tb; \
    PyObject *prefix##_result; PyObject *prefix##_source_tb; PyObject *prefix##_cancel_msg; \
    fut_state prefix##_state; int prefix##_log_tb; int prefix##_blocking; PyObject *dict; \
    PyObject *prefix##_weakreflist; PyObject *prefix##_cancelled_exc;
#define PYSPY_TASK_TAIL \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context; \
    int task_must_cancel; int task_log_destroy_pending; int task_num_cancels_requested;

#elif PYSPY_MINOR == 13
/* v3.13.5 Modules/_asynciomodule.c; DWARF v3.13.0 (managed dict and weakrefs: no dict and
   weakreflist members; flags became bitfields at the end of the head) */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_exception_tb; \
    PyObject *prefix##_result; PyObject *prefix##_source_tb; PyObject *prefix##_cancel_msg; \
    PyObject *prefix##_cancelled_exc; fut_state prefix##_state; \
    unsigned prefix##_log_tb: 1; unsigned prefix##_blocking: 1;
#define PYSPY_TASK_TAIL \
    unsigned task_must_cancel: 1; unsigned task_log_destroy_pending: 1; \
    int task_num_cancels_requested; \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context;

#elif PYSPY_MINOR >= 14
/* 3.14 branch Modules/_asynciomodule.c; DWARF v3.14.10 (python3.14-dbg); 3.15.2's AsyncioDebug
   section. 3.14 added awaited_by (for asyncio.capture_call_graph and remote debuggers), is_task
   and the task_node of the per-thread task lists; free-threaded builds add task_tid after it. */
#define PYSPY_FUTURE_HEAD(prefix) \
    PyObject_HEAD \
    PyObject *prefix##_loop; PyObject *prefix##_callback0; PyObject *prefix##_context0; \
    PyObject *prefix##_callbacks; PyObject *prefix##_exception; PyObject *prefix##_exception_tb; \
    PyObject *prefix##_result; PyObject *prefix##_source_tb; PyObject *prefix##_cancel_msg; \
    PyObject *prefix##_cancelled_exc; PyObject *prefix##_awaited_by; fut_state prefix##_state; \
    char prefix##_is_task; char prefix##_awaited_by_is_set; \
    unsigned prefix##_log_tb: 1; unsigned prefix##_blocking: 1;
#ifdef Py_GIL_DISABLED
#define PYSPY_TASK_FT_TAIL uintptr_t task_tid;
#else
#define PYSPY_TASK_FT_TAIL
#endif
#define PYSPY_TASK_TAIL \
    unsigned task_must_cancel: 1; unsigned task_log_destroy_pending: 1; \
    int task_num_cancels_requested; \
    PyObject *task_fut_waiter; PyObject *task_coro; PyObject *task_name; PyObject *task_context; \
    struct llist_node task_node; PYSPY_TASK_FT_TAIL

/* The module state: 3.14 keeps the tasks that are not _asyncio.Task instances (pure-Python
   _PyTask, third-party tasks) here only, with no module attribute naming them. */
typedef struct {
    PyTypeObject *FutureIterType; PyTypeObject *TaskStepMethWrapper_Type;
    PyTypeObject *FutureType; PyTypeObject *TaskType;
    PyObject *asyncio_mod; PyObject *context_kwname;
    PyObject *non_asyncio_tasks; PyObject *non_asyncio_eager_tasks;
} pyspy_asyncio_state_head;
#endif

typedef struct { PYSPY_FUTURE_HEAD(fut) } FutureObj;
typedef struct { PYSPY_FUTURE_HEAD(task) PYSPY_TASK_TAIL } TaskObj;

#if PYSPY_MINOR <= 11
/* v3.8.18, v3.9.2, v3.11.2 Modules/_asynciomodule.c; DWARF v3.8.18 ... v3.11.7. The value of
   tstate->dict["__asyncio_running_event_loop__"]; 3.12 stores the loop itself there. */
typedef struct { PyObject_HEAD PyObject *rl_loop; pid_t rl_pid; } PyRunningLoopHolder;
#endif

#if PYSPY_MINOR <= 9
/* v3.8.18, v3.9.2 Modules/_asynciomodule.c; DWARF v3.8.18, v3.9.18: the callback a task adds to
   the future it awaits. 3.10+ uses a builtin function whose m_self is the task. */
typedef struct { PyObject_HEAD TaskObj *ww_task; } TaskWakeupMethWrapper;
#endif

/* functools.partial, Modules/_functoolsmodule.c; DWARF v3.8.18 ... v3.14.10: fn and args are the
   first members in every minor (3.14 added placeholders after weakreflist). */
typedef struct { PyObject_HEAD PyObject *fn; PyObject *args; PyObject *kw; } pyspy_partial_head;

/* The object `await agen.__anext__()` waits on, Objects/genobject.c; DWARF v3.8.18 ... v3.14.10. */
typedef struct { PyObject_HEAD PyObject *ags_gen; PyObject *ags_sendval; } pyspy_asend_head;

#endif

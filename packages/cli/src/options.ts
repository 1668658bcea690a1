/**
 * Options shared by several commands, defined once. Their values are checked where they are used
 * (@pyspy/core, and the Rust core under it), once, with one message each.
 */
import type { Options } from 'yargs';

/**
 * Options that collect a value each time they are given, without `array: true` (which would
 * swallow the positional arguments given after them). Any other option given twice is refused.
 */
export const REPEATABLE_WITHOUT_ARRAY = ['strip-prefix', 'fail-on'];

export const pidOption = {
  type: 'number',
  describe: 'PID of a running Python process',
  requiresArg: true,
} as const satisfies Options;

export const nonblockingOption = {
  type: 'boolean',
  default: false,
  describe: "Don't pause the target while reading it: less overhead, stacks may be inconsistent",
} as const satisfies Options;

/** Which threads to read at all: `record`, `top` and `dump` take them. */
export const threadOptions = {
  'thread-name': {
    type: 'string',
    requiresArg: true,
    describe: "Only threads whose name (Python's, else the OS's) matches this regular expression; the others are not read at all",
  },
  tid: {
    type: 'number',
    array: true,
    requiresArg: true,
    describe: 'Only these threads (OS thread ids, repeatable); with --thread-name, threads must match both',
  },
} as const satisfies Record<string, Options>;

/** `--native` and `--native-all`, for `record`, `top` and `dump`. */
export const nativeOptions = {
  native: {
    alias: 'n',
    type: 'boolean',
    default: false,
    describe: 'Also show C, C++, Cython and Rust frames, between the Python frames that called them (x86_64)',
  },
  'native-all': {
    type: 'boolean',
    default: false,
    describe: "With --native: also show the interpreter's own frames (eval loop, call plumbing), hidden by default",
  },
} as const satisfies Record<string, Options>;

/** Sampling options that `record` and `top` share, as py-spy users know them. */
export const samplingOptions = {
  rate: {
    type: 'number',
    default: 100,
    describe: 'Samples per second',
    requiresArg: true,
  },
  nonblocking: nonblockingOption,
  gil: {
    type: 'boolean',
    default: false,
    describe: 'Only include samples from the thread holding the GIL',
  },
  idle: {
    type: 'boolean',
    default: false,
    describe: 'Include idle threads (sleeping, waiting on I/O or locks)',
  },
  subprocesses: {
    type: 'boolean',
    default: false,
    describe: 'Also profile Python child processes (multiprocessing pools, subprocess), each under a root frame of its own',
  },
  cpu: {
    type: 'boolean',
    default: false,
    describe:
      'Weigh each sample by the CPU time its thread used since its previous sample: values are CPU time, and time a ' +
      'thread spent waiting for a core (a busy machine) counts for nothing',
  },
  gc: {
    type: 'boolean',
    default: true,
    describe: 'Show the garbage collector running as a <GC> frame on top of the stack (--no-gc hides it)',
  },
  async: {
    type: 'boolean',
    default: false,
    describe:
      'asyncio: show the running task and the tasks awaiting it above its coroutine frames (Task main > main > ' +
      'Task worker > handler); with --idle also every waiting task, where it waits',
  },
  fullTaskNames: {
    type: 'boolean',
    default: false,
    describe: 'With --async: keep default task names (Task-123) instead of folding them to Task',
  },
} as const satisfies Record<string, Options>;

/** The parsed options that `record` and `top` share (from the option groups above). */
export interface SamplingArgs {
  pid?: number;
  rate: number;
  nonblocking: boolean;
  gil: boolean;
  idle: boolean;
  subprocesses: boolean;
  async: boolean;
  fullTaskNames: boolean;
  cpu: boolean;
  gc: boolean;
  threadName?: string;
  tid?: number[];
  native: boolean;
  nativeAll: boolean;
  '--'?: (string | number)[];
}

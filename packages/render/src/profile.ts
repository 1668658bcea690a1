/**
 * The profile model every renderer takes. It is compact on purpose: frames are interned once and
 * stacks refer to them by index, so a 10-minute record is a few thousand rows, not a million objects.
 * `@pyspy/core` produces it (aggregated in Rust); renderers never see individual samples except
 * through the optional timeline.
 */

/** What a frame stands for, when it is not a Python function. */
export type FrameKind = 'native' | 'task' | 'process' | 'gc';
export const FRAME_KINDS: readonly FrameKind[] = ['native', 'task', 'process', 'gc'];

/**
 * The kind of a frame read back from a format that has no kinds (collapsed stacks, speedscope):
 * a task frame (`Task main`, `Task`, `Task-12`) has no file (nor do the pseudo-frames
 * `pseudoFrameKind` knows: process roots, `<GC>`).
 */
export function kindFromLabel(frame: Frame): FrameKind | undefined {
  return frame.file === '' && frame.line === 0 && /^Task(?: .+|-\d+)?$/.test(frame.name) ? 'task' : undefined;
}

/** One source location, interned. */
export interface Frame {
  /** Function name: the qualified name (`Class.method`) where CPython has one (3.11+), else `co_name`. */
  name: string;
  /** Source file as shown to people (short by default; full path with `--full-filenames`). */
  file: string;
  /** Line number; 0 when unknown or when line numbers are off (`--nolineno`). */
  line: number;
  /**
   * Absent for a Python function. `native`: a C/C++/Cython/Rust function (`--native`); `task`: an
   * asyncio task (`--async`); `process`: a process root (`--subprocesses`); `gc`: the collector.
   */
  kind?: FrameKind;
}

export interface ThreadInfo {
  /** Kernel thread id (TID). */
  id: number;
  /** Python thread name where known (`MainThread`), else the OS thread name. */
  name: string;
  /** The process the thread belongs to (differs from the profile's pid with `--subprocesses`). */
  pid: number;
}

/**
 * What a stack's `weight` counts. `samples`: every sample weighs 1 (the weight is the count);
 * `cpu-nanoseconds` (`--cpu`): a sample weighs the CPU time its thread used since its previous sample.
 */
export type ProfileUnit = 'samples' | 'cpu-nanoseconds';
export const PROFILE_UNITS: readonly ProfileUnit[] = ['samples', 'cpu-nanoseconds'];

/** One distinct stack, how many samples saw it and what they weigh. */
export interface StackCount {
  /** Indexes into `Profile.frames`, outermost (root) first, innermost (leaf) last. */
  frames: number[];
  /** Index into `Profile.threads`. */
  thread: number;
  /** Samples that saw this stack. */
  count: number;
  /** Their weights summed, in `Profile.unit` (equal to `count` when the unit is samples). What renderers draw. */
  weight: number;
}

export interface ProfileStats {
  /** Samples recorded (one per thread per tick that passed the filters). */
  samples: number;
  /** Sampling ticks taken (each tick reads every thread once). */
  ticks: number;
  requestedRateHz: number;
  achievedRateHz: number;
  /** Ticks where reading the target failed (counted, never padded). */
  errors: number;
  /** Ticks skipped because the sampler fell behind its schedule. */
  missed: number;
  durationS: number;
  /** CPU time (user + sys) the profiler itself spent sampling. */
  profilerCpuS: number;
  /** Samples whose thread held the GIL. */
  gilSamples: number;
  /** Thread stacks left out as idle; 0 with `idle`, where thread states are not read. */
  idleSamples: number;
  /** `cpu`: CPU seconds put on the stacks recorded (their weights summed); 0 otherwise. */
  cpuAttributedS: number;
  /** `cpu`: CPU seconds the kernel counted for the threads read, over the record; 0 otherwise. */
  cpuKernelS: number;
  /**
   * Samples counted into a thread's `<other stacks>` stack because the record already held its
   * most distinct stacks (`maxStacks`); included in `samples`.
   */
  otherSamples: number;
}

/**
 * Every field of `ProfileStats` that only grows while a record runs: the one list that empty
 * statistics, deltas between two snapshots and the JSON reader go by. (The rates are not counters.)
 */
export const STAT_COUNTERS = [
  'samples',
  'ticks',
  'errors',
  'missed',
  'durationS',
  'profilerCpuS',
  'gilSamples',
  'idleSamples',
  'cpuAttributedS',
  'cpuKernelS',
  'otherSamples',
] as const satisfies readonly (keyof ProfileStats)[];
export type StatCounter = (typeof STAT_COUNTERS)[number];
// A field added to ProfileStats must be a counter or a rate: this fails to compile otherwise.
const everyStatIsListed: Exclude<keyof ProfileStats, StatCounter | 'requestedRateHz' | 'achievedRateHz'> extends never
  ? true
  : never = true;
void everyStatIsListed;

/** Statistics of a record that has not sampled anything. */
export function emptyStats(): ProfileStats {
  const counters = Object.fromEntries(STAT_COUNTERS.map((key) => [key, 0])) as Record<StatCounter, number>;
  return { ...counters, requestedRateHz: 0, achievedRateHz: 0 };
}

export interface Profile {
  version: 1;
  meta: {
    pid: number;
    pythonVersion: string;
    /** The command line when pyspy-ts launched the target. */
    command?: string[];
    /** ISO 8601 time the record started. */
    startTime: string;
    /** Exit code of a launched target that exited on its own during the record (128+N: killed by signal N). */
    exitCode?: number;
    /** Why sampling ended: its duration ran out, it was stopped (Ctrl-C, AbortSignal), or the target exited. */
    stopReason?: 'duration' | 'stopped' | 'target-exited';
    /** What happened to the targets that a person should be told, one line each (a process that exec'd something else). */
    notes?: string[];
  };
  /** What `StackCount.weight` counts. */
  unit: ProfileUnit;
  stats: ProfileStats;
  frames: Frame[];
  threads: ThreadInfo[];
  stacks: StackCount[];
  /**
   * Optional per-tick timeline for trace formats: parallel arrays, one entry per recorded sample,
   * in time order. `stacks[i]` indexes `Profile.stacks`; `weights[i]` is the sample's weight when
   * the unit is not samples.
   */
  timeline?: { timesUs: number[]; stacks: number[]; weights?: number[] };
}

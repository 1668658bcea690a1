import type { StdioOptions } from 'node:child_process';
import type { Profile, ProfileStats } from '@pyspy/render';
import { native, type Native } from './native.js';
import { InvalidArgumentError, toPyspyError, validatePid } from './errors.js';
import { launch, warnIfOwnChild, type LaunchedProcess } from './launch.js';

export interface RecordOptions {
  /** Attach to this running process... */
  pid?: number;
  /** ...or launch this command (`['python', 'app.py', ...]`) and record it until it exits. */
  command?: string[];
  /** Samples per second. Default 100. */
  rateHz?: number;
  /** Stop after this many seconds. Default: until the target exits or `signal` aborts. */
  durationS?: number;
  /** Pause the target for each sample (consistent stacks). Default true; false is `--nonblocking`. */
  blocking?: boolean;
  /** Only samples from the thread holding the GIL. */
  gil?: boolean;
  /** Include idle threads (sleeping, waiting). Excluded by default. */
  idle?: boolean;
  /** Aggregate by function (first line) instead of by line. */
  function?: boolean;
  /** Drop line numbers. */
  nolineno?: boolean;
  /** Keep full file paths instead of shortening them. */
  fullFilenames?: boolean;
  /** Also sample Python child processes (multiprocessing pools, subprocesses). */
  subprocesses?: boolean;
  /** Keep a per-sample timeline (needed by the Chrome trace format). */
  timeline?: boolean;
  /** Stops the record; what was collected is returned. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` with the statistics so far. */
  onProgress?: (stats: ProfileStats) => void;
  progressIntervalMs?: number;
  /** stdio of a launched command. Default 'inherit'. */
  stdio?: StdioOptions;
}


const POLL_MS = 50;
/** A launched command needs a moment to exec and start its runtime before it is readable. */
const LAUNCH_GRACE_S = 10;

/** Samples a Python process and returns the aggregated profile. Nothing runs in the target. */
export async function record(options: RecordOptions): Promise<Profile> {
  if ((options.pid === undefined) === (options.command === undefined)) {
    throw new InvalidArgumentError('record needs either pid or command, not both');
  }
  if (options.command !== undefined && options.command.length === 0) {
    throw new InvalidArgumentError('record: command is empty');
  }
  const rateHz = options.rateHz ?? 100;
  if (!Number.isFinite(rateHz) || rateHz <= 0 || rateHz > 1_000_000) {
    throw new InvalidArgumentError(`invalid rate ${rateHz}: expected a number of samples per second between 0 and 1000000`);
  }
  if (options.durationS !== undefined && !(options.durationS > 0)) {
    throw new InvalidArgumentError(`invalid duration ${options.durationS}: expected a positive number of seconds`);
  }

  let child: LaunchedProcess | undefined;
  let pid: number;
  if (options.command) {
    child = await launch(options.command, { stdio: options.stdio });
    pid = child.pid;
  } else {
    pid = validatePid(options.pid);
    warnIfOwnChild(pid, options.blocking ?? true);
  }

  const startTime = new Date().toISOString();
  let recorder: Native.Recorder;
  try {
    recorder = await native.startRecorder(pid, {
      rateHz,
      durationS: options.durationS,
      blocking: options.blocking ?? true,
      gilOnly: options.gil ?? false,
      includeIdle: options.idle ?? false,
      function: options.function ?? false,
      nolineno: options.nolineno ?? false,
      fullFilenames: options.fullFilenames ?? false,
      subprocesses: options.subprocesses ?? false,
      timeline: options.timeline ?? false,
      waitForPythonS: child ? LAUNCH_GRACE_S : undefined,
    });
  } catch (error) {
    child?.kill('SIGKILL');
    throw toPyspyError(error);
  }
  const pythonVersion = recorder.pythonVersion();

  const stop = () => recorder.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  let lastProgress = 0;
  try {
    while (!recorder.isFinished()) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const now = Date.now();
      if (options.onProgress && now - lastProgress >= (options.progressIntervalMs ?? 250)) {
        lastProgress = now;
        const stats = recorder.stats();
        if (stats) options.onProgress(stats);
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  const result = await recorder.finish();

  let exitCode: number | undefined;
  if (child) {
    if (!child.hasExited()) {
      // The record ended first (duration or abort): like py-spy, don't leave what we launched running.
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      exitCode = await child.exited;
      clearTimeout(killer);
    } else {
      exitCode = await child.exited;
    }
  }

  return {
    version: 1,
    meta: { pid, pythonVersion, command: options.command, startTime, exitCode },
    stats: result.stats,
    frames: result.frames,
    threads: result.threads,
    stacks: result.stacks,
    timeline: result.timeline ?? undefined,
  };
}

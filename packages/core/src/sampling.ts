import type { StdioOptions } from 'node:child_process';
import { native, type Native } from './native.js';
import { InvalidArgumentError, ProcessExitedError, toPyspyError, validatePid } from './errors.js';
import { launch, warnIfOwnChild, type LaunchedProcess } from './launch.js';

/** What every way of sampling (a record, a live view) is asked, as py-spy's options. */
export interface SamplingOptions {
  /** Attach to this running process... */
  pid?: number;
  /** ...or launch this command (`['python', 'app.py', ...]`) and sample it until it exits. */
  command?: string[];
  /** Samples per second. Default 100. */
  rateHz?: number;
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
  /** stdio of a launched command. Default 'inherit'. */
  stdio?: StdioOptions;
}

export interface StartedSampler {
  pid: number;
  recorder: Native.Recorder;
  /** The launched command, when there is one. */
  child?: LaunchedProcess;
}

/** A launched command needs a moment to exec and start its runtime before it is readable. */
const LAUNCH_GRACE_S = 10;

/**
 * Checks the options, launches the command if there is one, and starts the native sampler on
 * its own thread. `extra` carries what only some callers ask for (a duration, a timeline).
 */
export async function startSampler(
  options: SamplingOptions,
  extra: { durationS?: number; timeline?: boolean } = {},
): Promise<StartedSampler> {
  if ((options.pid === undefined) === (options.command === undefined)) {
    throw new InvalidArgumentError('sampling needs either pid or command, not both');
  }
  if (options.command !== undefined && options.command.length === 0) {
    throw new InvalidArgumentError('the command to sample is empty');
  }
  const rateHz = options.rateHz ?? 100;
  if (!Number.isFinite(rateHz) || rateHz <= 0 || rateHz > 1_000_000) {
    throw new InvalidArgumentError(`invalid rate ${rateHz}: expected a number of samples per second between 0 and 1000000`);
  }
  if (extra.durationS !== undefined && !(extra.durationS > 0)) {
    throw new InvalidArgumentError(`invalid duration ${extra.durationS}: expected a positive number of seconds`);
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
  try {
    const recorder = await native().startRecorder(pid, {
      rateHz,
      durationS: extra.durationS,
      blocking: options.blocking ?? true,
      gilOnly: options.gil ?? false,
      includeIdle: options.idle ?? false,
      function: options.function ?? false,
      nolineno: options.nolineno ?? false,
      fullFilenames: options.fullFilenames ?? false,
      subprocesses: options.subprocesses ?? false,
      timeline: extra.timeline ?? false,
      waitForPythonS: child ? LAUNCH_GRACE_S : undefined,
    });
    return { pid, recorder, child };
  } catch (error) {
    if (child?.hasExited()) {
      const code = await child.exited;
      throw new ProcessExitedError(`${options.command![0]} exited with code ${code} before it could be sampled`, {
        cause: error,
      });
    }
    child?.kill('SIGKILL');
    throw toPyspyError(error);
  }
}

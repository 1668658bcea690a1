import type { StdioOptions } from 'node:child_process';
import type { RecordOptions as NativeOptions } from '@pyspy/napi';
import { InvalidArgumentError, ProcessExitedError, toPyspyError, validatePid } from './errors.js';
import { type LaunchedProcess, launch, warnIfOwnChild } from './launch.js';
import { type Native, native } from './native.js';

/** What to sample: a running process, or a command to launch and sample until it exits. */
export type SamplingTarget = (
  | {
      /** Attach to this running process. */
      pid: number;
      command?: never;
    }
  | {
      /** Launch this command (`['python', 'app.py', ...]`) and sample it until it exits. */
      command: string[];
      pid?: never;
    }
) & {
  /** stdio of a launched command. Default 'inherit'. */
  stdio?: StdioOptions;
};

/**
 * How to sample, as py-spy's options; one name each from the command line to Rust (`--gil` is
 * `gil`, `--rate` is `rateHz`). The binding's type carries the docs; what only the binding sets
 * (a launch's grace period) is left out.
 */
export type SamplingOptions = Omit<NativeOptions, 'waitForPythonS' | 'durationS' | 'timeline'>;

export interface StartedSampler {
  pid: number;
  recorder: Native.Recorder;
  /** The launched command, when there is one. */
  child?: LaunchedProcess;
}

/** A launched command needs a moment to exec and start its runtime before it is readable. */
const LAUNCH_GRACE_S = 10;

/**
 * Checks the options (in Rust, the one place they are checked), launches the command if there is
 * one, and starts the native sampler on its own thread.
 */
export async function startSampler(
  target: SamplingTarget & SamplingOptions,
  extra: Pick<NativeOptions, 'durationS' | 'timeline'> = {},
): Promise<StartedSampler> {
  if ((target.pid === undefined) === (target.command === undefined)) {
    throw new InvalidArgumentError('sampling needs either pid or command, not both');
  }
  const { pid: _pid, command: _command, stdio: _stdio, ...options } = target as SamplingOptions & Record<string, unknown>;
  const nativeOptions: NativeOptions = { ...(options as SamplingOptions), ...extra };
  try {
    native().checkRecordOptions(nativeOptions);
  } catch (error) {
    throw toPyspyError(error);
  }
  let child: LaunchedProcess | undefined;
  let pid: number;
  if (target.command !== undefined) {
    child = await launch(target.command, { stdio: target.stdio });
    pid = child.pid;
  } else {
    pid = validatePid(target.pid);
    warnIfOwnChild(pid, options.nonblocking ?? false);
  }
  try {
    const recorder = await native().startRecorder(pid, { ...nativeOptions, waitForPythonS: child ? LAUNCH_GRACE_S : undefined });
    return { pid, recorder, child };
  } catch (error) {
    if (child) {
      // A program that ended before the sampler could open it: its shell may not have reaped it
      // yet, so give the exit a moment to arrive rather than report the PID as missing.
      const code = await Promise.race([child.exited, new Promise<undefined>((r) => setTimeout(r, 1000, undefined))]);
      if (code !== undefined) {
        const message = `${target.command?.[0]} exited with code ${code} before it could be sampled`;
        throw new ProcessExitedError(message, { cause: error });
      }
      child.kill('SIGKILL');
    }
    throw toPyspyError(error);
  }
}

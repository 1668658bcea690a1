import type { StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { InvalidArgumentError } from './errors.js';

/**
 * A Python program started for profiling. `pid` is the program itself; it runs as the child of a
 * small `sh` that waits for it, never as a direct child of this Node process.
 *
 * Why: pausing a process with ptrace makes the kernel report the stop to its parent's waitpid() too,
 * and Node's libuv waitpid()s its children on every SIGCHLD and takes any status as an exit. A
 * direct child would "exit" (code 0) the first time a sample paused it, and its real exit status
 * would be lost. With `sh` in between, only the tracer sees the stops and Node waits on `sh`, which
 * passes the program's exit status through (128+N when killed by signal N).
 */
export interface LaunchedProcess {
  /** PID of the launched program (not of the `sh` around it). */
  pid: number;
  /** Resolves with the program's exit code once it has exited. */
  exited: Promise<number>;
  /** True once the program has exited. */
  hasExited(): boolean;
  /** Sends a signal to the program. */
  kill(signal?: NodeJS.Signals): void;
  /** The program's output, when `stdio` asked for pipes. */
  stdout: Readable | null;
  stderr: Readable | null;
}

export interface LaunchOptions {
  stdio?: StdioOptions;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const FIND_CHILD_TIMEOUT_MS = 10_000;

/** Starts `command` (`['python', 'app.py', ...]`) so that it can be profiled safely from this process. */
export async function launch(command: string[], options: LaunchOptions = {}): Promise<LaunchedProcess> {
  if (command.length === 0) throw new InvalidArgumentError('the command to launch is empty');
  // `; exit $?` keeps sh from exec'ing the command in its place, which would make it our child again.
  // sh reports a child killed by a signal ("Terminated" when a record ends the program) on its
  // stderr: sh's own stderr goes to /dev/null, and only the subshell that becomes the program
  // gets the real one back (dash applies a simple command's redirections in the parent, around
  // its wait, so `"$@" 2>&3` would still print the message there).
  const script = 'exec 3>&2 2>/dev/null; ("$@") 2>&3 3>&-; exit $?';
  // Loaded here, not on import: child_process and what it pulls in are 1.6 MB of resident memory
  // that a record of a running process (--pid) never needs.
  const { spawn } = process.getBuiltinModule('node:child_process');
  const shell = spawn('/bin/sh', ['-c', script, 'pyspy-ts-launch', ...command], {
    stdio: options.stdio ?? 'inherit',
    env: options.env,
    cwd: options.cwd,
  });
  let shellDone = false;
  const exited = new Promise<number>((resolve) =>
    shell.once('exit', (code, signal) => {
      shellDone = true;
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1));
    }),
  );
  await new Promise<void>((resolve, reject) => {
    shell.once('spawn', resolve);
    shell.once('error', (e) => reject(new InvalidArgumentError(`could not start /bin/sh to launch ${command[0]}: ${e.message}`)));
  });
  const shellPid = shell.pid!;
  const deadline = Date.now() + FIND_CHILD_TIMEOUT_MS;
  let pid: number | undefined;
  while (pid === undefined) {
    pid = childOf(shellPid);
    if (pid !== undefined) break;
    if (shellDone) {
      const code = await exited;
      // 127 and 126 are the shell's "not found" and "not executable".
      const why = code === 127 ? 'command not found' : code === 126 ? 'not executable' : `it exited at once with code ${code}`;
      throw new InvalidArgumentError(`could not start ${command[0]}: ${why}`);
    }
    if (Date.now() > deadline) {
      shell.kill('SIGKILL');
      throw new InvalidArgumentError(`could not start ${command[0]}: no process appeared`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  // Until the exec, the child is a copy of the shell: wait for it to become the program, so
  // that a command that cannot be run fails here, with the shell's reason, not later.
  // An empty command line is no answer yet: a process reads so mid-exec, and also while it
  // exits (its memory is released before it turns zombie), which a failed exec does at once.
  const shellCommandLine = commandLineOf(shellPid);
  while (!shellDone && Date.now() < deadline) {
    const line = commandLineOf(pid);
    if (line === undefined || hasEnded(pid) || (line !== shellCommandLine && line !== '')) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  // The program already ended (perhaps failing to exec): a zombie, or gone.
  if (shellDone || hasEnded(pid)) {
    const code = await exited;
    if (code === 127 || code === 126) {
      throw new InvalidArgumentError(`could not start ${command[0]}: ${code === 127 ? 'command not found' : 'not executable'}`);
    }
  }
  const programPid = pid;
  return {
    pid: programPid,
    exited,
    stdout: shell.stdout,
    stderr: shell.stderr,
    hasExited: () => shellDone,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (shellDone) return;
      try {
        process.kill(programPid, signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/**
 * After sampling: the exit code of a program that exited on its own, or, when sampling ended
 * first (duration, stop), the program is terminated, as py-spy does, and there is no exit code
 * to pass on.
 */
export async function settleLaunched(child: LaunchedProcess, targetExited: boolean): Promise<number | undefined> {
  if (targetExited || child.hasExited()) return child.exited;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await child.exited;
  clearTimeout(killer);
  return undefined;
}

/** Zombie or gone. (Not an empty command line: that is also what a process reads as mid-exec.) */
function hasEnded(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The first child of `pid`, from /proc (the task's `children` list). */
function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (children !== '') return Number(children.split(/\s+/)[0]);
  } catch {
    // The shell has not started yet, or is gone.
  }
  return undefined;
}

let warnedAboutChild = false;

/**
 * Pausing a direct child of this process breaks Node's bookkeeping of it (see `LaunchedProcess`):
 * say so once, with the fix, rather than let its 'exit' event fire early without a word.
 */
export function warnIfOwnChild(pid: number, blocking: boolean): void {
  if (!blocking || warnedAboutChild) return;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== process.pid) return;
  } catch {
    return;
  }
  warnedAboutChild = true;
  process.emitWarning(
    `process ${pid} is a direct child of this Node process: pausing it makes Node report a false exit. ` +
      "Start it with @pyspy/core's launch(), or use blocking: false.",
    { code: 'PYSPY_OWN_CHILD' },
  );
}

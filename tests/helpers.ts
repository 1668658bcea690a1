/**
 * Shared helpers for tests that run real Python processes: which interpreters exist, starting a
 * target and waiting until it is ready, running the CLI, and always killing what we started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { launch, type LaunchedProcess } from '@pyspy/core';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cliPath = join(repoRoot, 'packages/cli/dist/cli.js');
export const targetsDir = join(repoRoot, 'tests/targets');

export interface Interpreter {
  id: string;
  minor: string;
  version: string;
  exe: string;
  env: Record<string, string>;
  source: string;
  debug: boolean;
  /** uvloop from PyPI, run with PYTHONPATH=path and env; or why this interpreter has none. */
  uvloop?: { path?: string; version?: string; env?: Record<string, string>; unavailable?: string };
  /** Built with `--disable-gil` (PEP 703): no GIL, so several threads run Python at once. */
  freeThreaded: boolean;
}

/**
 * Every interpreter `scripts/provision-pythons.sh` provisioned. A missing manifest is an error, not
 * a reason to test less: CI provisions before testing, so its absence means provisioning broke.
 */
export function interpreters(): Interpreter[] {
  const manifest = join(repoRoot, '.cache/pythons/manifest.json');
  if (!existsSync(manifest)) {
    throw new Error(`no ${manifest}: run scripts/provision-pythons.sh first (pnpm test does)`);
  }
  const list = (JSON.parse(readFileSync(manifest, 'utf8')) as { interpreters: Interpreter[] }).interpreters;
  if (list.length === 0) throw new Error(`${manifest} lists no interpreters`);
  return list;
}

/** One provisioned interpreter by id; a missing one is a provisioning failure, never a skip. */
export function interpreterById(id: string): Interpreter {
  const found = interpreters().find((i) => i.id === id);
  if (!found) throw new Error(`interpreter ${id} was not provisioned`);
  return found;
}

const started = new Set<LaunchedProcess>();

export function killAll(): void {
  for (const target of started) target.kill('SIGKILL');
  started.clear();
}

afterAll(killAll);
process.on('exit', killAll);

export interface StartedTarget {
  child: LaunchedProcess;
  pid: number;
  output: () => string;
}

/** Starts a target through @pyspy/core's launch(), as users should: see LaunchedProcess for why. */
export async function startPython(interp: Interpreter, args: string[], options: { cwd?: string } = {}): Promise<StartedTarget> {
  const child = await launch([interp.exe, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...interp.env, PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, pid: child.pid, output: () => output };
}

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** `what` may be a function so the message says what the target printed by the time it ran out. */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function taskCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).length;
  } catch {
    return 0;
  }
}

/**
 * Scheduler state letter of every thread (R, S, T, t, ...): a paused-and-forgotten target shows T
 * or t. A thread that ends between the listing and the read of its stat has no state to report.
 */
export function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') return [];
      throw error;
    }
    return [stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)];
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pyspy-${prefix}-`));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI synchronously; `asUser` runs it through `runuser` as that user. */
export function runCli(
  args: string[],
  options: { asUser?: string; timeoutMs?: number; env?: Record<string, string>; cwd?: string } = {},
): CliResult {
  const command = options.asUser ? 'runuser' : process.execPath;
  const fullArgs = options.asUser ? ['-u', options.asUser, '--', process.execPath, cliPath, ...args] : [cliPath, ...args];
  const r = spawnSync(command, fullArgs, {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface RunningCli {
  child: ChildProcess;
  /** Resolves when the CLI exits, with everything it printed. */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/** Starts the CLI without waiting for it, for tests that act while it runs (signals, killing the target). */
export function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): RunningCli {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  clis.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
  return { child, done };
}

/**
 * Resolves once the CLI process `pid` is sampling: its sampler thread ("pyspy-sampler") exists and
 * has had a moment to open the target. On a busy machine the CLI can take seconds to start, so
 * tests that act on a running record wait for this rather than sleep a fixed time.
 */
export async function samplerRunning(pid: number, settleMs = 500): Promise<void> {
  const hasSampler = () => {
    try {
      return readdirSync(`/proc/${pid}/task`).some((tid) => {
        try {
          return readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() === 'pyspy-sampler';
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  };
  await waitFor(`the record (pid ${pid}) to start sampling`, hasSampler, 60_000);
  await new Promise((r) => setTimeout(r, settleMs));
}

const clis = new Set<ChildProcess>();
afterAll(() => {
  for (const child of clis) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The collapsed-stacks file as stack -> count. */
export function parseCollapsed(text: string): Map<string, number> {
  const stacks = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(.*) (\d+)$/.exec(line);
    if (match) stacks.set(match[1], (stacks.get(match[1]) ?? 0) + Number(match[2]));
  }
  return stacks;
}

/** Samples whose stack has a frame of function `name` (a frame label starts with `name (`). */
export function samplesIn(stacks: Map<string, number>, name: string): number {
  let total = 0;
  for (const [stack, count] of stacks) if (stack.split(';').some((frame) => frame.startsWith(`${name} (`))) total += count;
  return total;
}

export function totalSamples(stacks: Map<string, number>): number {
  let total = 0;
  for (const count of stacks.values()) total += count;
  return total;
}

// Here rather than above, so that the helpers before this point stay as they were.
import { rmSync } from 'node:fs';

/**
 * A shell in a tmux window of a known size, on a tmux server of its own (own socket, no user
 * config), for testing full-screen commands as a person at a terminal would see them.
 */
export class TmuxPane {
  static readonly prompt = 'pyspy-test$ ';
  private constructor(private readonly socketDir: string) {}

  private get socket(): string {
    return join(this.socketDir, 'tmux.sock');
  }

  /** Resolves once the shell shows its prompt: keys typed earlier would be echoed before it. */
  static async start(options: { width: number; height: number; cwd?: string }): Promise<TmuxPane> {
    // A fresh socket each time (a server just killed may still hold the old one), in a directory
    // of its own, removed with it: tmux leaves its socket behind.
    const pane = new TmuxPane(tempDir('tmux'));
    pane.tmux(
      'new-session',
      '-d',
      '-s',
      'main',
      '-x',
      String(options.width),
      '-y',
      String(options.height),
      '-c',
      options.cwd ?? repoRoot,
      `env PS1='${TmuxPane.prompt}' /bin/sh`,
    );
    panes.add(pane);
    await waitFor('the shell prompt', () => pane.screen()[0] === TmuxPane.prompt.trimEnd());
    return pane;
  }

  private tmux(...args: string[]): string {
    const r = spawnSync('tmux', ['-S', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** Types a command line and Enter. */
  type(line: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', line);
    this.tmux('send-keys', '-t', 'main', 'Enter');
  }

  /** Sends keys by tmux name ('q', 'C-c', 'Enter'). */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** The visible screen, one string per row. */
  screen(): string[] {
    return this.tmux('capture-pane', '-p', '-t', 'main').replace(/\n$/, '').split('\n');
  }

  /** A tmux format of the pane, e.g. '#{alternate_on}' (1 while the alternate screen is shown). */
  format(format: string): string {
    return this.tmux('display-message', '-p', '-t', 'main', format).trim();
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', 'main', '-x', String(width), '-y', String(height));
  }

  /** PID of the command running in the shell (its first child), if any. */
  foregroundPid(): number | undefined {
    const shell = this.format('#{pane_pid}');
    try {
      const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim();
      return children === '' ? undefined : Number(children.split(/\s+/)[0]);
    } catch {
      return undefined;
    }
  }

  kill(): void {
    panes.delete(this);
    spawnSync('tmux', ['-S', this.socket, 'kill-server'], { timeout: 10_000 });
    rmSync(this.socketDir, { recursive: true, force: true });
  }
}

const panes = new Set<TmuxPane>();
afterAll(() => {
  for (const pane of [...panes]) pane.kill();
});

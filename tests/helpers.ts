/**
 * Shared helpers for tests that run real Python processes: which interpreters exist, starting a
 * target and waiting until it is ready, running the CLI, and always killing what we started.
 */
import { spawnSync } from 'node:child_process';
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

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
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

/** Scheduler state letter of every thread (R, S, T, t, ...): a paused-and-forgotten target shows T or t. */
export function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
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
export function runCli(args: string[], options: { asUser?: string; timeoutMs?: number } = {}): CliResult {
  const command = options.asUser ? 'runuser' : process.execPath;
  const fullArgs = options.asUser ? ['-u', options.asUser, '--', process.execPath, cliPath, ...args] : [cliPath, ...args];
  const r = spawnSync(command, fullArgs, { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

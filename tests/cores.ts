/**
 * Making core files of real processes: with gdb's `gcore` while they run, and by a real crash
 * (the kernel's core). Also hiding the files a core maps, as on a machine the core was copied to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { cliPath, type CliResult, waitFor } from './helpers.js';

/** `gcore -o DIR/gcore PID`: the process is stopped for the copy and goes on afterwards. */
export function gcore(pid: number, dir: string): string {
  const r = spawnSync('gcore', ['-o', join(dir, 'gcore'), String(pid)], { encoding: 'utf8', timeout: 120_000 });
  const path = join(dir, `gcore.${pid}`);
  if (r.status !== 0 || !existsSync(path)) {
    throw new Error(`gcore of ${pid} failed (is Debian's gdb installed? scripts/system-deps.sh): ${r.stderr}`);
  }
  return path;
}

const PATTERN_FILE = '/proc/sys/kernel/core_pattern';
let savedPattern: string | undefined;

/**
 * Where the kernel writes the core of process `pid` that crashes in `cwd`. A crash core is written
 * where the kernel's core_pattern says; this needs a plain file name, relative to the crashing
 * process's directory. If the machine pipes cores elsewhere (systemd-coredump, apport), the
 * pattern is set to "core" for this test file and restored after it.
 */
export function crashCorePath(cwd: string, pid: number): string {
  let pattern = readFileSync(PATTERN_FILE, 'utf8').trim();
  if (!/^[^/|%]+$/.test(pattern)) {
    try {
      writeFileSync(PATTERN_FILE, 'core');
    } catch (error) {
      throw new Error(
        `core_pattern is "${pattern}", not a plain file name, and could not be set to "core" for the crash test (${(error as Error).message}): run as root with /proc/sys writable`,
      );
    }
    savedPattern ??= pattern;
    pattern = 'core';
  }
  const usesPid = readFileSync('/proc/sys/kernel/core_uses_pid', 'utf8').trim() === '1';
  return join(cwd, usesPid ? `${pattern}.${pid}` : pattern);
}

afterAll(() => {
  if (savedPattern !== undefined) writeFileSync(PATTERN_FILE, savedPattern);
});

/** Waits for the kernel to finish writing a crash core: the process is gone once it has. */
export async function waitForCore(path: string, exited: Promise<number>): Promise<string> {
  const code = await exited;
  // 128 + SIGABRT: the shell around the program reports the abort.
  if (code !== 134) throw new Error(`the target exited with ${code}, not by SIGABRT`);
  return waitFor(`the core at ${path}`, () => existsSync(path) && path);
}

/** The interpreter's own files that a process maps: its executable and any libpython. */
export function interpreterFiles(pid: number): string[] {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  const exe = realpathSync(`/proc/${pid}/exe`);
  const paths = new Set<string>([exe]);
  for (const line of maps.split('\n')) {
    const path = line.split(/\s+/).slice(5).join(' ');
    if (/\/libpython[^/]*\.so/.test(path)) paths.add(path);
  }
  return [...paths];
}

/**
 * Runs the CLI in a mount namespace where each of `hidden` is /dev/null, as on a machine that
 * does not have the files the core names (root only: `unshare -m`).
 */
export function runCliWithout(hidden: string[], args: string[], env: Record<string, string> = {}): CliResult {
  const script = 'while [ "$1" != -- ]; do mount --bind /dev/null "$1" || exit 99; shift; done; shift; exec "$@"';
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'hide', ...hidden, '--', process.execPath, cliPath, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Making core files of real processes: with gdb's `gcore` while they run, and by a real crash
 * (the kernel's core). Also hiding the files a core maps, as on a machine the core was copied to.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { cliPath, type CliResult, waitFor } from './helpers.js';

/**
 * gdb's gcore of a running process: it is stopped for the copy and goes on afterwards.
 *
 * glibc 2.42+ guards thread stacks with guard regions (madvise MADV_GUARD_INSTALL, Linux 6.13+),
 * not separate PROT_NONE mappings. gdb 13 cannot read those pages and writes the rest of their
 * mapping as zeros, which loses the top of every thread stack, where CPython 3.12+ keeps the
 * frames that link a thread's Python frames to its first ones. So the guard markers are removed
 * first (MADV_GUARD_REMOVE, 103, on every anonymous mapping: a no-op where there are none; EINVAL
 * on older kernels). The sid interpreters run on such a glibc.
 */
export function gcore(pid: number, dir: string): string {
  const path = join(dir, `gcore.${pid}`);
  const anonymous = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .map((line) => line.split(/\s+/))
    .filter((f) => f.length >= 5 && f[1].startsWith('rw') && (f[5] ?? '') === '')
    .map((f) => f[0].split('-').map((x) => BigInt(`0x${x}`)));
  const unguard = anonymous.flatMap(([start, end]) => ['-ex', `call (int)madvise((void*)${start}, ${end - start}, 103)`]);
  const r = spawnSync('gdb', ['-nx', '-batch', '-p', String(pid), ...unguard, '-ex', `gcore ${path}`], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0 || !existsSync(path)) {
    throw new Error(`gcore of ${pid} failed (is Debian's gdb installed? scripts/system-deps.sh): ${r.stderr}`);
  }
  const failed = /Memory read failed for corefile section, \d+ bytes at (0x[0-9a-f]+)/g;
  const holes = [...r.stderr.matchAll(failed)].map((m) => m[1]).filter((a) => a !== '0xffffffffff600000');
  if (holes.length) throw new Error(`gcore of ${pid} could not read memory at ${holes.join(', ')}: the core has holes`);
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

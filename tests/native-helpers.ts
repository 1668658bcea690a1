/**
 * What the --native tests share: building the test extension with gcc, and recording a command
 * with --native into our JSON, read back as stacks of frames.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type Interpreter, runCli, targetsDir, tempDir } from './helpers.js';

export type Build = 'fp' | 'nofp' | 'stripped';
export const BUILDS: Record<Build, string[]> = {
  fp: ['-g', '-fno-omit-frame-pointer'],
  nofp: ['-g', '-fomit-frame-pointer'],
  stripped: ['-fomit-frame-pointer'],
};

/** The include folders of an interpreter, as provisioned (the manifest lists them). */
export function includeDirs(interp: Interpreter): string[] {
  const dirs = (interp as Interpreter & { include?: string[] }).include;
  if (!dirs || dirs.length === 0) throw new Error(`${interp.id} has no include folders in the manifest`);
  return dirs;
}

/** Runs a build tool and fails the test with its output when it fails. */
export function tool(command: string, args: string[], env: Record<string, string> = {}): void {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.stderr}`);
}

/** Builds tests/targets/native/hotext.c for `interp` into a folder of its own and returns the folder. */
export function buildExtension(interp: Interpreter, build: Build): string {
  const dir = tempDir(`hotext-${interp.id}-${build}`);
  const so = join(dir, 'hotext.so');
  const includes = includeDirs(interp).map((d) => `-I${d}`);
  tool('gcc', ['-O2', '-shared', '-fPIC', ...BUILDS[build], ...includes, '-o', so, join(targetsDir, 'native/hotext.c'), '-ldl']);
  if (build === 'stripped') tool('strip', ['--strip-all', so]);
  return dir;
}

export interface JsonFrame {
  name: string;
  file: string;
  line: number;
  kind?: string;
}

export interface NativeRecord {
  /** Each stack as its frames, outermost first, with its count. */
  stacks: { frames: JsonFrame[]; count: number }[];
  stats: { ticks: number; errors: number; samples: number; achievedRateHz: number };
  /** Each sample's time and index into `stacks`, in time order (our JSON keeps the timeline). */
  timeline: { timesUs: number[]; stacks: number[] };
  stdout: string;
  stderr: string;
}

/** `record --native` of `python` (a script and its arguments) run by `interp`, at `rate` Hz. */
export function recordNative(
  interp: Interpreter,
  python: string[],
  options: { rate: number; env?: Record<string, string> },
): NativeRecord {
  const out = join(tempDir('native'), 'profile.pyspy.json');
  const result = runCli(
    ['record', '-o', out, '--hide-progress', '--native', '--rate', String(options.rate), '--', interp.exe, ...python],
    { env: { ...interp.env, ...options.env }, timeoutMs: 120_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  const file = JSON.parse(readFileSync(out, 'utf8')) as {
    frames: JsonFrame[];
    stacks: { frames: number[]; count: number }[];
    stats: NativeRecord['stats'];
    timeline?: NativeRecord['timeline'];
  };
  expect(file.timeline, 'our JSON keeps the timeline').toBeDefined();
  return {
    stacks: file.stacks.map((s) => ({ frames: s.frames.map((i) => file.frames[i]), count: s.count })),
    stats: file.stats,
    timeline: file.timeline!,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

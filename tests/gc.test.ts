/**
 * `<GC>`: while the cyclic garbage collector runs, a pseudo-frame on top of the stack, read from
 * the interpreter's own "collecting" flag (3.8 in the runtime, 3.9+ in each interpreter, 3.13+ as
 * _Py_DebugOffsets says). Its share must be the share of time the target itself measures inside
 * its collections (gc.callbacks, start to stop).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpreterById, interpreters, killAll, runCli, targetsDir, tempDir, type Interpreter } from './helpers.js';

afterAll(killAll);

interface ProfileFile {
  frames: { name: string; kind?: string }[];
  stacks: { frames: number[]; count: number }[];
}

function recordGc(interp: Interpreter, args: string[]) {
  const out = join(tempDir('gc'), 'profile.pyspy.json');
  const result = runCli(
    ['record', '-o', out, '--hide-progress', '--rate', '500', ...args, '--', interp.exe, join(targetsDir, 'gc_cycles.py'), '4'],
    { env: interp.env, timeoutMs: 120_000 },
  );
  expect(result.status, result.stderr).toBe(0);
  const line = result.stdout.split('\n').find((l) => l.startsWith('GC '));
  if (!line) throw new Error(`the target printed no GC line: ${result.stdout}`);
  const measured = JSON.parse(line.slice(3)) as { gc_s: number; loop_s: number };
  return { profile: JSON.parse(readFileSync(out, 'utf8')) as ProfileFile, measured, stderr: result.stderr };
}

function samples(profile: ProfileFile, has: (names: string[]) => boolean): number {
  return profile.stacks.filter((s) => has(s.frames.map((f) => profile.frames[f].name))).reduce((sum, s) => sum + s.count, 0);
}

/**
 * Where the collector's flag can be read and pinned on a thread: not 2.7 and 3.6 (a static of
 * gcmodule.c, in no structure reachable from outside), not free-threaded builds (a collection
 * stops the world, and no GIL says which thread runs it).
 */
const gcShown = (interp: Interpreter) => !interp.freeThreaded && !['2.7', '3.6'].includes(interp.minor);

describe('<GC> on top of the stack while the collector runs', () => {
  for (const interp of interpreters().filter((i) => !gcShown(i))) {
    it(`is not shown where the flag is out of reach, and the record is otherwise whole, on ${interp.id}`, () => {
      const { profile, stderr } = recordGc(interp, []);
      expect(profile.frames.filter((f) => f.kind === 'gc')).toEqual([]);
      expect(
        samples(profile, (names) => names.includes('churn')),
        stderr,
      ).toBeGreaterThan(200);
    }, 120_000);
  }

  for (const interp of interpreters().filter(gcShown)) {
    it(`takes the share of the time the target measured in its collections, within 5 points, on ${interp.id} (${interp.version})`, () => {
      const { profile, measured, stderr } = recordGc(interp, []);
      const gcFrames = profile.frames.filter((f) => f.kind === 'gc');
      expect(gcFrames.map((f) => f.name)).toEqual(['<GC>']);
      const inLoop = samples(profile, (names) => names.includes('churn'));
      const inGc = samples(profile, (names) => names.includes('churn') && names.at(-1) === '<GC>');
      // <GC> is always the innermost frame.
      expect(samples(profile, (names) => names.slice(0, -1).includes('<GC>'))).toBe(0);
      expect(inLoop, stderr).toBeGreaterThan(200);
      const share = (100 * inGc) / inLoop;
      const truth = (100 * measured.gc_s) / measured.loop_s;
      expect(
        Math.abs(share - truth),
        `<GC> ${share.toFixed(1)}% of the loop's samples, measured ${truth.toFixed(1)}%\n${stderr}`,
      ).toBeLessThan(5);
    }, 120_000);
  }

  it('--no-gc leaves it out', () => {
    const { profile } = recordGc(interpreterById('3.12-pyenv'), ['--no-gc']);
    expect(profile.frames.filter((f) => f.kind === 'gc')).toEqual([]);
  }, 120_000);
});

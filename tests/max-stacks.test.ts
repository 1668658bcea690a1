/**
 * `--max-stacks`: a record of a target that makes a new stack on every call keeps at most the cap
 * of distinct stacks, counts every later new stack as its thread's "<other stacks>", and says how
 * many samples went there, in the summary and in the profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpreterById, killAll, runCli, targetsDir, tempDir } from './helpers.js';

afterAll(killAll);

const interp = interpreterById('3.11-system');
const CAP = 5;

interface ProfileFile {
  frames: { name: string; file: string; line: number }[];
  stacks: { frames: number[]; thread: number; count: number }[];
  stats: { samples: number; ticks: number; otherSamples: number };
}

describe('--max-stacks', () => {
  it('counts samples of stacks beyond the cap as "<other stacks>" and reports how many', () => {
    const out = join(tempDir('max-stacks'), 'profile.pyspy.json');
    // --idle: the generated functions sleep, and every tick samples the thread whatever the CPU.
    const result = runCli(
      [
        'record',
        '-o',
        out,
        '--hide-progress',
        '--idle',
        '--rate',
        '100',
        '--max-stacks',
        String(CAP),
        '--',
        interp.exe,
        join(targetsDir, 'new_stacks.py'),
        '300',
        '0.01',
      ],
      { env: interp.env, timeoutMs: 120_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
    const { stats } = profile;
    // Each generated function runs about one tick: a record of this many ticks met far more than CAP of them.
    expect(stats.ticks).toBeGreaterThan(CAP * 10);

    const other = profile.frames.findIndex((f) => f.name === '<other stacks>');
    expect(other).toBeGreaterThanOrEqual(0);
    const isOther = (s: ProfileFile['stacks'][number]) => s.frames.length === 1 && s.frames[0] === other;
    const kept = profile.stacks.filter((s) => !isOther(s));
    const threads = new Set(profile.stacks.map((s) => s.thread)).size;
    // The cap counts every stack the profile holds, "<other stacks>" ones included once made.
    expect(kept.length).toBeLessThanOrEqual(CAP);
    expect(profile.stacks.length).toBeLessThanOrEqual(CAP + threads);

    const inOther = profile.stacks.filter(isOther).reduce((n, s) => n + s.count, 0);
    expect(stats.otherSamples).toBeGreaterThan(0);
    expect(inOther).toBe(stats.otherSamples);
    expect(kept.reduce((n, s) => n + s.count, 0) + inOther).toBe(stats.samples);
    expect(result.stderr).toContain(`Other stacks: ${stats.otherSamples.toLocaleString('en-US')} samples`);
  });

  it('refuses a cap that is not a whole number of at least 1', () => {
    for (const bad of ['0', '2.5', '-3']) {
      const result = runCli(
        ['record', '-o', join(tempDir('max-stacks'), 'x.txt'), '--max-stacks', bad, '--', interp.exe, '-c', 'pass'],
        {
          env: interp.env,
        },
      );
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--max-stacks must be a whole number/);
    }
  });
});

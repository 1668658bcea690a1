/**
 * `--thread-name` and `--tid`: threads that do not match are not read at all (no stat read, no
 * pause, no frame walked), so a sample costs what the threads kept cost.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from '@pyspy/core';
import { interpreterById, killAll, runCli, startPython, targetsDir, tempDir, waitFor, type StartedTarget } from './helpers.js';

afterAll(killAll);

const THREADS = 200;

interface ProfileFile {
  threads: { id: number; name: string }[];
  stats: { ticks: number; profilerCpuS: number; samples: number };
}

describe(`--thread-name and --tid on a target with ${THREADS} threads`, () => {
  const interp = interpreterById('3.12-pyenv');
  let target: StartedTarget;
  let tids: Record<string, number>;
  beforeAll(async () => {
    const truth = join(tempDir('threads'), 'truth.json');
    target = await startPython(interp, [join(targetsDir, 'many_threads.py'), String(THREADS), truth]);
    tids = await waitFor('the threads to start', () =>
      existsSync(truth) ? (JSON.parse(readFileSync(truth, 'utf8')) as { threads: Record<string, number> }).threads : undefined,
    );
  });
  afterAll(() => target?.child.kill('SIGKILL'));

  /** A 3 s record of the target; with --idle, parked threads are read too. */
  function record(args: string[]): ProfileFile {
    const out = join(tempDir('threads'), 'profile.pyspy.json');
    const result = runCli(['record', '-o', out, '--hide-progress', '-d', '3', ...args, '--pid', String(target.pid)], {
      timeoutMs: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
  }

  it('keeps only the threads whose name matches', () => {
    const pattern = '^t-0[01]';
    const profile = record(['--idle', '--rate', '50', '--thread-name', pattern]);
    const kept = Object.keys(tids).filter((name) => new RegExp(pattern).test(name));
    expect(kept).toHaveLength(20);
    expect(profile.threads.map((t) => t.name).sort()).toEqual(kept.sort());
  }, 120_000);

  it('with --idle, the CPU a tick costs falls with the number of threads kept', () => {
    // With --idle every thread kept is paused and its frames walked; the others are not looked at.
    const cpuPerTick = ['^t-', '^t-0[01]', '^t-00[01]$'].map((pattern) => {
      const { stats } = record(['--idle', '--rate', '100', '--thread-name', pattern]);
      expect(stats.ticks, pattern).toBeGreaterThan(50);
      return stats.profilerCpuS / stats.ticks;
    });
    const shown = cpuPerTick.map((s) => `${(s * 1e3).toFixed(3)} ms`).join(', ');
    // 200, 20 and 2 threads kept.
    expect(cpuPerTick[1], shown).toBeLessThan(cpuPerTick[0] / 2);
    expect(cpuPerTick[2], shown).toBeLessThan(cpuPerTick[0] / 2);
  }, 180_000);

  it('without --idle, parked threads kept cost a tick next to nothing', () => {
    // A parked thread is known to be parked without reading its stat file or its thread state
    // (while perf events are allowed, as here): 200 kept cost about what 2 do. Reading each
    // one's stat and thread state made it 4.4 times as much.
    const cpuPerTick = ['^t-', '^t-00[01]$'].map((pattern) => {
      const { stats } = record(['--rate', '100', '--thread-name', pattern]);
      expect(stats.ticks, pattern).toBeGreaterThan(50);
      return stats.profilerCpuS / stats.ticks;
    });
    const shown = cpuPerTick.map((s) => `${(s * 1e3).toFixed(3)} ms`).join(', ');
    expect(cpuPerTick[0], shown).toBeLessThan(cpuPerTick[1] * 3);
  }, 180_000);

  it('--tid keeps those threads, and with --thread-name a thread must match both', () => {
    const [a, b] = [tids['t-005'], tids['t-150']];
    const idle = ['--idle', '--rate', '50'];
    const both = record([...idle, '--tid', String(a), '--tid', String(b)]);
    expect(both.threads.map((t) => t.id).sort()).toEqual([a, b].sort());
    const named = record([...idle, '--tid', String(a), '--tid', String(b), '--thread-name', '^t-1']);
    expect(named.threads.map((t) => t.id)).toEqual([b]);
  }, 180_000);

  it('dump reads only the matching threads', async () => {
    const result = await dump(target.pid, { threadName: '^t-19' });
    expect(result.threads.map((t) => t.name).sort()).toEqual(
      Object.keys(tids)
        .filter((n) => n.startsWith('t-19'))
        .sort(),
    );
    const text = runCli(['dump', '--pid', String(target.pid), '--tid', String(tids['t-042'])]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.match(/^Thread /gm)).toHaveLength(1);
    expect(text.stdout).toContain(`Thread ${tids['t-042']} (idle): "t-042"`);
  });

  it('a pattern that is not a regular expression is refused with one line', () => {
    const result = runCli(['record', '--thread-name', 'worker-(', '--pid', String(target.pid)]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: --thread-name "worker-\(" is not a regular expression/);
  });
});

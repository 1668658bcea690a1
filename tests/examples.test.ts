/**
 * The examples stay true: each runs as its docstring or README says, against a real CPython.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpreterById, parseCollapsed, repoRoot, runCli, samplesIn, tempDir } from './helpers.js';

const interp = interpreterById('3.11-system');
const example = (name: string) => join(repoRoot, 'examples', name);

describe('examples/node-api/record.mjs', () => {
  it('records a command from Node and writes a flame graph and a reloadable profile', () => {
    const out = tempDir('node-api');
    const r = spawnSync(process.execPath, [example('node-api/record.mjs'), out, interp.exe, example('fibonacci.py'), '2'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...interp.env },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\d+ samples at \d+ Hz, 0 errors/);
    expect(readFileSync(join(out, 'profile.svg'), 'utf8')).toContain('fib (');
    const profile = JSON.parse(readFileSync(join(out, 'profile.pyspy.json'), 'utf8')) as { frames: { name: string }[] };
    expect(profile.frames.map((f) => f.name)).toContain('fib');
  });
});

describe('examples/asyncio_monitor.py', () => {
  it('shows the handler on the event loop and the executor thread, not the tasks that wait', () => {
    const out = join(tempDir('asyncio'), 'profile.txt');
    const result = runCli(
      ['record', '-o', out, '--hide-progress', '--', interp.exe, example('asyncio_monitor.py'), '--seconds', '3'],
      {
        env: interp.env,
        timeoutMs: 60_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const stacks = parseCollapsed(readFileSync(out, 'utf8'));
    expect(samplesIn(stacks, 'score')).toBeGreaterThan(50);
    // It needs the GIL between digests, and the busy loop holds it most of the time.
    expect(samplesIn(stacks, 'blocking_digest')).toBeGreaterThan(5);
    // Awaiting a timer leaves no Python frame running: the refresher is never seen at work.
    expect(samplesIn(stacks, 'refresh_cache')).toBeLessThan(5);
  });
});

describe('examples/health_monitor.py', () => {
  it("splits each monitor task's time between set-up and commands as the program measured it (--async --idle)", () => {
    const dir = tempDir('health');
    const out = join(dir, 'profile.txt');
    const report = join(dir, 'report.json');
    const result = runCli(
      [
        'record',
        '--async',
        '--idle',
        '-o',
        out,
        '--hide-progress',
        '--',
        interp.exe,
        example('health_monitor.py'),
        '--seconds',
        '6',
        '--report',
        report,
      ],
      { env: interp.env, timeoutMs: 90_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    const measured = (JSON.parse(readFileSync(report, 'utf8')) as { setup_share_pct: Record<string, number> }).setup_share_pct;
    const stacks = parseCollapsed(readFileSync(out, 'utf8'));
    for (const [host, share] of Object.entries(measured)) {
      // As the README says to read it: the frames above `Task monitor host-N`.
      let setup = 0;
      let commands = 0;
      for (const [stack, count] of stacks) {
        const frames = stack.split(';');
        const task = frames.indexOf(`Task monitor ${host}`);
        if (task < 0) continue;
        const above = frames.slice(task + 1);
        if (above.some((f) => f.startsWith('connect ('))) setup += count;
        else if (above.some((f) => f.startsWith('run_command ('))) commands += count;
      }
      expect(setup + commands, host).toBeGreaterThan(100);
      expect(
        Math.abs((100 * setup) / (setup + commands) - share),
        `${host}: set-up ${setup}, commands ${commands}, measured ${share}%`,
      ).toBeLessThan(10);
    }
  });
});

describe('examples/threadpools.py and examples/fibonacci.py', () => {
  it('exist and run to their end on their own', () => {
    for (const [script, args] of [
      ['threadpools.py', ['--seconds', '1']],
      ['fibonacci.py', ['0.5']],
    ] as const) {
      expect(existsSync(example(script))).toBe(true);
      const r = spawnSync(interp.exe, [example(script), ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, ...interp.env },
      });
      expect(r.status, `${script}: ${r.stderr}`).toBe(0);
    }
  });
});

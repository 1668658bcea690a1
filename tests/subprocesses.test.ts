/**
 * `--subprocesses`: each process of a multiprocessing pool under a root frame of its own,
 * `process PID: "command line"`, in every output format; `dump --subprocesses` dumps them all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump } from '@pyspy/core';
import { interpreterById, killAll, runCli, startPython, targetsDir, tempDir, waitFor, type StartedTarget } from './helpers.js';

afterAll(killAll);

interface Truth {
  parent: number;
  workers: number[];
  command_line: string;
}

const interp = interpreterById('3.11-system');

function rootName(pid: number, truth: Truth): string {
  return `process ${pid}: "${truth.command_line}"`;
}

describe('record --subprocesses on a pool of four workers', () => {
  const dir = tempDir('pool');
  const truthPath = join(dir, 'truth.json');
  const json = join(dir, 'profile.pyspy.json');
  let truth: Truth;
  let stderr: string;
  beforeAll(() => {
    const result = runCli(
      [
        'record',
        '-o',
        json,
        '--hide-progress',
        '--subprocesses',
        '--',
        interp.exe,
        join(targetsDir, 'pool_tree.py'),
        '4',
        truthPath,
      ],
      { env: interp.env, timeoutMs: 120_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    stderr = result.stderr;
    truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Truth;
  }, 180_000);

  /** Each of the five processes' root, by PID. */
  const expected = () => new Map([truth.parent, ...truth.workers].map((pid) => [pid, rootName(pid, truth)]));

  /** The file `convert` writes in this format: what record writes with that -o (see convert.test.ts). */
  function converted(extension: string): Buffer {
    const out = join(dir, `profile.${extension}`);
    const result = runCli(['convert', json, '-o', out]);
    expect(result.status, result.stderr).toBe(0);
    return readFileSync(out);
  }

  it('our JSON: five process roots, one per PID, each stack under its own process', () => {
    const profile = JSON.parse(readFileSync(json, 'utf8')) as {
      frames: { name: string; kind?: string }[];
      threads: { pid: number }[];
      stacks: { frames: number[]; thread: number }[];
    };
    const roots = new Map<number, string>();
    for (const stack of profile.stacks) {
      const root = profile.frames[stack.frames[0]];
      expect(root.kind, stderr).toBe('process');
      roots.set(profile.threads[stack.thread].pid, root.name);
    }
    expect(roots).toEqual(expected());
  });

  it('collapsed stacks and the flame graph: the five at the root', () => {
    const lines = converted('txt').toString('utf8').trim().split('\n');
    expect(new Set(lines.map((l) => l.split(';')[0]))).toEqual(new Set(expected().values()));
    const svg = converted('svg').toString('utf8');
    for (const name of expected().values()) expect(svg).toContain(`data-label="${name.replaceAll('"', '&quot;')}"`);
  });

  it('speedscope: one profile per process', () => {
    const file = JSON.parse(converted('speedscope.json').toString('utf8')) as { profiles: { name: string }[] };
    expect(file.profiles.map((p) => p.name).sort()).toEqual([...expected().values()].sort());
  });

  it('Chrome trace: one track per process, named by its root', () => {
    const { traceEvents } = JSON.parse(converted('trace.json').toString('utf8')) as {
      traceEvents: { name: string; pid: number; ph: string; args?: { name: string } }[];
    };
    const tracks = new Map(traceEvents.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]));
    expect(tracks).toEqual(expected());
    const pidsWithEvents = new Set(traceEvents.filter((e) => e.ph === 'B').map((e) => e.pid));
    expect(pidsWithEvents).toEqual(new Set(expected().keys()));
  });

  it('pprof: a process label for each', () => {
    const strings = gunzipSync(converted('pb.gz')).toString('latin1');
    for (const name of expected().values()) expect(strings).toContain(name);
    expect(strings).toContain('process');
  });
});

describe('dump --subprocesses', () => {
  let target: StartedTarget;
  let truth: Truth;
  beforeAll(async () => {
    const truthPath = join(tempDir('pool'), 'truth.json');
    target = await startPython(interp, [join(targetsDir, 'pool_tree.py'), '60', truthPath]);
    truth = await waitFor('the pool', () =>
      existsSync(truthPath) ? (JSON.parse(readFileSync(truthPath, 'utf8')) as Truth) : undefined,
    );
  });
  afterAll(() => target?.child.kill('SIGKILL'));

  it('dumps the parent and all four workers', async () => {
    const result = await dump(target.pid, { subprocesses: true });
    expect(result.pid).toBe(truth.parent);
    expect(result.subprocesses!.map((p) => p.pid).sort()).toEqual(truth.workers);
    for (const worker of result.subprocesses!) expect(worker.commandLine.join(' ')).toBe(truth.command_line);
    const text = runCli(['dump', '--pid', String(target.pid), '--subprocesses']);
    expect(text.status, text.stderr).toBe(0);
    const headers = [...text.stdout.matchAll(/^Process (\d+): /gm)].map((m) => Number(m[1]));
    expect(headers.sort()).toEqual([truth.parent, ...truth.workers].sort());
  });
});

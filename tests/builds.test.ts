/**
 * The commands dump.test.ts and record.test.ts do not run on every interpreter, on the builds
 * issue #16 added (2.7, 3.6, 3.7 and the free-threaded ones): record in every format, top, diff,
 * threads under their Python names, and --subprocesses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dump } from '@pyspy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  interpreters,
  killAll,
  parseCollapsed,
  runCli,
  samplesIn,
  startPython,
  targetsDir,
  tempDir,
  waitFor,
  type StartedTarget,
} from './helpers.js';

afterAll(killAll);

const added = interpreters().filter((i) => i.freeThreaded || ['2.7', '3.6', '3.7'].includes(i.minor));
const target = (name: string) => join(targetsDir, name);

/** Each format with its file name, and what its file must hold: its frames' names, readable. */
const FORMATS: [format: string, file: string, read: (bytes: Buffer) => string][] = [
  ['flamegraph', 'profile.svg', (b) => b.toString('utf8')],
  ['speedscope', 'profile.json', (b) => JSON.stringify(JSON.parse(b.toString('utf8')))],
  ['raw', 'profile.txt', (b) => b.toString('utf8')],
  ['chrometrace', 'profile.trace.json', (b) => JSON.stringify(JSON.parse(b.toString('utf8')))],
  ['json', 'profile.pyspy.json', (b) => JSON.stringify(JSON.parse(b.toString('utf8')))],
  ['pprof', 'profile.pb.gz', (b) => gunzipSync(b).toString('latin1')],
];

if (added.length === 0) throw new Error('none of 2.7, 3.6, 3.7 or a free-threaded build was provisioned');

/**
 * Resolves once a dump of `pid` shows `name` running: started is not yet running, and a cold start
 * under I/O contention took half a minute and more (3.13t's imports, from a 35 MB binary).
 */
async function spinningIn(pid: number, name: string, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await dump(pid).catch(() => undefined);
    if (result?.threads.some((t) => t.frames.some((f) => f.name === name))) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for process ${pid} to run ${name}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

for (const interp of added) {
  describe(`the other commands on ${interp.id} (${interp.version})`, () => {
    let spinning: StartedTarget;
    beforeAll(async () => {
      spinning = await startPython(interp, [target('split_70_30.py'), '600']);
      await spinningIn(spinning.pid, 'seventy');
    }, 180_000);
    afterAll(() => spinning?.child.kill('SIGKILL'));

    const recordPid = (args: string[], out: string) =>
      runCli([
        'record',
        '--pid',
        String(spinning.pid),
        '--duration',
        '1',
        '--rate',
        '200',
        '-o',
        out,
        '--hide-progress',
        ...args,
      ]);

    it('record writes every format, each holding the functions that ran', () => {
      const dir = tempDir('formats');
      for (const [format, file, read] of FORMATS) {
        const out = join(dir, file);
        const result = recordPid(['--format', format], out);
        expect(result.status, `${format}: ${result.stderr}`).toBe(0);
        const text = read(readFileSync(out));
        expect(text, format).toContain('seventy');
        expect(text, format).toContain('thirty');
      }
      expect(readFileSync(join(dir, 'profile.svg'), 'utf8').trimEnd().endsWith('</svg>')).toBe(true);
    });

    it('diff compares two records of it', () => {
      const dir = tempDir('diff');
      for (const name of ['base', 'head']) {
        const result = recordPid(['--format', 'json'], join(dir, `${name}.pyspy.json`));
        expect(result.status, result.stderr).toBe(0);
      }
      const diff = runCli(['diff', join(dir, 'base.pyspy.json'), join(dir, 'head.pyspy.json')]);
      expect(diff.status, diff.stderr).toBe(0);
      expect(diff.stdout).toMatch(/^seventy \(/m);
    });

    it('top shows its hot functions, and no GIL share where there is no GIL', () => {
      const result = runCli(['top', '--interval', '0.5', '--', interp.exe, target('split_70_30.py'), '2'], {
        env: interp.env,
        timeoutMs: 60_000,
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\bseventy \(/);
      expect(result.stdout).toContain(interp.freeThreaded ? 'GIL: none (free-threaded)' : 'GIL: ');
    });

    if (interp.minor === '2.7') {
      it("--native is refused (the merge does not know Python 2's eval loop), the target left running", () => {
        for (const args of [
          ['record', '--pid', String(spinning.pid), '--duration', '1', '--native', '-o', join(tempDir('native'), 'p.txt')],
          ['dump', '--pid', String(spinning.pid), '--native'],
        ]) {
          const result = runCli(args);
          expect(result.status, result.stderr).toBe(2); // PYSPY_INVALID_ARGUMENT
          expect(result.stderr).toMatch(/^error: --native cannot be used with Python 2\.7/);
        }
        expect(readFileSync(`/proc/${spinning.pid}/stat`, 'utf8').split(') ')[1][0]).not.toMatch(/[tT]/);
      });
    }

    it('--async is refused (it reads 3.8+ without free threading), the target left running', () => {
      for (const args of [
        ['record', '--pid', String(spinning.pid), '--duration', '1', '--async', '-o', join(tempDir('async'), 'p.txt')],
        ['top', '--pid', String(spinning.pid), '--async'],
        ['dump', '--pid', String(spinning.pid), '--async'],
      ]) {
        const result = runCli(args, { timeoutMs: 60_000 });
        expect(result.status, `${args[0]}: ${result.stderr}`).toBe(2); // PYSPY_INVALID_ARGUMENT
        expect(result.stderr).toMatch(/^error: --async cannot be used with Python /);
      }
      expect(readFileSync(`/proc/${spinning.pid}/stat`, 'utf8').split(') ')[1][0]).not.toMatch(/[tT]/);
    });

    it('--threads puts each thread at the root under its Python name, non-ASCII ones too', async () => {
      const truthPath = join(tempDir('truth'), 'truth.json');
      const parked = await startPython(interp, [target('parked_threads.py'), truthPath]);
      try {
        await waitFor('the threads to park', () => existsSync(truthPath), 120_000);
        const out = join(tempDir('threads'), 'profile.txt');
        const result = runCli([
          'record',
          '--pid',
          String(parked.pid),
          '--duration',
          '1',
          '--idle',
          '--threads',
          '-o',
          out,
          '--hide-progress',
        ]);
        expect(result.status, result.stderr).toBe(0);
        const roots = new Set(
          [...parseCollapsed(readFileSync(out, 'utf8')).keys()].map((s) => s.split(';')[0].replace(/ \(tid \d+\)$/, '')),
        );
        for (const name of ['MainThread', 'deep-recursion', 'hilo-ñandú', 'スレッド・関数を待つ']) {
          expect(roots, [...roots].join(', ')).toContain(`thread ${name}`);
        }
      } finally {
        parked.child.kill('SIGKILL');
      }
    }, 180_000);

    it('--subprocesses follows multiprocessing workers', async () => {
      // Attached once the workers run, so that how long the parent takes to start them on a busy
      // machine (half a minute for 3.13t from a cold cache) does not decide what a record sees.
      const pool = await startPython(interp, [target('pool_workers.py'), '120']);
      try {
        const children = () => {
          try {
            return readFileSync(`/proc/${pool.pid}/task/${pool.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
          } catch {
            return [];
          }
        };
        await waitFor('the two workers', () => children().length >= 2, 150_000);
        const out = join(tempDir('pool'), 'profile.txt');
        const record = (args: string[]) =>
          runCli(['record', '--pid', String(pool.pid), '--duration', '3', '-o', out, '--hide-progress', ...args], {
            timeoutMs: 60_000,
          });
        const withChildren = record(['--subprocesses']);
        expect(withChildren.status, withChildren.stderr).toBe(0);
        expect(samplesIn(parseCollapsed(readFileSync(out, 'utf8')), 'worker_task'), withChildren.stderr).toBeGreaterThan(0);
        const without = record([]);
        expect(without.status, without.stderr).toBe(0);
        expect(samplesIn(parseCollapsed(readFileSync(out, 'utf8')), 'worker_task')).toBe(0);
      } finally {
        pool.child.kill('SIGKILL');
      }
    }, 240_000);
  });
}

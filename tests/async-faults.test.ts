/**
 * `--async` under churn (tests/targets/async_churn.py): loops torn down while they are read, task
 * lists that change under every read, threads that end and hand their tasks to the interpreter.
 * Whatever is caught half-changed, a read ends: the sample keeps its plain stack and the record
 * counts an error, a dump fails with a one-line error; never a crash, a hang or a stopped target.
 * (A corrupted task object is the fuzz target's: it patches planted images with tasks.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  interpreterById,
  isRunning,
  killAll,
  runCli,
  startPython,
  targetsDir,
  tempDir,
  threadStates,
  waitFor,
  type StartedTarget,
} from './helpers.js';

afterAll(killAll);

/** One interpreter per way tasks are kept: WeakSet and thread dict, 3.12's eager set, 3.13's thread state, 3.14's lists. */
const INTERPRETERS = ['3.9-pyenv', '3.12-pyenv', '3.13-trixie', '3.14-sid', '3.15-sid'].map(interpreterById);

async function startChurn(id: string): Promise<{ target: StartedTarget; progress: () => number }> {
  const counter = join(tempDir('churn'), 'counter');
  const target = await startPython(interpreterById(id), [join(targetsDir, 'async_churn.py'), counter, '300']);
  const progress = () => (existsSync(counter) ? Number(readFileSync(counter, 'utf8').trim() || 0) : 0);
  await waitFor(`async_churn.py to run (output so far: ${target.output()})`, () => progress() > 0);
  return { target, progress };
}

async function expectRunningAndProgressing(pid: number, progress: () => number) {
  expect(isRunning(pid)).toBe(true);
  expect(threadStates(pid).filter((s) => s === 'T' || s === 't')).toEqual([]);
  const before = progress();
  await waitFor('the target to make progress', () => progress() > before);
}

for (const interp of INTERPRETERS) {
  describe(`--async on ${interp.id} while loops and tasks come and go`, () => {
    let churn: Awaited<ReturnType<typeof startChurn>>;
    afterAll(() => churn?.target.child.kill('SIGKILL'));

    it('record --async --idle at 1 kHz, blocking and not, ends with a whole profile and a running target', async () => {
      churn = await startChurn(interp.id);
      for (const mode of [[], ['--nonblocking']]) {
        const out = join(tempDir('churn-record'), 'profile.pyspy.json');
        const args = ['record', '--pid', String(churn.target.pid), '--async', '--idle', '--rate', '1000', '--duration', '2'];
        const result = runCli([...args, ...mode, '-o', out, '--hide-progress'], { timeoutMs: 60_000 });
        expect(result.status, result.stderr).toBe(0);
        const profile = JSON.parse(readFileSync(out, 'utf8')) as { stats: { ticks: number; samples: number; errors: number } };
        expect(profile.stats.ticks).toBeGreaterThan(0);
        expect(profile.stats.errors).toBeLessThanOrEqual(profile.stats.ticks);
        await expectRunningAndProgressing(churn.target.pid, churn.progress);
      }
    });

    it('dump --async, 20 times: each a tree or one line saying why not', async () => {
      for (let i = 0; i < 20; i++) {
        const result = runCli(['dump', '--async', '--pid', String(churn.target.pid)], { timeoutMs: 30_000 });
        if (result.status !== 0) {
          expect(result.status, result.stderr).toBe(8);
          // A thread that ended while the dump paused them, or an --async read caught half-changed.
          expect(result.stderr).toMatch(/^error: [^\n]+\n$/);
        } else {
          expect(result.stdout).toContain('Event loop');
        }
      }
      await expectRunningAndProgressing(churn.target.pid, churn.progress);
    });
  });
}

/**
 * `record` against real interpreters: the measured split of CPU time is the real one, each option
 * changes the output as documented, and an interrupted record still leaves a whole file.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import {
  interpreters,
  isRunning,
  killAll,
  parseCollapsed,
  runCli,
  samplesIn,
  startCli,
  startPython,
  targetsDir,
  taskCount,
  tempDir,
  threadStates,
  totalSamples,
  samplerRunning,
  waitFor,
  type Interpreter,
  interpreterById,
} from './helpers.js';

afterAll(killAll);

const all = interpreters();
const byId = interpreterById;
/**
 * One interpreter per way of finding the GIL holder: the _PyThreadState_Current global (2.7,
 * 3.6), runtime tstate (3.7-3.11), interp->ceval.gil (3.12), debug offsets (3.13+).
 */
const gilVariants = ['2.7-pyenv', '3.11-system', '3.12-pyenv', '3.14-sid'].map(byId);

function target(name: string): string {
  return join(targetsDir, name);
}

function recordRaw(interp: Interpreter, args: string[], python: string[]): { stacks: Map<string, number>; stderr: string } {
  const out = join(tempDir('record'), 'profile.txt');
  const result = runCli(['record', '-o', out, '--hide-progress', ...args, '--', interp.exe, ...python], {
    env: interp.env,
    timeoutMs: 120_000,
  });
  expect(result.status, result.stderr).toBe(0);
  return { stacks: parseCollapsed(readFileSync(out, 'utf8')), stderr: result.stderr };
}

interface RecordedJson {
  stacks: Map<string, number>;
  stats: { samples: number; ticks: number; achievedRateHz: number; errors: number };
  stdout: string;
  stderr: string;
}

/** Records in pyspy-ts's JSON: the stacks as collapsed lines would show them, and the record's own counts. */
function recordJson(interp: Interpreter, args: string[], python: string[]): RecordedJson {
  const out = join(tempDir('record'), 'profile.pyspy.json');
  const result = runCli(['record', '-o', out, '--hide-progress', ...args, '--', interp.exe, ...python], {
    env: interp.env,
    timeoutMs: 120_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const file = JSON.parse(readFileSync(out, 'utf8')) as {
    frames: { name: string; file: string; line: number }[];
    stacks: { frames: number[]; count: number }[];
    stats: RecordedJson['stats'];
  };
  const stacks = new Map<string, number>();
  for (const stack of file.stacks) {
    const key = stack.frames.map((i) => `${file.frames[i].name} (${file.frames[i].file}:${file.frames[i].line})`).join(';');
    stacks.set(key, (stacks.get(key) ?? 0) + stack.count);
  }
  return { stacks, stats: file.stats, stdout: result.stdout, stderr: result.stderr };
}

/** The `CPU {...}` line mixed_threads.py prints at its end: each busy thread's CPU seconds. */
function targetCpuSeconds(stdout: string): { MainThread: number; compressor: number } {
  const line = stdout.split('\n').find((l) => l.startsWith('CPU '));
  if (!line) throw new Error(`the target printed no CPU line: ${stdout}`);
  return JSON.parse(line.slice(4));
}

/**
 * Resolves once a blocking record has paused the target (a thread seen in a ptrace stop) and has
 * had a moment more: a record that starts slowly on a busy machine is then really sampling.
 */
async function sampling(pid: number): Promise<void> {
  await waitFor('the record to pause the target', () => threadStates(pid).includes('t'), 60_000);
  await new Promise((r) => setTimeout(r, 500));
}

/** No temporary file is left beside an output. */
function expectNoTempFiles(dir: string) {
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe('record measures where the time goes', () => {
  for (const interp of all) {
    // 1 kHz for 10 s: about 10,000 samples, so sampling noise (one standard deviation of a 70/30
    // split is 0.46 points) stays far inside the 2 points even when a busy machine jitters the
    // schedule; at 100 Hz it would be 1.45 points, and a loaded run fails one time in six.
    it(`splits 70/30 within 2 points on ${interp.id} (${interp.version}), 10 s at 1 kHz`, () => {
      const { stacks, stderr } = recordRaw(interp, ['--rate', '1000'], [target('split_70_30.py'), '10']);
      const seventy = samplesIn(stacks, 'seventy');
      const thirty = samplesIn(stacks, 'thirty');
      // Nearly every sample is in one of the two: the rest is start-up and exit.
      expect(seventy + thirty, stderr).toBeGreaterThan(0.95 * totalSamples(stacks));
      const share = (100 * seventy) / (seventy + thirty);
      expect(share, stderr).toBeGreaterThan(68);
      expect(share, stderr).toBeLessThan(72);
      expect(stderr).toMatch(/The program exited with code 0/);
      // A read can fail at the very end, as the program exits under us; it is counted, not hidden.
      const errors = Number(/Errors: ([\d,]+)\./.exec(stderr)?.[1] ?? Number.NaN);
      expect(errors, stderr).toBeLessThanOrEqual(2);
    });
  }
});

describe('record options change the output as documented', () => {
  for (const interp of gilVariants) {
    describe(`on ${interp.id} (${interp.version})`, () => {
      const mixed = [target('mixed_threads.py'), '3'];

      // How many samples a busy thread gets depends on how much CPU the machine gave it: the
      // bounds come from the CPU seconds the target measured itself and the rate the record achieved.
      it('leaves idle threads out by default and puts them in with --idle', () => {
        const normal = recordJson(interp, [], mixed);
        const cpu = targetCpuSeconds(normal.stdout);
        const rate = normal.stats.achievedRateHz;
        expect(samplesIn(normal.stacks, 'python_work'), normal.stderr).toBeGreaterThan(0.5 * cpu.MainThread * rate);
        expect(samplesIn(normal.stacks, 'gil_free_work'), normal.stderr).toBeGreaterThan(0.5 * cpu.compressor * rate);
        // Only while the sleeper starts (runnable until it gets a core) is it not idle; counted
        // as busy, it would be a third of all samples.
        expect(samplesIn(normal.stacks, 'idle_wait') / totalSamples(normal.stacks)).toBeLessThan(0.02);
        const idle = recordJson(interp, ['--idle'], mixed);
        // The sleeper sleeps through the target's whole loop (3 s): one sample a tick.
        expect(samplesIn(idle.stacks, 'idle_wait'), idle.stderr).toBeGreaterThan(0.8 * 3 * idle.stats.achievedRateHz);
      });

      it('--gil keeps only the thread holding the GIL', () => {
        const normal = recordJson(interp, [], mixed);
        const gil = recordJson(interp, ['--gil'], mixed);
        const freeShare = (s: Map<string, number>) => samplesIn(s, 'gil_free_work') / totalSamples(s);
        const cpu = targetCpuSeconds(gil.stdout);
        expect(samplesIn(gil.stacks, 'python_work'), gil.stderr).toBeGreaterThan(0.5 * cpu.MainThread * gil.stats.achievedRateHz);
        // zlib.compress runs without the GIL: its thread rarely holds it.
        expect(freeShare(gil.stacks)).toBeLessThan(freeShare(normal.stacks) / 3);
      });

      it('--threads puts each thread at the root, under its Python name', () => {
        expectThreadRootsNamedByPython(interp, mixed);
      });

      it('--function shows each function at its first line; --nolineno shows no lines', () => {
        const lines = (stacks: Map<string, number>, name: string) =>
          new Set([...stacks.keys()].flatMap((s) => s.split(';')).filter((f) => f.startsWith(`${name} (`)));
        const byLine = recordRaw(interp, [], mixed).stacks;
        expect(lines(byLine, 'python_work').size).toBeGreaterThan(1);
        const byFunction = recordRaw(interp, ['--function'], mixed).stacks;
        const firstLine = readFileSync(target('mixed_threads.py'), 'utf8').split('\n').indexOf('def python_work():') + 1;
        expect([...lines(byFunction, 'python_work')]).toEqual([`python_work (targets/mixed_threads.py:${firstLine})`]);
        const noLines = recordRaw(interp, ['--nolineno'], mixed).stacks;
        expect([...lines(noLines, 'python_work')]).toEqual(['python_work (targets/mixed_threads.py)']);
      });
    });
  }

  it('--threads puts each thread at the root under its Python name on 3.9 too', () => {
    expectThreadRootsNamedByPython(byId('3.9-bullseye'), [target('mixed_threads.py'), '3']);
  });
});

/** Before 3.14 the kernel calls every thread "python3.X": "MainThread" can only come from Python's objects. */
function expectThreadRootsNamedByPython(interp: Interpreter, python: string[]) {
  const { stacks } = recordRaw(interp, ['--threads'], python);
  const roots = new Set([...stacks.keys()].map((s) => s.split(';')[0]));
  // The main thread and the compressor are busy; each is its own root, named with its TID.
  const names = [...roots].map((r) => /^thread (.+) \(tid \d+\)$/.exec(r)?.[1]);
  expect(names).toContain('MainThread');
  expect(names).toContain('compressor');
  expect(names.every((n) => n !== undefined)).toBe(true);
}

/** A thread's time on a core and waiting on a run queue for one, in seconds (its schedstat). */
function schedulerTimes(pid: number, tid: number): { running: number; waiting: number } {
  const [running, waiting] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
  return { running: running / 1e9, waiting: waiting / 1e9 };
}

describe('record on a free-threaded build', () => {
  for (const interp of all.filter((i) => i.freeThreaded)) {
    /*
     * Without a GIL the four spinners of four_threads.py run Python at once, and every tick samples
     * each of them: four samples a tick, a quarter each. The share is what the issue asks for.
     *
     * Against the kernel: a sample says what py-spy's does, "this thread was not idle", that is
     * running on a core or runnable and waiting for one. On a machine with four free cores that is
     * CPU time. On this 2-core one (with two CPU-bound processes beside the tests) the four cannot
     * all run at once, and the kernel splits the cores among them unevenly (measured: up to ±3.5
     * points over 5 s); a blocking record also stops them for each sample, which moves that split
     * further. So the comparison with the kernel is made on a --nonblocking record, which never
     * stops them, over what schedstat says of each thread during it: its share of time running or
     * runnable, which the samples must match within 3 points; and its share of CPU time, which
     * they must match within 3 points plus how far the kernel's split of the cores was from the
     * runnable shares (|runnable share - CPU share|, measured, not the profiler's error).
     */
    it(`samples four threads running at once on ${interp.id} (${interp.version}): four per tick, a quarter each`, async () => {
      const dir = tempDir('four-threads');
      const ready = join(dir, 'ready.json');
      const t = await startPython(interp, [target('four_threads.py'), '180', ready]);
      const tids = await waitFor(
        'the four threads to spin',
        () => existsSync(ready) && (JSON.parse(readFileSync(ready, 'utf8')) as Record<string, number>),
        60_000,
      );
      const names = Object.keys(tids);
      const times = () => Object.fromEntries(names.map((name) => [name, schedulerTimes(t.pid, tids[name])]));
      const record = (args: string[]) => {
        const before = times();
        const out = join(dir, `profile${args.join('')}.pyspy.json`);
        const result = runCli(
          ['record', '--pid', String(t.pid), '--duration', '5', '--rate', '1000', '-o', out, '--hide-progress', ...args],
          {
            timeoutMs: 120_000,
          },
        );
        const after = times();
        expect(result.status, result.stderr).toBe(0);
        const file = JSON.parse(readFileSync(out, 'utf8')) as {
          threads: { id: number }[];
          stacks: { thread: number; count: number }[];
          stats: { samples: number; ticks: number };
        };
        const byTid = new Map<number, number>();
        for (const stack of file.stacks) {
          const tid = file.threads[stack.thread].id;
          byTid.set(tid, (byTid.get(tid) ?? 0) + stack.count);
        }
        const sampled = Object.fromEntries(names.map((name) => [name, byTid.get(tids[name]) ?? 0]));
        return { stderr: result.stderr, stats: file.stats, sampled, before, after };
      };
      const shares = (values: Record<string, number>) => {
        const sum = names.reduce((total, name) => total + values[name], 0);
        return Object.fromEntries(names.map((name) => [name, (100 * values[name]) / sum]));
      };

      const blocking = record([]);
      const perTick = blocking.stats.samples / blocking.stats.ticks;
      // Every tick finds the four spinning and the main thread idle in join(); a read that fails
      // loses a sample (and is counted as an error).
      expect(perTick, blocking.stderr).toBeGreaterThanOrEqual(3.8);
      expect(perTick, blocking.stderr).toBeLessThanOrEqual(4);
      expect(blocking.stderr).toContain(`Samples per tick: ${perTick.toFixed(2)}.`);
      for (const [name, share] of Object.entries(shares(blocking.sampled))) {
        expect(Math.abs(share - 25), `${name}: ${share.toFixed(1)}%\n${blocking.stderr}`).toBeLessThanOrEqual(3);
      }

      const free = record(['--nonblocking']);
      t.child.kill('SIGKILL');
      const delta = (pick: (s: { running: number; waiting: number }) => number) =>
        Object.fromEntries(names.map((name) => [name, pick(free.after[name]) - pick(free.before[name])]));
      const sampleShare = shares(free.sampled);
      const runnableShare = shares(delta((s) => s.running + s.waiting));
      const cpuShare = shares(delta((s) => s.running));
      for (const name of names) {
        const context =
          `${name}: ${sampleShare[name].toFixed(1)}% of samples, ${runnableShare[name].toFixed(1)}% of the time running or ` +
          `runnable, ${cpuShare[name].toFixed(1)}% of CPU time\n${free.stderr}`;
        expect(Math.abs(sampleShare[name] - runnableShare[name]), context).toBeLessThanOrEqual(3);
        const unevenCores = Math.abs(runnableShare[name] - cpuShare[name]);
        expect(Math.abs(sampleShare[name] - cpuShare[name]), context).toBeLessThanOrEqual(3 + unevenCores);
      }
    });
  }
});

describe('record follows subprocesses', () => {
  const interp = byId('3.11-system');
  it('shows the multiprocessing workers only with --subprocesses', () => {
    const pool = [target('pool_workers.py'), '4'];
    const without = recordRaw(interp, [], pool).stacks;
    expect(samplesIn(without, 'worker_task')).toBe(0);
    const withChildren = recordRaw(interp, ['--subprocesses'], pool).stacks;
    expect(samplesIn(withChildren, 'worker_task')).toBeGreaterThan(50);
  });
});

describe('record never loses the profile and never leaves the target stopped', () => {
  const interp = byId('3.11-system');

  const progressOf = (file: string): number => Number(readFileSync(file, 'utf8').trim() || 0);

  // SIGINT is Ctrl-C; SIGTERM is what a CI job runner, `timeout` or systemd send to stop a profiler.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during a blocking 1 kHz record of --pid: whole file, target running and progressing`, async () => {
      const dir = tempDir(signal.toLowerCase());
      const counter = join(dir, 'counter');
      const script = `import time\nn=0\nwhile True:\n    n+=1\n    if n % 10000 == 0: open(${JSON.stringify(counter)}, 'w').write(str(n))\n`;
      const t = await startPython(interp, ['-c', script]);
      await waitFor('the counter', () => existsSync(counter));
      const out = join(dir, 'profile.json');
      const cli = startCli(['record', '-o', out, '--rate', '1000', '--pid', String(t.pid)]);
      await sampling(t.pid);
      cli.child.kill(signal);
      const result = await cli.done;
      expect(result.status, result.stderr).toBe(0);
      const file = JSON.parse(readFileSync(out, 'utf8')) as { profiles: { weights: number[] }[] };
      expect(file.profiles[0].weights.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      expectNoTempFiles(dir);
      expect(threadStates(t.pid).filter((s) => s === 'T' || s === 't')).toEqual([]);
      const before = progressOf(counter);
      await waitFor('the target to make progress', () => progressOf(counter) > before);
      expect(isRunning(t.pid)).toBe(true);
    });
  }

  it('SIGTERM during a record of a launched program: whole file, program ended', async () => {
    const dir = tempDir('sigterm');
    const out = join(dir, 'profile.svg');
    const cli = startCli(['record', '-o', out, '--rate', '1000', '--', interp.exe, target('split_70_30.py'), '60'], {
      env: interp.env,
    });
    await samplerRunning(cli.child.pid!);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.status, result.stderr).toBe(0);
    const svg = readFileSync(out, 'utf8');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('seventy');
    expectNoTempFiles(dir);
  });

  it('the target killed mid-record: whole file with what was collected, and it says so', async () => {
    const dir = tempDir('killed');
    const t = await startPython(interp, [target('split_70_30.py'), '60']);
    await waitFor('python to start', () => taskCount(t.pid) > 0);
    await new Promise((r) => setTimeout(r, 300));
    const out = join(dir, 'profile.txt');
    const cli = startCli(['record', '-o', out, '--rate', '1000', '--pid', String(t.pid)]);
    await sampling(t.pid);
    t.child.kill('SIGKILL');
    const result = await cli.done;
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/exited/);
    expect(samplesIn(parseCollapsed(readFileSync(out, 'utf8')), 'seventy')).toBeGreaterThan(0);
    expectNoTempFiles(dir);
  });

  it("passes a launched program's failing exit code through", () => {
    const out = join(tempDir('exit'), 'profile.txt');
    const result = runCli(['record', '-o', out, '--', interp.exe, '-c', 'import time; time.sleep(0.5); raise SystemExit(3)'], {
      env: interp.env,
    });
    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/exited with code 3/);
    expect(existsSync(out)).toBe(true);
  });
});

describe('record refuses bad arguments before sampling', () => {
  const interp = all[0];

  it('an output path that cannot be written fails at once, leaving nothing', () => {
    const started = Date.now();
    const result = runCli(['record', '-o', '/nonexistent-dir/profile.svg', '--duration', '5', '--', interp.exe, '-c', 'pass'], {
      env: interp.env,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error: cannot write \/nonexistent-dir\/profile.svg: its directory does not exist/);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('an unknown format is a usage error', () => {
    const result = runCli(['record', '--format', 'bogus', '--pid', '1']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/format/);
  });

  for (const rate of ['0', '-5', '1e9', 'abc']) {
    it(`a rate of ${rate} is refused with one line`, () => {
      const result = runCli(['record', '--rate', rate, '--pid', String(process.pid)]);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')[0]).toMatch(/rate/);
    });
  }
});

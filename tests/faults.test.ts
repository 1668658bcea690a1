/**
 * Faults: a profiler attached to a production process must never leave it stopped, whatever
 * happens to the profiler or to the target, and must read targets in containers too.
 */
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isRunning,
  killAll,
  parseCollapsed,
  runCli,
  samplesIn,
  startCli,
  startPython,
  tempDir,
  threadStates,
  totalSamples,
  samplerRunning,
  waitFor,
  type Interpreter,
  interpreterById,
} from './helpers.js';

afterAll(killAll);

const interp: Interpreter = interpreterById('3.11-system');

/** A target that counts in a file, so a test can see it keep making progress. */
function counterScript(counter: string, extra = ''): string {
  return [
    'import threading, time',
    extra,
    'n = 0',
    'while True:',
    '    n += 1',
    `    if n % 20000 == 0: open(${JSON.stringify(counter)}, 'w').write(str(n))`,
  ].join('\n');
}

const progressOf = (file: string): number => Number(readFileSync(file, 'utf8').trim() || 0);

async function expectRunningAndProgressing(pid: number, counter: string) {
  expect(isRunning(pid)).toBe(true);
  expect(threadStates(pid).filter((s) => s === 'T' || s === 't')).toEqual([]);
  const before = progressOf(counter);
  await waitFor('the target to make progress', () => progressOf(counter) > before);
}

describe('the target survives whatever happens to the profiler', () => {
  it('SIGKILL of the profiler during a blocking 1 kHz record leaves the target running', async () => {
    const dir = tempDir('sigkill');
    const counter = join(dir, 'counter');
    const target = await startPython(interp, ['-c', counterScript(counter)]);
    await waitFor('the counter', () => existsSync(counter));
    const out = join(dir, 'profile.svg');
    const cli = startCli(['record', '-o', out, '--rate', '1000', '--pid', String(target.pid)]);
    await new Promise((r) => setTimeout(r, 1500));
    cli.child.kill('SIGKILL');
    await cli.done;
    // The kernel detaches a dead tracer's tracees; nothing half-written is left at the path.
    expect(existsSync(out)).toBe(false);
    await expectRunningAndProgressing(target.pid, counter);
  });

  it('threads created and destroyed at a high rate while sampling at 1 kHz', async () => {
    const dir = tempDir('churn');
    const counter = join(dir, 'counter');
    const churn = [
      'def short_lived():',
      '    sum(range(200))',
      'def spawner():',
      '    while True:',
      '        t = threading.Thread(target=short_lived); t.start(); t.join()',
      'for _ in range(2): threading.Thread(target=spawner, daemon=True).start()',
    ].join('\n');
    const target = await startPython(interp, ['-c', counterScript(counter, churn)]);
    await waitFor('the counter', () => existsSync(counter));
    const out = join(dir, 'profile.txt');
    const result = runCli([
      'record',
      '-o',
      out,
      '--rate',
      '1000',
      '--duration',
      '3',
      '--hide-progress',
      '--pid',
      String(target.pid),
    ]);
    expect(result.status, result.stderr).toBe(0);
    const stacks = parseCollapsed(readFileSync(out, 'utf8'));
    expect(samplesIn(stacks, '<module>'), result.stderr).toBeGreaterThan(100);
    // Threads that vanish mid-sample cost at most a few errors, and errors are reported, not hidden.
    const errors = Number(/Errors: ([\d,]+)\./.exec(result.stderr)?.[1].replace(/,/g, '') ?? NaN);
    expect(errors, result.stderr).toBeLessThan(300);
    await expectRunningAndProgressing(target.pid, counter);
  });
});

interface ProfileFile {
  meta: { pid: number; exitCode?: number; stopReason?: string };
  stats: { samples: number; errors: number };
  frames: { name: string }[];
  stacks: { frames: number[]; count: number }[];
}

/** Samples (from a `.pyspy.json` file) whose stack has a frame of function `name`. */
/**
 * The record kept what it sampled before the target died: some samples of the busy threads, and
 * the file's stacks hold every sample its statistics count. (How many there are depends on how
 * long the machine let the record run, so that is not what is checked.)
 */
function expectWholeProfile(file: ProfileFile, context: string) {
  expect(samplesInFile(file, 'work'), context).toBeGreaterThan(0);
  expect(
    file.stacks.reduce((sum, s) => sum + s.count, 0),
    context,
  ).toBe(file.stats.samples);
}

function samplesInFile(file: ProfileFile, name: string): number {
  return file.stacks.filter((s) => s.frames.some((f) => file.frames[f].name === name)).reduce((sum, s) => sum + s.count, 0);
}

/** Gone from /proc: exited and reaped, so nothing (our tracer included) holds it as a zombie. */
const reaped = (pid: number) => !existsSync(`/proc/${pid}`);

/**
 * How long a record may take to end once its target is gone. It notices on its next tick (a
 * fraction of a millisecond at these rates) plus at most one pause timeout (500 ms); the rest is
 * room for a loaded 2-core machine. A hang shows as the full 30 s.
 */
const END_AFTER_EXIT_MS = 10_000;

/** Resolves with the CLI's result, or with undefined when it has not ended within `ms`. */
function endedWithin<T>(done: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms))]);
}

describe('the target exits in the middle of a blocking pause', () => {
  const busyThreads = [
    'def work(k):',
    '    while True:',
    '        sum(i * k for i in range(1000))',
    'for k in range(4): threading.Thread(target=work, args=(k,), daemon=True).start()',
  ].join('\n');

  it('SIGKILL of a multi-threaded target while paused by a 5 kHz blocking record, 5 times', async () => {
    const endedAfterMs: number[] = [];
    const reapedAfterMs: number[] = [];
    for (let iteration = 0; iteration < 5; iteration++) {
      const dir = tempDir('killed-paused');
      const counter = join(dir, 'counter');
      const target = await startPython(interp, ['-c', counterScript(counter, busyThreads)]);
      await waitFor('the counter', () => existsSync(counter));
      const out = join(dir, 'profile.pyspy.json');
      // Every other time with --idle: that pauses every thread, sleeping ones included, not just the running ones.
      const idle = iteration % 2 === 1 ? ['--idle'] : [];
      const cli = startCli(['record', '-o', out, '--rate', '5000', '--hide-progress', ...idle, '--pid', String(target.pid)]);
      // Sampling has begun once a thread is seen held in a ptrace stop (on a busy machine the
      // record may take seconds to start); then kill the target the moment one is seen again:
      // inside a pause, with samples taken before it.
      const inPause = () => threadStates(target.pid).includes('t');
      await waitFor('the record to pause the target', inPause, 60_000);
      await new Promise((r) => setTimeout(r, 300));
      await waitFor('a thread of the target in a ptrace stop', inPause);
      target.child.kill('SIGKILL');
      const killedAt = Date.now();
      const exited = target.child.exited.then(() => reapedAfterMs.push(Date.now() - killedAt));
      const result = await endedWithin(cli.done, 30_000);
      expect(result, 'the record did not end after its target was killed').toBeDefined();
      endedAfterMs.push(Date.now() - killedAt);
      await endedWithin(exited, 30_000);
      const context = `iteration ${iteration}${idle.join('')}: ${result!.stderr}`;
      expect(result!.status, context).toBe(0);
      expect(result!.stderr, context).toMatch(/The program exited; stopped sampling\./);
      const file = JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
      expect(file.meta.stopReason, context).toBe('target-exited');
      expectWholeProfile(file, context);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      expect(reaped(target.pid), `${context}: the killed target is still in /proc`).toBe(true);
    }
    expect(Math.max(...endedAfterMs), `ms from the kill to the end of the record: ${endedAfterMs.join(' ')}`).toBeLessThan(
      END_AFTER_EXIT_MS,
    );
    expect(Math.max(...reapedAfterMs), `ms from the kill to the target reaped: ${reapedAfterMs.join(' ')}`).toBeLessThan(
      END_AFTER_EXIT_MS,
    );
  }, 120_000);

  it('a launched program calling os._exit() from a non-main thread during a 5 kHz blocking record, 3 times', async () => {
    const endedAfterMs: number[] = [];
    for (let iteration = 0; iteration < 3; iteration++) {
      const dir = tempDir('os-exit');
      const exitedAt = join(dir, 'exited-at');
      // The exiting thread is not the main one: exit_group() then tears down every other thread,
      // some of them perhaps held in our pause, from under the sampler.
      const script = [
        'import os, threading, time',
        busyThreads,
        'def leave():',
        '    time.sleep(1.5)',
        '    sum(i for i in range(100000))',
        `    with open(${JSON.stringify(exitedAt)}, 'w') as f: f.write(str(time.time()))`,
        '    os._exit(7)',
        'threading.Thread(target=leave, name="leaver").start()',
        'while True: pass',
      ].join('\n');
      const out = join(dir, 'profile.pyspy.json');
      const idle = iteration % 2 === 1 ? ['--idle'] : [];
      const cli = startCli(['record', '-o', out, '--rate', '5000', '--hide-progress', ...idle, '--', interp.exe, '-c', script], {
        env: interp.env,
      });
      const result = await endedWithin(cli.done, 60_000);
      expect(result, 'the record did not end after the program exited').toBeDefined();
      const context = `iteration ${iteration}${idle.join('')}: ${result!.stderr}`;
      expect(existsSync(exitedAt), context).toBe(true);
      endedAfterMs.push(Math.round(Date.now() - Number(readFileSync(exitedAt, 'utf8')) * 1000));
      // Documented: a launched program's nonzero exit code is pyspy-ts's, after writing the file.
      expect(result!.status, context).toBe(7);
      expect(result!.stderr, context).toMatch(/The program exited with code 7; stopped sampling\./);
      const file = JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
      expect(file.meta.stopReason, context).toBe('target-exited');
      expect(file.meta.exitCode, context).toBe(7);
      expectWholeProfile(file, context);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await waitFor(`the program ${file.meta.pid} to be reaped`, () => reaped(file.meta.pid));
    }
    expect(Math.max(...endedAfterMs), `ms from os._exit() to the end of the record: ${endedAfterMs.join(' ')}`).toBeLessThan(
      END_AFTER_EXIT_MS,
    );
  }, 120_000);
});

describe('a target in its own PID and mount namespaces (a container)', () => {
  it('is dumped and recorded from outside, with thread ids as seen from outside', async () => {
    const dir = tempDir('container');
    const counter = join(dir, 'counter');
    const script = counterScript(counter, 'threading.Thread(target=lambda: time.sleep(60), name="sleeper", daemon=True).start()');
    const unshare = spawn('unshare', ['--pid', '--mount', '--fork', '--mount-proc', interp.exe, '-c', script], {
      env: { ...process.env, ...interp.env },
      stdio: 'ignore',
    });
    try {
      const pid = await waitFor('the python inside', () => {
        try {
          const child = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
          return child ? Number(child) : undefined;
        } catch {
          return undefined;
        }
      });
      await waitFor('the counter', () => existsSync(counter));
      const nsPid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+(\d+)\s+(\d+)/m);
      expect(nsPid?.[2]).toBe('1');

      const dumped = runCli(['dump', '--pid', String(pid), '--json']);
      expect(dumped.status, dumped.stderr).toBe(0);
      const result = JSON.parse(dumped.stdout) as {
        threads: { nativeThreadId: number; active: boolean; frames: { name: string }[] }[];
      };
      const main = result.threads.find((t) => t.nativeThreadId === pid);
      expect(main, 'the main thread under its outer TID').toBeDefined();
      expect(main!.frames.map((f) => f.name)).toEqual(['<module>']);
      expect(result.threads.every((t) => t.nativeThreadId !== 1)).toBe(true);

      // Idle detection needs the outer TIDs: the busy main thread is sampled, the sleeper is not.
      const out = join(dir, 'profile.txt');
      const recorded = runCli(['record', '-o', out, '--duration', '2', '--hide-progress', '--pid', String(pid)]);
      expect(recorded.status, recorded.stderr).toBe(0);
      const stacks = parseCollapsed(readFileSync(out, 'utf8'));
      // Every sample is of the busy main thread; none of the sleeper.
      expect(totalSamples(stacks), recorded.stderr).toBeGreaterThan(0);
      expect(samplesIn(stacks, '<module>')).toBe(totalSamples(stacks));
      expect(samplesIn(stacks, '<lambda>')).toBe(0);
    } finally {
      // The python is PID 1 of its namespace: killing it ends everything inside, then unshare.
      try {
        const child = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
        if (child) process.kill(Number(child), 'SIGKILL');
      } catch {
        // Already gone.
      }
      unshare.kill('SIGKILL');
    }
  });
});

describe('a long record keeps its memory flat (the short version of the soak in pnpm bench)', () => {
  it('RSS of a 1 kHz blocking record of a busy multi-threaded target does not grow after warm-up', async () => {
    const dir = tempDir('soak');
    const counter = join(dir, 'counter');
    const workers = [
      'def work(k):',
      '    while True:',
      '        sum(i * k for i in range(1000))',
      'for k in range(3): threading.Thread(target=work, args=(k,), daemon=True).start()',
    ].join('\n');
    const target = await startPython(interp, ['-c', counterScript(counter, workers)]);
    await waitFor('the counter', () => existsSync(counter));
    const out = join(dir, 'profile.txt');
    const cli = startCli(['record', '-o', out, '--rate', '1000', '--hide-progress', '--pid', String(target.pid)]);
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${cli.child.pid}/status`, 'utf8'))?.[1]);
    // Warm-up counts from when sampling starts (the CLI can take seconds to start on a busy
    // machine): 3 s of interning code objects, frames and stacks, then 10 s more at 1 kHz that add
    // no new stacks to this target, so anything beyond allocator noise is a leak per sample.
    await samplerRunning(cli.child.pid!, 3000);
    const readings: number[] = [rssKb()];
    for (let second = 0; second < 10; second++) {
      await new Promise((r) => setTimeout(r, 1000));
      readings.push(rssKb());
    }
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.status, result.stderr).toBe(0);
    const [warm, last] = [readings[0], readings[readings.length - 1]];
    expect(last - warm, `RSS in KiB, one reading a second: ${readings.join(' ')}`).toBeLessThan(8 * 1024);
    await expectRunningAndProgressing(target.pid, counter);
  }, 120_000);
});

describe('a PID reused by another process between two samples', () => {
  it('ends the record as "exited" instead of sampling the newcomer', async () => {
    // Handing a PID over races every other process forking on the machine (the suite's other
    // files run beside this one): a try where someone else took it is thrown away and made again.
    for (let attempt = 1; ; attempt++) {
      const handed = await reusePid();
      if (handed) return;
      if (attempt === 3) throw new Error('could not hand the PID to the second program in 3 tries');
    }
  }, 120_000);

  /** One try; false when the PID went to another process than the second program. */
  async function reusePid(): Promise<boolean> {
    const spin = (name: string) => `def ${name}():\n    while True: pass\n${name}()`;
    const first = await startPython(interp, ['-c', spin('first_program')]);
    await waitFor('the first program to start', () => isRunning(first.pid));
    const dir = tempDir('pid-reuse');
    const out = join(dir, 'profile.txt');
    // Two samples a second: the PID changes hands well within one interval.
    const cli = startCli(['record', '-o', out, '--rate', '2', '--duration', '10', '--hide-progress', '--pid', String(first.pid)]);
    // The record must hold the first program before its PID changes hands (a record started
    // after that would rightly sample the second one).
    await samplerRunning(cli.child.pid!, 700);
    first.child.kill('SIGKILL');
    await waitFor('the first program to be gone', () => !existsSync(`/proc/${first.pid}`));
    // As root, the next PID can be chosen: ask for the one just freed. Node starts its libuv
    // thread pool on the first asynchronous file operation, and those threads take PIDs too:
    // start it before, or a thread may take the PID for good.
    await readFile('/proc/self/stat');
    let second: ReturnType<typeof spawn> | undefined;
    for (let attempt = 0; attempt < 5 && second?.pid !== first.pid && !existsSync(`/proc/${first.pid}`); attempt++) {
      second?.kill('SIGKILL');
      writeFileSync('/proc/sys/kernel/ns_last_pid', String(first.pid - 1));
      second = spawn(interp.exe, ['-c', spin('second_program')], { env: { ...process.env, ...interp.env }, stdio: 'ignore' });
    }
    if (second?.pid !== first.pid) {
      second?.kill('SIGKILL');
      cli.child.kill('SIGINT');
      await cli.done;
      return false;
    }
    try {
      const started = Date.now();
      const result = await cli.done;
      expect(result.status, result.stderr).toBe(0);
      expect(Date.now() - started, 'the record went on sampling the newcomer').toBeLessThan(3000);
      expect(result.stderr).toMatch(/exited/);
      expect(result.stderr).toMatch(/Errors: 0\./);
      expect(readFileSync(out, 'utf8')).not.toContain('second_program');
      return true;
    } finally {
      second?.kill('SIGKILL');
    }
  }
});

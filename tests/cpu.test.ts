/**
 * `record --cpu`: each sample weighs the CPU time its thread used since its previous sample, so a
 * thread's samples add up to the CPU time the kernel counted for it and a split of CPU time reads
 * as that split, also on a machine made busy on purpose (where a thread waits for a core, which a
 * record without --cpu counts as running).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpreterById, killAll, startCli, startPython, targetsDir, tempDir, waitFor, type Interpreter } from './helpers.js';

afterAll(killAll);

interface ProfileFile {
  unit: string;
  frames: { name: string }[];
  threads: { id: number; name: string }[];
  stacks: { frames: number[]; thread: number; count: number; weight: number }[];
  stats: { cpuAttributedS: number; cpuKernelS: number; errors: number };
}

/** The files a process has open, as their paths. */
function openFiles(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/${pid}/fd/${fd}`)];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Two CPU-bound processes beside the test, for as long as it runs. */
function busyMachine(): () => void {
  const burners: ChildProcess[] = [0, 1].map(() => spawn('python3', ['-c', 'while 1: pass'], { stdio: 'ignore' }));
  return () => {
    for (const burner of burners) burner.kill('SIGKILL');
  };
}

/**
 * Records cpu_threads.py with `args` from the moment the record reads it (it keeps each thread's
 * schedstat file open) until it exits; returns the profile and what the target says it used.
 */
async function recordCpuThreads(interp: Interpreter, args: string[]) {
  const dir = tempDir('cpu');
  const go = join(dir, 'go');
  const out = join(dir, 'profile.pyspy.json');
  const target = await startPython(interp, [join(targetsDir, 'cpu_threads.py'), go]);
  const cli = startCli(['record', '-o', out, '--hide-progress', ...args, '--pid', String(target.pid)]);
  await waitFor(
    'the record to read the target',
    () => openFiles(cli.child.pid!).some((f) => f.startsWith(`/proc/${target.pid}/task/`)),
    60_000,
  );
  writeFileSync(go, '');
  const result = await cli.done;
  expect(result.status, result.stderr).toBe(0);
  const line = target
    .output()
    .split('\n')
    .find((l) => l.startsWith('CPU '));
  if (!line) throw new Error(`the target printed no CPU line: ${target.output()}`);
  const used = JSON.parse(line.slice(4)) as Record<string, { tid: number; cpu_s: number }>;
  const profile = JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
  return { profile, used, stderr: result.stderr };
}

/** Seconds of CPU each thread (by TID) has in the profile. */
function cpuByThread(profile: ProfileFile): Map<number, number> {
  const byTid = new Map<number, number>();
  for (const stack of profile.stacks) {
    const tid = profile.threads[stack.thread].id;
    byTid.set(tid, (byTid.get(tid) ?? 0) + stack.weight / 1e9);
  }
  return byTid;
}

function weightIn(profile: ProfileFile, name: string): number {
  return profile.stacks
    .filter((s) => s.frames.some((f) => profile.frames[f].name === name))
    .reduce((sum, s) => sum + s.weight, 0);
}

for (const loaded of [false, true]) {
  describe(`record --cpu ${loaded ? 'on a machine made busy with two CPU-bound processes' : 'on a quiet machine'}`, () => {
    for (const interp of ['3.12-pyenv', '3.14-sid'].map(interpreterById)) {
      it(`gives each thread the CPU time the kernel counted for it, within 3%, and splits 70/30 within 2 points on ${interp.id}`, async () => {
        const stopBurning = loaded ? busyMachine() : () => {};
        let recorded: Awaited<ReturnType<typeof recordCpuThreads>>;
        try {
          recorded = await recordCpuThreads(interp, ['--cpu', '--rate', '1000']);
        } finally {
          stopBurning();
        }
        const { profile, used, stderr } = recorded;
        expect(profile.unit).toBe('cpu-nanoseconds');
        const measured = cpuByThread(profile);
        for (const [name, { tid, cpu_s }] of Object.entries(used)) {
          const attributed = measured.get(tid) ?? 0;
          expect(
            Math.abs(attributed - cpu_s) / cpu_s,
            `${name}: ${attributed} s in the profile, ${cpu_s} s counted\n${stderr}`,
          ).toBeLessThan(0.03);
        }
        const seventy = weightIn(profile, 'seventy');
        const thirty = weightIn(profile, 'thirty');
        const share = (100 * seventy) / (seventy + thirty);
        expect(share, stderr).toBeGreaterThan(68);
        expect(share, stderr).toBeLessThan(72);
        // Nothing read failed: all the kernel counted for the threads read is on a stack, but for
        // moments a thread ran outside Python (starting, ending).
        expect(profile.stats.errors, stderr).toBe(0);
        const { cpuAttributedS, cpuKernelS } = profile.stats;
        expect(cpuAttributedS).toBeLessThanOrEqual(cpuKernelS);
        expect(cpuAttributedS / cpuKernelS).toBeGreaterThan(0.99);
        expect(stderr).toMatch(/CPU: [\d.]+ s attributed to stacks, of [\d.]+ s the kernel counted for the threads sampled/);
      }, 180_000);
    }
  });
}

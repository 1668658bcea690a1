/**
 * Bad input: each error is one line with a stable meaning and a nonzero exit, from the CLI, on real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, afterAll } from 'vitest';
import { interpreters, killAll, runCli, startPython, taskCount, tempDir, threadStates, waitFor } from './helpers.js';

/** A user with no privileges over root's processes; .ci/run creates it. */
const UNPRIVILEGED_USER = 'pyspy-test';

function expectOneLineError(result: { status: number | null; stderr: string }, pattern: RegExp) {
  expect(result.status, result.stderr).not.toBe(0);
  expect(result.status).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines[0]).toMatch(pattern);
  expect(lines.length, result.stderr).toBeLessThanOrEqual(2); // the message, and at most a hint
}

/**
 * A running program that names itself as a CPython pyspy-ts does not read (this machine has no 3.5
 * or 2.6 to run): a copy of `sleep` called python3.5 is refused by its name, as a real one would be.
 */
function pretendPython(version: string): string {
  const path = join(tempDir('pretend'), `python${version}`);
  copyFileSync('/bin/sleep', path);
  return path;
}

afterAll(killAll);

describe('dump refuses bad targets with a clear message', () => {
  it('no such process', () => {
    expectOneLineError(runCli(['dump', '--pid', '999999999']), /no process with PID 999999999/);
  });

  it('a process that is not Python', async () => {
    const sleeper = spawn('sleep', ['60']);
    try {
      await waitFor('sleep to start', () => existsSync(`/proc/${sleeper.pid}/exe`));
      expectOneLineError(
        runCli(['dump', '--pid', String(sleeper.pid)]),
        new RegExp(`process ${sleeper.pid} \\(.*sleep\\) is not a Python process`),
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('an unsupported Python version, named, with the builds that are read', async () => {
    for (const version of ['3.5', '2.6']) {
      const old = spawn(pretendPython(version), ['60']);
      try {
        await waitFor('the program to start', () => taskCount(old.pid!) > 0);
        const result = runCli(['dump', '--pid', String(old.pid)]);
        expectOneLineError(result, new RegExp(`Python ${version.replace('.', '\\.')} is not supported`));
        expect(result.stderr).toMatch(/reads CPython 2\.7, 3\.6 to 3\.\d+ and free-threaded 3\.13t/);
        expect(result.status).toBe(6);
      } finally {
        old.kill('SIGKILL');
      }
    }
  });

  it('a process that has exited (a zombie not yet reaped)', async () => {
    const interp = interpreters()[0];
    // The python child of `sleep` exits at once; sleep never reaps it, so it stays a zombie.
    const parent = spawn('sh', ['-c', `"${interp.exe}" -c pass & echo $!; exec sleep 60`], {
      env: { ...process.env, ...interp.env },
    });
    try {
      let out = '';
      parent.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const pid = await waitFor('the child pid', () => (out.includes('\n') ? Number(out.trim()) : undefined));
      await waitFor('the child to become a zombie', () => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
        } catch {
          return false;
        }
      });
      expectOneLineError(runCli(['dump', '--pid', String(pid)]), new RegExp(`process ${pid} has exited`));
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('permission denied for an unprivileged user, with the fix', async () => {
    const user = spawnSync('id', ['-u', UNPRIVILEGED_USER]);
    if (user.status !== 0) {
      throw new Error(
        `user ${UNPRIVILEGED_USER} is missing: create it (useradd --no-create-home ${UNPRIVILEGED_USER}); .ci/run does`,
      );
    }
    const target = await startPython(interpreters()[0], ['-c', 'import time; time.sleep(60)']);
    await waitFor('python to start', () => taskCount(target.pid) > 0);
    const result = runCli(['dump', '--pid', String(target.pid)], { asUser: UNPRIVILEGED_USER });
    expectOneLineError(result, /permission denied/);
    expect(result.stderr).toMatch(/CAP_SYS_PTRACE|root/);
  });

  it('a PID that is not a number is a usage error', () => {
    const result = runCli(['dump', '--pid', 'abc']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/pid/i);
  });
});

describe('record and top refuse what the target cannot do', () => {
  it('--gil on a free-threaded build, which has no GIL', async () => {
    const ft = interpreters().find((i) => i.freeThreaded);
    if (!ft) throw new Error('no free-threaded interpreter was provisioned');
    const target = await startPython(ft, ['-c', 'import time; time.sleep(60)']);
    await waitFor('python to start', () => taskCount(target.pid) > 0);
    for (const command of ['record', 'top']) {
      const out = join(tempDir('gil'), 'profile.txt');
      const result = runCli([command, '--gil', '--pid', String(target.pid), ...(command === 'record' ? ['-o', out] : [])]);
      expectOneLineError(result, /--gil cannot be used with Python 3\.13\.\d+ \(3\.13t\): a free-threaded build has no GIL/);
      expect(result.status).toBe(2);
      expect(existsSync(out)).toBe(false);
    }
    expect(threadStates(target.pid).filter((s) => s === 'T' || s === 't')).toEqual([]);
  });
});

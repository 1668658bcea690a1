/**
 * Security: the CLI writes only the output it was asked for, where it was asked, never through a
 * symlink; and a process's local variables leave it only when the user asked for them.
 * (That no code runs in the target is checked on the sources: crates/pyspy-core/tests/no_writes_to_the_target.rs.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliPath,
  interpreterById,
  killAll,
  parseCollapsed,
  runCli,
  samplesIn,
  startPython,
  tempDir,
  waitFor,
  type Interpreter,
} from './helpers.js';

afterAll(killAll);

const interp: Interpreter = interpreterById('3.11-system');

/** A short launched program, enough for a record to have something to write. */
// 3 s: on a busy machine the CLI takes a while to start sampling, and a program that is gone by
// then leaves nothing to record.
const shortProgram = [interp.exe, '-c', 'import time\nt = time.time()\nwhile time.time() - t < 3: pass'];

describe('record never writes through a symlink', () => {
  it('-o naming a symlink replaces the link by the profile and leaves what it pointed to unchanged', () => {
    const dir = tempDir('symlink-out');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const out = join(dir, 'profile.txt');
    symlinkSync(victim, out);
    const result = runCli(['record', '-o', out, '--hide-progress', '--', ...shortProgram], { env: interp.env });
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect(samplesIn(parseCollapsed(readFileSync(out, 'utf8')), '<module>')).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual(['profile.txt', 'victim.txt']);
  });

  it('a symlink planted at the temporary name is never followed: the record picks another name', () => {
    const dir = tempDir('symlink-temp');
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    // The temporary name holds the CLI's PID. `exec` keeps the shell's PID ($$) for node, so the
    // link is planted at exactly the name the CLI tries first, before it starts.
    const planted = `.profile.txt.$$.tmp`;
    const r = spawnSync(
      '/bin/sh',
      [
        '-c',
        `ln -s "$1" "${planted}" && shift && exec "$0" "$@"`,
        process.execPath,
        victim,
        cliPath,
        'record',
        '-o',
        'profile.txt',
        '--hide-progress',
        '--',
        ...shortProgram,
      ],
      { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...interp.env } },
    );
    const result = { status: r.status, stderr: r.stderr };
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    const links = readdirSync(dir).filter((f) => lstatSync(join(dir, f)).isSymbolicLink());
    expect(links, 'the planted link, left as it was').toHaveLength(1);
    expect(links[0]).toMatch(/^\.profile\.txt\.\d+\.tmp$/);
    expect(readlinkSync(join(dir, links[0]))).toBe(victim);
    expect(lstatSync(join(dir, 'profile.txt')).isFile()).toBe(true);
    expect(samplesIn(parseCollapsed(readFileSync(join(dir, 'profile.txt'), 'utf8')), '<module>')).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual([links[0], 'profile.txt', 'victim.txt']);
  });
});

/**
 * Starts a program whose function `holds_a_secret` has a local variable with a value seen nowhere
 * else: the script is a file, so the value is not on the command line (which dump shows).
 */
async function startHoldingASecret(
  python: Interpreter,
  body: string[],
): Promise<{ pid: number; secret: string; stop: () => void }> {
  const dir = tempDir('locals');
  const secret = `pyspy-secret-${process.pid}-${Date.now()}`;
  const ready = join(dir, 'ready');
  const script = join(dir, 'holds_a_secret.py');
  writeFileSync(
    script,
    [
      'import time',
      'def holds_a_secret(token):',
      `    secret = ${JSON.stringify(secret)}`,
      `    open(${JSON.stringify(ready)}, "w").close()`,
      ...body.map((line) => `    ${line}`),
      'holds_a_secret(42)',
    ].join('\n'),
  );
  const target = await startPython(python, [script]);
  await waitFor('the secret to be set', () => existsSync(ready));
  return { pid: target.pid, secret, stop: () => target.child.kill('SIGKILL') };
}

describe('local variables leave the target only with --locals', () => {
  // One interpreter per frame model: PyFrameObject (3.9), _PyInterpreterFrame (3.11), tagged stack refs (3.14).
  for (const id of ['3.9-bullseye', '3.11-system', '3.14-sid']) {
    it(`dump without --locals shows none of them, with --locals it does, on ${id}`, async () => {
      const { pid, secret, stop } = await startHoldingASecret(interpreterById(id), ['time.sleep(600)']);

      const plain = runCli(['dump', '--pid', String(pid), '--json']);
      expect(plain.status, plain.stderr).toBe(0);
      const dumped = JSON.parse(plain.stdout) as { threads: { frames: Record<string, unknown>[] }[] };
      const frames = dumped.threads.flatMap((t) => t.frames);
      expect(frames.map((f) => f.name)).toContain('holds_a_secret');
      expect(frames.filter((f) => 'locals' in f)).toEqual([]);
      expect(plain.stdout).not.toContain(secret);

      const text = runCli(['dump', '--pid', String(pid)]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain('holds_a_secret');
      expect(text.stdout).not.toContain(secret);
      expect(text.stdout).not.toMatch(/Locals:|Arguments:/);

      // The same dump with --locals does read them: the checks above are not vacuous.
      const asked = runCli(['dump', '--pid', String(pid), '--json', '--locals']);
      expect(asked.status, asked.stderr).toBe(0);
      expect(asked.stdout).toContain(secret);
      stop();
    });
  }

  it('a record has no locals in it, of any format, even of a frame it sampled', async () => {
    const { pid, secret, stop } = await startHoldingASecret(interp, ['while True: pass']);
    const dir = tempDir('locals-record');
    for (const name of ['profile.pyspy.json', 'profile.trace.json', 'profile.speedscope.json', 'profile.svg']) {
      const out = join(dir, name);
      const result = runCli(['record', '-o', out, '--duration', '1', '--hide-progress', '--pid', String(pid)]);
      expect(result.status, result.stderr).toBe(0);
      const written = readFileSync(out, 'utf8');
      expect(written, name).toContain('holds_a_secret');
      expect(written, name).not.toContain(secret);
    }
    stop();
  });
});

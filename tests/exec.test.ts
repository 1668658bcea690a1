/**
 * A target that execs: sampling follows it into another Python program, and stops, saying so in
 * one line, when it becomes something else. Neither counts read errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interpreterById, killAll, runCli, targetsDir, tempDir, type Interpreter } from './helpers.js';

afterAll(killAll);

interface ProfileFile {
  meta: { pid: number; notes?: string[] };
  frames: { name: string }[];
  stacks: { frames: number[]; count: number }[];
  stats: { errors: number; achievedRateHz: number };
}

function recordExec(interp: Interpreter, what: 'sleep' | 'python') {
  const out = join(tempDir('exec'), 'profile.pyspy.json');
  const result = runCli(['record', '-o', out, '--hide-progress', '--', interp.exe, join(targetsDir, 'exec_into.py'), what], {
    env: interp.env,
    timeoutMs: 120_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const profile = JSON.parse(readFileSync(out, 'utf8')) as ProfileFile;
  const samplesIn = (name: string) =>
    profile.stacks.filter((s) => s.frames.some((f) => profile.frames[f].name === name)).reduce((n, s) => n + s.count, 0);
  return { profile, samplesIn, stderr: result.stderr };
}

// A PIE build with libpython linked in (Debian), a static non-PIE one (pyenv), and a 3.14 read
// through _Py_DebugOffsets.
for (const interp of ['3.11-system', '3.12-pyenv', '3.14-sid'].map(interpreterById)) {
  describe(`a target that execs, on ${interp.id} (${interp.version})`, () => {
    it('into /bin/sleep: sampling stops with one line, and no read errors', () => {
      const { profile, samplesIn, stderr } = recordExec(interp, 'sleep');
      const line = new RegExp(`^process ${profile.meta.pid} exec'd (/usr)?/bin/sleep; stopped sampling it$`, 'm');
      expect(stderr).toMatch(line);
      expect(profile.meta.notes).toHaveLength(1);
      expect(profile.stats.errors, stderr).toBe(0);
      expect(samplesIn('before_exec'), stderr).toBeGreaterThan(0);
      expect(stderr).toMatch(/The program exited with code 0/);
    }, 120_000);

    it('into another Python script: followed into it, with no read errors', () => {
      const { profile, samplesIn, stderr } = recordExec(interp, 'python');
      expect(samplesIn('before_exec'), stderr).toBeGreaterThan(0);
      // A second of work after the exec, in a process started again from scratch.
      expect(samplesIn('after_exec'), stderr).toBeGreaterThan(0.3 * profile.stats.achievedRateHz);
      expect(profile.stats.errors, stderr).toBe(0);
      expect(profile.meta.notes ?? []).toEqual([]);
    }, 120_000);
  });
}

/**
 * `dump --core` on files that are not cores of Python we can read: each gets one line on stderr,
 * its own error code and exit code, natively and through WASM alike; none crashes or hangs.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dumpCore,
  EmptyCoreError,
  NotACoreError,
  NotPythonError,
  TruncatedCoreError,
  UnsupportedArchitectureError,
} from '@pyspy/core';
import { gcore } from './cores.js';
import { runCli, tempDir, waitFor } from './helpers.js';

const dir = tempDir('bad-cores');
const file = (name: string) => join(dir, name);
let sleeper: ReturnType<typeof spawn>;

beforeAll(async () => {
  sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
  await waitFor('sleep to start', () => readFileSync(`/proc/${sleeper.pid}/cmdline`, 'utf8').startsWith('sleep'));
  const sleepCore = gcore(sleeper.pid as number, dir);
  copyFileSync(sleepCore, file('not-python'));
  writeFileSync(file('empty'), '');
  writeFileSync(file('text'), 'this is not a core file\n');
  copyFileSync(process.execPath, file('executable'));
  copyFileSync(sleepCore, file('truncated'));
  truncateSync(file('truncated'), Math.floor(statSync(sleepCore).size / 2));
  // The same core, claiming to be of an aarch64 process (e_machine = EM_AARCH64, 183).
  copyFileSync(sleepCore, file('aarch64'));
  const fd = openSync(file('aarch64'), 'r+');
  writeSync(fd, Buffer.from([183, 0]), 0, 2, 18);
  closeSync(fd);
}, 120_000);

afterAll(() => {
  sleeper?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const cases: [string, string, number, RegExp][] = [
  ['empty', 'PYSPY_EMPTY_CORE', 10, /empty/],
  ['text', 'PYSPY_NOT_A_CORE', 11, /not an ELF file/],
  ['executable', 'PYSPY_NOT_A_CORE', 11, /not a core file/],
  ['truncated', 'PYSPY_TRUNCATED_CORE', 12, /truncated/],
  ['aarch64', 'PYSPY_UNSUPPORTED_ARCHITECTURE', 13, /aarch64/],
  ['not-python', 'PYSPY_NOT_PYTHON', 5, /not a Python process/],
  ['no-such-file', 'PYSPY_INVALID_ARGUMENT', 2, /could not open the core/],
];

describe('dump --core on bad input', () => {
  for (const backend of ['native', 'wasm']) {
    for (const [name, code, exitCode, message] of cases) {
      it(`${name}: exit ${exitCode} (${code}) with one line, ${backend}`, () => {
        const r = runCli(['dump', '--core', file(name)], { env: { PYSPY_BACKEND: backend }, timeoutMs: 30_000 });
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
        expect(r.stderr).toMatch(/^error: /);
        expect(r.stderr).toMatch(message);
        expect(r.status).toBe(exitCode);
      });
    }

    it(`a --binary the core does not map is refused, naming what it maps, ${backend}`, () => {
      const r = runCli(['dump', '--core', file('not-python'), '--binary', file('text')], { env: { PYSPY_BACKEND: backend } });
      expect(r.stderr).toMatch(/^error: --binary .*text: the core maps no file of that name \(it maps .*sleep/);
      expect(r.status).toBe(2);
    });
  }

  it('rejects with typed errors from the API, also for bytes', async () => {
    await expect(dumpCore(file('empty'))).rejects.toBeInstanceOf(EmptyCoreError);
    await expect(dumpCore(readFileSync(file('text')))).rejects.toBeInstanceOf(NotACoreError);
    await expect(dumpCore(file('truncated'))).rejects.toBeInstanceOf(TruncatedCoreError);
    await expect(dumpCore(readFileSync(file('aarch64')))).rejects.toBeInstanceOf(UnsupportedArchitectureError);
    await expect(dumpCore(file('not-python'))).rejects.toBeInstanceOf(NotPythonError);
  });

  it('says which of --pid and --core to give', () => {
    expect(runCli(['dump']).stderr).toMatch(/^error: dump needs --pid PID or --core FILE/);
    const both = runCli(['dump', '--pid', '1', '--core', file('empty')]);
    expect(both.stderr).toMatch(/either --pid or --core/);
    expect(both.status).toBe(2);
  });
});

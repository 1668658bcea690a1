/**
 * `dump --core` against real interpreters: the parked target is captured by gdb's gcore while it
 * runs, and once by a real crash (os.abort(), the kernel's core); each core must read back as the
 * live dump taken just before it: every thread's name and frames (function, file, line). The same
 * cores read through WASM (PYSPY_BACKEND=wasm) must print byte-identical JSON, and read where the
 * interpreter's files do not exist they must still dump on 3.13+, and say what to supply before.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump, dumpCore, type ProcessDump, type ThreadDump } from '@pyspy/core';
import { crashCorePath, gcore, interpreterFiles, runCliWithout, waitForCore } from './cores.js';
import { interpreters, runCli, tempDir, waitFor } from './helpers.js';
import { frames, startParked } from './parked.js';

const WASM = { PYSPY_BACKEND: 'wasm' };

/** Every thread of `live` is in `core` with the same ids, name and frames. */
function expectSameThreads(core: ProcessDump, live: ProcessDump, options: { except?: string; states?: boolean } = {}) {
  expect(core.threads.map((t) => t.nativeThreadId).sort()).toEqual(live.threads.map((t) => t.nativeThreadId).sort());
  for (const expected of live.threads) {
    if (expected.name === options.except) continue;
    const actual = core.threads.find((t) => t.nativeThreadId === expected.nativeThreadId) as ThreadDump;
    expect(actual, `thread ${expected.name}`).toBeDefined();
    expect({ python: actual.pythonThreadId, name: actual.name }).toEqual({
      python: expected.pythonThreadId,
      name: expected.name,
    });
    expect(frames(actual.frames), `frames of ${expected.name}`).toEqual(frames(expected.frames));
    if (options.states)
      expect({ active: actual.active, gil: actual.ownsGil }).toEqual({ active: expected.active, gil: expected.ownsGil });
  }
}

/** The minor of "3.13" or "3.14-dbg". */
const minorOf = (minor: string) => Number(minor.split('.')[1]);

for (const interp of interpreters()) {
  describe(`dump --core on ${interp.id} (${interp.version}${interp.debug ? ', debug build' : ''})`, () => {
    // Cores are tens to hundreds of MiB each: none outlives its interpreter's tests.
    const dirs: string[] = [];
    let gcorePath: string;
    let gcoreLive: ProcessDump;
    let crashPath: string;
    let crashLive: ProcessDump;
    let files: string[];

    beforeAll(async () => {
      const dir = tempDir('core');
      dirs.push(dir);
      const running = await startParked(interp);
      gcoreLive = await dump(running.target.pid);
      files = interpreterFiles(running.target.pid);
      gcorePath = gcore(running.target.pid, dir);
      running.target.child.kill('SIGKILL');

      const crashDir = tempDir('crash');
      dirs.push(crashDir);
      const trigger = join(crashDir, 'abort-now');
      const crashing = await startParked(interp, { cwd: crashDir, abortTrigger: trigger });
      // The reporter writes the ground truth just before it calls wait_then_abort: dump once it is there.
      crashLive = await waitFor('the reporter to wait for the trigger', async () => {
        const live = await dump(crashing.target.pid);
        return live.threads.find((t) => t.name === 'reporter')?.frames[0]?.name === 'wait_then_abort' ? live : undefined;
      });
      const expectedPath = crashCorePath(crashDir, crashing.target.pid);
      writeFileSync(trigger, '');
      crashPath = await waitForCore(expectedPath, crashing.target.child.exited);
    }, 180_000);

    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it("reads gcore's core of the running target as the live dump taken just before: threads, names, frames, states", async () => {
      const core = await dumpCore(gcorePath);
      expect(core.pythonVersion).toBe(gcoreLive.pythonVersion);
      expect({ pid: core.pid, executable: core.executable, commandLine: core.commandLine }).toEqual({
        pid: gcoreLive.pid,
        executable: gcoreLive.executable,
        commandLine: gcoreLive.commandLine,
      });
      expectSameThreads(core, gcoreLive, { states: true });
    });

    it("reads the kernel's core of a crash as the live dump before it, the aborting thread at os.abort()", async () => {
      const core = await dumpCore(crashPath);
      expect(core.pythonVersion).toBe(crashLive.pythonVersion);
      expectSameThreads(core, crashLive, { except: 'reporter' });
      const reporter = core.threads.find((t) => t.name === 'reporter') as ThreadDump;
      const before = crashLive.threads.find((t) => t.name === 'reporter') as ThreadDump;
      expect(reporter.frames[0].name).toBe('wait_then_abort');
      expect(frames(reporter.frames.slice(1))).toEqual(frames(before.frames.slice(1)));
      expect(reporter.frames[0].line).toBeGreaterThan(before.frames[0].line);
    });

    it('prints byte-identical JSON through WASM (PYSPY_BACKEND=wasm), with and without locals', async () => {
      const native = runCli(['dump', '--core', gcorePath, '--json']);
      const wasm = runCli(['dump', '--core', gcorePath, '--json'], { env: WASM });
      expect(native.stderr).toBe('');
      expect(native.status).toBe(0);
      expect(wasm.stderr).toBe('');
      expect(wasm.stdout).toBe(native.stdout);
      // The rest in this process, as the CLI prints it: each CLI run costs a Node start-up.
      const printed = async (backend: string, path: string, locals: boolean) => {
        process.env.PYSPY_BACKEND = backend;
        try {
          return `${JSON.stringify(await dumpCore(path, { locals }), null, 2)}\n`;
        } finally {
          delete process.env.PYSPY_BACKEND;
        }
      };
      expect(await printed('native', gcorePath, false)).toBe(native.stdout);
      for (const path of [gcorePath, crashPath]) {
        expect(await printed('wasm', path, true)).toBe(await printed('native', path, true));
      }
      expect(await printed('wasm', crashPath, false)).toBe(await printed('native', crashPath, false));
    });

    it("prints py-spy's layout, the same as for the live process but for the states a core cannot tell", () => {
      const text = runCli(['dump', '--core', gcorePath]);
      expect(text.status).toBe(0);
      expect(text.stdout).toContain(`Process ${gcoreLive.pid}: ${gcoreLive.commandLine.join(' ')}`);
      const build = gcoreLive.freeThreaded ? ' free-threaded' : '';
      expect(text.stdout).toContain(`Python v${gcoreLive.pythonVersion}${build} (${gcoreLive.executable})`);
      expect(text.stdout).toMatch(/^ {4}park \(.*parked_threads\.py:\d+\)$/m);
    });

    it('reads the cores where the files they name do not exist: from memory on 3.13+, else says what to supply', () => {
      const binariesDir = tempDir('binaries');
      dirs.push(binariesDir);
      const copies = files.map((f) => {
        const copy = join(binariesDir, basename(f));
        copyFileSync(f, copy);
        return copy;
      });
      const withFiles = runCli(['dump', '--core', gcorePath, '--json']).stdout;
      for (const env of [{}, WASM]) {
        const moved = runCliWithout(files, ['dump', '--core', gcorePath, '--json'], env);
        if (minorOf(interp.minor) >= 13) {
          expect(moved.stderr).toBe('');
          expect(moved.status).toBe(0);
          expect(moved.stdout).toBe(withFiles);
        } else {
          expect(moved.stdout).toBe('');
          expect(moved.stderr.trimEnd().split('\n')).toHaveLength(1);
          expect(moved.stderr).toContain('--binary');
          for (const f of files) expect(moved.stderr).toContain(f);
          expect(moved.status).toBe(14);
        }
        const supplied = runCliWithout(
          files,
          ['dump', '--core', gcorePath, '--json', ...copies.flatMap((c) => ['--binary', c])],
          env,
        );
        expect(supplied.stderr).toBe('');
        expect(supplied.stdout).toBe(withFiles);
      }
    });
  });
}

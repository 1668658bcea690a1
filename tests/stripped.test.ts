/**
 * CPython linked statically into a stripped program, the way an application embeds it: no
 * `_PyRuntime` in any symbol table and no `.PyRuntime` section, so pyspy-ts has to find the runtime
 * by searching the program's data. Each program is built here, from the static libpython of a
 * provisioned interpreter, and must still dump exactly what CPython itself reports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { dump } from '@pyspy/core';
import {
  interpreterById,
  parseCollapsed,
  runCli,
  samplesIn,
  startPython,
  targetsDir,
  taskCount,
  tempDir,
  waitFor,
  type Interpreter,
  type StartedTarget,
} from './helpers.js';

/**
 * Every way of finding the runtime: pointer search in .bss (3.9) and .data (3.11), cookie search
 * (3.13+), and the cookie of a free-threaded build, whose debug offsets pick its own table (3.13t).
 */
const EMBEDDED = ['3.9-bullseye', '3.11-system', '3.13-trixie', '3.13t-debian-src', '3.14-sid', '3.15-sid'];

const MAIN_C = `extern int Py_BytesMain(int argc, char **argv);
int main(int argc, char **argv) { return Py_BytesMain(argc, argv); }
`;

function run(command: string, args: string[], cwd?: string): string {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.error ?? ''}`);
  return r.stdout;
}

interface Embedder {
  exe: string;
  /** PYTHONHOME: the embedder lives elsewhere, so it cannot find the stdlib from its own path. */
  env: Record<string, string>;
}

/**
 * Links `main.c` against the interpreter's `libpython3.X.a` without `-Wl,-E` (so nothing is
 * exported) and strips it. Two departures from a plain link, both forced by what Debian ships:
 * - `_PyRuntime` is moved from its own `.PyRuntime` section (3.11+) into `.data`, as a build with
 *   another compiler leaves it, since that section header survives `strip`;
 * - the hash modules are left out of the built-in module table: Debian's libpython.a lacks the
 *   HACL objects they need (3.13+), and the targets do not hash.
 * Suites newer than the host's glibc are linked against, and run on, that suite's own glibc.
 */
function buildStrippedEmbedder(interp: Interpreter): Embedder {
  const prefix = dirname(dirname(interp.exe));
  const include = (interp as Interpreter & { include: string[] }).include;
  // "3.11", or "3.13t" for a free-threaded build: what its folders and libpython are named after.
  const abi = basename(include[0]).replace(/^python/, '');
  const configDir = join(prefix, 'lib', `python${abi}`, `config-${abi}-x86_64-linux-gnu`);
  const staticLib = join(configDir, `libpython${abi}.a`);
  if (!existsSync(staticLib)) {
    throw new Error(`${interp.id}: no ${staticLib}; provisioning must install libpython${interp.minor}-dev`);
  }
  const dir = tempDir(`embed-${interp.id}`);
  writeFileSync(join(dir, 'main.c'), MAIN_C);
  const config = readFileSync(join(configDir, 'config.c'), 'utf8')
    .split('\n')
    .filter((line) => !/PyInit__(md5|sha1|sha2|sha3|blake2)\b/.test(line))
    .join('\n');
  writeFileSync(join(dir, 'config.c'), config);
  run('gcc', ['-c', '-O1', ...include.map((i) => `-I${i}`), 'config.c', '-o', 'config.o'], dir);
  run('ar', ['x', staticLib, 'pylifecycle.o'], dir);
  run('objcopy', ['--rename-section', '.PyRuntime=.data.PyRuntime', 'pylifecycle.o'], dir);

  const loader = /Requesting program interpreter: (.*)\]/.exec(run('readelf', ['-lW', interp.exe]))![1];
  const ownGlibc = realpathSync(loader) !== realpathSync('/lib64/ld-linux-x86-64.so.2');
  const libDir = dirname(loader);
  const libs = ownGlibc
    ? [
        `-L${libDir}`,
        '-l:libexpat.so.1',
        '-l:libz.so.1',
        '-l:libzstd.so.1',
        '-l:libm.so.6',
        join(libDir, 'libc.so.6'),
        loader,
        `-Wl,--dynamic-linker=${loader}`,
        '-Wl,--disable-new-dtags',
        `-Wl,-rpath,${libDir}`,
      ]
    : ['-lcrypt', '-lexpat', '-lz', '-lm', '-ldl', '-lpthread', '-lutil'];
  // A build from source (3.13t) keeps its extension modules in shared libraries, which need the C
  // API from the program: export it, all but what would name the runtime (unicodedata, needed to
  // compile non-ASCII names, loads then; _json, which uses _PyRuntime, does not, and json does without).
  const exports: string[] = [];
  if (!config.includes('PyInit_unicodedata')) {
    writeFileSync(join(dir, 'exports.list'), '{\n  Py[!_]*;\n  Py_[!V]*;\n  _Py[!R]*;\n  _PyR[!u]*;\n};\n');
    exports.push('-Wl,--dynamic-list=exports.list');
  }
  // The Debian static libraries are not position independent.
  run(
    'gcc',
    ['-no-pie', '-o', 'embedder', 'main.c', 'pylifecycle.o', 'config.o', staticLib, ...exports, '-Wl,--as-needed', ...libs],
    dir,
  );
  run('strip', ['--strip-all', 'embedder'], dir);
  return { exe: join(dir, 'embedder'), env: { PYTHONHOME: interp.env.PYTHONHOME ?? prefix } };
}

interface TruthFrame {
  name: string;
  filename: string;
  line: number;
}
interface Truth {
  version: string;
  threads: { native_id: number; name: string; frames: TruthFrame[] }[];
}

const frames = (list: TruthFrame[]) => list.map(({ name, filename, line }) => ({ name, filename, line }));

for (const id of EMBEDDED) {
  describe(`a stripped program embedding ${id}`, () => {
    const interp = interpreterById(id);
    let embedder: Embedder;
    let target: StartedTarget;
    let truth: Truth;
    beforeAll(async () => {
      embedder = buildStrippedEmbedder(interp);
      const truthPath = join(tempDir('truth'), 'truth.json');
      target = await startPython({ ...interp, exe: embedder.exe, env: embedder.env }, [
        join(targetsDir, 'parked_threads.py'),
        truthPath,
      ]);
      truth = await waitFor(
        () => `ground truth from the ${id} embedder (output so far: ${target.output()})`,
        () => (existsSync(truthPath) ? (JSON.parse(readFileSync(truthPath, 'utf8')) as Truth) : undefined),
      );
      await waitFor('the reporter thread to exit', () => taskCount(target.pid) === truth.threads.length);
    }, 120_000);
    afterAll(() => target?.child.kill('SIGKILL'));

    it('names _PyRuntime nowhere and does not link libpython', () => {
      expect(run('readelf', ['-SW', embedder.exe])).not.toMatch(/\.PyRuntime|\.symtab/);
      expect(run('readelf', ['-sW', '--dyn-syms', embedder.exe])).not.toMatch(/_PyRuntime|Py_Version/);
      expect(run('nm', ['-D', embedder.exe])).not.toMatch(/_PyRuntime/);
      expect(run('readelf', ['-dW', embedder.exe])).not.toMatch(/libpython/);
      expect(truth.version).toBe(interp.version);
    });

    it('dumps every thread frame by frame as CPython reports it', async () => {
      const result = await dump(target.pid);
      expect(result.pythonVersion).toBe(truth.version);
      expect(result.threads).toHaveLength(truth.threads.length);
      for (const expected of truth.threads) {
        const actual = result.threads.find((t) => t.nativeThreadId === expected.native_id);
        expect(actual, `thread ${expected.name} (TID ${expected.native_id})`).toBeDefined();
        expect(frames(actual!.frames)).toEqual(expected.frames);
      }
      const text = runCli(['dump', '--pid', String(target.pid)]);
      expect(text.stderr).toBe('');
      const build = interp.freeThreaded ? ' free-threaded' : '';
      expect(text.stdout).toContain(`Python v${truth.version}${build} (${embedder.exe})`);
      expect(text.stdout).toMatch(/^ {4}park \(.*parked_threads\.py:\d+\)$/m);
    });

    it('records the parked threads of the running program (--pid --idle)', () => {
      const out = join(tempDir('record'), 'profile.txt');
      const result = runCli(['record', '--pid', String(target.pid), '--duration', '1', '--idle', '-o', out, '--hide-progress']);
      expect(result.status, result.stderr).toBe(0);
      const stacks = parseCollapsed(readFileSync(out, 'utf8'));
      expect(samplesIn(stacks, 'park'), result.stderr).toBeGreaterThan(0);
      expect(samplesIn(stacks, 'recurse'), result.stderr).toBeGreaterThan(0);
    });

    it('records a program it launches, once its interpreter is up', () => {
      const out = join(tempDir('record'), 'profile.txt');
      const result = runCli(
        ['record', '-o', out, '--hide-progress', '--rate', '100', '--', embedder.exe, join(targetsDir, 'split_70_30.py'), '2'],
        { env: embedder.env, timeoutMs: 120_000 },
      );
      expect(result.status, result.stderr).toBe(0);
      const stacks = parseCollapsed(readFileSync(out, 'utf8'));
      // Both functions, in about their 70/30 proportion (2 s at 100 Hz: loose bounds, the exact
      // split is record.test.ts's job).
      const seventy = samplesIn(stacks, 'seventy');
      const thirty = samplesIn(stacks, 'thirty');
      expect(thirty, result.stderr).toBeGreaterThan(0);
      expect(seventy / (seventy + thirty), result.stderr).toBeGreaterThan(0.5);
      expect(seventy / (seventy + thirty), result.stderr).toBeLessThan(0.9);
    });
  });
}

/**
 * 2.7 and 3.6 have no `_PyRuntime`: with symbols, the interpreter list starts at the `interp_head`
 * static, which only `.symtab` names. A distribution's libpython is stripped of it, as this copy
 * is (3.7 keeps its exported `_PyRuntime`), so the list is found by searching the library's data.
 */
const STRIPPED_LIBPYTHON = ['2.7-pyenv', '3.6-pyenv', '3.7-pyenv'];

for (const id of STRIPPED_LIBPYTHON) {
  describe(`${id} with a stripped libpython`, () => {
    const interp = interpreterById(id);
    let library: string;
    let target: StartedTarget;
    let truth: Truth;
    beforeAll(async () => {
      const original = run('ldd', [interp.exe])
        .split('\n')
        .map((line) => /=> (\S*libpython\S*)/.exec(line)?.[1])
        .find((path) => path !== undefined);
      if (!original) throw new Error(`${interp.exe} links no libpython`);
      const dir = tempDir(`stripped-${id}`);
      library = join(dir, basename(original));
      copyFileSync(original, library);
      run('strip', ['--strip-all', library]);
      const truthPath = join(tempDir('truth'), 'truth.json');
      // LD_LIBRARY_PATH comes before the interpreter's RUNPATH.
      target = await startPython({ ...interp, env: { ...interp.env, LD_LIBRARY_PATH: dir } }, [
        join(targetsDir, 'parked_threads.py'),
        truthPath,
      ]);
      truth = await waitFor(
        () => `ground truth from ${id} (output so far: ${target.output()})`,
        () => (existsSync(truthPath) ? (JSON.parse(readFileSync(truthPath, 'utf8')) as Truth) : undefined),
      );
      await waitFor('the reporter thread to exit', () => taskCount(target.pid) === truth.threads.length);
    }, 120_000);
    afterAll(() => target?.child.kill('SIGKILL'));

    it('runs on the stripped copy, which names no interp_head', () => {
      expect(readFileSync(`/proc/${target.pid}/maps`, 'utf8')).toContain(library);
      expect(run('readelf', ['-SW', library])).not.toMatch(/\.symtab/);
      expect(run('readelf', ['-sW', '--dyn-syms', library])).not.toMatch(/interp_head/);
    });

    it('dumps every thread frame by frame as CPython reports it', async () => {
      const result = await dump(target.pid);
      expect(result.pythonVersion).toBe(truth.version);
      expect(result.threads).toHaveLength(truth.threads.length);
      for (const expected of truth.threads) {
        const actual = result.threads.find((t) => t.nativeThreadId === expected.native_id);
        expect(actual, `thread ${expected.name} (TID ${expected.native_id})`).toBeDefined();
        expect(actual!.name).toBe(expected.name);
        expect(frames(actual!.frames)).toEqual(expected.frames);
      }
    });
  });
}

describe('stripped programs that are not Python', () => {
  it('/bin/sleep is not a Python process, at once', async () => {
    const sleeper = spawn('/bin/sleep', ['60']);
    try {
      await waitFor('sleep to start', () => existsSync(`/proc/${sleeper.pid}/exe`) && taskCount(sleeper.pid!) > 0);
      const started = Date.now();
      const result = runCli(['dump', '--pid', String(sleeper.pid)]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`process ${sleeper.pid} \\(.*sleep\\) is not a Python process`));
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('a program with a CPython-like version string and a data section full of pointers is searched, and is not Python', async () => {
    // Looks like 3.12 to the version-string search, so the pointer search runs over its data.
    const dir = tempDir('decoy');
    writeFileSync(
      join(dir, 'decoy.c'),
      `#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
const char version[] = "3.12.1";
void *table[1 << 16];
int main(void) {
  for (int i = 0; i < (1 << 16); i++) table[i] = i % 2 ? (void *)&table[(i * 7919) % (1 << 16)] : malloc(64);
  printf("%s ready\\n", version);
  fflush(stdout);
  pause();
}
`,
    );
    run('gcc', ['-O1', '-o', 'decoy', 'decoy.c'], dir);
    run('strip', ['--strip-all', 'decoy'], dir);
    const decoy = spawn(join(dir, 'decoy'), [], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      let out = '';
      decoy.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the decoy to fill its table', () => out.includes('ready'));
      const started = Date.now();
      const result = runCli(['dump', '--pid', String(decoy.pid)]);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(new RegExp(`process ${decoy.pid} \\(.*decoy\\) is not a Python process`));
      expect(result.stderr).toMatch(/no interpreter state was found/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      decoy.kill('SIGKILL');
    }
  });
});

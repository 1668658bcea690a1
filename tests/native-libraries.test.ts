/**
 * `--native` on real libraries from PyPI: numpy (OpenBLAS), cryptography (Rust) and a module
 * compiled with Cython. The wheels are installed once per CPython minor into a folder of their
 * own in the user's cache (beside the provisioned interpreters), never into an interpreter.
 * Only interpreters that PyPI has wheels for, listed here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Interpreter, interpreterById, targetsDir, tempDir } from './helpers.js';
import { includeDirs, type JsonFrame, type NativeRecord, recordNative, tool } from './native-helpers.js';

/** Built for CPython 3.11, 3.12 and 3.14 (abi3 or per-minor wheels), not for -dbg builds. */
const WITH_WHEELS = ['3.11-system', '3.12-pyenv', '3.14-sid'].map(interpreterById);

const CACHE = join(
  process.env.PYSPY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pyspy-ts'),
  'native-libs',
);
const PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64'];

/** pip of the machine's python3, which installs wheels for another CPython with --target. */
function pip(args: string[]): void {
  const r = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...args], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`pip install ${args.join(' ')} failed: ${r.stderr}`);
}

/** `requirement`'s wheels for `interp`'s minor, in the cache; returns the folder for PYTHONPATH. */
function wheels(interp: Interpreter, requirement: string): string {
  const tag = `cp${interp.minor.replace('.', '')}`;
  const dir = join(CACHE, tag, requirement.replace(/[^\w.-]/g, '_'));
  if (!existsSync(join(dir, '.installed'))) {
    const platforms = PLATFORMS.flatMap((p) => ['--platform', p]);
    pip([
      '--target',
      dir,
      '--python-version',
      interp.minor,
      '--implementation',
      'cp',
      '--only-binary=:all:',
      ...platforms,
      requirement,
    ]);
    writeFileSync(join(dir, '.installed'), `${requirement}\n`);
  }
  return dir;
}

/** Cython itself, for the machine's python3 (which only translates .pyx to C). */
function cython(): string {
  const dir = join(CACHE, 'host', 'cython');
  if (!existsSync(join(dir, '.installed'))) {
    mkdirSync(dir, { recursive: true });
    pip(['--target', dir, '--only-binary=:all:', 'cython']);
    writeFileSync(join(dir, '.installed'), 'cython\n');
  }
  return dir;
}

/** Samples in Python function `caller`, and those with a native frame inside it that `matches`. */
function under(record: NativeRecord, caller: string, matches: (f: JsonFrame) => boolean) {
  let inCaller = 0;
  let withNative = 0;
  const examples: string[] = [];
  for (const { frames, count } of record.stacks) {
    const at = frames.findIndex((f) => f.name === caller && f.kind === undefined);
    if (at < 0) continue;
    inCaller += count;
    if (frames.slice(at + 1).some((f) => f.kind === 'native' && matches(f))) {
      withNative += count;
      if (examples.length < 2) examples.push(frames.map((f) => `${f.name} (${f.file}:${f.line})`).join(' -> '));
    }
  }
  return { inCaller, withNative, examples };
}

const named = (f: JsonFrame) => !/^0x[0-9a-f]+$/.test(f.name);

for (const interp of WITH_WHEELS) {
  describe(`--native on ${interp.id} (${interp.version}) with libraries from PyPI`, () => {
    it('numpy: a matrix product shows OpenBLAS frames under the Python line that called it', () => {
      const numpy = wheels(interp, 'numpy');
      const script = join(targetsDir, 'native/numpy_matmul.py');
      const record = recordNative(interp, [script, '4'], { rate: 200, env: { PYTHONPATH: numpy, OPENBLAS_NUM_THREADS: '1' } });
      const line = readFileSync(script, 'utf8').split('\n').indexOf('    return a @ b') + 1;
      const openblas = under(record, 'multiply', (f) => /openblas/i.test(f.file) && named(f));
      // The product is nearly all of multiply's time, and nearly all of that is in OpenBLAS.
      expect(openblas.withNative, `${record.stderr}\n${openblas.examples.join('\n')}`).toBeGreaterThan(0.5 * openblas.inCaller);
      // The product's line, and now and then the `def` line: a sample as the call begins (3.11+
      // report the RESUME there).
      const byLine = new Map<number, number>();
      for (const { frames, count } of record.stacks) {
        for (const f of frames.filter((f) => f.name === 'multiply' && f.kind === undefined)) {
          byLine.set(f.line, (byLine.get(f.line) ?? 0) + count);
        }
      }
      expect([...byLine.keys()].filter((l) => l !== line && l !== line - 1)).toEqual([]);
      const inMultiply = [...byLine.values()].reduce((a, b) => a + b, 0);
      expect(byLine.get(line) ?? 0, JSON.stringify([...byLine])).toBeGreaterThan(0.95 * inMultiply);
      expect(record.stats.errors, record.stderr).toBeLessThan(0.01 * record.stats.ticks + 2);
    }, 600_000);

    it('cryptography: elliptic-curve signing shows its Rust frames, demangled', () => {
      const crypto = wheels(interp, 'cryptography');
      const record = recordNative(interp, [join(targetsDir, 'native/crypto_ec.py'), '4'], {
        rate: 200,
        env: { PYTHONPATH: crypto },
      });
      // Demangled Rust: a path (`cryptography_rust::backend::ec::…`), no `_ZN…E` or `_R…` mangling, no hash suffix.
      const rust = under(record, 'sign', (f) => /_rust\.abi3\.so|\.rs$/.test(f.file) && f.name.includes('::'));
      expect(rust.withNative, `${record.stderr}\n${rust.examples.join('\n')}`).toBeGreaterThan(0.2 * rust.inCaller);
      const allNames = record.stacks.flatMap(({ frames }) => frames.map((f) => f.name));
      expect(allNames.filter((n) => /^_ZN|^_R[A-Z]|::h[0-9a-f]{16}$/.test(n))).toEqual([]);
      expect(record.stats.errors, record.stderr).toBeLessThan(0.01 * record.stats.ticks + 2);
    }, 600_000);

    it('Cython: a compiled module shows its C functions', () => {
      const dir = tempDir(`cython-${interp.id}`);
      const pyx = join(targetsDir, 'native/cymod.pyx');
      const c = join(dir, 'cymod.c');
      tool('python3', ['-m', 'cython', '-3', pyx, '-o', c], { PYTHONPATH: cython() });
      const include = includeDirs(interp).map((d) => `-I${d}`);
      tool('gcc', ['-O2', '-g', '-shared', '-fPIC', ...include, '-o', join(dir, 'cymod.so'), c]);
      const record = recordNative(interp, [join(targetsDir, 'native/cython_target.py'), dir, '4'], { rate: 200 });
      // Cython names the C function of `cdef c_loop` __pyx_f_5cymod_c_loop (inlined or not: DWARF keeps it).
      const loop = under(record, 'run', (f) => /__pyx_f_5cymod_c_loop/.test(f.name) && /cymod/.test(f.file));
      expect(loop.withNative, `${record.stderr}\n${loop.examples.join('\n')}`).toBeGreaterThan(0.5 * loop.inCaller);
      expect(record.stats.errors, record.stderr).toBeLessThan(0.01 * record.stats.ticks + 2);
    }, 600_000);
  });
}

/**
 * Where the native addon loads, and what a user sees where it cannot. The gnu binaries are linked
 * against glibc 2.17 (napi-rs's cross toolchain); here Node runs through the loader and libraries
 * of Debian 11 (glibc 2.31, unpacked by scripts/provision-pythons.sh), as on Ubuntu 20.04, RHEL 8
 * or Amazon Linux 2 hosts, and the CLI must dump a real process there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cliPath,
  interpreterById,
  repoRoot,
  startPython,
  taskCount,
  targetsDir,
  tempDir,
  waitFor,
  type StartedTarget,
} from './helpers.js';

const bullseye = join(repoRoot, '.cache/pythons/glibc-bullseye');
const bullseyeLoader = join(bullseye, 'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');

/** The .node the CLI loads here: the one napi-rs's loader finds first for this platform. */
function addonPath(): string {
  const napiDir = join(createRequire(join(repoRoot, 'packages/core/package.json')).resolve('@pyspy/napi'), '..');
  const path = join(napiDir, `pyspy.${process.arch === 'x64' ? 'linux-x64-gnu' : 'linux-arm64-gnu'}.node`);
  if (!existsSync(path)) throw new Error(`no built addon at ${path}: run pnpm build`);
  return path;
}

/** Node under Debian 11's glibc: started by that glibc's loader, with its libraries only. */
function runUnderBullseye(args: string[], env: Record<string, string> = {}) {
  if (!existsSync(bullseyeLoader)) throw new Error(`no ${bullseyeLoader}: run scripts/provision-pythons.sh`);
  const libraryPath = [join(bullseye, 'lib/x86_64-linux-gnu'), join(bullseye, 'usr/lib/x86_64-linux-gnu')].join(':');
  const r = spawnSync(bullseyeLoader, ['--library-path', libraryPath, realpathSync(process.execPath), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function glibcVersionsNeeded(file: string): string[] {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const versions = new Set([...r.stdout.matchAll(/\bGLIBC_(\d+\.\d+(?:\.\d+)?)\b/g)].map((m) => m[1]!));
  return [...versions];
}

const newerThan = (a: string, b: string) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
};

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('the addon on an older glibc', () => {
  it('asks for no glibc symbol newer than 2.17', () => {
    const versions = glibcVersionsNeeded(addonPath());
    expect(versions.length).toBeGreaterThan(0);
    expect(versions.filter((v) => newerThan(v, '2.17'))).toEqual([]);
  });

  // Stripped to its exported symbols (0.35 MB of the 3 MB an install may take). A panic message
  // needs no symbol table: its source location is compiled into the binary as a string.
  it('is stripped, yet a panic still names its source file', () => {
    const sections = spawnSync('readelf', ['-S', '-W', addonPath()], { encoding: 'utf8' }).stdout;
    expect(sections).toContain('.dynsym');
    expect(sections).not.toContain('.symtab');
    expect(sections).not.toContain('.debug_info');
    const text = readFileSync(addonPath(), 'latin1');
    expect(text).toContain('crates/pyspy-core/src/');
    expect(text).toContain('crates/pyspy-live/src/');
  });

  it('the harness really runs Node on glibc 2.31', () => {
    const r = runUnderBullseye(['-p', 'process.report.getReport().header.glibcVersionRuntime']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('2.31');
  });

  describe('with a Python target', () => {
    let target: StartedTarget;
    let truth: { threads: { native_id: number; name: string; frames: { name: string; line: number }[] }[] };
    beforeAll(async () => {
      const truthPath = join(tempDir('glibc'), 'truth.json');
      target = await startPython(interpreterById('3.11-system'), [join(targetsDir, 'parked_threads.py'), truthPath]);
      truth = await waitFor('ground truth', () =>
        existsSync(truthPath) ? JSON.parse(readFileSync(truthPath, 'utf8')) : undefined,
      );
      await waitFor('the reporter thread to exit', () => taskCount(target.pid) === truth.threads.length);
    });
    afterAll(() => target?.child.kill('SIGKILL'));

    it('dump works under glibc 2.31: every thread and frame as Python reports them', () => {
      const r = runUnderBullseye([cliPath, 'dump', '--pid', String(target.pid), '--json']);
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { threads: { nativeThreadId: number; frames: { name: string; line: number }[] }[] };
      expect(result.threads).toHaveLength(truth.threads.length);
      for (const expected of truth.threads) {
        const actual = result.threads.find((t) => t.nativeThreadId === expected.native_id);
        expect(
          actual?.frames.map((f) => `${f.name}:${f.line}`),
          expected.name,
        ).toEqual(expected.frames.map((f) => `${f.name}:${f.line}`));
      }
    });

    it('an addon that needs glibc 2.34 fails with one line naming the platform and GLIBC_2.34, exit 9', () => {
      // What a host-built addon does on this glibc: a library whose pthread_create is GLIBC_2.34's.
      const dir = tempDir('newglibc');
      writeFileSync(join(dir, 'needs234.c'), '#include <pthread.h>\nvoid *needs_234(void) { return (void *)&pthread_create; }\n');
      const cc = spawnSync('gcc', ['-shared', '-fPIC', '-o', join(dir, 'needs234.node'), join(dir, 'needs234.c')], {
        encoding: 'utf8',
      });
      expect(cc.status, cc.stderr).toBe(0);
      expect(glibcVersionsNeeded(join(dir, 'needs234.node'))).toContain('2.34');

      const r = runUnderBullseye([cliPath, 'dump', '--pid', String(target.pid)], {
        NAPI_RS_NATIVE_LIBRARY_PATH: join(dir, 'needs234.node'),
      });
      expect(r.status).toBe(9);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: the native addon cannot load on linux-x64-gnu \(glibc 2\.31\): .*GLIBC_2\.34' not found/);
      expect(lines[0]).toContain('Linux x64 (glibc 2.17+ or musl)');
      expect(r.stderr).not.toMatch(/npm has a bug|Cannot find native binding/);
    });
  });

  it('diff needs no addon: it works where the addon cannot load', () => {
    const dir = tempDir('noaddon');
    writeFileSync(join(dir, 'base.txt'), 'main (app.py:1);work (app.py:5) 60\nmain (app.py:1);parse (app.py:9) 40\n');
    writeFileSync(join(dir, 'head.txt'), 'main (app.py:1);work (app.py:5) 80\nmain (app.py:1);parse (app.py:9) 20\n');
    const r = runUnderBullseye([cliPath, 'diff', join(dir, 'base.txt'), join(dir, 'head.txt'), '-o', join(dir, 'diff.svg')], {
      NAPI_RS_NATIVE_LIBRARY_PATH: join(dir, 'missing.node'),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('work');
    expect(readFileSync(join(dir, 'diff.svg'), 'utf8')).toContain('<svg');
  });
});

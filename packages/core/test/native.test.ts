import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

describe('the native addon', () => {
  it('is not loaded by importing @pyspy/core, only by what samples', () => {
    // A fresh process: vitest's own module graph may already hold the addon.
    const script = `
      import { createRequire } from 'node:module';
      const loadedAddon = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.endsWith('.node'));
      const core = await import(${JSON.stringify(dist)});
      const before = loadedAddon();
      await core.dump(process.pid).catch(() => {});
      console.log(JSON.stringify({ before, after: loadedAddon() }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ before: false, after: true });
  });
});

describe('an addon that cannot load', () => {
  it("rejects with PYSPY_NO_NATIVE_ADDON, one line naming the platform and the loader's real reason", () => {
    // A .node that dlopen refuses; NAPI_RS_NATIVE_LIBRARY_PATH makes the napi-rs loader try only it.
    const badAddon = join(mkdtempSync(join(tmpdir(), 'pyspy-addon-')), 'broken.node');
    writeFileSync(badAddon, 'not an ELF file');
    const script = `
      const core = await import(${JSON.stringify(dist)});
      const error = await core.dump(process.pid).then(() => undefined, (e) => e);
      console.log(JSON.stringify({ code: error?.code, message: error?.message, isClass: error instanceof core.NativeAddonError }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: badAddon },
    });
    expect(r.status, r.stderr).toBe(0);
    const { code, message, isClass } = JSON.parse(r.stdout) as { code: string; message: string; isClass: boolean };
    expect(code).toBe('PYSPY_NO_NATIVE_ADDON');
    expect(isClass).toBe(true);
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/npm has a bug|Cannot find native binding/);
    expect(message).toContain(`on ${process.platform}-${process.arch}`);
    expect(message).toContain(`${badAddon}: file too short`);
    expect(message).toContain('Linux x64 (glibc 2.17+ or musl)');
  });
});

import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { wasmErrorCodes } from '../src/wasm.js';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/index.js');

describe('the WASM build', () => {
  it('knows exactly the error codes the TypeScript side does', async () => {
    expect([...(await wasmErrorCodes())].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('reads cores with PYSPY_BACKEND=wasm without loading the native addon', () => {
    // A fresh process: vitest's own module graph may already hold the addon.
    const script = `
      import { createRequire } from 'node:module';
      const core = await import(${JSON.stringify(dist)});
      const error = await core.dumpCore(new TextEncoder().encode('not a core')).catch((e) => e);
      const addon = Object.keys(createRequire(import.meta.url).cache).some((k) => k.endsWith('.node'));
      console.log(JSON.stringify({ code: error.code, name: error.name, addon }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, PYSPY_BACKEND: 'wasm' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ code: 'PYSPY_NOT_A_CORE', name: 'NotACoreError', addon: false });
  });

  it('refuses a backend it does not know', () => {
    const script = `const core = await import(${JSON.stringify(dist)}); await core.dumpCore('x').catch((e) => console.log(e.code));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, PYSPY_BACKEND: 'gpu' },
    });
    expect(r.stdout.trim()).toBe('PYSPY_INVALID_ARGUMENT');
  });
});

import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
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

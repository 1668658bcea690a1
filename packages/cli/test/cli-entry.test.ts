/** The CLI's own entry point: what `pyspy-ts --version` and `--help` print, from any directory. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, '../dist/cli.js');
const { version } = JSON.parse(readFileSync(resolve(here, '../package.json'), 'utf8')) as { version: string };

function run(...args: string[]) {
  // Not from the package: yargs would otherwise find a package.json by the working directory.
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000, cwd: tmpdir() });
}

describe('pyspy-ts', () => {
  it('--version prints the package version', () => {
    const r = run('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('--help lists every command', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    for (const command of ['record', 'top', 'dump', 'diff']) expect(r.stdout).toContain(`pyspy-ts ${command}`);
  });

  it('an option without its value is a one-line usage error, not a stack trace', () => {
    for (const args of [
      ['record', '--pid'],
      ['record', '--pid', '1', '--rate'],
      ['dump', '--pid'],
    ]) {
      const r = run(...args);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^error: Not enough arguments following: (pid|rate)$/);
      expect(lines).toHaveLength(2);
    }
  });
});

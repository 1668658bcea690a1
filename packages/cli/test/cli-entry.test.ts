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

  it('an option given twice is a one-line usage error; a repeatable one is not', () => {
    for (const [args, option] of [
      [['record', '--pid', '1', '-r', '10', '-r', '20'], 'rate'],
      [['dump', '--pid', '1', '--pid', '2'], 'pid'],
      [['record', '--pid', '1', '-o', 'a.svg', '--output', 'b.svg'], 'output'],
    ] as const) {
      const r = run(...args);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        `error: --${option} was given more than once: give it once`,
        "Run 'pyspy-ts --help' for usage.",
      ]);
    }
    // --tid is repeatable: this gets past the options to the missing process.
    const r = run('dump', '--pid', '999999999', '--tid', '1', '--tid', '2');
    expect(r.stderr).not.toContain('more than once');
    expect(r.status).toBe(3);
    // So are diff's --strip-prefix and --fail-on, which are no arrays: this gets to the missing files.
    const d = run(
      'diff',
      'no-base.json',
      'no-head.json',
      '--strip-prefix',
      '/a',
      '--strip-prefix',
      '/b',
      '--fail-on',
      'self:+1%',
      '--fail-on',
      'total:+1%',
    );
    expect(d.stderr).not.toContain('more than once');
    expect(d.stderr).toContain('no-base.json');
  });
});

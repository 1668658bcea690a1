/**
 * `pyspy-ts diff` as a CI job runs it: the built CLI on files, exit codes and what it prints.
 * The diff math itself is tested in @pyspy/render.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

function files(base: string, head: string): { dir: string; base: string; head: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pyspy-diff-'));
  writeFileSync(join(dir, 'base.txt'), base);
  writeFileSync(join(dir, 'head.txt'), head);
  return { dir, base: join(dir, 'base.txt'), head: join(dir, 'head.txt') };
}

function diff(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'diff', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// work goes from 30% to 60% of the samples; the checkouts live in different directories.
const { dir, base, head } = files(
  'main (/ci/a/app.py:1);work (/ci/a/app.py:10) 30\nmain (/ci/a/app.py:1);parse (/ci/a/app.py:20) 70\n',
  'main (/w/b/app.py:1);work (/w/b/app.py:11) 60\nmain (/w/b/app.py:1);parse (/w/b/app.py:21) 40\n',
);

describe('pyspy-ts diff', () => {
  it('reports only, exit 0, when no threshold is given', () => {
    const r = diff(base, head);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/work \(app\.py\)\s+30\.00%\s+60\.00%\s+\+30\.00/);
  });

  it('exits 1 with one line per exceeded threshold, naming the function', () => {
    const r = diff(base, head, '--fail-on', 'self:+5%', '--fail-on', 'fn:app.work:+2%', '--fail-on', 'total:+50%');
    expect(r.status).toBe(1);
    const failures = r.stderr.split('\n').filter((l) => l.startsWith('FAIL '));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(/self:\+5%.*work \(app\.py\) \+30\.00/);
    expect(failures[1]).toMatch(/fn:app\.work:\+2%/);
    // Options before the files too: a repeatable option must not swallow them.
    expect(diff('--fail-on', 'self:+5%', '--strip-prefix', '/ci', base, head).status).toBe(1);
  });

  it('passes with OK when every threshold holds, and warns about a fn: that names nothing', () => {
    const r = diff(base, head, '--fail-on', 'self:+40%', '--fail-on', 'fn:nothing_here:+1%');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: --fail-on fn:nothing_here/);
    expect(r.stderr).toMatch(/OK: no threshold exceeded/);
  });

  it('writes Markdown, JSON and a differential flame graph', () => {
    expect(diff(base, head, '--format', 'markdown').stdout).toContain('| work (app.py) | 30.00% | 60.00% | +30.00 |');
    const json = JSON.parse(diff(base, head, '--format', 'json', '--fail-on', 'self:+5%').stdout);
    expect(json.functions[0]).toMatchObject({ selfDeltaPts: expect.any(Number) });
    expect(json.violations).toHaveLength(1);
    const svg = join(dir, 'diff.svg');
    expect(diff(base, head, '-o', svg).status).toBe(0);
    expect(readFileSync(svg, 'utf8')).toMatch(/data-name="work"[^>]*data-delta="30"/);
  });

  it('rejects bad thresholds and unreadable profiles with exit 2', () => {
    expect(diff(base, head, '--fail-on', 'self:lots')).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/--fail-on: bad threshold/),
    });
    expect(diff(base, join(dir, 'missing.json'))).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/cannot read head profile .*ENOENT/),
    });
    writeFileSync(join(dir, 'bad.json'), '{"format":"pyspy-ts-profile","formatVersion":9}');
    expect(diff(join(dir, 'bad.json'), head)).toMatchObject({ status: 2, stderr: expect.stringMatching(/formatVersion 9/) });
  });
});

/**
 * The CI perf-regression job, end to end on real recordings: a function made 2x slower is caught
 * by `diff --fail-on`, an unchanged program is not, the differential flame graph shows the slowed
 * function in red, and `--format pprof` is read by `go tool pprof`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { interpreterById, runCli, targetsDir, tempDir, type Interpreter } from './helpers.js';

const interp: Interpreter = interpreterById('3.11-system');
const target = join(targetsDir, 'regress.py');
const dir = tempDir('diff');
/** The thresholds of examples/ci-regression: what a project would start with. */
const EXAMPLE_THRESHOLDS = ['--fail-on', 'self:+5%', '--fail-on', 'total:+10%'];

function recordTarget(name: string, args: string[], format = 'json'): string {
  const out = join(dir, name);
  const r = runCli(
    ['record', '--format', format, '-o', out, '--rate', '1000', '--hide-progress', '--', interp.exe, target, '4', ...args],
    {
      env: interp.env,
      timeoutMs: 60_000,
    },
  );
  expect(r.status, r.stderr).toBe(0);
  return out;
}

function diff(base: string, head: string, ...args: string[]) {
  return runCli(['diff', base, head, ...args]);
}

describe(`diff on real recordings (${interp.id}, 4 s at 1 kHz)`, () => {
  let base: string;
  let slow: string;
  beforeAll(() => {
    base = recordTarget('base.pyspy.json', []);
    slow = recordTarget('slow.pyspy.json', ['--slow']);
  }, 120_000);

  it('catches compute() made 2x slower with --fail-on self:+5%, naming it', () => {
    const r = diff(base, slow, '--fail-on', 'self:+5%');
    expect(r.status, r.stderr).toBe(1);
    const failures = r.stderr.split('\n').filter((line) => line.startsWith('FAIL '));
    expect(failures, r.stderr).toHaveLength(1);
    expect(failures[0]).toMatch(/^FAIL self:\+5%: .*compute \([^)]*regress\.py\) \+\d+\.\d\d/);
    expect(failures[0]).not.toMatch(/render|parse/);
    expect(r.stdout.split('\n')[3]).toMatch(/^compute \([^)]*regress\.py\)/);
  });

  it('catches it with fn:regress.compute:+2% too, and not for a function that got faster', () => {
    expect(diff(base, slow, '--fail-on', 'fn:regress.compute:+2%').status).toBe(1);
    expect(diff(base, slow, '--fail-on', 'fn:render:+2%').status).toBe(0);
  });

  it('colours the slowed function red in the differential flame graph', () => {
    const svg = join(dir, 'diff.svg');
    const r = diff(base, slow, '-o', svg);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(svg, 'utf8');
    const fillOf = (name: string) => {
      const match = new RegExp(
        `<g class="frame"[^>]*data-name="${name}"[^>]*>.*?<rect [^>]*fill="rgb\\((\\d+),(\\d+),(\\d+)\\)"`,
      ).exec(text);
      expect(match, `frame ${name} in ${svg}`).not.toBeNull();
      return match!.slice(1).map(Number);
    };
    const [r1, g1, b1] = fillOf('compute');
    expect(r1).toBe(255);
    expect(g1).toBe(b1);
    expect(g1).toBeLessThan(120);
    // render's budget did not change, so its share shrank: blue.
    const [r2, , b2] = fillOf('render');
    expect(b2).toBe(255);
    expect(r2).toBeLessThan(255);
  });

  it('raises no false alarm on an unchanged program recorded again, 5 times', () => {
    for (let run = 1; run <= 5; run++) {
      const again = recordTarget(`again-${run}.pyspy.json`, []);
      const r = diff(base, again, ...EXAMPLE_THRESHOLDS);
      expect(r.status, `run ${run}:\n${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stderr).toMatch(/OK: no threshold exceeded/);
    }
  }, 120_000);

  it('writes pprof that go tool pprof reads, with the hot function on top', () => {
    const profile = recordTarget('slow.pb.gz', ['--slow'], 'pprof');
    // Generous: the first `go tool pprof` on a machine builds the tool (system-deps.sh warms it).
    const r = spawnSync('go', ['tool', 'pprof', '-top', profile], { encoding: 'utf8', cwd: dir, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n');
    const header = rows.findIndex((line) => /flat\s+flat%\s+sum%\s+cum\s+cum%/.test(line));
    expect(header, r.stdout).toBeGreaterThan(0);
    expect(rows[header + 1], r.stdout).toMatch(/\bcompute$/);
    expect(r.stdout).toMatch(/Type: cpu/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  diffProfiles,
  evaluateThresholds,
  formatDiffMarkdown,
  formatDiffText,
  functionMatches,
  loadProfileText,
  matchFileNames,
  parseThreshold,
  renderCollapsed,
  renderDiffFlamegraph,
  renderProfileJson,
  renderSpeedscope,
  type Profile,
} from '../src/index.js';
import { buildProfile, frame } from './fixtures.js';
import { parseSvg } from './svg.js';

/** main -> work (self `work` units), main -> parse (self `parse` units), at the given paths. */
function app(work: number, parse: number, root = '/ci/base'): Profile {
  const main = frame('main', `${root}/app.py`, 1);
  return buildProfile([
    { frames: [main, frame('work', `${root}/app.py`, 10)], count: work },
    { frames: [main, frame('parse', `${root}/pkg/parse.py`, 20)], count: parse },
  ]);
}

const row = (diff: ReturnType<typeof diffProfiles>, name: string) => diff.functions.find((f) => f.name === name)!;

describe('diffProfiles', () => {
  it("compares shares of each profile's own total, in points", () => {
    // 30% -> 60%: twice the samples in head would be 300 -> 600 of different totals; shares decide.
    const diff = diffProfiles(app(30, 70), app(600, 400, '/ci/head'));
    expect(diff.baseSamples).toBe(100);
    expect(diff.headSamples).toBe(1000);
    expect(row(diff, 'work')).toMatchObject({ base: { selfPct: 30, totalPct: 30 }, head: { selfPct: 60, totalPct: 60 } });
    expect(row(diff, 'work').selfDeltaPts).toBeCloseTo(30);
    expect(row(diff, 'parse').selfDeltaPts).toBeCloseTo(-30);
    expect(row(diff, 'main')).toMatchObject({ selfDeltaPts: 0, totalDeltaPts: 0, base: { totalPct: 100 } });
    expect(diff.functions[0].name).toMatch(/work|parse/);
  });

  it('counts a recursive function once per sample in its total share', () => {
    const f = frame('f', 'r.py', 1);
    const diff = diffProfiles(buildProfile([{ frames: [f, f, f], count: 4 }]), buildProfile([{ frames: [f], count: 1 }]));
    expect(row(diff, 'f').base.totalPct).toBe(100);
  });

  it('ignores line numbers by default and splits by them with by: line', () => {
    const base = buildProfile([
      { frames: [frame('f', 'a.py', 1)], count: 1 },
      { frames: [frame('f', 'a.py', 2)], count: 1 },
    ]);
    const head = buildProfile([{ frames: [frame('f', 'a.py', 5)], count: 2 }]);
    expect(diffProfiles(base, head).functions).toHaveLength(1);
    expect(row(diffProfiles(base, head), 'f').selfDeltaPts).toBe(0);
    expect(diffProfiles(base, head, { by: 'line' }).functions).toHaveLength(3);
  });

  it('matches files across checkouts by their shortest unique suffix, after stripped prefixes', () => {
    const names = matchFileNames(['/ci/a/app.py', '/ci/a/pkg/__init__.py', '/ci/a/lib/__init__.py', 'json/decoder.py']);
    expect([...names.values()]).toEqual(['app.py', 'pkg/__init__.py', 'lib/__init__.py', 'json/decoder.py']);
    expect(matchFileNames(['/src/co/x/y.py'], ['/src/co']).get('/src/co/x/y.py')).toBe('x/y.py');
    const diff = diffProfiles(app(50, 50, '/home/me/checkout'), app(50, 50, '/tmp/ci/build'));
    expect(diff.functions.map((f) => f.file).sort()).toEqual(['app.py', 'app.py', 'parse.py']);
  });
});

describe('thresholds', () => {
  const diff = diffProfiles(app(30, 70), app(60, 40, '/ci/head'));

  it('parses the three kinds and rejects anything else', () => {
    expect(parseThreshold('self:+5%')).toMatchObject({ kind: 'self', maxIncreasePts: 5 });
    expect(parseThreshold('total:10')).toMatchObject({ kind: 'total', maxIncreasePts: 10 });
    expect(parseThreshold('fn:pkg.mod.Class.method:+2.5%')).toMatchObject({
      kind: 'fn',
      pattern: 'pkg.mod.Class.method',
      maxIncreasePts: 2.5,
    });
    for (const bad of ['self', 'self:-5%', 'cpu:+5%', 'fn:+2%', 'self:x:+1%'])
      expect(() => parseThreshold(bad)).toThrow(/bad threshold/);
  });

  it('flags a function whose share grew past the limit, naming it, and nothing below it', () => {
    const [violation] = evaluateThresholds(diff, [parseThreshold('self:+5%')]);
    expect(violation.message).toMatch(/^self:\+5%: .*work \(app\.py\) \+30\.00 \(30\.00% -> 60\.00%\)/);
    expect(evaluateThresholds(diff, [parseThreshold('self:+31%'), parseThreshold('total:+30.5%')])).toEqual([]);
  });

  it('matches fn: by name or by a qualified name whose module agrees with the file', () => {
    expect(functionMatches('work', { name: 'work', file: 'app.py' })).toBe(true);
    expect(functionMatches('app.work', { name: 'work', file: 'app.py' })).toBe(true);
    expect(functionMatches('pkg.parse.parse', { name: 'parse', file: 'pkg/parse.py' })).toBe(true);
    expect(functionMatches('other.work', { name: 'work', file: 'app.py' })).toBe(false);
    expect(functionMatches('mod.Class.method', { name: 'Class.method', file: 'src/mod.py' })).toBe(true);
    expect(evaluateThresholds(diff, [parseThreshold('fn:app.work:+2%')])[0].message).toMatch(
      /app\.work self share grew \+30\.00 points/,
    );
    expect(evaluateThresholds(diff, [parseThreshold('fn:parse:+2%')])).toEqual([]);
  });

  it('reports as a text table and a Markdown table with the violations', () => {
    expect(formatDiffText(diff)).toMatch(/work \(app\.py\)\s+30\.00%\s+60\.00%\s+\+30\.00/);
    const markdown = formatDiffMarkdown(diff, { violations: evaluateThresholds(diff, [parseThreshold('self:+5%')]) });
    expect(markdown).toContain('| work (app.py) | 30.00% | 60.00% | +30.00 |');
    expect(markdown).toMatch(/^- :x: self:\+5%/m);
  });
});

describe('reading profiles by content', () => {
  const profile = app(3, 2);
  it('reads our JSON, speedscope and collapsed stacks to the same stacks', () => {
    const expected = renderCollapsed(profile);
    expect(renderCollapsed(loadProfileText(renderProfileJson(profile)))).toBe(expected);
    expect(renderCollapsed(loadProfileText(renderSpeedscope(profile)))).toBe(expected);
    expect(renderCollapsed(loadProfileText(expected))).toBe(expected);
  });

  it('says what is wrong with a file it cannot read', () => {
    expect(() => loadProfileText('{"a": 1}')).toThrow(/neither a pyspy-ts profile/);
    expect(() => loadProfileText('main;work twelve')).toThrow(/line 1 is not "stack count"/);
    expect(() => loadProfileText('{"shared":{"frames":[]},"profiles":[{"type":"evented"}]}')).toThrow(/only sampled/);
  });
});

describe('renderDiffFlamegraph', () => {
  it("draws head's widths, red where a frame grew, blue where it shrank, the change in the tooltip", () => {
    const { frames } = parseSvg(renderDiffFlamegraph(app(30, 70), app(60, 40, '/ci/head')));
    const byName = (name: string) => frames.find((f) => f.attributes['data-name'] === name)!;
    const rgb = (fill: string) => fill.match(/\d+/g)!.map(Number);
    const [wr, wg, wb] = rgb(byName('work').rect.fill);
    expect(wr).toBe(255);
    expect(wg).toBeLessThan(120);
    expect(wb).toBe(wg);
    const [pr, , pb] = rgb(byName('parse').rect.fill);
    expect(pb).toBe(255);
    expect(pr).toBeLessThan(120);
    expect(byName('main').rect.fill).toBe('rgb(250,250,250)');
    expect(byName('work').attributes['data-samples']).toBe('60');
    expect(byName('work').attributes['data-delta']).toBe('30');
    expect(byName('work').title).toMatch(/\+30\.00 points since base \(30\.00%\)/);
  });
});

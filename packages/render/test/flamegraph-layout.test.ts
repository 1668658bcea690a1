import { describe, expect, it } from 'vitest';
import { layoutFlamegraph, type FlameFrame } from '../src/flamegraph-layout.js';
import { buildProfile, frame, main, parse, unicodeProfile, work } from './fixtures.js';

const layoutOf = (profile = unicodeProfile(), options: Partial<Parameters<typeof layoutFlamegraph>[1]> = {}) =>
  layoutFlamegraph(profile, { plotWidthPx: 1000, minWidthPx: 0, threads: false, ...options });

const byLabel = (frames: FlameFrame[], label: string) => frames.filter((f) => f.label === label);
const childrenOf = (frames: FlameFrame[], parent: FlameFrame) => frames.filter((f) => f.parent === parent.id);

describe('flame graph layout', () => {
  it('gives every frame a width proportional to its samples', () => {
    const { frames, totalSamples } = layoutOf();
    expect(totalSamples).toBe(80);
    for (const f of frames) expect(f.widthPx).toBeCloseTo((f.samples / 80) * 1000, 9);
    expect(byLabel(frames, 'all')[0].widthPx).toBe(1000);
    expect(byLabel(frames, 'work (app.py:20)')[0].samples).toBe(50);
  });

  it('merges identical stack prefixes into one frame', () => {
    const profile = buildProfile(
      [
        { frames: [main, work], count: 3 },
        { frames: [main, work, parse], count: 4 },
        { frames: [main, work], count: 5, thread: 1 },
      ],
      {
        threads: [
          { id: 1, name: 'MainThread', pid: 1 },
          { id: 2, name: 'worker', pid: 1 },
        ],
      },
    );
    const { frames } = layoutOf(profile);
    expect(byLabel(frames, 'main (app.py:10)')).toHaveLength(1);
    expect(byLabel(frames, 'work (app.py:20)')).toHaveLength(1);
    expect(byLabel(frames, 'work (app.py:20)')[0].samples).toBe(12);
    expect(frames.map((f) => f.label)).toEqual(['all', 'main (app.py:10)', 'work (app.py:20)', 'parse (app.py:30)']);
  });

  it('keeps the same function under different callers apart', () => {
    const { frames } = layoutOf();
    const nandu = byLabel(frames, 'función_ñandú (módulo.py:7)');
    expect(nandu.map((f) => f.samples).sort()).toEqual([10, 30]);
    expect(new Set(nandu.map((f) => f.parent)).size).toBe(2);
  });

  it('sorts siblings alphabetically and lays them out left to right without gaps', () => {
    const profile = buildProfile([
      { frames: [main, frame('zeta')], count: 1 },
      { frames: [main, frame('Alpha')], count: 2 },
      { frames: [main, frame('beta')], count: 3 },
      { frames: [main, frame('alpha')], count: 4 },
    ]);
    const { frames } = layoutOf(profile);
    const siblings = childrenOf(frames, byLabel(frames, 'main (app.py:10)')[0]);
    expect(siblings.map((f) => f.name)).toEqual(['Alpha', 'alpha', 'beta', 'zeta']);
    expect(siblings.map((f) => f.start)).toEqual([0, 2, 6, 9]);
    expect(siblings.map((f) => f.xPx)).toEqual([0, 200, 600, 900]);
  });

  it('places callees inside their caller, one row further', () => {
    const { frames } = layoutOf();
    for (const f of frames.slice(1)) {
      const parent = frames[f.parent];
      expect(f.depth).toBe(parent.depth + 1);
      expect(f.start).toBeGreaterThanOrEqual(parent.start);
      expect(f.start + f.samples).toBeLessThanOrEqual(parent.start + parent.samples);
    }
  });

  it('leaves out frames narrower than minWidthPx, and everything above them', () => {
    const tiny = frame('tiny');
    const profile = buildProfile([
      { frames: [main, work], count: 9990 },
      { frames: [main, tiny, frame('tinier')], count: 1 },
      { frames: [main, parse], count: 9 },
    ]);
    const full = layoutOf(profile, { minWidthPx: 0 });
    expect(byLabel(full.frames, 'tinier (app.py:1)')).toHaveLength(1);
    const pruned = layoutOf(profile, { minWidthPx: 0.5 });
    expect(pruned.frames.map((f) => f.name)).toEqual(['all', 'main', 'parse', 'work']);
    expect(pruned.maxDepth).toBe(2);
    expect(pruned.totalSamples).toBe(10000);
  });

  it('puts each thread under the root with the threads option', () => {
    const threads = [
      { id: 11, name: 'MainThread', pid: 1 },
      { id: 12, name: 'worker', pid: 1 },
    ];
    const profile = buildProfile(
      [
        { frames: [main, work], count: 6, thread: 0 },
        { frames: [main, work], count: 2, thread: 1 },
      ],
      { threads },
    );
    const { frames } = layoutOf(profile, { threads: true });
    const roots = childrenOf(frames, frames[0]);
    expect(roots.map((f) => [f.kind, f.label, f.samples])).toEqual([
      ['thread', 'thread MainThread (tid 11)', 6],
      ['thread', 'thread worker (tid 12)', 2],
    ]);
    expect(byLabel(frames, 'work (app.py:20)').map((f) => f.depth)).toEqual([3, 3]);
    expect(byLabel(layoutOf(profile).frames, 'work (app.py:20)')).toHaveLength(1);
  });

  it('has no frames for a profile without samples', () => {
    expect(layoutOf(buildProfile([]))).toEqual({ totalSamples: 0, maxDepth: -1, frames: [] });
    expect(layoutOf(buildProfile([{ frames: [main], count: 0 }])).frames).toEqual([]);
  });

  it('handles very deep stacks without recursion', () => {
    const deep = Array.from({ length: 20000 }, (_, i) => frame(`f${i}`));
    const { frames, maxDepth } = layoutOf(buildProfile([{ frames: deep, count: 1 }]));
    expect(frames).toHaveLength(20001);
    expect(maxDepth).toBe(20000);
  });
});

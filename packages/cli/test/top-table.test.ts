import { describe, expect, it } from 'vitest';
import type { LiveSnapshot, ProfileStats } from '@pyspy/core';
import { TopView } from '../src/top/interactive.js';
import { buildTable, formatHeader, formatPlain, formatRow, rowLabel, type View } from '../src/top/table.js';

const FRAMES = [
  { name: '<module>', file: 'app.py', line: 40 }, // 0
  { name: 'main', file: 'app.py', line: 30 }, // 1
  { name: 'hot', file: 'app.py', line: 10 }, // 2
  { name: 'hot', file: 'app.py', line: 12 }, // 3
  { name: 'fib', file: 'fib.py', line: 3 }, // 4
  { name: 'warm', file: 'app.py', line: 20 }, // 5
];

function stats(samples: number, more: Partial<ProfileStats> = {}): ProfileStats {
  return {
    samples,
    ticks: samples,
    requestedRateHz: 100,
    achievedRateHz: 100,
    errors: 0,
    missed: 0,
    durationS: samples / 100,
    profilerCpuS: 0,
    gilSamples: samples,
    idleSamples: 0,
    cpuAttributedS: 0,
    cpuKernelS: 0,
    otherSamples: 0,
    ...more,
  };
}

/** A snapshot whose stacks have these counts, in this order (stack identity is the index). */
function snapshot(counts: number[], more: Partial<ProfileStats> = {}): LiveSnapshot {
  const stacks = [
    { frames: [0, 1, 2], thread: 0 }, // hot, line 10
    { frames: [0, 1, 3], thread: 0 }, // hot, line 12
    { frames: [0, 1, 4, 4, 4], thread: 1 }, // recursion
    { frames: [0, 1, 5], thread: 0 }, // warm
  ];
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    unit: 'samples',
    frames: FRAMES,
    threads: [
      { id: 1, name: 'MainThread', pid: 1 },
      { id: 2, name: 'worker', pid: 1 },
    ],
    stacks: counts.map((count, i) => ({ ...stacks[i], count, weight: count })),
    stats: stats(total, more),
    notes: [],
  };
}

const byFunction: View = { byLine: false, sort: 'own' };
const labels = (view: View, current: LiveSnapshot, previous?: LiveSnapshot) =>
  buildTable(current, previous, view).rows.map(rowLabel);

describe('top table aggregation', () => {
  it('counts own samples at the leaf only and total samples wherever the function is on the stack', () => {
    const table = buildTable(snapshot([30, 10, 0, 60]), undefined, byFunction);
    const row = (name: string) => table.rows.find((r) => r.name === name)!;
    expect(row('hot')).toMatchObject({ ownSamples: 40, totalSamples: 40 });
    expect(row('warm')).toMatchObject({ ownSamples: 60, totalSamples: 60 });
    expect(row('main')).toMatchObject({ ownSamples: 0, totalSamples: 100 });
  });

  it('counts a recursive function once per sample toward its total', () => {
    const table = buildTable(snapshot([0, 0, 7, 3]), undefined, byFunction);
    expect(table.rows.find((r) => r.name === 'fib')).toMatchObject({ ownSamples: 7, totalSamples: 7 });
    expect(table.rows.find((r) => r.name === '<module>')).toMatchObject({ totalSamples: 10 });
  });

  it('merges the lines of a function by default and splits them with L (by line)', () => {
    const current = snapshot([30, 10, 0, 60]);
    expect(labels(byFunction, current).filter((l) => l.startsWith('hot'))).toEqual(['hot (app.py)']);
    expect(labels({ byLine: true, sort: 'own' }, current).filter((l) => l.startsWith('hot'))).toEqual([
      'hot (app.py:10)',
      'hot (app.py:12)',
    ]);
  });

  it('leaves out functions with no samples since the start', () => {
    expect(labels(byFunction, snapshot([5, 0, 0, 0]))).toEqual(['hot (app.py)', '<module> (app.py)', 'main (app.py)']);
  });

  it('takes percentages from the last interval and times from the whole run', () => {
    // warm ran first, then hot alone in the last interval.
    const previous = snapshot([0, 0, 0, 100]);
    const current = snapshot([50, 0, 0, 100]);
    const table = buildTable(current, previous, byFunction);
    expect(table.window.samples).toBe(50);
    const [hot, warm] = [table.rows.find((r) => r.name === 'hot')!, table.rows.find((r) => r.name === 'warm')!];
    expect(formatRow(hot, table)).toBe('100.00% 100.00%     0.50s      0.50s  hot (app.py)');
    expect(formatRow(warm, table)).toBe('  0.00%   0.00%     1.00s      1.00s  warm (app.py)');
  });

  it('counts each sample for the achieved rate, not the requested one', () => {
    // 100 samples in 2 s: the sampler achieved 50 Hz, so each sample stands for 20 ms.
    const table = buildTable(snapshot([100, 0, 0, 0], { ticks: 100, durationS: 2 }), undefined, byFunction);
    expect(table.secondsPerSample).toBeCloseTo(0.02);
  });
});

describe('top sort keys', () => {
  const previous = snapshot([0, 0, 0, 100]);
  const current = snapshot([50, 0, 0, 110]);
  const first = (sort: View['sort']) =>
    buildTable(current, previous, { byLine: false, sort })
      .rows.map((r) => r.name)
      .slice(0, 2);

  it('1 puts the function running most in the last interval first', () => {
    expect(first('own')).toEqual(['hot', 'warm']);
  });
  it('2 puts the functions on the stack most in the last interval first', () => {
    expect(first('total')).toEqual(['<module>', 'main']);
  });
  it('3 puts the function with the most own time since the start first', () => {
    expect(first('ownTime')).toEqual(['warm', 'hot']);
  });
  it('4 puts the function with the most total time since the start first', () => {
    expect(first('totalTime')).toEqual(['<module>', 'main']);
  });
});

describe('top header', () => {
  const info = { pid: 42, pythonVersion: '3.11.2', command: ['python', 'app.py'], idleIncluded: false };

  it('shows the GIL share of samples and the idle share of threads seen, over the last interval', () => {
    const table = buildTable(
      snapshot([80, 0, 0, 20], { gilSamples: 75, idleSamples: 100, errors: 2, missed: 3 }),
      undefined,
      byFunction,
    );
    const [what, how] = formatHeader(info, table);
    expect(what).toBe('PID 42  Python 3.11.2  100 samples in 1.0 s  python app.py');
    expect(how).toBe('Samples/s: 100.0 (of 100)  Threads: 1  GIL: 75.0%  Idle: 50.0%  Errors: 2  Missed: 3');
  });

  it('shows no GIL share on a free-threaded build, which has no GIL', () => {
    const table = buildTable(snapshot([1, 0, 0, 0], { gilSamples: 0 }), undefined, byFunction);
    expect(formatHeader({ ...info, freeThreaded: true }, table)[1]).toContain('GIL: none (free-threaded)');
  });

  it('does not pretend to measure idle threads when --idle samples them', () => {
    const table = buildTable(snapshot([1, 0, 0, 0]), undefined, byFunction);
    expect(formatHeader({ ...info, idleIncluded: true }, table)[1]).toContain('Idle: n/a (--idle)');
  });

  it('keeps control characters from the target out of the output', () => {
    const current = snapshot([1, 0, 0, 0]);
    current.frames = current.frames.map((f) => ({ ...f, name: `${f.name}\x1b[2J\n` }));
    const text = formatPlain(info, buildTable(current, undefined, byFunction), 10, 'now');
    expect(text).not.toMatch(/\x1b/);
    expect(text).toContain('hot?[2J? (app.py)');
  });

  it('says how many rows a plain table left out', () => {
    const text = formatPlain(info, buildTable(snapshot([1, 1, 1, 1]), undefined, byFunction), 2, 'now');
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-3)).toEqual([
      expect.stringContaining('hot (app.py)'),
      expect.stringContaining('fib (fib.py)'),
      '(3 more)',
    ]);
  });
});

describe('top keys', () => {
  function fakeLive(sequence: LiveSnapshot[]) {
    let index = 0;
    let base: LiveSnapshot | undefined;
    return {
      resets: 0,
      snapshot(): LiveSnapshot {
        const raw = sequence[Math.min(index++, sequence.length - 1)];
        if (!base) return raw;
        return snapshot(raw.stacks.map((s, i) => s.count - base!.stacks[i].count));
      },
      reset() {
        this.resets++;
        base = sequence[Math.min(index - 1, sequence.length - 1)];
      },
    };
  }
  const info = { pid: 42, pythonVersion: '3.11.2', idleIncluded: false };
  const rowsOf = (view: TopView) =>
    view
      .lines(100)
      .slice(5)
      .map((l) => l.text.trim().split(/\s+/).at(-2));

  it('1-4 sort, L toggles lines, q and Ctrl-C quit', () => {
    const view = new TopView(fakeLive([snapshot([0, 0, 0, 100]), snapshot([50, 0, 0, 110])]), info);
    view.refresh();
    expect(rowsOf(view)[0]).toBe('hot');
    view.key('2');
    expect(view.lines(100)[2].text).toContain('Sort: %Total');
    expect(rowsOf(view)[0]).toBe('<module>');
    view.key('3');
    expect(rowsOf(view)[0]).toBe('warm');
    view.key('L');
    expect(
      view
        .lines(100)
        .map((l) => l.text)
        .join('\n'),
    ).toContain('hot (app.py:10)');
    expect(view.key('q')).toBe('quit');
    expect(view.key('ctrl-c')).toBe('quit');
  });

  it('P freezes the table while snapshots go on; P again shows the latest', () => {
    const view = new TopView(fakeLive([snapshot([10, 0, 0, 0]), snapshot([10, 0, 0, 90])]), info);
    view.key('P');
    view.refresh();
    expect(view.lines(100)[2].text).toMatch(/^PAUSED/);
    expect(rowsOf(view)).not.toContain('warm');
    view.key('P');
    expect(rowsOf(view)).toContain('warm');
  });

  it('R resets the counts in the recorder and starts from an empty table', () => {
    const live = fakeLive([snapshot([10, 0, 0, 0]), snapshot([10, 0, 0, 0]), snapshot([10, 0, 0, 5])]);
    const view = new TopView(live, info);
    view.key('R');
    expect(live.resets).toBe(1);
    expect(
      view
        .lines(100)
        .map((l) => l.text)
        .join('\n'),
    ).toContain('No samples yet');
    view.refresh();
    expect(rowsOf(view)).toEqual(['warm', '<module>', 'main']);
  });

  it('? shows the help and any key goes back', () => {
    const view = new TopView(fakeLive([snapshot([1, 0, 0, 0])]), info);
    view.key('?');
    expect(view.lines(100)[0].text).toBe('pyspy-ts top: keys');
    view.key('x');
    expect(view.lines(100)[0].text).toMatch(/^pyspy-ts top {2}PID 42/);
  });

  it('never shows more lines than the terminal has', () => {
    const view = new TopView(fakeLive([snapshot([1, 1, 1, 1])]), info);
    expect(view.lines(7)).toHaveLength(7);
  });
});

describe('top with --cpu and --subprocesses', () => {
  const frames = [
    { name: 'process 7: "python app.py"', file: '', line: 0, kind: 'process' as const },
    { name: 'process 8: "python app.py"', file: '', line: 0, kind: 'process' as const },
    { name: 'work', file: 'app.py', line: 3 },
    { name: '<GC>', file: '', line: 0, kind: 'gc' as const },
  ];
  const cpuSnapshot = (weights: number[]): LiveSnapshot => ({
    unit: 'cpu-nanoseconds',
    frames,
    threads: [
      { id: 7, name: 'MainThread', pid: 7 },
      { id: 8, name: 'MainThread', pid: 8 },
    ],
    stacks: [
      { frames: [0, 2], thread: 0, count: 10, weight: weights[0] },
      { frames: [1, 2], thread: 1, count: 10, weight: weights[1] },
      { frames: [1, 2, 3], thread: 1, count: 10, weight: weights[2] },
    ],
    stats: stats(30, { cpuAttributedS: 0.9, cpuKernelS: 1 }),
    notes: [],
  });

  it('shows a function once per process, in a PID column, with the process roots left out of the rows', () => {
    const table = buildTable(cpuSnapshot([3e8, 6e8, 1e8]), undefined, byFunction);
    expect(table.processes).toBe(true);
    expect(table.rows.map((r) => [r.pid, r.name])).toEqual([
      [8, 'work'],
      [7, 'work'],
      [8, '<GC>'],
    ]);
    const text = formatPlain({ pid: 7, pythonVersion: '3.12.1', idleIncluded: false }, table, 10, 'now');
    expect(text).toContain('     PID  Function (filename:line)');
    expect(text).toContain('       8  work (app.py)');
  });

  it('puts CPU time in the time columns and shares of CPU time in the percentages', () => {
    const table = buildTable(cpuSnapshot([3e8, 6e8, 1e8]), undefined, byFunction);
    const eight = table.rows.find((r) => r.pid === 8 && r.name === 'work')!;
    // 0.7 s of 1 s of CPU with work on the stack, 0.6 s in work itself.
    expect(formatRow(eight, table)).toBe(' 60.00%  70.00%     0.60s      0.70s         8  work (app.py)');
    expect(formatHeader({ pid: 7, pythonVersion: '3.12.1', idleIncluded: false }, table)[1]).toContain('CPU: 0.90 s of 1.00 s');
  });
});

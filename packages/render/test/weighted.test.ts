/**
 * Profiles weighted by CPU time (`--cpu`) and profiles of several processes (`--subprocesses`,
 * with `<GC>` on top of some stacks), through every output format.
 */
import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import {
  diffProfiles,
  formatDiffText,
  loadProfileText,
  parseProfile,
  renderChromeTrace,
  renderCollapsed,
  renderFlamegraph,
  renderPprof,
  renderProfileJson,
  renderSpeedscope,
  type Frame,
} from '../src/index.js';
import { buildProfile, main, parse, work } from './fixtures.js';

const gc: Frame = { name: '<GC>', file: '', line: 0, kind: 'gc' };
const parent: Frame = { name: 'process 100: "python app.py"', file: '', line: 0, kind: 'process' };
const child: Frame = { name: 'process 101: "python app.py --worker"', file: '', line: 0, kind: 'process' };

/** 70 ms of CPU in work (in 7 samples), 30 ms in parse (in 30 samples: a thread that mostly waited). */
function cpuProfile() {
  return buildProfile(
    [
      { frames: [main, work], count: 7, weight: 70_000_000 },
      { frames: [main, parse], count: 30, weight: 30_000_000 },
    ],
    { unit: 'cpu-nanoseconds' },
  );
}

function processProfile() {
  const threads = [
    { id: 100, name: 'MainThread', pid: 100 },
    { id: 101, name: 'MainThread', pid: 101 },
    { id: 102, name: 'feeder', pid: 101 },
  ];
  return buildProfile(
    [
      { frames: [parent, main], count: 4, thread: 0 },
      { frames: [child, main, work], count: 6, thread: 1 },
      { frames: [child, main, work, gc], count: 2, thread: 1 },
      { frames: [child, parse], count: 3, thread: 2 },
    ],
    { threads },
  );
}

describe('profiles weighted by CPU time', () => {
  it('collapsed stacks are in microseconds of CPU', () => {
    expect(renderCollapsed(cpuProfile())).toBe(
      'main (app.py:10);parse (app.py:30) 30000\nmain (app.py:10);work (app.py:20) 70000\n',
    );
  });

  it('speedscope weights are nanoseconds', () => {
    const file = JSON.parse(renderSpeedscope(cpuProfile()));
    expect(file.profiles[0]).toMatchObject({ unit: 'nanoseconds', weights: [70_000_000, 30_000_000], endValue: 100_000_000 });
  });

  it('pprof cpu/nanoseconds values are the CPU time, not count × interval', () => {
    const decoded = decodePprof(renderPprof(cpuProfile()));
    expect(decoded.sample.map((s: any) => s.value)).toEqual([
      [7, 70_000_000],
      [30, 30_000_000],
    ]);
  });

  it('the flame graph is as wide as the CPU time and says so', () => {
    const svg = renderFlamegraph(cpuProfile());
    expect(svg).toContain('100.00 ms CPU');
    expect(svg).toMatch(/<title>work \(app\.py:20\) \(70\.00 ms CPU, 70\.00%\)<\/title>/);
  });

  it('a Chrome trace lays each stack out for its CPU time', () => {
    const { traceEvents } = JSON.parse(renderChromeTrace(cpuProfile()));
    const ends = traceEvents.filter((e: any) => e.ph === 'E').map((e: any) => e.ts);
    expect(Math.max(...ends)).toBe(100_000);
  });

  it('a Chrome trace with a timeline shows a sample as the CPU time before it, with gaps where the thread waited', () => {
    const profile = buildProfile([{ frames: [main, work], count: 2, weight: 3_000_000 }], {
      unit: 'cpu-nanoseconds',
      timeline: { timesUs: [10_000, 20_000], stacks: [0, 0], weights: [1_000_000, 2_000_000] },
    });
    const { traceEvents } = JSON.parse(renderChromeTrace(profile));
    const mainEvents = traceEvents.filter((e: any) => e.name === 'main (app.py:10)').map((e: any) => [e.ph, e.ts]);
    expect(mainEvents).toEqual([
      ['B', 9_000],
      ['E', 10_000],
      ['B', 18_000],
      ['E', 20_000],
    ]);
  });

  it('our JSON keeps the unit, the weights and the notes; a file without them reads as samples', () => {
    const profile = cpuProfile();
    profile.meta.notes = ["process 7 exec'd /bin/sleep; stopped sampling it"];
    profile.timeline = { timesUs: [0, 1], stacks: [0, 1], weights: [5, 6] };
    expect(parseProfile(renderProfileJson(profile))).toEqual(profile);
    expect(renderProfileJson(parseProfile(renderProfileJson(profile)))).toBe(renderProfileJson(profile));
    const old = JSON.parse(renderProfileJson(buildProfile([{ frames: [main], count: 4 }])));
    delete old.unit;
    delete old.stacks[0].weight;
    delete old.stats.cpuAttributedS;
    const read = parseProfile(JSON.stringify(old));
    expect(read.unit).toBe('samples');
    expect(read.stacks[0].weight).toBe(4);
  });

  it('diff compares shares of CPU time, and says when the two were not weighted alike', () => {
    const samples = buildProfile([
      { frames: [main, work], count: 7 },
      { frames: [main, parse], count: 30 },
    ]);
    const cpu = diffProfiles(cpuProfile(), cpuProfile());
    expect(cpu.functions.find((f) => f.name === 'work')?.base.selfPct).toBeCloseTo(70);
    expect(formatDiffText(cpu)).toMatch(/shares in % of each profile's CPU time/);
    const mixed = diffProfiles(samples, cpuProfile());
    expect(mixed.functions.find((f) => f.name === 'work')?.selfDeltaPts).toBeCloseTo(70 - (100 * 7) / 37);
    expect(formatDiffText(mixed)).toMatch(/one is weighted by CPU time/);
  });

  it('a speedscope file in nanoseconds reads back as CPU time', () => {
    const read = loadProfileText(renderSpeedscope(cpuProfile()));
    expect(read.unit).toBe('cpu-nanoseconds');
    expect(read.stacks.map((s) => s.weight)).toEqual([70_000_000, 30_000_000]);
  });
});

describe('profiles of several processes, with <GC>', () => {
  it('collapsed stacks and the flame graph put each process at the root and <GC> on top', () => {
    const lines = renderCollapsed(processProfile()).trim().split('\n');
    expect(lines).toContain('process 100: "python app.py";main (app.py:10) 4');
    expect(lines).toContain('process 101: "python app.py --worker";main (app.py:10);work (app.py:20);<GC> 2');
    const svg = renderFlamegraph(processProfile());
    expect(svg).toContain('data-label="process 101: &quot;python app.py --worker&quot;"');
    expect(svg).toContain('data-label="&lt;GC&gt;"');
  });

  it('with --threads, threads go under their process', () => {
    const lines = renderCollapsed(processProfile(), { threads: true }).trim().split('\n');
    expect(lines).toContain('process 101: "python app.py --worker";thread feeder (tid 102);parse (app.py:30) 3');
  });

  it('speedscope has one profile per process', () => {
    const file = JSON.parse(renderSpeedscope(processProfile()));
    expect(file.profiles.map((p: any) => [p.name, p.endValue])).toEqual([
      ['process 100: "python app.py"', 4],
      ['process 101: "python app.py --worker"', 11],
    ]);
  });

  it('a Chrome trace has a track per process, named by its root', () => {
    const { traceEvents } = JSON.parse(renderChromeTrace(processProfile()));
    const names = traceEvents.filter((e: any) => e.name === 'process_name').map((e: any) => [e.pid, e.args.name]);
    expect(names).toEqual([
      [100, 'process 100: "python app.py"'],
      [101, 'process 101: "python app.py --worker"'],
    ]);
  });

  it('pprof labels each sample with its pid and process, and leaves the root out of the stack', () => {
    const decoded = decodePprof(renderPprof(processProfile()));
    const str = (i: number) => decoded.stringTable[i];
    const labels = decoded.sample.map((s: any) =>
      Object.fromEntries(s.label.map((l: any) => [str(l.key), l.str ? str(l.str) : l.num])),
    );
    expect(labels[0]).toMatchObject({ pid: 100, process: 'process 100: "python app.py"', thread: 'MainThread' });
    expect(labels[3]).toMatchObject({ pid: 101, process: 'process 101: "python app.py --worker"', 'thread id': 102 });
    expect(decoded.sample[0].locationId).toHaveLength(1);
  });

  it('collapsed stacks read back with their pseudo-frames', () => {
    const read = loadProfileText(renderCollapsed(processProfile()));
    expect(read.frames.filter((f) => f.kind).map((f) => [f.name, f.kind])).toEqual([
      ['process 100: "python app.py"', 'process'],
      ['process 101: "python app.py --worker"', 'process'],
      ['<GC>', 'gc'],
    ]);
  });
});

const pprofReader = protobuf.Root.fromJSON({
  nested: {
    P: {
      fields: {
        sample: { rule: 'repeated', type: 'S', id: 2 },
        stringTable: { rule: 'repeated', type: 'string', id: 6 },
      },
    },
    S: {
      fields: {
        locationId: { rule: 'repeated', type: 'uint64', id: 1 },
        value: { rule: 'repeated', type: 'int64', id: 2 },
        label: { rule: 'repeated', type: 'LB', id: 3 },
      },
    },
    LB: { fields: { key: { type: 'int64', id: 1 }, str: { type: 'int64', id: 2 }, num: { type: 'int64', id: 3 } } },
  },
}).lookupType('P');

function decodePprof(bytes: Uint8Array): any {
  return pprofReader.toObject(pprofReader.decode(bytes), { longs: Number, defaults: true });
}

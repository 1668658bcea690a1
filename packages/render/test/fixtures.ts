import type { Frame, Profile, StackCount, ThreadInfo } from '../src/profile.js';

export function frame(name: string, file = 'app.py', line = 1): Frame {
  return { name, file, line };
}

export interface StackSpec {
  frames: Frame[];
  count: number;
  /** Default: `count` (a profile of samples). */
  weight?: number;
  /** Index into the profile's threads; default 0. */
  thread?: number;
}

const DEFAULT_THREADS: ThreadInfo[] = [{ id: 101, name: 'MainThread', pid: 4242 }];

/** A profile with the given stacks, frames interned the way `@pyspy/core` does. */
export function buildProfile(
  stacks: StackSpec[],
  options: { threads?: ThreadInfo[]; timeline?: Profile['timeline']; unit?: Profile['unit'] } = {},
): Profile {
  const frames: Frame[] = [];
  const index = new Map<string, number>();
  const intern = (f: Frame) => {
    const key = JSON.stringify([f.name, f.file, f.line, f.kind]);
    let i = index.get(key);
    if (i === undefined) {
      i = frames.push(f) - 1;
      index.set(key, i);
    }
    return i;
  };
  const stackCounts: StackCount[] = stacks.map((s) => ({
    frames: s.frames.map(intern),
    thread: s.thread ?? 0,
    count: s.count,
    weight: s.weight ?? s.count,
  }));
  const samples = stackCounts.reduce((sum, s) => sum + s.count, 0);
  const unit = options.unit ?? 'samples';
  const cpuS = unit === 'cpu-nanoseconds' ? stackCounts.reduce((sum, s) => sum + s.weight, 0) / 1e9 : 0;
  return {
    version: 1,
    unit,
    meta: { pid: 4242, pythonVersion: '3.12.3', startTime: '2026-01-01T00:00:00.000Z' },
    stats: {
      samples,
      ticks: samples,
      requestedRateHz: 100,
      achievedRateHz: 99.5,
      errors: 0,
      missed: 0,
      durationS: samples / 100,
      profilerCpuS: 0.01,
      gilSamples: samples,
      idleSamples: 0,
      cpuAttributedS: cpuS,
      cpuKernelS: cpuS,
      otherSamples: 0,
    },
    frames,
    threads: options.threads ?? DEFAULT_THREADS,
    stacks: stackCounts,
    timeline: options.timeline,
  };
}

export const main = frame('main', 'app.py', 10);
export const work = frame('work', 'app.py', 20);
export const parse = frame('parse', 'app.py', 30);
export const unicodeFn = frame('función_ñandú', 'módulo.py', 7);
export const japaneseFn = frame('関数', '🐍/ヘビ.py', 3);

/**
 * main -> work -> función_ñandú (30), main -> 関数 -> función_ñandú (10), main -> parse (20),
 * main -> work (self, 20): 80 samples; función_ñandú covers 40 of them in two places.
 */
export function unicodeProfile(): Profile {
  return buildProfile([
    { frames: [main, work, unicodeFn], count: 30 },
    { frames: [main, japaneseFn, unicodeFn], count: 10 },
    { frames: [main, parse], count: 20 },
    { frames: [main, work], count: 20 },
  ]);
}

export function emptyProfile(): Profile {
  return buildProfile([]);
}

import { describe, expect, it } from 'vitest';
import { emptyStats, type Profile } from '@pyspy/render';
import { summary } from '../src/commands/record.js';

function profile(samples: number, ticks: number): Profile {
  return {
    version: 1,
    meta: { pid: 42, pythonVersion: '3.13.5', startTime: '2026-01-01T00:00:00.000Z' },
    frames: [],
    threads: [],
    stacks: [],
    unit: 'samples',
    stats: { ...emptyStats(), samples, ticks, durationS: 10, achievedRateHz: ticks / 10, requestedRateHz: 1000 },
  };
}

describe("record's summary", () => {
  it('says how many samples a tick took: more than one when threads run at once', () => {
    const busy = summary(profile(39_412, 9_980), 'raw', 'out.txt');
    expect(busy).toMatch(/^Samples: 39,412 in 10\.0 s at 998\.0 Hz \(requested 1,000 Hz\)\. Errors: 0\./);
    expect(busy).toMatch(/ Samples per tick: 3\.95\.\n/);
    expect(summary(profile(500, 1000), 'raw', 'out.txt')).toMatch(/ Samples per tick: 0\.50\.\n/);
  });
});

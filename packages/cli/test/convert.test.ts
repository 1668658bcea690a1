import { parseProfile, renderProfileJson, type Profile } from '@pyspy/render';
import { describe, expect, it } from 'vitest';
import { FORMATS } from '../src/output.js';
import { renderOutput } from '../src/render-output.js';

/** A profile with everything a record can put in one: CPU weights, process roots, <GC>, a timeline, notes. */
function recorded(): Profile {
  return {
    version: 1,
    meta: {
      pid: 100,
      pythonVersion: '3.12.1',
      command: ['python', 'app.py'],
      startTime: '2026-01-01T00:00:00.000Z',
      exitCode: 0,
      stopReason: 'target-exited',
      notes: ["process 101 exec'd /usr/bin/sleep; stopped sampling it"],
    },
    unit: 'cpu-nanoseconds',
    stats: {
      samples: 5,
      ticks: 4,
      requestedRateHz: 100,
      achievedRateHz: 98.5,
      errors: 0,
      missed: 1,
      durationS: 0.04,
      profilerCpuS: 0.002,
      gilSamples: 5,
      idleSamples: 2,
      cpuAttributedS: 0.035,
      cpuKernelS: 0.036,
      otherSamples: 0,
    },
    frames: [
      { name: 'process 100: "python app.py"', file: '', line: 0, kind: 'process' },
      { name: 'main', file: 'app.py', line: 3 },
      { name: '<GC>', file: '', line: 0, kind: 'gc' },
      { name: 'process 101: "python app.py"', file: '', line: 0, kind: 'process' },
      { name: 'work', file: 'app.py', line: 9 },
    ],
    threads: [
      { id: 100, name: 'MainThread', pid: 100 },
      { id: 101, name: 'MainThread', pid: 101 },
    ],
    stacks: [
      { frames: [0, 1], thread: 0, count: 2, weight: 15_000_000 },
      { frames: [0, 1, 2], thread: 0, count: 1, weight: 5_000_000 },
      { frames: [3, 4], thread: 1, count: 2, weight: 15_000_000 },
    ],
    timeline: {
      timesUs: [0, 10_000, 10_000, 20_000, 30_000],
      stacks: [0, 2, 1, 0, 2],
      weights: [10_000_000, 7_000_000, 5_000_000, 5_000_000, 8_000_000],
    },
  };
}

describe('convert', () => {
  it('writes from a saved profile, in every format, exactly what record wrote from the same samples', async () => {
    const profile = recorded();
    const saved = parseProfile(renderProfileJson(profile));
    for (const format of FORMATS) {
      for (const threads of [false, true]) {
        const direct = await renderOutput(profile, format, { threads });
        const again = await renderOutput(saved, format, { threads });
        expect(Buffer.from(again).equals(Buffer.from(direct)), `${format}, threads ${threads}`).toBe(true);
      }
    }
  });
});

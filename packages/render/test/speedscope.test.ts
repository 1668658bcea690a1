import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { renderSpeedscope } from '../src/index.js';
import { buildProfile, emptyProfile, main, unicodeProfile, work } from './fixtures.js';

// The schema speedscope itself publishes (https://www.speedscope.app/file-format-schema.json),
// shipped in its npm package.
const schemaPath = createRequire(import.meta.url).resolve('speedscope/dist/release/file-format-schema.json');
const validateSchema = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(schemaPath, 'utf8')));

interface SpeedscopeFile {
  name: string;
  shared: { frames: { name: string; file?: string; line?: number }[] };
  profiles: { type: string; name: string; startValue: number; endValue: number; samples: number[][]; weights: number[] }[];
}

/** Schema validation plus what the schema cannot say: indexes in range, parallel arrays, totals. */
function parseValid(json: string): SpeedscopeFile {
  const file = JSON.parse(json) as SpeedscopeFile;
  expect(validateSchema(file), JSON.stringify(validateSchema.errors)).toBe(true);
  for (const profile of file.profiles) {
    expect(profile.samples).toHaveLength(profile.weights.length);
    for (const stack of profile.samples) {
      for (const index of stack) expect(file.shared.frames[index]).toBeDefined();
    }
    expect(profile.endValue - profile.startValue).toBe(profile.weights.reduce((a, b) => a + b, 0));
  }
  return file;
}

describe('speedscope output', () => {
  it("matches speedscope's file format schema", () => {
    const file = parseValid(renderSpeedscope(unicodeProfile(), { name: 'función' }));
    expect(file.name).toBe('función');
    expect(file.shared.frames.map((f) => f.name)).toContain('関数');
    expect(file.profiles).toHaveLength(1);
    expect(file.profiles[0].weights.reduce((a, b) => a + b, 0)).toBe(80);
  });

  it('has one sampled profile per thread that has samples', () => {
    const threads = [
      { id: 1, name: 'MainThread', pid: 4242 },
      { id: 2, name: 'idle', pid: 4242 },
      { id: 3, name: 'child', pid: 5000 },
    ];
    const profile = buildProfile(
      [
        { frames: [main], count: 2, thread: 0 },
        { frames: [main, work], count: 3, thread: 2 },
      ],
      { threads },
    );
    const file = parseValid(renderSpeedscope(profile));
    expect(file.profiles.map((p) => p.name)).toEqual(['MainThread (tid 1)', 'child (tid 3, pid 5000)']);
  });

  it('omits unknown line numbers', () => {
    const file = parseValid(renderSpeedscope(buildProfile([{ frames: [{ name: 'f', file: 'a.py', line: 0 }], count: 1 }])));
    expect(file.shared.frames).toEqual([{ name: 'f', file: 'a.py' }]);
  });

  it('is a valid file for a profile without samples', () => {
    expect(parseValid(renderSpeedscope(emptyProfile())).profiles).toEqual([]);
  });
});

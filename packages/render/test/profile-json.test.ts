import { describe, expect, it } from 'vitest';
import { parseProfile, ProfileFormatError, renderProfileJson, renderCollapsed } from '../src/index.js';
import { buildProfile, main, unicodeProfile, work } from './fixtures.js';

describe('the pyspy-ts JSON profile format', () => {
  it('loads back exactly what was written, unicode and timeline included', () => {
    const profile = buildProfile([{ frames: [main, work], count: 3 }], { timeline: { timesUs: [0, 10, 20], stacks: [0, 0, 0] } });
    profile.meta.command = ['python', 'app.py'];
    profile.meta.exitCode = 0;
    profile.meta.stopReason = 'target-exited';
    expect(parseProfile(renderProfileJson(profile))).toEqual(profile);
    const unicode = unicodeProfile();
    expect(renderCollapsed(parseProfile(renderProfileJson(unicode)))).toBe(renderCollapsed(unicode));
  });

  it('names its format and version at the top', () => {
    const json = JSON.parse(renderProfileJson(unicodeProfile()));
    expect(json).toMatchObject({ format: 'pyspy-ts-profile', formatVersion: 1, exporter: 'pyspy-ts' });
  });

  it('rejects other JSON, other versions and broken shapes with a message that says what is wrong', () => {
    const good = JSON.parse(renderProfileJson(unicodeProfile()));
    const bad = (patch: (j: any) => void) => {
      const copy = structuredClone(good);
      patch(copy);
      return () => parseProfile(JSON.stringify(copy));
    };
    expect(() => parseProfile('{"not": "ours"')).toThrow(/invalid JSON/);
    expect(() => parseProfile('{"shared": {}}')).toThrow(/"format" must be "pyspy-ts-profile"/);
    expect(bad((j) => (j.formatVersion = 2))).toThrow(/formatVersion 2.*newer pyspy-ts/);
    expect(bad((j) => (j.stacks[0].frames[0] = 99))).toThrow(/stacks\[0\]\.frames\[0\] = 99 is not a frame index/);
    expect(bad((j) => (j.stacks[1].count = -1))).toThrow(/stacks\[1\]\.count must be >= 0/);
    expect(bad((j) => delete j.stats)).toThrow(/stats must be an object/);
    expect(bad((j) => (j.frames[0].name = 3))).toThrow(ProfileFormatError);
  });
});

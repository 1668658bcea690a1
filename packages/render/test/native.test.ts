import protobuf from 'protobufjs/light.js';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { frameFill } from '../src/flamegraph-colors.js';
import {
  diffProfiles,
  parseProfile,
  renderCollapsed,
  renderFlamegraph,
  renderPprof,
  renderProfileJson,
  renderSpeedscope,
} from '../src/index.js';
import type { Frame } from '../src/profile.js';
import { buildProfile, main } from './fixtures.js';
import { parseSvg } from './svg.js';

const burn: Frame = { name: 'burn', file: 'hotext.c', line: 40, kind: 'native' };
const cInner: Frame = { name: 'c_inner', file: 'hotext.c', line: 7, kind: 'native' };
const dgemm: Frame = { name: 'dgemm_kernel', file: 'libopenblas.so', line: 0, kind: 'native' };

/** <module>-like main -> burn -> c_inner (6), main -> dgemm_kernel (4). */
function nativeProfile(innerCount = 6) {
  return buildProfile([
    { frames: [main, burn, cInner], count: innerCount },
    { frames: [main, dgemm], count: 4 },
  ]);
}

describe('native frames (--native)', () => {
  it('get their own colour in the flame graph and say what they are', () => {
    const { frames } = parseSvg(renderFlamegraph(nativeProfile()));
    const inner = frames.find((f) => f.attributes['data-name'] === 'c_inner');
    const python = frames.find((f) => f.attributes['data-name'] === 'main');
    expect(inner?.attributes['data-frame-kind']).toBe('native');
    expect(python?.attributes['data-frame-kind']).toBeUndefined();
    expect(inner?.title).toBe('c_inner (hotext.c:7) (6 samples, 60.00%)');
    // The fill is the native palette's (green), not the user palette a file like hotext.c gets.
    expect(inner?.rect.fill).toBe(frameFill('c_inner', 'native'));
    expect(inner?.rect.fill).not.toBe(frameFill('c_inner', 'user'));
    // Without a line the module takes the file's place: py-spy's `dgemm_kernel (libopenblas.so)`.
    expect(frames.find((f) => f.attributes['data-name'] === 'dgemm_kernel')?.title).toMatch(/^dgemm_kernel \(libopenblas\.so\) /);
  });

  it('keep their kind through our JSON and carry it in speedscope', () => {
    const profile = nativeProfile();
    const back = parseProfile(renderProfileJson(profile));
    expect(back.frames.filter((f) => f.kind === 'native').map((f) => f.name)).toEqual(['burn', 'c_inner', 'dgemm_kernel']);
    const speedscope = JSON.parse(renderSpeedscope(profile));
    const shared = speedscope.shared.frames as { name: string; kind?: string; line?: number }[];
    expect(shared.find((f) => f.name === 'c_inner')).toMatchObject({ kind: 'native', line: 7 });
    expect(shared.find((f) => f.name === 'main')?.kind).toBeUndefined();
    expect(renderCollapsed(profile)).toContain('main (app.py:10);burn (hotext.c:40);c_inner (hotext.c:7) 6');
  });

  it('point at a mapping of their own in pprof', () => {
    const type = protobuf.Root.fromJSON({
      nested: {
        P: {
          fields: {
            mapping: { rule: 'repeated', type: 'M', id: 3 },
            location: { rule: 'repeated', type: 'L', id: 4 },
            function: { rule: 'repeated', type: 'F', id: 5 },
            stringTable: { rule: 'repeated', type: 'string', id: 6 },
          },
        },
        M: { fields: { id: { type: 'uint64', id: 1 }, filename: { type: 'int64', id: 5 } } },
        L: {
          fields: {
            id: { type: 'uint64', id: 1 },
            mappingId: { type: 'uint64', id: 2 },
            line: { rule: 'repeated', type: 'LN', id: 4 },
          },
        },
        LN: { fields: { functionId: { type: 'uint64', id: 1 } } },
        F: { fields: { id: { type: 'uint64', id: 1 }, name: { type: 'int64', id: 2 } } },
      },
    }).lookupType('P');
    const bytes = renderPprof(nativeProfile());
    const decoded = type.toObject(type.decode(bytes.length > 2 && bytes[0] === 0x1f ? gunzipSync(bytes) : bytes), {
      longs: Number,
    }) as {
      mapping: { id: number; filename: number }[];
      location: { mappingId: number; line: { functionId: number }[] }[];
      function: { id: number; name: number }[];
      stringTable: string[];
    };
    const mappingNames = new Map(decoded.mapping.map((m) => [m.id, decoded.stringTable[m.filename]]));
    const functionNames = new Map(decoded.function.map((f) => [f.id, decoded.stringTable[f.name]]));
    const mappingOf = new Map(
      decoded.location.map((l) => [functionNames.get(l.line[0].functionId), mappingNames.get(l.mappingId)]),
    );
    expect(mappingOf.get('c_inner')).toBe('[native]');
    expect(mappingOf.get('main')).toBe('python3.12.3');
  });

  it('are compared by diff like Python functions', () => {
    const diff = diffProfiles(nativeProfile(6), nativeProfile(16));
    const inner = diff.functions.find((f) => f.name === 'c_inner');
    expect(inner?.base.selfPct).toBeCloseTo(60);
    expect(inner?.head.selfPct).toBeCloseTo(80);
    expect(diff.functions.find((f) => f.name === 'dgemm_kernel')?.selfDeltaPts).toBeCloseTo(-20);
  });
});

import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { renderPprof } from '../src/index.js';
import { buildProfile, main, parse, work } from './fixtures.js';

// Read back with a schema of our own covering only the fields checked here (numbers from
// profile.proto), so a wrong field number in the writer shows up as a missing value.
const reader = protobuf.Root.fromJSON({
  nested: {
    P: {
      fields: {
        sampleType: { rule: 'repeated', type: 'VT', id: 1 },
        sample: { rule: 'repeated', type: 'S', id: 2 },
        location: { rule: 'repeated', type: 'L', id: 4 },
        function: { rule: 'repeated', type: 'F', id: 5 },
        stringTable: { rule: 'repeated', type: 'string', id: 6 },
        period: { type: 'int64', id: 12 },
      },
    },
    VT: { fields: { type: { type: 'int64', id: 1 }, unit: { type: 'int64', id: 2 } } },
    S: { fields: { locationId: { rule: 'repeated', type: 'uint64', id: 1 }, value: { rule: 'repeated', type: 'int64', id: 2 } } },
    L: { fields: { id: { type: 'uint64', id: 1 }, line: { rule: 'repeated', type: 'LN', id: 4 } } },
    LN: { fields: { functionId: { type: 'uint64', id: 1 }, line: { type: 'int64', id: 2 } } },
    F: { fields: { id: { type: 'uint64', id: 1 }, name: { type: 'int64', id: 2 }, filename: { type: 'int64', id: 4 } } },
  },
}).lookupType('P');

describe('renderPprof', () => {
  it('writes samples/count and cpu/nanoseconds, leaf-first locations with file and line', () => {
    const profile = buildProfile([
      { frames: [main, work], count: 30 },
      { frames: [main, parse], count: 10 },
    ]);
    const decoded = reader.toObject(reader.decode(renderPprof(profile)), { longs: Number, defaults: true }) as any;
    const str = (i: number) => decoded.stringTable[i];
    expect(str(0)).toBe('');
    expect(decoded.sampleType.map((t: any) => `${str(t.type)}/${str(t.unit)}`)).toEqual(['samples/count', 'cpu/nanoseconds']);
    expect(decoded.period).toBe(10_000_000);
    const functionName = (locationId: number) => {
      const location = decoded.location.find((l: any) => l.id === locationId);
      const fn = decoded.function.find((f: any) => f.id === location.line[0].functionId);
      return `${str(fn.name)} ${str(fn.filename)}:${location.line[0].line}`;
    };
    const stacks = decoded.sample.map((s: any) => [s.locationId.map(functionName).join(' < '), s.value]);
    expect(stacks).toEqual([
      ['work app.py:20 < main app.py:10', [30, 300_000_000]],
      ['parse app.py:30 < main app.py:10', [10, 100_000_000]],
    ]);
  });
});

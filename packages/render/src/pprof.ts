/**
 * pprof's profile.proto (what `go tool pprof`, Pyroscope, Parca and Cloud Profiler read), without
 * the gzip wrapper: callers compress it (`node:zlib` gzipSync in Node, CompressionStream in
 * browsers) so this module stays free of Node APIs.
 *
 * The schema below is written from the public description of profile.proto
 * (github.com/google/pprof, proto/profile.proto): field numbers and types only. Every string is an
 * index into `string_table`, whose entry 0 must be "". A sample lists location ids leaf first.
 */
import protobuf from 'protobufjs/light.js';
import { processRootOf } from './process-roots.js';
import type { Profile } from './profile.js';

const int64 = (id: number) => ({ type: 'int64', id });
const uint64 = (id: number) => ({ type: 'uint64', id });
const repeated = (type: string, id: number) => ({ type, id, rule: 'repeated' });

const PROFILE_PROTO = {
  nested: {
    perftools: {
      nested: {
        profiles: {
          nested: {
            Profile: {
              fields: {
                sampleType: repeated('ValueType', 1),
                sample: repeated('Sample', 2),
                mapping: repeated('Mapping', 3),
                location: repeated('Location', 4),
                function: repeated('Function', 5),
                stringTable: repeated('string', 6),
                dropFrames: int64(7),
                keepFrames: int64(8),
                timeNanos: int64(9),
                durationNanos: int64(10),
                periodType: { type: 'ValueType', id: 11 },
                period: int64(12),
                comment: repeated('int64', 13),
                defaultSampleType: int64(14),
              },
            },
            ValueType: { fields: { type: int64(1), unit: int64(2) } },
            Sample: {
              fields: { locationId: repeated('uint64', 1), value: repeated('int64', 2), label: repeated('Label', 3) },
            },
            Label: { fields: { key: int64(1), str: int64(2), num: int64(3), numUnit: int64(4) } },
            Mapping: {
              fields: {
                id: uint64(1),
                memoryStart: uint64(2),
                memoryLimit: uint64(3),
                fileOffset: uint64(4),
                filename: int64(5),
                buildId: int64(6),
                hasFunctions: { type: 'bool', id: 7 },
                hasFilenames: { type: 'bool', id: 8 },
                hasLineNumbers: { type: 'bool', id: 9 },
                hasInlineFrames: { type: 'bool', id: 10 },
              },
            },
            Location: {
              fields: {
                id: uint64(1),
                mappingId: uint64(2),
                address: uint64(3),
                line: repeated('Line', 4),
                isFolded: { type: 'bool', id: 5 },
              },
            },
            Line: { fields: { functionId: uint64(1), line: int64(2), column: int64(3) } },
            Function: {
              fields: { id: uint64(1), name: int64(2), systemName: int64(3), filename: int64(4), startLine: int64(5) },
            },
          },
        },
      },
    },
  },
};

let profileType: protobuf.Type | undefined;

function pprofProfileType(): protobuf.Type {
  profileType ??= protobuf.Root.fromJSON(PROFILE_PROTO).lookupType('perftools.profiles.Profile');
  return profileType;
}

class StringTable {
  readonly strings: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);

  id(text: string): number {
    let i = this.index.get(text);
    if (i === undefined) {
      i = this.strings.push(text) - 1;
      this.index.set(text, i);
    }
    return i;
  }
}

/**
 * One pprof sample per distinct stack and thread, with two values: the sample count and the CPU
 * time it stands for, so `pprof -top` shows either. With `--cpu` that time is the CPU time the
 * kernel counted (the stack's weight); otherwise it is count × the sampling interval. Each frame
 * (function + line) is one location; functions are shared by name and file. Threads and processes
 * are labels (`thread`, `thread id`, `pid`, and with `--subprocesses` `process`, the process root's
 * name), not frames: pprof filters by label (`-tagfocus`).
 */
export function renderPprof(profile: Profile): Uint8Array {
  const strings = new StringTable();
  const rateHz = profile.stats.requestedRateHz > 0 ? profile.stats.requestedRateHz : 100;
  const intervalNs = Math.round(1e9 / rateHz);
  const cpu = profile.unit === 'cpu-nanoseconds';

  const functionIds = new Map<string, number>();
  const functions: object[] = [];
  const locations = profile.frames.map((frame, index) => {
    const key = `${frame.name}\0${frame.file}`;
    let functionId = functionIds.get(key);
    if (functionId === undefined) {
      functionId = functions.length + 1;
      functionIds.set(key, functionId);
      functions.push({
        id: functionId,
        name: strings.id(frame.name),
        systemName: strings.id(frame.name),
        filename: strings.id(frame.file),
        startLine: 0,
      });
    }
    return { id: index + 1, mappingId: 1, line: [{ functionId, line: frame.line }] };
  });

  const threadKey = strings.id('thread');
  const threadIdKey = strings.id('thread id');
  const pidKey = strings.id('pid');
  const processKey = strings.id('process');
  const samples = profile.stacks
    .filter((stack) => stack.count > 0)
    .map((stack) => {
      const thread = profile.threads[stack.thread];
      const root = processRootOf(profile, stack);
      const frames = root === undefined ? stack.frames : stack.frames.slice(1);
      return {
        locationId: [...frames].reverse().map((frame) => frame + 1),
        value: [stack.count, cpu ? stack.weight : stack.count * intervalNs],
        label: thread
          ? [
              { key: threadKey, str: strings.id(thread.name) },
              { key: threadIdKey, num: thread.id },
              { key: pidKey, num: thread.pid },
              ...(root === undefined ? [] : [{ key: processKey, str: strings.id(profile.frames[root].name) }]),
            ]
          : [],
      };
    });

  const startMs = Date.parse(profile.meta.startTime);
  const message = {
    sampleType: [
      { type: strings.id('samples'), unit: strings.id('count') },
      { type: strings.id('cpu'), unit: strings.id('nanoseconds') },
    ],
    sample: samples,
    // One mapping for the interpreter, flagged symbolized: without one pprof asks for a binary.
    mapping: [
      {
        id: 1,
        filename: strings.id(`python${profile.meta.pythonVersion}`),
        hasFunctions: true,
        hasFilenames: true,
        hasLineNumbers: true,
      },
    ],
    location: locations,
    function: functions,
    timeNanos: Number.isFinite(startMs) ? startMs * 1e6 : 0,
    durationNanos: Math.round(profile.stats.durationS * 1e9),
    periodType: { type: strings.id('cpu'), unit: strings.id('nanoseconds') },
    period: intervalNs,
    comment: profile.meta.command ? [strings.id(`pyspy-ts: ${profile.meta.command.join(' ')}`)] : [],
    defaultSampleType: strings.id('cpu'),
    // Last: every string above has been interned by now.
    stringTable: strings.strings,
  };
  const type = pprofProfileType();
  return type.encode(type.fromObject(message)).finish();
}

/**
 * pprof's profile.proto (what `go tool pprof`, Pyroscope, Parca and Cloud Profiler read), without
 * the gzip wrapper: callers compress it (`node:zlib` gzipSync in Node, CompressionStream in
 * browsers) so this module stays free of Node APIs.
 *
 * Encoded by `pprof-format` (Datadog's pure-JS encoder of profile.proto, no dependencies), which
 * replaced protobufjs: 4 MB of install for the seven messages pprof needs. Every string is an
 * index into the string table, whose entry 0 is ""; a sample lists location ids leaf first.
 */
import {
  Function as PprofFunction,
  Label,
  Line,
  Location,
  Mapping,
  Profile as PprofProfile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';
import { processRootOf } from './process-roots.js';
import type { Profile } from './profile.js';

/** The mapping native frames point at, named so that `pprof -mappings`/`-show_from` can pick them. */
export const NATIVE_MAPPING_ID = 2;
export const NATIVE_MAPPING_NAME = '[native]';

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
  const weightedByCpu = profile.unit === 'cpu-nanoseconds';

  const functionIds = new Map<string, number>();
  const functions: PprofFunction[] = [];
  const locations = profile.frames.map((frame, index) => {
    const key = `${frame.name}\0${frame.file}`;
    let functionId = functionIds.get(key);
    if (functionId === undefined) {
      functionId = functions.length + 1;
      functionIds.set(key, functionId);
      const name = strings.dedup(frame.name);
      functions.push(new PprofFunction({ id: functionId, name, systemName: name, filename: strings.dedup(frame.file) }));
    }
    // Native frames (--native) point at a mapping of their own: the flag pprof's model has.
    const mappingId = frame.kind === 'native' ? NATIVE_MAPPING_ID : 1;
    return new Location({ id: index + 1, mappingId, line: [new Line({ functionId, line: frame.line })] });
  });

  const threadKey = strings.dedup('thread');
  const threadIdKey = strings.dedup('thread id');
  const pidKey = strings.dedup('pid');
  const processKey = strings.dedup('process');
  const samples = profile.stacks
    .filter((stack) => stack.count > 0)
    .map((stack) => {
      const thread = profile.threads[stack.thread];
      const root = processRootOf(profile, stack);
      const frames = root === undefined ? stack.frames : stack.frames.slice(1);
      return new Sample({
        locationId: [...frames].reverse().map((frame) => frame + 1),
        value: [stack.count, weightedByCpu ? stack.weight : stack.count * intervalNs],
        label: thread
          ? [
              new Label({ key: threadKey, str: strings.dedup(thread.name) }),
              new Label({ key: threadIdKey, num: thread.id }),
              new Label({ key: pidKey, num: thread.pid }),
              ...(root === undefined ? [] : [new Label({ key: processKey, str: strings.dedup(profile.frames[root].name) })]),
            ]
          : [],
      });
    });

  const startMs = Date.parse(profile.meta.startTime);
  const cpu = () => new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') });
  return new PprofProfile({
    sampleType: [new ValueType({ type: strings.dedup('samples'), unit: strings.dedup('count') }), cpu()],
    sample: samples,
    // One mapping for the interpreter, flagged symbolized: without one pprof asks for a binary.
    mapping: [
      new Mapping({
        id: 1,
        filename: strings.dedup(`python${profile.meta.pythonVersion}`),
        hasFunctions: true,
        hasFilenames: true,
        hasLineNumbers: true,
      }),
      ...(profile.frames.some((f) => f.kind === 'native')
        ? [
            new Mapping({
              id: NATIVE_MAPPING_ID,
              filename: strings.dedup(NATIVE_MAPPING_NAME),
              hasFunctions: true,
              hasFilenames: true,
            }),
          ]
        : []),
    ],
    location: locations,
    function: functions,
    // Nanoseconds since 1970 need more than a double's 53 bits.
    timeNanos: Number.isFinite(startMs) ? BigInt(startMs) * 1_000_000n : 0,
    durationNanos: Math.round(profile.stats.durationS * 1e9),
    periodType: cpu(),
    period: intervalNs,
    comment: profile.meta.command ? [strings.dedup(`pyspy-ts: ${profile.meta.command.join(' ')}`)] : [],
    defaultSampleType: strings.dedup('cpu'),
    stringTable: strings,
  }).encode();
}

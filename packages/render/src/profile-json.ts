/**
 * pyspy-ts's own profile file (`.pyspy.json`): the Profile model as JSON, so a record can be kept
 * (a CI baseline), loaded back and compared or rendered again in any other format later.
 *
 * Format, version 1:
 * ```json
 * {
 *   "format": "pyspy-ts-profile",   // identifies the file; always this string
 *   "formatVersion": 1,             // bumped on any change a version-1 reader would misread
 *   "exporter": "pyspy-ts",
 *   "meta":    { "pid", "pythonVersion", "startTime", "command"?, "exitCode"?, "stopReason"?, "notes"? },
 *   "unit":    "samples" | "cpu-nanoseconds",      // what "weight" counts; "samples" when absent
 *   "stats":   { "samples", "ticks", "requestedRateHz", "achievedRateHz", "errors", "missed", "durationS", "profilerCpuS",
 *                "gilSamples", "idleSamples", "cpuAttributedS", "cpuKernelS", "otherSamples"
 *                (the last five 0 when absent: files written before they were) },
 *   "frames":  [{ "name", "file", "line", "kind"? }],   // interned; line 0 = unknown; kind: see Frame
 *   "threads": [{ "id", "name", "pid" }],
 *   "stacks":  [{ "frames": [root..leaf frame indexes], "thread": index, "count", "weight" }],
 *                                                      // weight: in "unit"; "count" when absent
 *   "timeline"?: { "timesUs": [...], "stacks": [...], "weights"?: [...] } // only when recorded with one
 * }
 * ```
 * Readers ignore fields they do not know, so adding an optional field does not bump the version: a
 * reader of before `unit` and `weight` reads a `--cpu` profile as the samples it also is.
 */
import {
  FRAME_KINDS,
  type Frame,
  type FrameKind,
  PROFILE_UNITS,
  type Profile,
  type ProfileUnit,
  STAT_COUNTERS,
  type StackCount,
  type StatCounter,
  type ThreadInfo,
} from './profile.js';

export const PROFILE_FORMAT = 'pyspy-ts-profile';
export const PROFILE_FORMAT_VERSION = 1;

export function renderProfileJson(profile: Profile): string {
  const file = {
    format: PROFILE_FORMAT,
    formatVersion: PROFILE_FORMAT_VERSION,
    exporter: 'pyspy-ts',
    meta: canonicalMeta(profile.meta),
    unit: profile.unit,
    // In one order whatever built the profile (the native core, or this reader), so that a file
    // read back and written again is the same file.
    stats: Object.fromEntries(
      [...STAT_COUNTERS, 'requestedRateHz', 'achievedRateHz'].map((key) => [
        key,
        profile.stats[key as keyof typeof profile.stats],
      ]),
    ),
    frames: profile.frames.map((f) => ({ name: f.name, file: f.file, line: f.line, ...(f.kind ? { kind: f.kind } : {}) })),
    threads: profile.threads,
    stacks: profile.stacks.map((s) => ({ frames: s.frames, thread: s.thread, count: s.count, weight: s.weight })),
    ...(profile.timeline ? { timeline: profile.timeline } : {}),
  };
  return `${JSON.stringify(file)}\n`;
}

function canonicalMeta(meta: Profile['meta']): Profile['meta'] {
  const { pid, pythonVersion, startTime, command, exitCode, stopReason, notes } = meta;
  return { pid, pythonVersion, startTime, command, exitCode, stopReason, notes };
}

/** A file that is not a profile we can read, with what is wrong and where. */
export class ProfileFormatError extends Error {
  override name = 'ProfileFormatError';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, where: string): Json {
  if (!isObject(value)) throw new ProfileFormatError(`${where} must be an object`);
  return value;
}

function expectArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new ProfileFormatError(`${where} must be an array`);
  return value;
}

function expectNumber(value: unknown, where: string, options: { integer?: boolean; min?: number } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ProfileFormatError(`${where} must be a number`);
  if (options.integer && !Number.isInteger(value)) throw new ProfileFormatError(`${where} must be an integer`);
  if (options.min !== undefined && value < options.min) throw new ProfileFormatError(`${where} must be >= ${options.min}`);
  return value;
}

function expectString(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new ProfileFormatError(`${where} must be a string`);
  return value;
}

/** True when `value` (parsed JSON) says it is a pyspy-ts profile, whatever its version. */
export function isProfileJson(value: unknown): boolean {
  return isObject(value) && value.format === PROFILE_FORMAT;
}

/**
 * Reads a `.pyspy.json` file back into a Profile, checking its shape (indexes in range, counts
 * non-negative) so a truncated or hand-edited file fails here with a message, not later in a
 * renderer with a TypeError.
 */
export function parseProfile(text: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProfileFormatError(`not a pyspy-ts profile: invalid JSON (${(error as Error).message})`);
  }
  return profileFromJson(value);
}

export function profileFromJson(value: unknown): Profile {
  const root = expectObject(value, 'profile');
  if (root.format !== PROFILE_FORMAT) {
    throw new ProfileFormatError(`not a pyspy-ts profile: "format" must be "${PROFILE_FORMAT}"`);
  }
  const version = root.formatVersion;
  if (version !== PROFILE_FORMAT_VERSION) {
    throw new ProfileFormatError(
      `unsupported pyspy-ts profile formatVersion ${JSON.stringify(version)}: this reader knows version ${PROFILE_FORMAT_VERSION}` +
        (typeof version === 'number' && version > PROFILE_FORMAT_VERSION ? ' (written by a newer pyspy-ts; upgrade)' : ''),
    );
  }
  const meta = expectObject(root.meta, 'meta');
  const stats = expectObject(root.stats, 'stats');
  const frames: Frame[] = expectArray(root.frames, 'frames').map((f, i) => {
    const frame = expectObject(f, `frames[${i}]`);
    return {
      name: expectString(frame.name, `frames[${i}].name`),
      file: expectString(frame.file, `frames[${i}].file`),
      line: expectNumber(frame.line, `frames[${i}].line`, { integer: true, min: 0 }),
      ...(frame.kind !== undefined ? { kind: frameKind(frame.kind, `frames[${i}].kind`) } : {}),
    };
  });
  const threads: ThreadInfo[] = expectArray(root.threads, 'threads').map((t, i) => {
    const thread = expectObject(t, `threads[${i}]`);
    return {
      id: expectNumber(thread.id, `threads[${i}].id`, { integer: true }),
      name: expectString(thread.name, `threads[${i}].name`),
      pid: expectNumber(thread.pid, `threads[${i}].pid`, { integer: true }),
    };
  });
  const stacks: StackCount[] = expectArray(root.stacks, 'stacks').map((s, i) => {
    const stack = expectObject(s, `stacks[${i}]`);
    const frameIndexes = expectArray(stack.frames, `stacks[${i}].frames`).map((index, j) => {
      const n = expectNumber(index, `stacks[${i}].frames[${j}]`, { integer: true, min: 0 });
      if (n >= frames.length)
        throw new ProfileFormatError(`stacks[${i}].frames[${j}] = ${n} is not a frame index (${frames.length} frames)`);
      return n;
    });
    const thread = expectNumber(stack.thread, `stacks[${i}].thread`, { integer: true, min: 0 });
    if (thread >= threads.length)
      throw new ProfileFormatError(`stacks[${i}].thread = ${thread} is not a thread index (${threads.length} threads)`);
    const count = expectNumber(stack.count, `stacks[${i}].count`, { integer: true, min: 0 });
    // Files written before weights: every sample weighs 1.
    const weight = stack.weight === undefined ? count : expectNumber(stack.weight, `stacks[${i}].weight`, { min: 0 });
    return { frames: frameIndexes, thread, count, weight };
  });
  // Counters added after the format's first files: absent means none were counted.
  const addedLater = new Set(['gilSamples', 'idleSamples', 'cpuAttributedS', 'cpuKernelS', 'otherSamples']);
  const statNumber = (key: string) =>
    stats[key] === undefined && addedLater.has(key) ? 0 : expectNumber(stats[key], `stats.${key}`, { min: 0 });
  const profile: Profile = {
    version: 1,
    meta: {
      pid: expectNumber(meta.pid, 'meta.pid', { integer: true }),
      pythonVersion: expectString(meta.pythonVersion, 'meta.pythonVersion'),
      startTime: expectString(meta.startTime, 'meta.startTime'),
      ...(meta.command !== undefined
        ? { command: expectArray(meta.command, 'meta.command').map((c, i) => expectString(c, `meta.command[${i}]`)) }
        : {}),
      ...(meta.exitCode !== undefined ? { exitCode: expectNumber(meta.exitCode, 'meta.exitCode', { integer: true }) } : {}),
      ...(meta.stopReason !== undefined ? { stopReason: stopReason(meta.stopReason) } : {}),
      ...(meta.notes !== undefined
        ? { notes: expectArray(meta.notes, 'meta.notes').map((n, i) => expectString(n, `meta.notes[${i}]`)) }
        : {}),
    },
    unit: root.unit === undefined ? 'samples' : profileUnit(root.unit),
    stats: {
      ...(Object.fromEntries(STAT_COUNTERS.map((key) => [key, statNumber(key)])) as Record<StatCounter, number>),
      requestedRateHz: statNumber('requestedRateHz'),
      achievedRateHz: statNumber('achievedRateHz'),
    },
    frames,
    threads,
    stacks,
  };
  if (root.timeline !== undefined) {
    const timeline = expectObject(root.timeline, 'timeline');
    const timesUs = expectArray(timeline.timesUs, 'timeline.timesUs').map((t, i) => expectNumber(t, `timeline.timesUs[${i}]`));
    const stackIds = expectArray(timeline.stacks, 'timeline.stacks').map((s, i) => {
      const n = expectNumber(s, `timeline.stacks[${i}]`, { integer: true, min: 0 });
      if (n >= stacks.length) throw new ProfileFormatError(`timeline.stacks[${i}] = ${n} is not a stack index`);
      return n;
    });
    if (timesUs.length !== stackIds.length)
      throw new ProfileFormatError('timeline.timesUs and timeline.stacks must have the same length');
    profile.timeline = { timesUs, stacks: stackIds };
    if (timeline.weights !== undefined) {
      const weights = expectArray(timeline.weights, 'timeline.weights').map((w, i) =>
        expectNumber(w, `timeline.weights[${i}]`, { min: 0 }),
      );
      if (weights.length !== stackIds.length)
        throw new ProfileFormatError('timeline.weights and timeline.stacks must have the same length');
      profile.timeline.weights = weights;
    }
  }
  return profile;
}

function stopReason(value: unknown): NonNullable<Profile['meta']['stopReason']> {
  if (value === 'duration' || value === 'stopped' || value === 'target-exited') return value;
  throw new ProfileFormatError(`meta.stopReason must be "duration", "stopped" or "target-exited", got ${JSON.stringify(value)}`);
}

function profileUnit(value: unknown): ProfileUnit {
  if (typeof value === 'string' && (PROFILE_UNITS as readonly string[]).includes(value)) return value as ProfileUnit;
  throw new ProfileFormatError(`unit must be one of ${PROFILE_UNITS.join(', ')}, got ${JSON.stringify(value)}`);
}

function frameKind(value: unknown, where: string): FrameKind {
  if (typeof value === 'string' && (FRAME_KINDS as readonly string[]).includes(value)) return value as FrameKind;
  throw new ProfileFormatError(`${where} must be one of ${FRAME_KINDS.join(', ')}`);
}

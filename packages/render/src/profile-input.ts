/**
 * Reading profiles that other tools (or older runs) wrote, so `diff` can compare whatever a CI job
 * kept: our `.pyspy.json`, speedscope JSON (ours or py-spy's) and collapsed stacks
 * (`a;b;c 12`, py-spy's `--format raw`, flamegraph.pl's input). The kind is told by content, not
 * by file name: baselines get renamed.
 */
import { isProfileJson, profileFromJson, ProfileFormatError } from './profile-json.js';
import { pseudoFrameKind } from './process-roots.js';
import { emptyStats, type Frame, kindFromLabel, type Profile, type ProfileUnit, type StackCount } from './profile.js';

export type ProfileInputKind = 'pyspy-json' | 'speedscope' | 'collapsed';

/** Interns frames and stacks the way `@pyspy/core` does, for profiles built from other formats. */
class ProfileBuilder {
  private readonly frames: Frame[] = [];
  private readonly frameIndex = new Map<string, number>();
  private readonly stacks: StackCount[] = [];
  private readonly stackIndex = new Map<string, number>();

  constructor(private readonly unit: ProfileUnit = 'samples') {}

  frame(frame: Frame): number {
    const key = `${frame.name}\0${frame.file}\0${frame.line}\0${frame.kind ?? ''}`;
    let index = this.frameIndex.get(key);
    if (index === undefined) {
      const kind = frame.kind ?? kindFromLabel(frame);
      index = this.frames.push(kind ? { ...frame, kind } : frame) - 1;
      this.frameIndex.set(key, index);
    }
    return index;
  }

  /** `count` samples weighing `weight` together. */
  add(frames: number[], count: number, weight = count): void {
    const key = frames.join(',');
    const index = this.stackIndex.get(key);
    if (index === undefined) {
      this.stackIndex.set(key, this.stacks.push({ frames, thread: 0, count, weight }) - 1);
    } else {
      this.stacks[index].count += count;
      this.stacks[index].weight += weight;
    }
  }

  build(): Profile {
    const samples = this.stacks.reduce((sum, s) => sum + s.count, 0);
    return {
      version: 1,
      unit: this.unit,
      meta: { pid: 0, pythonVersion: 'unknown', startTime: new Date(0).toISOString() },
      stats: { ...emptyStats(), samples, ticks: samples },
      frames: this.frames,
      threads: [{ id: 0, name: 'all threads', pid: 0 }],
      stacks: this.stacks,
    };
  }
}

/** Inverse of `frameLabel`: `name (file:line)`, `name (file)`, or a bare name (a pseudo-frame's, or unknown). */
export function parseFrameLabel(label: string): Frame {
  const kind = pseudoFrameKind(label);
  if (kind) return { name: label, file: '', line: 0, kind };
  const match = /^(.*) \((.*?)(?::(\d+))?\)$/.exec(label);
  if (!match) return { name: label, file: '', line: 0 };
  return { name: match[1], file: match[2], line: match[3] ? Number(match[3]) : 0 };
}

/** Collapsed stacks: one `frame;frame;frame count` per line; blank lines ignored. */
export function parseCollapsedProfile(text: string): Profile {
  const builder = new ProfileBuilder();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const match = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!match)
      throw new ProfileFormatError(
        `line ${i + 1} is not "stack count" collapsed-stack text: ${JSON.stringify(line.slice(0, 80))}`,
      );
    builder.add(
      match[1].split(';').map((label) => builder.frame(parseFrameLabel(label))),
      Number(match[2]),
    );
  });
  return builder.build();
}

type Json = Record<string, unknown>;

/**
 * speedscope's file format, sampled profiles (what py-spy and pyspy-ts write); threads merge.
 * Profiles in nanoseconds (pyspy-ts `--cpu`) read as CPU time, each entry one sample.
 */
export function speedscopeToProfile(file: Json): Profile {
  const shared = file.shared as Json | undefined;
  const sharedFrames = shared?.frames;
  if (!Array.isArray(sharedFrames) || !Array.isArray(file.profiles)) {
    throw new ProfileFormatError('not a speedscope file: needs "shared.frames" and "profiles" arrays');
  }
  const profiles = file.profiles as Json[];
  const cpu = profiles.length > 0 && profiles.every((p) => p.unit === 'nanoseconds');
  const builder = new ProfileBuilder(cpu ? 'cpu-nanoseconds' : 'samples');
  const frameIds = sharedFrames.map((f: Json, i) => {
    if (typeof f?.name !== 'string') throw new ProfileFormatError(`speedscope shared.frames[${i}].name must be a string`);
    const kind = typeof f.file === 'string' && f.file !== '' ? undefined : pseudoFrameKind(f.name);
    return builder.frame({
      name: f.name,
      file: typeof f.file === 'string' ? f.file : '',
      line: typeof f.line === 'number' ? f.line : 0,
      ...(kind ? { kind } : {}),
    });
  });
  profiles.forEach((p, i) => {
    if (p.type !== 'sampled')
      throw new ProfileFormatError(`speedscope profiles[${i}] is "${String(p.type)}": only sampled profiles can be compared`);
    const samples = p.samples as number[][];
    const weights = p.weights as number[];
    if (!Array.isArray(samples) || !Array.isArray(weights) || samples.length !== weights.length) {
      throw new ProfileFormatError(`speedscope profiles[${i}] needs "samples" and "weights" of the same length`);
    }
    samples.forEach((stack, j) => {
      const frames = stack.map((index) => {
        const id = frameIds[index];
        if (id === undefined)
          throw new ProfileFormatError(`speedscope profiles[${i}].samples[${j}] refers to frame ${index}, which does not exist`);
        return id;
      });
      builder.add(frames, cpu ? 1 : weights[j], weights[j]);
    });
  });
  return builder.build();
}

/** Tells the kind of a profile file from its text. */
export function detectProfileKind(text: string): ProfileInputKind {
  const start = text.trimStart();
  if (start.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ProfileFormatError(`looks like JSON but does not parse: ${(error as Error).message}`);
    }
    if (isProfileJson(value)) return 'pyspy-json';
    const json = value as Json;
    if (typeof json.$schema === 'string' && json.$schema.includes('speedscope')) return 'speedscope';
    if (json.shared !== undefined && json.profiles !== undefined) return 'speedscope';
    throw new ProfileFormatError('a JSON file that is neither a pyspy-ts profile (.pyspy.json) nor speedscope');
  }
  return 'collapsed';
}

/** Any profile `diff` accepts, told apart by content. */
export function loadProfileText(text: string): Profile {
  switch (detectProfileKind(text)) {
    case 'pyspy-json':
      return profileFromJson(JSON.parse(text));
    case 'speedscope':
      return speedscopeToProfile(JSON.parse(text) as Json);
    case 'collapsed':
      return parseCollapsedProfile(text);
  }
}

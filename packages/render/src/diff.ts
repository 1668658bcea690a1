/**
 * Comparing two profiles (a baseline and a candidate) by where their weight went (samples, or CPU
 * time for profiles recorded with `--cpu`), as shares of each profile's own total: runs of
 * different lengths or rates compare fairly, and "this function took 5 points more of the time"
 * is the quantity a CI job can put a threshold on.
 *
 * Functions are matched across checkouts by name and file, never by absolute path. The file each
 * frame is matched by is found so:
 * 1. every `stripPrefixes` entry that starts the path is removed (the first that matches);
 * 2. a path that is still absolute is shortened to the fewest trailing components that still tell
 *    it apart from every other file of the same profile (`/ci/a/src/app.py` -> `app.py`, or
 *    `pkg/__init__.py` where two `__init__.py` exist). Relative paths, which pyspy-ts writes by
 *    default (relative to their sys.path entry), are kept as they are.
 * Line numbers are left out unless `by: 'line'`, since any edit above a function moves them.
 */
import type { Frame, Profile, ProfileUnit } from './profile.js';

export type DiffGranularity = 'function' | 'line';

export interface DiffOptions {
  /** Match functions (default) or individual lines. */
  by?: DiffGranularity;
  /** Path prefixes removed before matching files, e.g. the checkout directory. */
  stripPrefixes?: string[];
}

export interface FunctionShare {
  name: string;
  /** The file as matched (see the module comment for the rule). */
  file: string;
  /** 0 unless compared by line. */
  line: number;
  /** Percent of the profile's weight where this function is the innermost frame. */
  selfPct: number;
  /** Percent of the profile's weight where this function is anywhere on the stack. */
  totalPct: number;
}

export interface FunctionDelta {
  name: string;
  file: string;
  line: number;
  base: { selfPct: number; totalPct: number };
  head: { selfPct: number; totalPct: number };
  /** Head minus base, in percentage points. */
  selfDeltaPts: number;
  totalDeltaPts: number;
}

export interface ProfileDiff {
  baseSamples: number;
  headSamples: number;
  /** What the shares are shares of: each profile's unit, and its weights summed in that unit. */
  baseUnit: ProfileUnit;
  headUnit: ProfileUnit;
  baseWeight: number;
  headWeight: number;
  /** Every function seen in either profile, largest change (self or total) first. */
  functions: FunctionDelta[];
}

function stripPrefix(path: string, prefixes: readonly string[]): string {
  for (const prefix of prefixes) {
    if (prefix === '') continue;
    const withSlash = prefix.endsWith('/') ? prefix : `${prefix}/`;
    if (path.startsWith(withSlash)) return path.slice(withSlash.length);
  }
  return path;
}

/** Shortest trailing-components suffix of each absolute path that is unique among `paths`. */
function shortestUniqueSuffixes(paths: readonly string[]): Map<string, string> {
  const parts = new Map(paths.map((p) => [p, p.split('/').filter(Boolean)]));
  const result = new Map<string, string>();
  for (const [path, components] of parts) {
    let keep = 1;
    for (; keep < components.length; keep++) {
      const suffix = components.slice(-keep).join('/');
      const clash = [...parts].some(([other, c]) => other !== path && c.slice(-keep).join('/') === suffix);
      if (!clash) break;
    }
    result.set(path, components.slice(-keep).join('/'));
  }
  return result;
}

/** Maps each file of a profile to the name it is matched by (see the module comment). */
export function matchFileNames(files: readonly string[], stripPrefixes: readonly string[] = []): Map<string, string> {
  const stripped = new Map(files.map((f) => [f, stripPrefix(f, stripPrefixes)]));
  const absolute = [...new Set([...stripped.values()].filter((f) => f.startsWith('/')))];
  const short = shortestUniqueSuffixes(absolute);
  return new Map([...stripped].map(([file, s]) => [file, short.get(s) ?? s]));
}

/**
 * The profile with every frame replaced by its matching key (file as matched, line 0 unless by
 * line) and interned again, so frames that differ only by line merge. Threads merge too.
 */
export function normalizeProfile(profile: Profile, options: DiffOptions = {}): Profile {
  const byLine = options.by === 'line';
  const files = matchFileNames([...new Set(profile.frames.map((f) => f.file))], options.stripPrefixes);
  const frames: Frame[] = [];
  const index = new Map<string, number>();
  const remap = profile.frames.map((f) => {
    const frame: Frame = { name: f.name, file: files.get(f.file) ?? f.file, line: byLine ? f.line : 0 };
    if (f.kind) frame.kind = f.kind;
    const key = `${frame.name}\0${frame.file}\0${frame.line}`;
    let i = index.get(key);
    if (i === undefined) {
      i = frames.push(frame) - 1;
      index.set(key, i);
    }
    return i;
  });
  const stacks = new Map<string, { frames: number[]; thread: number; count: number; weight: number }>();
  for (const stack of profile.stacks) {
    if (stack.weight <= 0) continue;
    const mapped = stack.frames.map((f) => remap[f]);
    const key = mapped.join(',');
    const existing = stacks.get(key);
    if (existing) {
      existing.count += stack.count;
      existing.weight += stack.weight;
    } else {
      stacks.set(key, { frames: mapped, thread: 0, count: stack.count, weight: stack.weight });
    }
  }
  return {
    ...profile,
    frames,
    threads: [{ id: 0, name: 'all threads', pid: profile.meta.pid }],
    stacks: [...stacks.values()],
    timeline: undefined,
  };
}

function frameKey(frame: Frame): string {
  return `${frame.name}\0${frame.file}\0${frame.line}`;
}

/**
 * Self and total shares of the weight per frame of a normalized profile; recursion counts a sample
 * once. `totalSamples` counts samples, `totalWeight` sums weights (the same for a profile of samples).
 */
export function functionShares(profile: Profile): {
  totalSamples: number;
  totalWeight: number;
  shares: Map<string, FunctionShare>;
} {
  const selfWeights = new Map<number, number>();
  const totalWeights = new Map<number, number>();
  let totalSamples = 0;
  let totalWeight = 0;
  for (const stack of profile.stacks) {
    if (stack.weight <= 0 || stack.frames.length === 0) continue;
    totalSamples += stack.count;
    totalWeight += stack.weight;
    const leaf = stack.frames[stack.frames.length - 1];
    selfWeights.set(leaf, (selfWeights.get(leaf) ?? 0) + stack.weight);
    for (const frame of new Set(stack.frames)) totalWeights.set(frame, (totalWeights.get(frame) ?? 0) + stack.weight);
  }
  const shares = new Map<string, FunctionShare>();
  const pct = (weight: number) => (totalWeight > 0 ? (100 * weight) / totalWeight : 0);
  for (const [index, total] of totalWeights) {
    const { name, file, line } = profile.frames[index];
    shares.set(frameKey(profile.frames[index]), {
      name,
      file,
      line,
      selfPct: pct(selfWeights.get(index) ?? 0),
      totalPct: pct(total),
    });
  }
  return { totalSamples, totalWeight, shares };
}

/** Compares two profiles function by function; both are normalized with `options` first. */
export function diffProfiles(base: Profile, head: Profile, options: DiffOptions = {}): ProfileDiff {
  const baseShares = functionShares(normalizeProfile(base, options));
  const headShares = functionShares(normalizeProfile(head, options));
  const keys = new Set([...baseShares.shares.keys(), ...headShares.shares.keys()]);
  const functions: FunctionDelta[] = [...keys].map((key) => {
    const b = baseShares.shares.get(key);
    const h = headShares.shares.get(key);
    const { name, file, line } = (h ?? b)!;
    const baseShare = { selfPct: b?.selfPct ?? 0, totalPct: b?.totalPct ?? 0 };
    const headShare = { selfPct: h?.selfPct ?? 0, totalPct: h?.totalPct ?? 0 };
    return {
      name,
      file,
      line,
      base: baseShare,
      head: headShare,
      selfDeltaPts: headShare.selfPct - baseShare.selfPct,
      totalDeltaPts: headShare.totalPct - baseShare.totalPct,
    };
  });
  const size = (f: FunctionDelta) => Math.max(Math.abs(f.selfDeltaPts), Math.abs(f.totalDeltaPts));
  functions.sort((a, b) => size(b) - size(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    baseSamples: baseShares.totalSamples,
    headSamples: headShares.totalSamples,
    baseUnit: base.unit,
    headUnit: head.unit,
    baseWeight: baseShares.totalWeight,
    headWeight: headShares.totalWeight,
    functions,
  };
}

/**
 * Whether a `fn:` threshold's pattern names this function: the function's name itself
 * (`Class.method`), or a dotted path ending in it (`pkg.module.Class.method`) whose module part
 * agrees with the file (`pkg/module.py`) where the file says anything.
 */
export function functionMatches(pattern: string, fn: { name: string; file: string }): boolean {
  if (pattern === fn.name) return true;
  if (!pattern.endsWith(`.${fn.name}`)) return false;
  const modulePart = pattern.slice(0, -(fn.name.length + 1));
  const fileModule = fn.file
    .replace(/\.pyw?$/, '')
    .replace(/\/__init__$/, '')
    .split('/')
    .filter(Boolean)
    .join('.');
  if (fileModule === '' || fileModule.startsWith('<')) return true;
  return fileModule === modulePart || fileModule.endsWith(`.${modulePart}`) || modulePart.endsWith(`.${fileModule}`);
}

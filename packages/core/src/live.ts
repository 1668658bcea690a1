import {
  emptyStats,
  type Frame,
  type ProfileStats,
  type ProfileUnit,
  STAT_COUNTERS,
  type StackCount,
  type ThreadInfo,
} from '@pyspy/render';
import { type LaunchedProcess, settleLaunched } from './launch.js';
import type { Native } from './native.js';
import { type SamplingOptions, type SamplingTarget, startSampler } from './sampling.js';

/** A live view samples until it is stopped or the target exits: no duration. */
export type LiveOptions = SamplingTarget & SamplingOptions;

/** Counts since the start, or since the last `reset()`. */
export interface LiveSnapshot {
  /** What `stacks[i].weight` counts: samples, or with `cpu` CPU nanoseconds. */
  unit: ProfileUnit;
  frames: Frame[];
  threads: ThreadInfo[];
  /**
   * `stacks[i]` is the same stack in every snapshot of one recorder: the sampler only appends
   * stacks and only grows their counts, so two snapshots subtract index by index (`snapshotDelta`).
   * Stacks with no samples in the snapshot's span stay in place with count 0.
   */
  stacks: StackCount[];
  stats: ProfileStats;
  /** What happened to the targets since the start, one line each (a process that exec'd something else). */
  notes: string[];
}

export interface LiveEnd {
  reason: 'target-exited' | 'stopped';
  /** Exit code of a launched command that exited on its own (128+N: killed by signal N). */
  exitCode?: number;
}

export interface LiveRecorder {
  readonly pid: number;
  readonly pythonVersion: string;
  /** A free-threaded build (3.13t): no GIL, and several threads' samples per tick. */
  readonly freeThreaded: boolean;
  /** The launched command, when there is one (its output streams when `stdio` asked for pipes). */
  readonly launched?: LaunchedProcess;
  /** Everything aggregated since the start or the last `reset()`. Cheap enough to call every second. */
  snapshot(): LiveSnapshot;
  /** Starts counting from zero; sampling goes on. */
  reset(): void;
  /** True once sampling has ended (target exited, or stopped). */
  isFinished(): boolean;
  /** Resolves once sampling has ended and a launched command is gone. */
  readonly ended: Promise<LiveEnd>;
  /** Stops sampling (and a launched command still running); resolves like `ended`. */
  stop(): Promise<LiveEnd>;
}

/**
 * Starts sampling for a live view. Aggregation stays in Rust: each `snapshot()` is a few compact
 * tables, whatever the rate. Call `stop()` when done; a launched command is terminated then.
 */
export async function startLive(options: LiveOptions): Promise<LiveRecorder> {
  const { pid, recorder, child } = await startSampler(options);
  return new NativeLiveRecorder(pid, recorder, child);
}

class NativeLiveRecorder implements LiveRecorder {
  readonly pythonVersion: string;
  readonly freeThreaded: boolean;
  readonly ended: Promise<LiveEnd>;
  private latest: LiveSnapshot;
  private final: LiveSnapshot | undefined;
  private baseline: LiveSnapshot | undefined;

  constructor(
    readonly pid: number,
    private readonly recorder: Native.Recorder,
    readonly launched: LaunchedProcess | undefined,
  ) {
    this.pythonVersion = recorder.pythonVersion();
    this.freeThreaded = recorder.freeThreaded();
    this.latest = emptySnapshot();
    this.ended = this.waitForEnd();
  }

  snapshot(): LiveSnapshot {
    const raw = this.raw();
    return this.baseline ? snapshotDelta(raw, this.baseline) : raw;
  }

  reset(): void {
    this.baseline = this.raw();
  }

  isFinished(): boolean {
    return this.final !== undefined;
  }

  stop(): Promise<LiveEnd> {
    this.recorder.stop();
    return this.ended;
  }

  private raw(): LiveSnapshot {
    if (this.final) return this.final;
    // null once finish() has taken the profile: the last snapshot is then still the latest.
    const profile = this.recorder.snapshot();
    if (profile) this.latest = fromNative(profile);
    return this.latest;
  }

  private async waitForEnd(): Promise<LiveEnd> {
    const profile = await this.recorder.finish();
    this.final = fromNative(profile);
    const exitCode = this.launched ? await settleLaunched(this.launched, profile.targetExited) : undefined;
    if (profile.targetExited) return { reason: 'target-exited', exitCode };
    return { reason: 'stopped' };
  }
}

function fromNative(profile: Native.NativeProfile): LiveSnapshot {
  const { unit, frames, threads, stacks, stats, notes } = profile;
  return { unit, frames, threads, stacks, stats, notes };
}

function emptySnapshot(): LiveSnapshot {
  return { unit: 'samples', frames: [], threads: [], stacks: [], stats: emptyStats(), notes: [] };
}

/** What `later` counted since `earlier`, two snapshots of the same recorder (`earlier` first). */
export function snapshotDelta(later: LiveSnapshot, earlier: LiveSnapshot): LiveSnapshot {
  const stacks = later.stacks.map((stack, i) => ({
    ...stack,
    count: Math.max(0, stack.count - (earlier.stacks[i]?.count ?? 0)),
    weight: Math.max(0, stack.weight - (earlier.stacks[i]?.weight ?? 0)),
  }));
  const stats = { ...later.stats };
  for (const counter of STAT_COUNTERS) stats[counter] = Math.max(0, later.stats[counter] - earlier.stats[counter]);
  stats.achievedRateHz = stats.durationS > 0 ? stats.ticks / stats.durationS : 0;
  return { ...later, stacks, stats };
}

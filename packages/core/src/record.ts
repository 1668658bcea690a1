import type { Profile, ProfileStats } from '@pyspy/render';
import { settleLaunched } from './launch.js';
import { type SamplingOptions, type SamplingTarget, startSampler } from './sampling.js';

export type RecordOptions = SamplingTarget &
  SamplingOptions & {
    /** Stop after this many seconds. Default: until the target exits or `signal` aborts. */
    durationS?: number;
    /** Keep a per-sample timeline (needed by the Chrome trace format). */
    timeline?: boolean;
    /** Stops the record; what was collected is returned. */
    signal?: AbortSignal;
    /** Called about every `progressIntervalMs` with the statistics so far. */
    onProgress?: (stats: ProfileStats) => void;
    progressIntervalMs?: number;
  };

/** Samples a Python process and returns the aggregated profile. Nothing runs in the target. */
export async function record(options: RecordOptions): Promise<Profile> {
  const startTime = new Date().toISOString();
  const { pid, recorder, child } = await startSampler(options, { durationS: options.durationS, timeline: options.timeline });
  const pythonVersion = recorder.pythonVersion();

  const stop = () => recorder.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  const { onProgress } = options;
  const progress = onProgress ? setInterval(() => onProgress(recorder.stats()), options.progressIntervalMs ?? 250) : undefined;
  let result: Awaited<ReturnType<typeof recorder.finish>>;
  try {
    result = await recorder.finish();
  } finally {
    clearInterval(progress);
    options.signal?.removeEventListener('abort', stop);
  }

  const exitCode = child ? await settleLaunched(child, result.targetExited) : undefined;
  const stopReason = result.targetExited ? 'target-exited' : options.signal?.aborted ? 'stopped' : 'duration';

  const notes = result.notes.length > 0 ? result.notes : undefined;
  return {
    version: 1,
    meta: { pid, pythonVersion, command: options.command, startTime, exitCode, stopReason, notes },
    unit: result.unit,
    stats: result.stats,
    frames: result.frames,
    threads: result.threads,
    stacks: result.stacks,
    timeline: result.timeline ?? undefined,
  };
}

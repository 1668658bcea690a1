import type { Profile, ProfileStats } from '@pyspy/render';
import { settleLaunched } from './launch.js';
import { startSampler, type SamplingOptions } from './sampling.js';

export interface RecordOptions extends SamplingOptions {
  /** Stop after this many seconds. Default: until the target exits or `signal` aborts. */
  durationS?: number;
  /** Keep a per-sample timeline (needed by the Chrome trace format). */
  timeline?: boolean;
  /** Stops the record; what was collected is returned. */
  signal?: AbortSignal;
  /** Called about every `progressIntervalMs` with the statistics so far. */
  onProgress?: (stats: ProfileStats) => void;
  progressIntervalMs?: number;
}

const POLL_MS = 50;

/** Samples a Python process and returns the aggregated profile. Nothing runs in the target. */
export async function record(options: RecordOptions): Promise<Profile> {
  const startTime = new Date().toISOString();
  const { pid, recorder, child } = await startSampler(options, { durationS: options.durationS, timeline: options.timeline });
  const pythonVersion = recorder.pythonVersion();

  const stop = () => recorder.stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  let lastProgress = 0;
  try {
    while (!recorder.isFinished()) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const now = Date.now();
      if (options.onProgress && now - lastProgress >= (options.progressIntervalMs ?? 250)) {
        lastProgress = now;
        const stats = recorder.stats();
        if (stats) options.onProgress(stats);
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  const result = await recorder.finish();

  const exitCode = child ? await settleLaunched(child, result.targetExited) : undefined;
  const stopReason = result.targetExited ? 'target-exited' : options.signal?.aborted ? 'stopped' : 'duration';

  return {
    version: 1,
    meta: { pid, pythonVersion, command: options.command, startTime, exitCode, stopReason },
    stats: result.stats,
    frames: result.frames,
    threads: result.threads,
    stacks: result.stacks,
    timeline: result.timeline ?? undefined,
  };
}

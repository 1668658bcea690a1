import { frameLabel } from './collapsed.js';
import type { Profile } from './profile.js';

interface TraceEvent {
  name: string;
  ph: 'B' | 'E' | 'M';
  ts?: number;
  pid: number;
  tid: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/**
 * Chrome Trace Event Format (Perfetto, chrome://tracing). With a timeline, consecutive samples of a
 * thread keep their common stack prefix open and end/begin only the frames that changed. Without
 * one, each thread's aggregated stacks are laid out back to back, one sampling interval per count.
 */
export function renderChromeTrace(profile: Profile): string {
  const events: TraceEvent[] = [];
  const intervalUs = 1e6 / (profile.stats.requestedRateHz || 100);
  const labels = profile.frames.map(frameLabel);
  events.push({
    name: 'process_name',
    ph: 'M',
    pid: profile.meta.pid,
    tid: 0,
    args: { name: `python (pid ${profile.meta.pid})` },
  });
  for (const t of profile.threads) events.push({ name: 'thread_name', ph: 'M', pid: t.pid, tid: t.id, args: { name: t.name } });

  // Per thread: the sequence of (time, stack index).
  const sequences = profile.threads.map(() => [] as [number, number][]);
  if (profile.timeline) {
    const { timesUs, stacks } = profile.timeline;
    for (let i = 0; i < timesUs.length; i++) sequences[profile.stacks[stacks[i]].thread].push([timesUs[i], stacks[i]]);
  } else {
    const clocks = profile.threads.map(() => 0);
    profile.stacks.forEach((s, index) => {
      for (let n = 0; n < s.count; n++) {
        sequences[s.thread].push([clocks[s.thread], index]);
        clocks[s.thread] += intervalUs;
      }
    });
  }

  sequences.forEach((sequence, threadIndex) => {
    const thread = profile.threads[threadIndex];
    let open: number[] = [];
    let lastTime = 0;
    const closeTo = (depth: number, ts: number) => {
      while (open.length > depth) {
        const frame = open.pop()!;
        events.push({ name: labels[frame], ph: 'E', ts, pid: thread.pid, tid: thread.id });
      }
    };
    for (const [time, stackIndex] of sequence) {
      const frames = profile.stacks[stackIndex].frames;
      let common = 0;
      while (common < open.length && common < frames.length && open[common] === frames[common]) common++;
      closeTo(common, time);
      for (let d = common; d < frames.length; d++) {
        events.push({ name: labels[frames[d]], ph: 'B', ts: time, pid: thread.pid, tid: thread.id, cat: 'python' });
        open.push(frames[d]);
      }
      lastTime = time;
    }
    closeTo(0, lastTime + intervalUs);
    open = [];
  });
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}

import { frameLabel } from './collapsed.js';
import { processNames } from './process-roots.js';
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

/** A stretch of a thread's track that shows one stack, in microseconds. */
interface Slice {
  start: number;
  end: number;
  stack: number;
}

/**
 * Chrome Trace Event Format (Perfetto, chrome://tracing): one track per thread, grouped under one
 * process each (named by its process root with `--subprocesses`). Consecutive slices of a thread
 * keep their common stack prefix open and end/begin only the frames that changed.
 *
 * With a timeline a sample's slice runs to the thread's next sample; with `--cpu` it is the CPU
 * time the sample stands for, ending at the sample, so a thread that waited shows a gap. Without a
 * timeline each thread's aggregated stacks are laid out back to back, one sampling interval per
 * sample (with `--cpu`, each stack's CPU time).
 */
export function renderChromeTrace(profile: Profile): string {
  const events: TraceEvent[] = [];
  const intervalUs = 1e6 / (profile.stats.requestedRateHz || 100);
  const cpu = profile.unit === 'cpu-nanoseconds';
  const labels = profile.frames.map(frameLabel);
  const roots = processNames(profile);
  const threadPids = new Set(profile.threads.map((t) => t.pid));
  for (const pid of threadPids.size > 0 ? threadPids : [profile.meta.pid]) {
    events.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: roots.get(pid) ?? `python (pid ${pid})` } });
  }
  for (const t of profile.threads) events.push({ name: 'thread_name', ph: 'M', pid: t.pid, tid: t.id, args: { name: t.name } });

  const slices = profile.threads.map(() => [] as Slice[]);
  if (profile.timeline) {
    const { timesUs, stacks, weights } = profile.timeline;
    const last = profile.threads.map(() => Number.NaN);
    for (let i = 0; i < timesUs.length; i++) {
      const thread = profile.stacks[stacks[i]].thread;
      const time = timesUs[i];
      const own = slices[thread];
      if (cpu) {
        // Never back past the thread's previous sample: the CPU time was used since then.
        const since = Number.isNaN(last[thread]) ? time : time - last[thread];
        own.push({ start: time - Math.min((weights?.[i] ?? 0) / 1000, since), end: time, stack: stacks[i] });
      } else {
        if (own.length > 0) own[own.length - 1].end = time;
        own.push({ start: time, end: time + intervalUs, stack: stacks[i] });
      }
      last[thread] = time;
    }
  } else {
    const clocks = profile.threads.map(() => 0);
    profile.stacks.forEach((s, index) => {
      const duration = cpu ? s.weight / 1000 : s.count * intervalUs;
      if (duration <= 0) return;
      slices[s.thread].push({ start: clocks[s.thread], end: clocks[s.thread] + duration, stack: index });
      clocks[s.thread] += duration;
    });
  }

  slices.forEach((sequence, threadIndex) => {
    const thread = profile.threads[threadIndex];
    const open: number[] = [];
    let openUntil = 0;
    const closeTo = (depth: number, ts: number) => {
      while (open.length > depth) {
        const frame = open.pop()!;
        events.push({ name: labels[frame], ph: 'E', ts, pid: thread.pid, tid: thread.id });
      }
    };
    for (const slice of sequence) {
      if (slice.start > openUntil) closeTo(0, openUntil);
      const frames = profile.stacks[slice.stack].frames;
      let common = 0;
      while (common < open.length && common < frames.length && open[common] === frames[common]) common++;
      closeTo(common, slice.start);
      for (let d = common; d < frames.length; d++) {
        events.push({ name: labels[frames[d]], ph: 'B', ts: slice.start, pid: thread.pid, tid: thread.id, cat: 'python' });
        open.push(frames[d]);
      }
      openUntil = slice.end;
    }
    closeTo(0, openUntil);
  });
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}

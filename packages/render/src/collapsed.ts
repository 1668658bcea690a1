import type { Frame, Profile, ThreadInfo } from './profile.js';

export interface CollapseOptions {
  /** Put each thread as the root frame, like py-spy's `--threads`. */
  threads?: boolean;
}

/**
 * py-spy's frame label: `name (file:line)`, or `name (file)` without a line. A task (`--async`)
 * is its name alone: `Task main`, or `Task` for the tasks asyncio named; so is a pseudo-frame (a
 * process root, `<GC>`).
 */
export function frameLabel(frame: Frame): string {
  if (frame.kind === 'task' || frame.kind === 'process' || frame.kind === 'gc') return frame.name;
  // Joined, not a template: V8 makes a template's result a rope of its pieces, 150 bytes for a
  // 28-character label, where a join makes one flat string. A profile of ever-new code has one
  // label for each of its tens of thousands of frames.
  return frame.line > 0
    ? [frame.name, ' (', frame.file, ':', frame.line, ')'].join('')
    : [frame.name, ' (', frame.file, ')'].join('');
}

export function threadLabel(thread: ThreadInfo): string {
  return `thread ${thread.name} (tid ${thread.id})`;
}

/**
 * Folds the profile into `root;...;leaf -> weight` (in the profile's unit), merging stacks that
 * only differed by thread (unless threads are kept as roots). With a process root, a thread root
 * goes under it, so that processes stay apart.
 */
export function foldStacks(profile: Profile, options: CollapseOptions = {}): Map<string, number> {
  const labels = profile.frames.map(frameLabel);
  const folded = new Map<string, number>();
  for (const stack of profile.stacks) {
    const names = stack.frames.map((i) => labels[i]);
    if (options.threads) {
      const underProcess = profile.frames[stack.frames[0]]?.kind === 'process' ? 1 : 0;
      names.splice(underProcess, 0, threadLabel(profile.threads[stack.thread]));
    }
    const key = names.join(';');
    folded.set(key, (folded.get(key) ?? 0) + stack.weight);
  }
  return folded;
}

/**
 * The collapsed ("folded") format read by flamegraph.pl, inferno and speedscope: `a;b;c 12`. The
 * numbers are sample counts, or with `--cpu` microseconds of CPU time (whole numbers, as the format
 * wants; a stack that rounds to 0 µs is left out).
 */
export function renderCollapsed(profile: Profile, options: CollapseOptions = {}): string {
  const scale = profile.unit === 'cpu-nanoseconds' ? 1e-3 : 1;
  const lines: string[] = [];
  for (const [stack, weight] of foldStacks(profile, options)) {
    const value = Math.round(weight * scale);
    if (value > 0) lines.push(`${stack} ${value}`);
  }
  lines.sort();
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

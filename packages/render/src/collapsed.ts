import type { Frame, Profile, ThreadInfo } from './profile.js';

export interface CollapseOptions {
  /** Put each thread as the root frame, like py-spy's `--threads`. */
  threads?: boolean;
}

/** py-spy's frame label: `name (file:line)`, or `name (file)` without a line. */
export function frameLabel(frame: Frame): string {
  return frame.line > 0 ? `${frame.name} (${frame.file}:${frame.line})` : `${frame.name} (${frame.file})`;
}

export function threadLabel(thread: ThreadInfo): string {
  return `thread ${thread.name} (tid ${thread.id})`;
}

/**
 * Folds the profile into `root;...;leaf -> count`, merging stacks that only differed by thread
 * (unless threads are kept as roots).
 */
export function foldStacks(profile: Profile, options: CollapseOptions = {}): Map<string, number> {
  const labels = profile.frames.map(frameLabel);
  const folded = new Map<string, number>();
  for (const stack of profile.stacks) {
    const names = stack.frames.map((i) => labels[i]);
    if (options.threads) names.unshift(threadLabel(profile.threads[stack.thread]));
    const key = names.join(';');
    folded.set(key, (folded.get(key) ?? 0) + stack.count);
  }
  return folded;
}

/** The collapsed ("folded") format read by flamegraph.pl, inferno and speedscope: `a;b;c 12`. */
export function renderCollapsed(profile: Profile, options: CollapseOptions = {}): string {
  const lines = [...foldStacks(profile, options)].map(([stack, count]) => `${stack} ${count}`);
  lines.sort();
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

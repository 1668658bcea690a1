import { hasProcessRoots, processRootOf } from './process-roots.js';
import type { Profile, StackCount } from './profile.js';
import { totalWeight } from './units.js';

export interface SpeedscopeOptions {
  name?: string;
}

/**
 * speedscope's file format: frames shared, one sampled profile per thread (per process, for a
 * record of subprocesses), each sample weighted by its stack's weight (identical stacks are
 * aggregated already, so weights keep the file small): sample counts, or with `--cpu` nanoseconds.
 */
export function renderSpeedscope(profile: Profile, options: SpeedscopeOptions = {}): string {
  const groups = new Map<number, { name: string; stacks: StackCount[] }>();
  const byProcess = hasProcessRoots(profile);
  for (const stack of profile.stacks) {
    if (stack.weight <= 0) continue;
    const root = byProcess ? processRootOf(profile, stack) : undefined;
    // Processes by their root frame; stacks without one (there are none in such a record) by thread.
    const key = root !== undefined ? -1 - root : stack.thread;
    let group = groups.get(key);
    if (!group) {
      group = { name: root !== undefined ? profile.frames[root].name : threadName(profile, stack.thread), stacks: [] };
      groups.set(key, group);
    }
    group.stacks.push(stack);
  }
  const unit = profile.unit === 'cpu-nanoseconds' ? ('nanoseconds' as const) : ('none' as const);
  // Threads in the profile's order, as speedscope lists them; processes in the order they were first seen.
  const ordered = byProcess ? [...groups.values()] : [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
  const profiles = ordered.map(({ name, stacks }) => ({
    type: 'sampled' as const,
    name,
    unit,
    startValue: 0,
    endValue: totalWeight(stacks),
    samples: stacks.map((s) => s.frames),
    weights: stacks.map((s) => s.weight),
  }));
  const file = {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    exporter: 'pyspy-ts',
    name: options.name ?? `pyspy-ts: pid ${profile.meta.pid}`,
    activeProfileIndex: 0,
    shared: {
      // `kind` is ours (speedscope reads name, file and line and leaves the rest): `native` marks
      // a C/C++/Cython/Rust frame of --native, `task` an asyncio task of --async (which has no file).
      frames: profile.frames.map((f) =>
        f.kind === 'task'
          ? { name: f.name, kind: f.kind }
          : {
              name: f.name,
              file: f.file,
              ...(f.line > 0 ? { line: f.line } : {}),
              ...(f.kind ? { kind: f.kind } : {}),
            },
      ),
    },
    profiles,
  };
  return JSON.stringify(file);
}

function threadName(profile: Profile, index: number): string {
  const thread = profile.threads[index];
  return `${thread.name} (tid ${thread.id}${thread.pid !== profile.meta.pid ? `, pid ${thread.pid}` : ''})`;
}

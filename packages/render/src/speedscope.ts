import type { Profile } from './profile.js';

export interface SpeedscopeOptions {
  name?: string;
}

/**
 * speedscope's file format: frames shared, one sampled profile per thread, each sample weighted
 * by its count (identical stacks are aggregated already, so weights keep the file small).
 */
export function renderSpeedscope(profile: Profile, options: SpeedscopeOptions = {}): string {
  const perThread = profile.threads.map(() => ({ samples: [] as number[][], weights: [] as number[] }));
  for (const stack of profile.stacks) {
    perThread[stack.thread].samples.push(stack.frames);
    perThread[stack.thread].weights.push(stack.count);
  }
  const profiles = profile.threads
    .map((thread, i) => ({ thread, ...perThread[i] }))
    .filter((t) => t.samples.length > 0)
    .map(({ thread, samples, weights }) => ({
      type: 'sampled' as const,
      name: `${thread.name} (tid ${thread.id}${thread.pid !== profile.meta.pid ? `, pid ${thread.pid}` : ''})`,
      unit: 'none' as const,
      startValue: 0,
      endValue: weights.reduce((a, b) => a + b, 0),
      samples,
      weights,
    }));
  const file = {
    $schema: 'https://www.speedscope.app/file-format-schema.json',
    exporter: 'pyspy-ts',
    name: options.name ?? `pyspy-ts: pid ${profile.meta.pid}`,
    activeProfileIndex: 0,
    shared: {
      // `kind` is ours (speedscope reads name, file and line and leaves the rest): `native` marks
      // a C/C++/Cython/Rust frame of --native.
      frames: profile.frames.map((f) => ({
        name: f.name,
        file: f.file,
        ...(f.line > 0 ? { line: f.line } : {}),
        ...(f.kind ? { kind: f.kind } : {}),
      })),
    },
    profiles,
  };
  return JSON.stringify(file);
}

/**
 * What a profile's numbers are (samples, or CPU nanoseconds with `--cpu`), and how renderers say
 * them, so that every format labels weights the same way.
 */
import type { Profile, ProfileUnit, StackCount } from './profile.js';

export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A CPU time in nanoseconds, in the largest unit that keeps it above 1: `1.23 s`, `45.60 ms`, `7.00 µs`. */
export function formatCpuTime(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${Math.round(ns)} ns`;
}

/** A weight as people read it: `1,234 samples` or `12.35 ms CPU`. */
export function formatWeight(weight: number, unit: ProfileUnit, countName = 'samples'): string {
  return unit === 'cpu-nanoseconds' ? `${formatCpuTime(weight)} CPU` : `${formatCount(weight)} ${countName}`;
}

/** The weights of every stack, summed. */
export function totalWeight(stacks: readonly StackCount[]): number {
  let total = 0;
  for (const stack of stacks) if (stack.weight > 0) total += stack.weight;
  return total;
}

export function isWeightedByCpu(profile: Pick<Profile, 'unit'>): boolean {
  return profile.unit === 'cpu-nanoseconds';
}

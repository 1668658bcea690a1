/**
 * Pseudo-frames: a process root (`--subprocesses`) above each stack, `<GC>` on top of it while
 * the collector runs. They are frames of the profile like any other; these helpers let formats
 * that have a place of their own for processes (a speedscope profile, a trace's process track, a
 * pprof label) find them.
 */
import type { Frame, Profile, StackCount } from './profile.js';

/** The name of the frame that stands for the collector running. */
export const GC_FRAME_NAME = '<GC>';

/** `process 1234: "python app.py"`, py-spy's label for a process root. */
export function processFrameName(pid: number, commandLine: string): string {
  return `process ${pid}: ${JSON.stringify(commandLine)}`;
}

const PROCESS_FRAME = /^process (\d+): /;

/** The kind a bare label stands for, when it is a pseudo-frame's (for formats that keep only labels). */
export function pseudoFrameKind(name: string): Frame['kind'] {
  if (name === GC_FRAME_NAME) return 'gc';
  if (PROCESS_FRAME.test(name)) return 'process';
  return undefined;
}

/** Index of the stack's process root frame, when it has one. */
export function processRootOf(profile: Profile, stack: StackCount): number | undefined {
  const root = stack.frames[0];
  return root !== undefined && profile.frames[root]?.kind === 'process' ? root : undefined;
}

/** True when the profile's stacks sit under process roots (recorded with `--subprocesses`). */
export function hasProcessRoots(profile: Profile): boolean {
  return profile.stacks.some((stack) => processRootOf(profile, stack) !== undefined);
}

/** Each process root's name by PID, from the stacks under it (the latest name wins: a process can exec). */
export function processNames(profile: Profile): Map<number, string> {
  const names = new Map<number, string>();
  for (const stack of profile.stacks) {
    const root = processRootOf(profile, stack);
    if (root !== undefined) names.set(profile.threads[stack.thread].pid, profile.frames[root].name);
  }
  return names;
}

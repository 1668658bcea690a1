import { frameLabel, threadLabel } from './collapsed.js';
import type { FrameKind, Profile } from './profile.js';

export type FlameFrameKind = 'root' | 'thread' | 'frame';

/**
 * One rectangle of the graph. Positions are in the profile's unit (exact: samples, or CPU
 * nanoseconds with `--cpu`) and in px (derived).
 */
export interface FlameFrame {
  /** Index in `FlamegraphLayout.frames`; parents come before their children. */
  id: number;
  /** `id` of the parent frame, -1 for the root. */
  parent: number;
  /** 0 for the root ("all"), 1 for outermost Python frames (or threads with `threads`). */
  depth: number;
  kind: FlameFrameKind;
  /** What the rectangle shows: `frameLabel` / `threadLabel` / "all". */
  label: string;
  name: string;
  /** Empty for the root and for threads. */
  file: string;
  line: number;
  /**
   * The profile frame's kind (`native` for C/C++/Cython/Rust, `task` for an asyncio task of
   * `--async`); absent for Python and pseudo-rows.
   */
  frameKind?: FrameKind;
  /** Weight (samples, or CPU ns) in this frame and below it. */
  samples: number;
  /** Weight to the left of this frame. */
  start: number;
  /** Relative to the plot area's left edge. */
  xPx: number;
  widthPx: number;
}

export interface FlamegraphLayout {
  totalSamples: number;
  /** Deepest depth present (0 when only the root is drawn; -1 when the profile has no samples). */
  maxDepth: number;
  frames: FlameFrame[];
}

export interface LayoutOptions {
  /** Width of the plot area in px. */
  plotWidthPx: number;
  /** Frames narrower than this are left out, with everything above them. */
  minWidthPx: number;
  /** Each thread becomes a frame under the root. */
  threads: boolean;
}

/**
 * A node of the merged tree. Small, since a profile of ever-new code has about as many leaves as
 * stacks (80,000 in a 20 s record of `new_code.py` at 5 kHz, where nodes that each carried their
 * frame's fields and a map of children took 36 MB of heap, and these take 12): what a rectangle
 * shows besides its label is looked up when it is laid out, and a leaf has no map.
 */
interface TreeNode {
  kind: FlameFrameKind;
  label: string;
  /** Index into `Profile.frames` (a frame) or `Profile.threads` (a thread); -1 for the root. */
  index: number;
  samples: number;
  children: Map<string, TreeNode> | undefined;
}

function childOf(parent: TreeNode, kind: FlameFrameKind, label: string, index: number): TreeNode {
  parent.children ??= new Map();
  let child = parent.children.get(label);
  if (!child) {
    child = { kind, label, index, samples: 0, children: undefined };
    parent.children.set(label, child);
  }
  return child;
}

/**
 * Merges the profile's stacks into one tree, by weight: siblings with the same label are one
 * frame, as in the collapsed format (the same function reached through different threads merges
 * unless `threads`; a thread then goes under its process root, when there is one).
 */
export function buildFrameTree(profile: Profile, threads: boolean): TreeNode {
  const labels = profile.frames.map(frameLabel);
  const root: TreeNode = { kind: 'root', label: 'all', index: -1, samples: 0, children: undefined };
  for (const stack of profile.stacks) {
    if (stack.weight <= 0) continue;
    root.samples += stack.weight;
    let node = root;
    const threadAt = threads ? (profile.frames[stack.frames[0]]?.kind === 'process' ? 1 : 0) : -1;
    stack.frames.forEach((frameIndex, depth) => {
      if (depth === threadAt) node = threadNode(node, profile, stack.thread, stack.weight);
      node = childOf(node, 'frame', labels[frameIndex], frameIndex);
      node.samples += stack.weight;
    });
    if (threadAt >= stack.frames.length) threadNode(node, profile, stack.thread, stack.weight);
  }
  return root;
}

function threadNode(parent: TreeNode, profile: Profile, threadIndex: number, weight: number): TreeNode {
  const node = childOf(parent, 'thread', threadLabel(profile.threads[threadIndex]), threadIndex);
  node.samples += weight;
  return node;
}

/** The name, file, line and kind a node's rectangle shows: its first frame's (or thread's). */
function shown(node: TreeNode, profile: Profile): Pick<FlameFrame, 'name' | 'file' | 'line' | 'frameKind'> {
  if (node.kind === 'frame') {
    const frame = profile.frames[node.index];
    return { name: frame.name, file: frame.file, line: frame.line, ...(frame.kind ? { frameKind: frame.kind } : {}) };
  }
  return { name: node.kind === 'thread' ? profile.threads[node.index].name : node.label, file: '', line: 0 };
}

/** Sibling order of flamegraph.pl: by label, plain code unit order (locale-independent). */
function byLabel(a: TreeNode, b: TreeNode): number {
  return a.label < b.label ? -1 : a.label > b.label ? 1 : 0;
}

export function layoutFlamegraph(profile: Profile, options: LayoutOptions): FlamegraphLayout {
  const root = buildFrameTree(profile, options.threads);
  const totalSamples = root.samples;
  const frames: FlameFrame[] = [];
  if (totalSamples === 0) return { totalSamples, maxDepth: -1, frames };
  const pxPerSample = options.plotWidthPx / totalSamples;
  let maxDepth = 0;

  // Iterative depth-first walk: Python stacks can be thousands deep (recursion), JS call stacks not.
  const pending: { node: TreeNode; parent: number; depth: number; start: number }[] = [
    { node: root, parent: -1, depth: 0, start: 0 },
  ];
  while (pending.length > 0) {
    const { node, parent, depth, start } = pending.pop()!;
    const widthPx = node.samples * pxPerSample;
    if (node.kind !== 'root' && widthPx < options.minWidthPx) continue;
    const id = frames.length;
    frames.push({
      id,
      parent,
      depth,
      kind: node.kind,
      label: node.label,
      ...shown(node, profile),
      samples: node.samples,
      start,
      xPx: start * pxPerSample,
      widthPx,
    });
    maxDepth = Math.max(maxDepth, depth);
    if (!node.children) continue;
    const children = [...node.children.values()].sort(byLabel);
    let childStart = start;
    // Only the children wide enough to be drawn are queued: the others, tens of thousands
    // under one frame in a profile of ever-new code, only move their siblings' start.
    const queued = [];
    for (const child of children) {
      if (child.samples * pxPerSample >= options.minWidthPx)
        queued.push({ node: child, parent: id, depth: depth + 1, start: childStart });
      childStart += child.samples;
    }
    // Reversed so the leftmost child is popped (and numbered) first.
    for (let i = queued.length - 1; i >= 0; i--) pending.push(queued[i]);
  }
  return { totalSamples, maxDepth, frames };
}

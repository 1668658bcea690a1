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

interface TreeNode {
  kind: FlameFrameKind;
  label: string;
  name: string;
  file: string;
  line: number;
  frameKind?: FrameKind;
  samples: number;
  children: Map<string, TreeNode>;
}

function newNode(kind: FlameFrameKind, label: string, name: string, file = '', line = 0, frameKind?: FrameKind): TreeNode {
  return { kind, label, name, file, line, ...(frameKind ? { frameKind } : {}), samples: 0, children: new Map() };
}

function childOf(parent: TreeNode, label: string, create: () => TreeNode): TreeNode {
  let child = parent.children.get(label);
  if (!child) {
    child = create();
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
  const root = newNode('root', 'all', 'all');
  for (const stack of profile.stacks) {
    if (stack.weight <= 0) continue;
    root.samples += stack.weight;
    let node = root;
    const threadAt = threads ? (profile.frames[stack.frames[0]]?.kind === 'process' ? 1 : 0) : -1;
    stack.frames.forEach((frameIndex, depth) => {
      if (depth === threadAt) node = threadNode(node, profile, stack.thread, stack.weight);
      const label = labels[frameIndex];
      const frame = profile.frames[frameIndex];
      node = childOf(node, label, () => newNode('frame', label, frame.name, frame.file, frame.line, frame.kind));
      node.samples += stack.weight;
    });
    if (threadAt >= stack.frames.length) threadNode(node, profile, stack.thread, stack.weight);
  }
  return root;
}

function threadNode(parent: TreeNode, profile: Profile, threadIndex: number, weight: number): TreeNode {
  const thread = profile.threads[threadIndex];
  const label = threadLabel(thread);
  const node = childOf(parent, label, () => newNode('thread', label, thread.name));
  node.samples += weight;
  return node;
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
      name: node.name,
      file: node.file,
      line: node.line,
      ...(node.frameKind ? { frameKind: node.frameKind } : {}),
      samples: node.samples,
      start,
      xPx: start * pxPerSample,
      widthPx,
    });
    maxDepth = Math.max(maxDepth, depth);
    const children = [...node.children.values()].sort(byLabel);
    let childStart = start;
    const queued = children.map((child) => {
      const item = { node: child, parent: id, depth: depth + 1, start: childStart };
      childStart += child.samples;
      return item;
    });
    // Reversed so the leftmost child is popped (and numbered) first.
    for (let i = queued.length - 1; i >= 0; i--) pending.push(queued[i]);
  }
  return { totalSamples, maxDepth, frames };
}

/**
 * An event loop's tasks as a tree, in the layout of `python -m asyncio pstree PID` (3.14+): one
 * tree per task nobody awaits, `(T) name` for a task, ` function file:line` for a coroutine frame
 * (outermost first, each under the previous), a task under the frame of the task awaiting it
 * (frames that several awaited tasks share appear once). A task that only awaits others shows its
 * frames through them; a task nobody's tree reaches (an await cycle) becomes a root of its own.
 */
import type { FrameDump, LoopDump, TaskDump } from '@pyspy/core';

interface Node {
  label: string;
  children: Node[];
  /** Coroutine children by label, so that shared frames merge. */
  frames: Map<string, Node>;
}

const newNode = (label: string): Node => ({ label, children: [], frames: new Map() });

function frameLabel(frame: FrameDump, fullFilenames: boolean): string {
  const file = fullFilenames ? frame.filename : frame.shortFilename;
  return frame.line > 0 ? ` ${frame.name} ${file}:${frame.line}` : ` ${frame.name} ${file}`;
}

/** The coroutine node for `frames` (innermost first) under `parent`, made as needed. */
function frameChain(parent: Node, frames: FrameDump[], fullFilenames: boolean): Node {
  let node = parent;
  for (let i = frames.length - 1; i >= 0; i--) {
    const label = frameLabel(frames[i], fullFilenames);
    let next = node.frames.get(label);
    if (!next) {
      next = newNode(label);
      node.frames.set(label, next);
      node.children.push(next);
    }
    node = next;
  }
  return node;
}

/** The pending tasks of `loop` as tree lines; done tasks are left to the caller. */
export function asyncTreeLines(loop: LoopDump, fullFilenames = false): string[] {
  const pending = loop.tasks.filter((t) => t.state === 'pending');
  const byAddress = new Map<number, TaskDump>(pending.map((t) => [t.address, t]));
  const nodes = new Map<number, Node>(pending.map((t) => [t.address, newNode(`(T) ${t.name}`)]));
  const awaiting = new Set<number>();
  const awaited = new Set<number>();
  // In the order asyncio pstree indexes them: each task's awaiters, as the tasks are listed.
  for (const task of pending) {
    for (const parent of task.awaitedBy) {
      const parentTask = byAddress.get(parent);
      if (!parentTask) continue;
      awaiting.add(parent);
      awaited.add(task.address);
      const under = frameChain(nodes.get(parent)!, parentTask.coroutineStack, fullFilenames);
      const child = nodes.get(task.address)!;
      if (!under.children.includes(child)) under.children.push(child);
    }
  }
  for (const task of pending) {
    if (!awaiting.has(task.address)) frameChain(nodes.get(task.address)!, task.coroutineStack, fullFilenames);
  }
  const lines: string[] = [];
  const reached = new Set<Node>();
  const path = new Set<Node>();
  const render = (node: Node, prefix: string, last: boolean) => {
    const cycle = path.has(node);
    lines.push(`${prefix}${last ? '└── ' : '├── '}${node.label}${cycle ? ' (awaits itself)' : ''}`);
    if (cycle) return;
    reached.add(node);
    path.add(node);
    const inner = prefix + (last ? '    ' : '│   ');
    for (const [i, child] of node.children.entries()) render(child, inner, i === node.children.length - 1);
    path.delete(node);
  };
  for (const task of pending) if (!awaited.has(task.address)) render(nodes.get(task.address)!, '', true);
  // Tasks that await each other in a cycle: no root leads to them.
  for (const task of pending) {
    const node = nodes.get(task.address)!;
    if (!reached.has(node)) render(node, '', true);
  }
  return lines;
}

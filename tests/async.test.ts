/**
 * `--async` against real interpreters, under asyncio and under uvloop: tests/targets/async_tree.py
 * builds a known tree of tasks (main -> gather of two servers -> TaskGroup of handlers parked on an
 * Event, plus a CPU-bound task; 3.9/3.10 gather instead of TaskGroup; a second thread runs its
 * own loop, with eager tasks on 3.12+) and writes its own ground truth from asyncio.all_tasks(),
 * Task.get_name() and the tasks' own objects. `dump --async` must equal it exactly: every task,
 * its state, its coroutine stack line by line, and who awaits it, by address.
 *
 * On 3.14+ the dump is also compared with `python -m asyncio pstree PID`, but only for the main
 * thread's loop: 3.14's pstree leaves out the loops of other threads (its remote reader walks the
 * thread list from the main thread, which is its last entry). The full tree is compared with the
 * ground truth above, on every minor.
 *
 * A third variant makes every task a pure-Python `asyncio.tasks._PyTask` (a subclass of it):
 * 3.8-3.13 only, as 3.14's asyncio itself no longer sees such tasks (current_task(), TaskGroup
 * and wait_for go by the C state).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump, type LoopDump } from '@pyspy/core';
import { gcore } from './cores.js';
import {
  interpreterById,
  interpreters,
  killAll,
  runCli,
  startCli,
  startPython,
  targetsDir,
  tempDir,
  waitFor,
  type Interpreter,
  type StartedTarget,
} from './helpers.js';

/** Registers a test only where it applies: a skipped test would stand in the count as one more. */
function itWhere(applies: boolean, name: string, fn: () => unknown, timeoutMs?: number): void {
  if (applies) it(name, fn, timeoutMs);
}

afterAll(killAll);

/** The interpreters PyPI has no uvloop wheel for, and why: the only ones run without it. */
const NO_UVLOOP = { '3.11-dbg-bookworm': 'debug ABI', '3.14-dbg-sid': 'debug ABI' } as Record<string, string>;

interface TruthFrame {
  name: string;
  filename: string;
  line: number;
}
interface TruthTask {
  id: number;
  name: string;
  default_name: boolean;
  state: string;
  stack: TruthFrame[];
  awaited_by: string[];
  awaited_by_ids: number[];
}
interface TruthLoop {
  native_thread_id: number;
  thread_name: string;
  loop_type: string;
  loop_id: number;
  tasks: TruthTask[];
  done_tasks?: { id: number; name: string; state: string }[];
}
interface Truth {
  version: string;
  errors: string[];
  loops: TruthLoop[];
}

const TREE = join(targetsDir, 'async_tree.py');
/** The line of async_tree.py where the CPU task runs its burn(): the top of its stack while it runs. */
const BURN_LINE =
  readFileSync(TREE, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('burn(BURST_SECONDS)')) + 1;
/** The line of its `await asyncio.sleep(0)`: the top of its stack while it runs into or out of the sleep. */
const YIELD_LINE =
  readFileSync(TREE, 'utf8')
    .split('\n')
    .findIndex((l, i) => i > BURN_LINE && l.includes('await asyncio.sleep(0)')) + 1;

/** The parked handlers and the server task each one runs under. */
const HANDLERS: [string, string[]][] = [
  ['alpha.h0', ['alpha']],
  ['alpha.h1', ['alpha']],
  ['alpha.h2', ['alpha']],
  ['beta.h0', ['beta']],
  ['beta.shielded', ['beta', 'beta.h1']],
];

function withUvloop(interp: Interpreter): Interpreter {
  const uv = interp.uvloop;
  if (!uv?.path) throw new Error(`${interp.id} has no uvloop`);
  return { ...interp, env: { ...interp.env, ...uv.env, PYTHONPATH: uv.path } };
}

type Variant = 'asyncio' | 'uvloop' | 'pytask';

async function startTree(interp: Interpreter, variant: Variant): Promise<{ target: StartedTarget; truth: Truth }> {
  const truthPath = join(tempDir('async'), 'truth.json');
  const target = await startPython(interp, [TREE, truthPath, ...(variant === 'asyncio' ? [] : [`--${variant}`])]);
  const truth = await waitFor(`async_tree.py's ground truth (output so far: ${target.output()})`, () =>
    existsSync(truthPath) ? (JSON.parse(readFileSync(truthPath, 'utf8')) as Truth) : undefined,
  );
  return { target, truth };
}

const frames = (list: TruthFrame[]) => list.map(({ name, filename, line }) => ({ name, filename, line }));

/** Collapsed-stack labels of every stack of a record's JSON, with counts and the record's ticks. */
function recordAsync(pid: number, extra: string[]): { stacks: [string[], number][]; ticks: number } {
  const out = join(tempDir('async-record'), 'profile.pyspy.json');
  const result = runCli(['record', '--pid', String(pid), '--async', '--duration', '2', '-o', out, '--hide-progress', ...extra], {
    timeoutMs: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const profile = JSON.parse(readFileSync(out, 'utf8')) as {
    frames: { name: string; file: string; line: number; kind?: string }[];
    stacks: { frames: number[]; count: number }[];
    stats: { ticks: number };
  };
  const label = (i: number) => {
    const f = profile.frames[i];
    return f.kind === 'task' ? f.name : `${f.name} (${f.file}:${f.line})`;
  };
  return { stacks: profile.stacks.map((s) => [s.frames.map(label), s.count]), ticks: profile.stats.ticks };
}

/** The main thread's loop in a pstree-style text: the tree of task `main`, without the running CPU task's subtree. */
function mainTree(lines: string[]): string[] {
  const start = lines.indexOf('└── (T) main');
  // The tree ends at the next root, or at a line that is no tree line.
  const end = lines.findIndex((l, i) => i > start && (l.startsWith('└── ') || !/^[ │]*[└├]── /.test(l)));
  const tree = lines.slice(start, end === -1 ? undefined : end);
  // cpu runs or has just yielded, at a different moment in each tool: its line moves.
  const cpu = tree.findIndex((l) => l.endsWith('(T) cpu'));
  const depth = (l: string) => l.search(/[└├]/);
  const cpuEnd = tree.findIndex((l, i) => i > cpu && depth(l) <= depth(tree[cpu]));
  return cpu === -1 ? tree : [...tree.slice(0, cpu + 1), ...(cpuEnd === -1 ? [] : tree.slice(cpuEnd))];
}

const VARIANT_LABEL: Record<Variant, string> = {
  asyncio: 'asyncio',
  uvloop: 'uvloop',
  pytask: 'asyncio with pure-Python tasks',
};

// Before 3.8 and free-threaded builds, --async is refused: builds.test.ts checks that.
const readable = interpreters().filter((i) => !i.freeThreaded && !['2.7', '3.6', '3.7'].includes(i.minor));

for (const base of readable) {
  const minor = Number(base.minor.split('.')[1]);
  const variants: Variant[] = minor <= 13 ? ['asyncio', 'uvloop', 'pytask'] : ['asyncio', 'uvloop'];
  for (const variant of variants) {
    const uvloop = variant === 'uvloop';
    const label = `--async on ${base.id} (${base.version}) under ${VARIANT_LABEL[variant]}`;
    if (uvloop && !base.uvloop?.path) {
      it(`${label}: has no uvloop, a listed exception (${NO_UVLOOP[base.id] ?? 'not listed'})`, () => {
        expect(NO_UVLOOP[base.id], `${base.id}: ${base.uvloop?.unavailable}`).toBeDefined();
        expect(base.debug).toBe(true);
      });
      continue;
    }
    describe(label, () => {
      const interp = uvloop ? withUvloop(base) : base;
      let target: StartedTarget;
      let truth: Truth;
      beforeAll(async () => {
        ({ target, truth } = await startTree(interp, variant));
      });
      afterAll(() => target?.child.kill('SIGKILL'));

      it('the target built its tree', () => {
        expect(truth.errors).toEqual([]);
        expect(truth.loops).toHaveLength(2);
      });

      it('dump --async equals the ground truth: every task, its state, coroutine stack, and who awaits it', async () => {
        const result = await dump(target.pid, { async: true });
        const loops = result.loops ?? [];
        expect(loops).toHaveLength(truth.loops.length);
        for (const want of truth.loops) {
          const got = loops.find((l) => l.nativeThreadId === want.native_thread_id) as LoopDump;
          expect(got, `the loop of thread ${want.thread_name}`).toBeDefined();
          expect(got.address).toBe(want.loop_id);
          expect(want.loop_type === got.loopType || want.loop_type.endsWith(`.${got.loopType}`), got.loopType).toBe(true);
          const pending = got.tasks.filter((t) => t.state === 'pending');
          expect(pending.map((t) => t.name).sort()).toEqual(want.tasks.map((t) => t.name).sort());
          for (const task of want.tasks) {
            const ours = pending.find((t) => t.address === task.id);
            expect(ours, `task ${task.name} at ${task.id}`).toBeDefined();
            expect([ours!.name, ours!.defaultName]).toEqual([task.name, task.default_name]);
            expect([...ours!.awaitedBy].sort(), `who awaits ${task.name}`).toEqual([...task.awaited_by_ids].sort());
            const stack = frames(ours!.coroutineStack);
            if (task.name === 'cpu' && stack.length === 1 && [BURN_LINE, YIELD_LINE].includes(stack[0].line)) {
              // Caught running: its coroutine is at the burn() call, as asyncio pstree shows it, or
              // at its sleep(0) on the way in or out (no sleep frame yet, or none any more).
              expect(got.runningTask).toBe(task.id);
              expect(stack[0].name).toBe('cpu_burner');
            } else {
              expect(stack, `the coroutine stack of ${task.name}`).toEqual(frames(task.stack));
            }
          }
          // Done tasks the program still holds: 3.8-3.13 still list them, 3.14+ through main()'s frame.
          const done = got.tasks.filter((t) => t.state !== 'pending').map((t) => [t.address, t.name, t.state]);
          const byAddress = (a: (string | number)[], b: (string | number)[]) => Number(a[0]) - Number(b[0]);
          expect(done.sort(byAddress)).toEqual((want.done_tasks ?? []).map((t) => [t.id, t.name, t.state]).sort(byAddress));
        }
      });

      itWhere(variant === 'asyncio', 'a thread filter keeps the loops and tasks of the threads it keeps only', async () => {
        for (const want of truth.loops) {
          const result = await dump(target.pid, { async: true, tid: [want.native_thread_id] });
          expect(result.threads.map((t) => t.nativeThreadId)).toEqual([want.native_thread_id]);
          const loops = result.loops ?? [];
          expect(loops.map((l) => [l.nativeThreadId, l.address])).toEqual([[want.native_thread_id, want.loop_id]]);
          const pending = loops[0].tasks.filter((t) => t.state === 'pending').map((t) => t.name);
          expect(pending.sort()).toEqual(want.tasks.map((t) => t.name).sort());
        }
        const other = truth.loops[1];
        const { stacks } = recordAsync(target.pid, ['--idle', '--tid', String(other.native_thread_id)]);
        const tasks = new Set(stacks.flatMap(([labels]) => labels.filter((l) => l === 'Task' || l.startsWith('Task '))));
        const kept = new Set(other.tasks.map((t) => (t.default_name ? 'Task' : `Task ${t.name}`)));
        expect(tasks.size).toBeGreaterThan(0);
        for (const task of tasks) expect(kept, `${task} is a task of thread ${other.thread_name}`).toContain(task);
      });

      itWhere(
        variant === 'asyncio',
        'dump --core --async of a gcore of it reads the same loops and tasks, byte-identical through WASM',
        async () => {
          const dir = tempDir('async-core');
          try {
            const live = await dump(target.pid, { async: true });
            const path = gcore(target.pid, dir);
            const summary = (loops: LoopDump[]) =>
              loops
                .map((l) => ({
                  address: l.address,
                  thread: l.nativeThreadId,
                  tasks: l.tasks.map((t) => [t.address, t.name, t.state, [...t.awaitedBy].sort()].join(' ')).sort(),
                }))
                .sort((a, b) => a.address - b.address);
            const native = runCli(['dump', '--core', path, '--async', '--json'], { timeoutMs: 60_000 });
            expect(native.status, native.stderr).toBe(0);
            const core = JSON.parse(native.stdout) as { loops?: LoopDump[] };
            expect(summary(core.loops ?? [])).toEqual(summary(live.loops ?? []));
            const wasm = runCli(['dump', '--core', path, '--async', '--json'], {
              env: { PYSPY_BACKEND: 'wasm' },
              timeoutMs: 120_000,
            });
            expect(wasm.status, wasm.stderr).toBe(0);
            expect(wasm.stdout).toBe(native.stdout);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        },
        240_000,
      );

      itWhere(minor >= 14, 'dump --async shows the main loop as asyncio pstree does', () => {
        const pstree = spawnSync(base.exe, ['-m', 'asyncio', 'pstree', String(target.pid)], {
          encoding: 'utf8',
          env: { ...process.env, ...base.env },
          timeout: 30_000,
        });
        expect(pstree.status, pstree.stderr).toBe(0);
        const ours = runCli(['dump', '--async', '--full-filenames', '--pid', String(target.pid)], { timeoutMs: 30_000 });
        expect(ours.status, ours.stderr).toBe(0);
        const ourLines = ours.stdout.split('\n').map((l) => l.replace(/^ {4}/, ''));
        const theirs = mainTree(pstree.stdout.split('\n'));
        expect(theirs.length).toBeGreaterThan(20);
        expect(mainTree(ourLines)).toEqual(theirs);
      });

      it("record --async puts the CPU task's samples under Task main > main > Task cpu", () => {
        const { stacks } = recordAsync(target.pid, ['--rate', '100']);
        const mainStack = truth.loops[0].tasks.find((t) => t.name === 'main')!.stack;
        const mainFrames = [...mainStack].reverse().map((f) => `${f.name}:${f.line}`);
        let cpu = 0;
        let underTasks = 0;
        for (const [labels, count] of stacks) {
          if (!labels.some((l) => l.startsWith('cpu_burner ('))) continue;
          cpu += count;
          const at = labels.indexOf('Task cpu');
          const between = labels.slice(1, at).map((l) => l.replace(/ \(.*:(\d+)\)$/, ':$1'));
          if (labels[0] === 'Task main' && at > 0 && labels[at + 1]?.startsWith('cpu_burner (')) {
            expect(between).toEqual(mainFrames);
            underTasks += count;
          }
        }
        expect(cpu, JSON.stringify(stacks.slice(0, 5))).toBeGreaterThanOrEqual(20);
        expect(underTasks / cpu).toBeGreaterThanOrEqual(0.95);
      });

      it('record --async --idle shows each parked handler where it waits, under its server task', () => {
        const { stacks, ticks } = recordAsync(target.pid, ['--idle', '--rate', '20']);
        for (const [handler, servers] of HANDLERS) {
          const path = ['Task main', ...servers.map((s) => `Task ${s}`), `Task ${handler}`];
          const waiting = stacks.filter(([labels]) => {
            const tasks = labels.filter((l) => l === 'Task' || l.startsWith('Task '));
            return tasks.join(';') === path.join(';') && labels.at(-1)?.includes('wait');
          });
          const count = waiting.reduce((sum, [, n]) => sum + n, 0);
          // One sample per tick for a task that waits the whole time.
          expect(count, `${handler}: ${JSON.stringify(waiting)}`).toBeGreaterThanOrEqual(0.9 * ticks);
          expect(count, `${handler}: ${JSON.stringify(waiting)}`).toBeLessThanOrEqual(ticks);
        }
      });
    });
  }
}

describe('top --async', () => {
  it('has a row per task: the CPU task is under most samples, as its own Task frame', async () => {
    const { target } = await startTree(interpreterById('3.12-pyenv'), 'asyncio');
    const cli = startCli(['top', '--pid', String(target.pid), '--async', '--interval', '0.5']);
    let stdout = '';
    cli.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    await waitFor('two tables with tasks', () => (stdout.match(/ Task cpu$/gm) ?? []).length >= 2);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    target.child.kill('SIGKILL');
    expect(result.status, result.stderr).toBe(0);
    // Columns: %Own %Total OwnTime TotalTime, then the row's label.
    const totals = [...result.stdout.matchAll(/^\s*([\d.]+)%\s+([\d.]+)%\s+\S+\s+\S+\s+Task cpu$/gm)].map((m) => Number(m[2]));
    expect(totals.length).toBeGreaterThanOrEqual(2);
    // A task frame is never where a sample ends: no own time.
    expect(result.stdout).toMatch(/^\s*0\.00?%\s+[\d.]+%\s+\S+\s+\S+\s+Task main$/m);
    expect(Math.max(...totals)).toBeGreaterThan(50);
  });
});

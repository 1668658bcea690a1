/**
 * `--native` against real processes: a C extension built here with gcc three ways (frame
 * pointers, none, stripped to .dynsym + .eh_frame), run by every provisioned interpreter.
 * Thresholds come from what the record counted (ticks, errors) and from the CPU split the target
 * measured itself, never from machine speed.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  interpreterById,
  interpreters,
  runCli,
  startPython,
  targetsDir,
  tempDir,
  threadStates,
  waitFor,
  type Interpreter,
} from './helpers.js';
import { BUILDS, type Build, buildExtension, type JsonFrame, type NativeRecord, recordNative, tool } from './native-helpers.js';

const target = join(targetsDir, 'native/native_target.py');

const C_SIDE = ['<module>', 'c_side', 'burn', 'c_outer', 'c_middle', 'c_inner'];
const PYTHON_SIDE = ['<module>', 'python_side', 'call_back', 'c_callback_inner', 'py_spin'];
const EXTENSION_FUNCTIONS = new Set(['burn', 'c_outer', 'c_middle', 'c_inner', 'call_back', 'c_callback_inner']);

/** Python 2 refuses --native (builds.test.ts checks that); every other build merges. */
const merging = () => interpreters().filter((i) => i.minor !== '2.7');

const names = (frames: JsonFrame[]) => frames.map((f) => f.name);
const isPrefixOf = (prefix: string[], full: string[]) => prefix.every((name, i) => full[i] === name);

/** The module a native frame belongs to when it has no name: `0x1a2b (libc.so.6)`. */
function unresolvedIn(frame: JsonFrame): string | undefined {
  return frame.kind === 'native' && /^0x[0-9a-f]+$/.test(frame.name) ? frame.file : undefined;
}

/** Extension, libpython (or the executable holding the interpreter) or libc. */
function watchedModule(file: string): boolean {
  return /^hotext/.test(file) || /^libpython|^python\d/.test(file) || /^libc[.-]/.test(file);
}

/** One record's samples of the workload and of them in C, per `BLOCK_US` of the record. */
interface Share {
  /** Per block: samples whose innermost checked frame is the extension's. */
  cLeaf: number[];
  /** Per block: samples in c_side or python_side. */
  workload: number[];
  /** C share of the CPU time the target measured itself over the record, 0..1. */
  measured: number;
}

/** Blocks long against the runs of like samples a busy machine makes (a wait for a core: ms). */
const BLOCK_US = 250_000;

/** Checks the order, errors and unnamed frames of one record; returns its share counts. */
function checkRecord(interp: Interpreter, record: NativeRecord): Share {
  const inC = new Set<number>();
  const inWorkload = new Set<number>();
  const context = `${interp.id}\n${record.stderr}`;
  let cSide = 0;
  let pythonSide = 0;
  let cLeaf = 0;
  let fullCChains = 0;
  let fullCallbacks = 0;
  let unresolved = 0;
  for (const [index, { frames, count }] of record.stacks.entries()) {
    // What is checked for order: Python frames and the extension's. Other native frames may sit
    // anywhere (the GIL's condition variable in libc, malloc): the interpreter calls them.
    const shown = names(frames.filter((f) => f.kind !== 'native' || EXTENSION_FUNCTIONS.has(f.name)));
    if (frames.some((f) => unresolvedIn(f) !== undefined && watchedModule(unresolvedIn(f)!))) unresolved += count;
    if (shown[1] === 'c_side') {
      // Every Python frame exactly once, the C frames between them in call order; a sample may
      // stop short of c_inner (burn's own code, or the calls around it).
      expect(isPrefixOf(shown, C_SIDE), `${shown.join(' -> ')}\n${context}`).toBe(true);
      cSide += count;
      if (shown.length === C_SIDE.length) fullCChains += count;
    } else if (shown[1] === 'python_side') {
      expect(isPrefixOf(shown, PYTHON_SIDE), `${shown.join(' -> ')}\n${context}`).toBe(true);
      pythonSide += count;
      if (shown.length === PYTHON_SIDE.length) fullCallbacks += count;
    } else {
      continue;
    }
    inWorkload.add(index);
    // In C: the innermost of the frames checked is the extension's (a libc call it made counts
    // as its time, as the target's own clock counts it).
    if (EXTENSION_FUNCTIONS.has(shown[shown.length - 1])) {
      cLeaf += count;
      inC.add(index);
    }
  }
  expect(fullCChains, context).toBeGreaterThan(0.5 * cSide);
  expect(fullCallbacks, context).toBeGreaterThan(0.5 * pythonSide);
  // Fewer than 1% of ticks with a read error or an unnamed frame in the extension, libpython or libc.
  expect(record.stats.errors + unresolved, context).toBeLessThan(0.01 * record.stats.ticks);
  const split = /SPLIT ([\d.]+) ([\d.]+)/.exec(record.stdout);
  expect(split, context).not.toBeNull();
  console.info(
    `${interp.id}: ticks ${record.stats.ticks} at ${record.stats.achievedRateHz.toFixed(0)} Hz, errors ${record.stats.errors}, ` +
      `samples with an unnamed frame ${unresolved}, C leaf ${cLeaf} of ${cSide + pythonSide}, target CPU split ${split![1]} / ${split![2]} s`,
  );
  const share: Share = { cLeaf: [], workload: [], measured: Number(split![1]) / (Number(split![1]) + Number(split![2])) };
  const { timesUs, stacks } = record.timeline;
  for (const [i, stack] of stacks.entries()) {
    const block = Math.floor(timesUs[i] / BLOCK_US);
    while (share.workload.length <= block) {
      share.workload.push(0);
      share.cLeaf.push(0);
    }
    if (inWorkload.has(stack)) share.workload[block] += 1;
    if (inC.has(stack)) share.cLeaf[block] += 1;
  }
  return share;
}

/**
 * The C share of samples is within 2 points of the split the target measured with thread_time(),
 * over the three builds' records together, each record's measured split weighted by its own
 * samples (records of one test differ in both when the machine is busy, and pooling samples
 * against pooled CPU seconds then compares different mixes).
 *
 * On a busy machine, within 4 standard errors of that difference as the records themselves show
 * it: a thread waiting for a core is sampled again and again in the phase it waits in, so the
 * samples come in runs, and their count overstates what they tell. The error is taken from
 * blocks of `BLOCK_US` (batch means), each record's blocks against its own measured split.
 */
function checkShare(interp: Interpreter, shares: Share[]): void {
  let workload = 0;
  let deviation = 0;
  let variance = 0;
  let expected = 0;
  for (const share of shares) {
    const d = share.cLeaf.map((c, b) => c - share.measured * share.workload[b]);
    const sum = d.reduce((a, x) => a + x, 0);
    const mean = sum / d.length;
    // The variance of the record's sum of d, from the spread of its blocks.
    variance += (d.length / Math.max(1, d.length - 1)) * d.reduce((a, x) => a + (x - mean) ** 2, 0);
    deviation += sum;
    const w = share.workload.reduce((a, x) => a + x, 0);
    workload += w;
    expected += share.measured * w;
  }
  const sampled = (100 * (expected + deviation)) / workload;
  const measured = (100 * expected) / workload;
  const tolerance = Math.max(2, (4 * 100 * Math.sqrt(variance)) / workload);
  console.info(
    `${interp.id}: C share sampled ${sampled.toFixed(2)}% of ${workload} vs measured ${measured.toFixed(2)}% (tolerance ${tolerance.toFixed(2)})`,
  );
  expect(
    Math.abs(sampled - measured),
    `${interp.id}: sampled ${sampled.toFixed(2)}% of ${workload}, measured ${measured.toFixed(2)}% (tolerance ${tolerance.toFixed(2)})`,
  ).toBeLessThan(tolerance);
}

describe('record --native merges C frames with the Python frames that called them', () => {
  for (const interp of merging()) {
    it(`on ${interp.id} (${interp.version}), the extension built with frame pointers, without, and stripped`, () => {
      const shares = (Object.keys(BUILDS) as Build[]).map((build) =>
        checkRecord(interp, recordNative(interp, [target, buildExtension(interp, build), '5'], { rate: 1000 })),
      );
      checkShare(interp, shares);
    }, 300_000);
  }
});

describe('dump --native', () => {
  for (const interp of merging()) {
    it(`shows the C frames between the Python frames of a thread parked in C, on ${interp.id}`, async () => {
      const t = await startPython(interp, [target, buildExtension(interp, 'nofp')]);
      await waitFor('the target to be ready', () => t.output().includes('ready'));
      const result = runCli(['dump', '--pid', String(t.pid), '--native', '--json']);
      expect(result.status, result.stderr).toBe(0);
      const dump = JSON.parse(result.stdout) as { threads: { name?: string; frames: JsonFrame[] }[] };
      const parked = dump.threads.find((thread) => thread.name === 'parked');
      expect(parked, result.stdout).toBeDefined();
      const frames = names(parked!.frames);
      const from = frames.indexOf('c_park_inner');
      // Innermost first: the sleep in libc, then C, Python, C, Python.
      expect(frames.slice(from, from + 6), frames.join(' <- ')).toEqual([
        'c_park_inner',
        'park',
        'parked_inner',
        'c_callback_inner',
        'call_back',
        'parked',
      ]);
      expect(from, frames.join(' <- ')).toBeGreaterThan(0);
      expect(parked!.frames.slice(0, from).every((f) => f.kind === 'native')).toBe(true);
      expect(parked!.frames.find((f) => f.name === 'parked')?.kind).toBeUndefined();
      // The target runs on: nothing left stopped.
      expect(threadStates(t.pid).filter((s) => s === 't' || s === 'T')).toEqual([]);
      t.child.kill('SIGKILL');
    });
  }
});

describe('--native on bad input keeps what it could unwind, marks the rest and counts it', () => {
  for (const interp of ['3.11-system', '3.12-pyenv', '3.14-sid'].map(interpreterById)) {
    it(`a library without unwind information, libraries unloaded mid-record, a corrupted stack, on ${interp.id}`, () => {
      const dir = buildExtension(interp, 'nofp');
      const noinfo = join(targetsDir, 'native/noinfo.c');
      const library = join(dir, 'libnoinfo.so');
      tool('gcc', [
        '-O2',
        '-fomit-frame-pointer',
        '-fno-asynchronous-unwind-tables',
        '-fno-unwind-tables',
        '-shared',
        '-fPIC',
        '-o',
        library,
        noinfo,
      ]);
      tool('objcopy', ['--remove-section', '.eh_frame', '--remove-section', '.eh_frame_hdr', library]);
      tool('gcc', ['-O2', '-g', '-shared', '-fPIC', '-o', join(dir, 'libchurn.so'), noinfo]);
      const record = recordNative(interp, [join(targetsDir, 'native/bad_input.py'), dir, '4'], { rate: 200 });
      // No crash, no hang: the record ends with the program, which was never left stopped.
      expect(record.stderr).toMatch(/The program exited with code 0/);
      const { stacks, stats } = record;
      const marked = (reason: RegExp, thread: string) =>
        stacks.filter(({ frames }) => {
          const at = frames.findIndex((f) => f.name === '<native stack incomplete>' && reason.test(f.file));
          // The marker sits inside the Python frames it could not place, which are all kept.
          return at > 0 && frames.findIndex((f) => f.name === thread && f.kind === undefined) === at - 1;
        });
      // The thread in the library without unwind tables, and the one whose return address is garbage.
      // On failure, the stacks that thread did get, most frequent first.
      const seen = (thread: string) =>
        stacks
          .filter(({ frames }) => frames.some((f) => f.name === thread && f.kind === undefined))
          .sort((a, b) => b.count - a.count)
          .slice(0, 6)
          .map(({ frames, count }) => `${count}× ${frames.map((f) => (f.kind ? `${f.name} [${f.file}]` : f.name)).join(' > ')}`)
          .join('\n');
      expect(marked(/./, 'in_noinfo').length, `${record.stderr}\n${seen('in_noinfo')}`).toBeGreaterThan(0);
      expect(marked(/outside every module/, 'corrupted').length, `${record.stderr}\n${seen('corrupted')}`).toBeGreaterThan(0);
      // Each such tick is an error of the record.
      const markedSamples = stacks.filter(({ frames }) => frames.some((f) => f.name === '<native stack incomplete>'));
      expect(stats.errors, record.stderr).toBeGreaterThan(0);
      expect(stats.errors).toBeLessThanOrEqual(markedSamples.reduce((sum, st) => sum + st.count, 0));
      // Stacks through the library loaded and unloaded all the time unwind whole when they can.
      const churned = stacks.filter(({ frames }) => frames.some((f) => f.name === 'noinfo_inner' && /noinfo\.c/.test(f.file)));
      expect(churned.length, record.stderr).toBeGreaterThan(0);
    }, 120_000);
  }
});

describe('top --native', () => {
  it('ranks the C functions with the Python ones, on 3.11-system', () => {
    const interp = interpreterById('3.11-system');
    const result = runCli(
      ['top', '--native', '--interval', '0.5', '--', interp.exe, target, buildExtension(interp, 'nofp'), '3'],
      {
        env: interp.env,
        timeoutMs: 60_000,
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const final = result.stdout.slice(result.stdout.indexOf('--- whole run'));
    // A row is `%Own %Total OwnTime TotalTime name (file:line)`; the C leaf of c_side has own time.
    const own = (name: string) => Number(new RegExp(`^\\s*([\\d.]+)%.*\\s${name} \\(`, 'm').exec(final)?.[1] ?? 0);
    expect(own('c_inner'), final).toBeGreaterThan(5);
    expect(own('py_spin'), final).toBeGreaterThan(5);
    expect(final).toMatch(/\sburn \(hotext\.c/);
  });
});

describe('--native refuses what it cannot do', () => {
  it('with --nonblocking, in one line and before starting anything', () => {
    const result = runCli([
      'record',
      '--native',
      '--nonblocking',
      '-o',
      join(tempDir('refuse'), 'x.svg'),
      '--',
      'python3',
      '-c',
      '1',
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--native needs to pause the target.*--nonblocking/);
  });
});

/**
 * The `top` table, from snapshots to lines of text: aggregation, sorting, formatting. No terminal
 * and no process here, so it is tested with hand-made snapshots.
 *
 * Like py-spy's top, the percentages describe the last interval (where time goes now) and the
 * times add up since the start or the last reset (where time went). With `--cpu` both are of CPU
 * time; with `--subprocesses` each row is a function in one process, and the process is a column.
 */
import { snapshotDelta, type LiveSnapshot, type ProfileStats } from '@pyspy/core';
import { formatCount } from '../format.js';

export type SortKey = 'own' | 'total' | 'ownTime' | 'totalTime';

/** The number keys, in column order. */
export const SORT_KEYS: Record<string, SortKey> = { '1': 'own', '2': 'total', '3': 'ownTime', '4': 'totalTime' };

export const COLUMN_TITLES: Record<SortKey, string> = {
  own: '%Own',
  total: '%Total',
  ownTime: 'OwnTime',
  totalTime: 'TotalTime',
};

export interface View {
  /** One row per line (`name (file:line)`) instead of per function (`name (file)`). */
  byLine: boolean;
  sort: SortKey;
}

export interface Row {
  name: string;
  file: string;
  /** Undefined when rows are functions. */
  line?: number;
  /** The process the function ran in, when the table has a process column (`--subprocesses`). */
  pid?: number;
  /** Weight (samples, or CPU ns with `--cpu`) in the last interval with this row as the leaf frame. */
  ownWindow: number;
  /** Weight in the last interval with this row anywhere on the stack (once per sample). */
  totalWindow: number;
  /** The same two since the start or the last reset. */
  ownSamples: number;
  totalSamples: number;
}

export interface TopTable {
  /** Sorted, only rows with samples since the start or reset. */
  rows: Row[];
  /** Stats of the last interval. */
  window: ProfileStats;
  /** Stats since the start or reset. */
  overall: ProfileStats;
  /** Distinct threads sampled in the last interval. */
  windowThreads: number;
  /** Weight of the last interval's samples (what the percentages are of). */
  windowWeight: number;
  /** Seconds one unit of weight stands for: with samples 1 / achieved rate (missed ticks make each sample count for more), with CPU ns 1e-9. */
  secondsPerSample: number;
  /** A process column: the snapshot's stacks are under process roots (`--subprocesses`). */
  processes: boolean;
  unit: LiveSnapshot['unit'];
}

/**
 * Builds the table from the latest snapshot and the one before it (undefined: the interval is
 * everything so far). Stacks are matched by index: see `LiveSnapshot.stacks`.
 */
export function buildTable(current: LiveSnapshot, previous: LiveSnapshot | undefined, view: View): TopTable {
  const rows: Row[] = [];
  const rowOfKey = new Map<string, number>();
  const processes = current.frames.some((frame) => frame.kind === 'process');
  // A function in two processes is two rows: its frame's row, per process.
  const rowOf = (frameIndex: number, pid: number): number | undefined => {
    const frame = current.frames[frameIndex];
    if (frame.kind === 'process') return undefined;
    const where = processes ? `${pid}\0` : '';
    const key = `${where}${frame.name}\0${frame.file}${view.byLine ? `\0${frame.line}` : ''}`;
    let index = rowOfKey.get(key);
    if (index === undefined) {
      index = rows.length;
      rowOfKey.set(key, index);
      rows.push({
        name: frame.name,
        file: frame.file,
        line: view.byLine ? frame.line : undefined,
        ...(processes ? { pid } : {}),
        ownWindow: 0,
        totalWindow: 0,
        ownSamples: 0,
        totalSamples: 0,
      });
    }
    return index;
  };

  // A row seen twice in one stack (recursion) counts once toward its total: remember the stack it was last counted for.
  const countedForStack = new Map<number, number>();
  const windowThreads = new Set<number>();
  const windowed = previous ? snapshotDelta(current, previous) : current;
  let windowWeight = 0;
  current.stacks.forEach((stack, stackIndex) => {
    const overall = stack.weight;
    const window = windowed.stacks[stackIndex].weight;
    if (overall === 0 || stack.frames.length === 0) return;
    if (window > 0) windowThreads.add(stack.thread);
    windowWeight += window;
    const pid = current.threads[stack.thread]?.pid ?? 0;
    for (const frame of stack.frames) {
      const row = rowOf(frame, pid);
      if (row === undefined || countedForStack.get(row) === stackIndex) continue;
      countedForStack.set(row, stackIndex);
      rows[row].totalSamples += overall;
      rows[row].totalWindow += window;
    }
    const leafRow = rowOf(stack.frames[stack.frames.length - 1], pid);
    if (leafRow !== undefined) {
      rows[leafRow].ownSamples += overall;
      rows[leafRow].ownWindow += window;
    }
  });

  const overall = current.stats;
  const window = windowed.stats;
  return {
    rows: sortRows(
      rows.filter((r) => r.totalSamples > 0),
      view.sort,
    ),
    window,
    overall,
    windowThreads: windowThreads.size,
    windowWeight,
    secondsPerSample: current.unit === 'cpu-nanoseconds' ? 1e-9 : secondsPerSample(overall),
    processes,
    unit: current.unit,
  };
}

function secondsPerSample(stats: ProfileStats): number {
  if (stats.ticks > 0 && stats.durationS > 0) return stats.durationS / stats.ticks;
  return stats.requestedRateHz > 0 ? 1 / stats.requestedRateHz : 0;
}

/** Descending by the chosen column, then by the others, then by name: equal rows don't swap places between refreshes. */
export function sortRows(rows: Row[], sort: SortKey): Row[] {
  const order: (keyof Row)[] = {
    own: ['ownWindow', 'totalWindow', 'ownSamples', 'totalSamples'],
    total: ['totalWindow', 'ownWindow', 'totalSamples', 'ownSamples'],
    ownTime: ['ownSamples', 'totalSamples', 'ownWindow', 'totalWindow'],
    totalTime: ['totalSamples', 'ownSamples', 'totalWindow', 'ownWindow'],
  }[sort] as (keyof Row)[];
  return [...rows].sort((a, b) => {
    for (const field of order) {
      const d = (b[field] as number) - (a[field] as number);
      if (d !== 0) return d;
    }
    // By code unit: localeCompare would map ICU's collation data into a long-running `top`.
    const [x, y] = [rowLabel(a), rowLabel(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/**
 * Names and paths come from the target's memory: a control character in them must not reach the
 * terminal as a command.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function rowLabel(row: Row): string {
  // A task (--async) has no file: its row is its name, `Task main`.
  if (row.file === '') return sanitize(row.name);
  return sanitize(row.line === undefined ? `${row.name} (${row.file})` : `${row.name} (${row.file}:${row.line})`);
}

const WIDTHS: Record<SortKey, number> = { own: 7, total: 7, ownTime: 9, totalTime: 10 };
const PID_WIDTH = 8;

/** The column titles; with `processes`, a PID column before the function. */
export function columnHeader(processes = false): string {
  const columns = (Object.keys(WIDTHS) as SortKey[]).map((key) => COLUMN_TITLES[key].padStart(WIDTHS[key]));
  return `${columns.join(' ')}  ${processes ? `${'PID'.padStart(PID_WIDTH)}  ` : ''}Function (filename:line)`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : '0.00%';
}

function seconds(s: number): string {
  return s >= 10_000 ? `${s.toFixed(0)}s` : `${s.toFixed(2)}s`;
}

export function formatRow(row: Row, table: TopTable): string {
  const whole = table.windowWeight;
  const pid = table.processes ? `${String(row.pid ?? '').padStart(PID_WIDTH)}  ` : '';
  return `${[
    percent(row.ownWindow, whole).padStart(WIDTHS.own),
    percent(row.totalWindow, whole).padStart(WIDTHS.total),
    seconds(row.ownSamples * table.secondsPerSample).padStart(WIDTHS.ownTime),
    seconds(row.totalSamples * table.secondsPerSample).padStart(WIDTHS.totalTime),
  ].join(' ')}  ${pid}${rowLabel(row)}`;
}

export interface HeaderInfo {
  pid: number;
  pythonVersion: string;
  command?: string[];
  /** `--idle`: idle threads are sampled, so no idle share is measured. */
  idleIncluded: boolean;
  /** A free-threaded build: there is no GIL to take a share of. */
  freeThreaded?: boolean;
}

function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/** What is being sampled, then how the sampling goes (last interval; errors and samples overall). */
export function formatHeader(info: HeaderInfo, table: TopTable): string[] {
  const what = info.command ? `  ${info.command.join(' ')}` : '';
  const w = table.window;
  const idle = info.idleIncluded ? 'n/a (--idle)' : share(w.idleSamples, w.samples + w.idleSamples);
  const gil = info.freeThreaded ? 'none (free-threaded)' : share(w.gilSamples, w.samples);
  const o = table.overall;
  // --cpu: the CPU time of the interval put on stacks, of what the kernel counted for the threads read.
  const cpu = table.unit === 'cpu-nanoseconds' ? `  CPU: ${w.cpuAttributedS.toFixed(2)} s of ${w.cpuKernelS.toFixed(2)} s` : '';
  return [
    sanitize(
      `PID ${info.pid}  Python ${info.pythonVersion}  ${formatCount(o.samples)} samples in ${o.durationS.toFixed(1)} s${what}`,
    ),
    `Samples/s: ${w.achievedRateHz.toFixed(1)} (of ${formatCount(w.requestedRateHz)})  Threads: ${table.windowThreads}  ` +
      `GIL: ${gil}  Idle: ${idle}  Errors: ${formatCount(o.errors)}  Missed: ${formatCount(o.missed)}${cpu}`,
  ];
}

/** The status line of the interactive view. */
export function formatStatus(view: View, paused: boolean): string {
  const state = paused ? 'PAUSED  ' : '';
  return `${state}Sort: ${COLUMN_TITLES[view.sort]}  Rows: ${view.byLine ? 'lines' : 'functions'}   1-4 sort  L lines/functions  R reset  P pause  ? help  q quit`;
}

export const HELP_LINES = [
  'pyspy-ts top: keys',
  '',
  "  1   sort by %Own      share of the last interval's samples running in the function itself",
  "  2   sort by %Total    share of the last interval's samples with the function anywhere on the stack",
  '  3   sort by OwnTime   seconds running in the function itself, since the start or the last reset',
  '  4   sort by TotalTime seconds with the function on the stack, since the start or the last reset',
  '  L   rows by line (function (file:line)) or by function (function (file))',
  '  R   reset the counts (times start again from zero)',
  '  P   pause the display (sampling goes on); P again resumes',
  '  ?   show or hide this help',
  '  q   quit (also Ctrl-C); a command pyspy-ts started is stopped',
  '',
  'Header: samples/s achieved (of requested), threads sampled, GIL = share of samples whose thread',
  'held the GIL, Idle = share of threads seen idle (left out unless --idle), read errors, missed ticks.',
  '',
  'Press any key to go back.',
];

/**
 * A plain table for logs (stdout not a terminal) and for the summary at the end: a `---` line with
 * `label` and the header, the column titles, the first `maxRows` rows.
 */
export function formatPlain(info: HeaderInfo, table: TopTable, maxRows: number, label: string): string {
  const [what, how] = formatHeader(info, table);
  const lines = [`--- ${label}  ${what}`, how, columnHeader(table.processes)];
  for (const row of table.rows.slice(0, maxRows)) lines.push(formatRow(row, table));
  if (table.rows.length > maxRows) lines.push(`(${table.rows.length - maxRows} more)`);
  if (table.rows.length === 0) lines.push('(no samples yet)');
  return `${lines.join('\n')}\n`;
}

/**
 * What `diff` says: thresholds a CI job fails on, and the table of biggest changes as text, a
 * Markdown table (for a job summary) or JSON.
 */
import { functionMatches, type FunctionDelta, type ProfileDiff } from './diff.js';
import { formatCpuTime } from './units.js';

/**
 * `self:+5%`: some function's self share grew by more than 5 points; `total:+10%`: the same for
 * total (inclusive) share; `fn:pkg.module.func:+2%`: that function's self share grew by more than
 * 2 points (all functions the pattern names, summed).
 */
export type Threshold =
  | { kind: 'self' | 'total'; maxIncreasePts: number; text: string }
  | { kind: 'fn'; pattern: string; maxIncreasePts: number; text: string };

export interface Violation {
  threshold: Threshold;
  /** One line saying what grew past which limit. */
  message: string;
  functions: FunctionDelta[];
}

export class ThresholdSyntaxError extends Error {
  override name = 'ThresholdSyntaxError';
}

export function parseThreshold(text: string): Threshold {
  const match = /^(self|total|fn):(?:(.+):)?\+?(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const usage = 'expected self:+N%, total:+N% or fn:NAME:+N% (N in percentage points)';
  if (!match) throw new ThresholdSyntaxError(`bad threshold ${JSON.stringify(text)}: ${usage}`);
  const [, kind, pattern, amount] = match;
  const maxIncreasePts = Number(amount);
  if (kind === 'fn') {
    if (!pattern) throw new ThresholdSyntaxError(`bad threshold ${JSON.stringify(text)}: fn: needs a function name, ${usage}`);
    return { kind, pattern, maxIncreasePts, text };
  }
  if (pattern) throw new ThresholdSyntaxError(`bad threshold ${JSON.stringify(text)}: ${usage}`);
  return { kind: kind as 'self' | 'total', maxIncreasePts, text };
}

export function formatPts(pts: number): string {
  const rounded = Math.abs(pts) < 0.005 ? 0 : pts;
  return `${rounded >= 0 ? '+' : ''}${rounded.toFixed(2)}`;
}

function where(fn: FunctionDelta): string {
  if (!fn.file) return fn.name;
  return fn.line > 0 ? `${fn.name} (${fn.file}:${fn.line})` : `${fn.name} (${fn.file})`;
}

export function evaluateThresholds(diff: ProfileDiff, thresholds: readonly Threshold[]): Violation[] {
  const violations: Violation[] = [];
  for (const threshold of thresholds) {
    if (threshold.kind === 'fn') {
      const matched = diff.functions.filter((f) => functionMatches(threshold.pattern, f));
      const delta = matched.reduce((sum, f) => sum + f.selfDeltaPts, 0);
      if (matched.length > 0 && delta > threshold.maxIncreasePts) {
        const base = matched.reduce((sum, f) => sum + f.base.selfPct, 0);
        const head = matched.reduce((sum, f) => sum + f.head.selfPct, 0);
        violations.push({
          threshold,
          functions: matched,
          message:
            `${threshold.text}: ${threshold.pattern} self share grew ${formatPts(delta)} points ` +
            `(${base.toFixed(2)}% -> ${head.toFixed(2)}%), limit +${threshold.maxIncreasePts}`,
        });
      }
      continue;
    }
    const key = threshold.kind === 'self' ? 'selfDeltaPts' : 'totalDeltaPts';
    const share = threshold.kind === 'self' ? 'selfPct' : 'totalPct';
    const over = diff.functions.filter((f) => f[key] > threshold.maxIncreasePts).sort((a, b) => b[key] - a[key]);
    if (over.length === 0) continue;
    const named = over
      .slice(0, 3)
      .map((f) => `${where(f)} ${formatPts(f[key])} (${f.base[share].toFixed(2)}% -> ${f.head[share].toFixed(2)}%)`)
      .join(', ');
    violations.push({
      threshold,
      functions: over,
      message: `${threshold.text}: ${threshold.kind} share grew past +${threshold.maxIncreasePts} points: ${named}${over.length > 3 ? `, and ${over.length - 3} more` : ''}`,
    });
  }
  return violations;
}

/** Patterns of `fn:` thresholds that name no function in either profile (a typo, or renamed code). */
export function unmatchedFunctionThresholds(diff: ProfileDiff, thresholds: readonly Threshold[]): string[] {
  return thresholds
    .filter((t): t is Extract<Threshold, { kind: 'fn' }> => t.kind === 'fn')
    .filter((t) => !diff.functions.some((f) => functionMatches(t.pattern, f)))
    .map((t) => t.pattern);
}

interface Row {
  fn: string;
  cells: string[];
}

const HEADERS = ['self base', 'self head', 'Δ self', 'total base', 'total head', 'Δ total'];

function rows(diff: ProfileDiff, top: number): Row[] {
  return diff.functions.slice(0, top).map((f) => ({
    fn: where(f),
    cells: [
      `${f.base.selfPct.toFixed(2)}%`,
      `${f.head.selfPct.toFixed(2)}%`,
      formatPts(f.selfDeltaPts),
      `${f.base.totalPct.toFixed(2)}%`,
      `${f.head.totalPct.toFixed(2)}%`,
      formatPts(f.totalDeltaPts),
    ],
  }));
}

function amount(samples: number, weight: number, unit: ProfileDiff['baseUnit']): string {
  return unit === 'cpu-nanoseconds' ? `${formatCpuTime(weight)} CPU in ${samples} samples` : `${samples} samples`;
}

function heading(diff: ProfileDiff): string {
  const base = amount(diff.baseSamples, diff.baseWeight, diff.baseUnit);
  const head = amount(diff.headSamples, diff.headWeight, diff.headUnit);
  const of =
    diff.baseUnit === diff.headUnit
      ? diff.baseUnit === 'cpu-nanoseconds'
        ? "each profile's CPU time"
        : "each profile's samples"
      : "each profile's total (one is weighted by CPU time, the other by samples: record both alike to compare them fairly)";
  return `Base: ${base}, head: ${head}; shares in % of ${of}, Δ in percentage points.`;
}

/** True when the two profiles were not weighted alike (one with `--cpu`, one without). */
export function unitsDiffer(diff: ProfileDiff): boolean {
  return diff.baseUnit !== diff.headUnit;
}

/** A plain-text table, widest change first, for terminals and logs. */
export function formatDiffText(diff: ProfileDiff, options: { top?: number } = {}): string {
  const table = rows(diff, options.top ?? 20);
  const fnWidth = Math.max('function'.length, ...table.map((r) => r.fn.length));
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...table.map((r) => r.cells[i].length)));
  const line = (fn: string, cells: string[]) =>
    [fn.padEnd(fnWidth), ...cells.map((c, i) => c.padStart(widths[i]))].join('  ').trimEnd();
  return `${[heading(diff), '', line('function', HEADERS), ...table.map((r) => line(r.fn, r.cells))].join('\n')}\n`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`);
}

/** A GitHub-flavoured Markdown table, e.g. for `$GITHUB_STEP_SUMMARY`. */
export function formatDiffMarkdown(diff: ProfileDiff, options: { top?: number; violations?: Violation[] } = {}): string {
  const table = rows(diff, options.top ?? 20);
  const out = ['### Profile diff', '', heading(diff), ''];
  const violations = options.violations ?? [];
  if (violations.length > 0) {
    out.push(...violations.map((v) => `- :x: ${escapeMarkdown(v.message)}`), '');
  }
  out.push(`| function | ${HEADERS.join(' | ')} |`, `|---|${HEADERS.map(() => '---:').join('|')}|`);
  for (const r of table) out.push(`| ${escapeMarkdown(r.fn)} | ${r.cells.join(' | ')} |`);
  return `${out.join('\n')}\n`;
}

/** The whole comparison as JSON, rounded to 0.01 points, for other tools. */
export function formatDiffJson(diff: ProfileDiff, options: { top?: number; violations?: Violation[] } = {}): string {
  const round = (n: number) => Math.round(n * 100) / 100;
  return `${JSON.stringify(
    {
      baseSamples: diff.baseSamples,
      headSamples: diff.headSamples,
      baseUnit: diff.baseUnit,
      headUnit: diff.headUnit,
      baseWeight: diff.baseWeight,
      headWeight: diff.headWeight,
      functions: diff.functions.slice(0, options.top ?? diff.functions.length).map((f) => ({
        name: f.name,
        file: f.file,
        line: f.line,
        base: { selfPct: round(f.base.selfPct), totalPct: round(f.base.totalPct) },
        head: { selfPct: round(f.head.selfPct), totalPct: round(f.head.totalPct) },
        selfDeltaPts: round(f.selfDeltaPts),
        totalDeltaPts: round(f.totalDeltaPts),
      })),
      violations: (options.violations ?? []).map((v) => ({ threshold: v.threshold.text, message: v.message })),
    },
    null,
    2,
  )}\n`;
}

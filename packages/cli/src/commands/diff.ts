import type { ArgumentsCamelCase, Argv } from 'yargs';
import { InvalidArgumentError } from '@pyspy/core';
import {
  diffProfiles,
  evaluateThresholds,
  formatDiffJson,
  formatDiffMarkdown,
  formatDiffText,
  parseThreshold,
  renderDiffFlamegraph,
  unmatchedFunctionThresholds,
  unitsDiffer,
  type DiffGranularity,
  type Threshold,
} from '@pyspy/render';
import { fail } from '../errors.js';
import { AtomicOutput } from '../output.js';
import { readProfileFile } from '../profile-file.js';

const REPORT_FORMATS = ['text', 'markdown', 'json'] as const;
type ReportFormat = (typeof REPORT_FORMATS)[number];

interface DiffArgs {
  base: string;
  head: string;
  format: ReportFormat;
  output?: string;
  by: DiffGranularity;
  stripPrefix?: string | string[];
  failOn?: string | string[];
  top: number;
}

export const command = 'diff <base> <head>';
export const describe =
  'Compare two profiles by share of samples (or CPU time) per function; fail on thresholds; write a differential flame graph';

export function builder(yargs: Argv): Argv<DiffArgs> {
  return yargs
    .positional('base', {
      type: 'string',
      describe: 'Baseline profile: .pyspy.json, speedscope JSON or collapsed stacks (told by content)',
    })
    .positional('head', { type: 'string', describe: 'Profile to compare with the baseline, in any of the same formats' })
    .option('format', {
      alias: 'f',
      choices: REPORT_FORMATS,
      default: 'text' as ReportFormat,
      describe: 'Report on stdout: a text table, a Markdown table (for $GITHUB_STEP_SUMMARY) or JSON',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      requiresArg: true,
      describe: 'Also write a differential flame graph SVG here (widths from head; red grew, blue shrank)',
    })
    .option('by', {
      choices: ['function', 'line'] as const,
      default: 'function' as DiffGranularity,
      describe: 'Match by function (name + file) or by line (name + file + line)',
    })
    .option('strip-prefix', {
      // Not `array: true`: that would swallow the positional files given after it. Repeating the
      // option collects the values all the same.
      type: 'string',
      requiresArg: true,
      describe:
        'Remove this path prefix from file names before matching (repeatable). Absolute paths left over are ' +
        'shortened to the fewest trailing components that are unique within their profile',
    })
    .option('fail-on', {
      type: 'string',
      requiresArg: true,
      describe:
        "Exit 1 when a share grew past a limit (repeatable): self:+5% (any function's self share, in points), " +
        "total:+10% (total share), fn:pkg.module.func:+2% (that function's self share). Default: none, report only",
    })
    .option('top', { type: 'number', default: 20, requiresArg: true, describe: 'Rows in the report, largest change first' })
    .example('$0 diff base.pyspy.json head.pyspy.json', 'print the functions whose share changed most')
    .example(
      '$0 diff base.pyspy.json head.pyspy.json --fail-on self:+5% -o diff.svg',
      'fail a CI job on a regression, with a flame graph',
    )
    .epilog(
      "Shares are percent of each profile's own samples, so records of different lengths compare fairly.\n" +
        'Exit codes: 0 no threshold exceeded, 1 a threshold exceeded (one line per threshold on stderr), 2 bad arguments or input.',
    ) as unknown as Argv<DiffArgs>;
}

function asList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function parseThresholds(texts: string[]): Threshold[] {
  return texts.map((text) => {
    try {
      return parseThreshold(text);
    } catch (error) {
      throw new InvalidArgumentError(`--fail-on: ${(error as Error).message}`);
    }
  });
}

export async function handler(args: ArgumentsCamelCase<DiffArgs>): Promise<void> {
  let output: AtomicOutput | undefined;
  try {
    if (!Number.isInteger(args.top) || args.top <= 0)
      throw new InvalidArgumentError(`--top must be a positive integer, got ${args.top}`);
    const thresholds = parseThresholds(asList(args.failOn));
    const base = readProfileFile(args.base, 'base profile');
    const head = readProfileFile(args.head, 'head profile');
    if (args.output) output = new AtomicOutput(args.output);

    const options = { by: args.by, stripPrefixes: asList(args.stripPrefix) };
    const diff = diffProfiles(base, head, options);
    const violations = evaluateThresholds(diff, thresholds);
    const report =
      args.format === 'markdown'
        ? formatDiffMarkdown(diff, { top: args.top, violations })
        : args.format === 'json'
          ? formatDiffJson(diff, { top: args.top, violations })
          : formatDiffText(diff, { top: args.top });
    process.stdout.write(report);

    if (output) {
      output.commit(
        renderDiffFlamegraph(base, head, { ...options, title: `Differential flame graph: ${args.base} -> ${args.head}` }),
      );
      process.stderr.write(`Wrote differential flame graph to ${args.output}\n`);
    }
    if (unitsDiffer(diff)) {
      const which = diff.baseUnit === 'cpu-nanoseconds' ? 'base' : 'head';
      process.stderr.write(
        `warning: the ${which} profile is weighted by CPU time (--cpu) and the other by samples: shares may differ for that alone\n`,
      );
    }
    if (diff.baseSamples === 0 || diff.headSamples === 0) {
      process.stderr.write(`warning: the ${diff.baseSamples === 0 ? 'base' : 'head'} profile has no samples; shares are all 0\n`);
    }
    for (const pattern of unmatchedFunctionThresholds(diff, thresholds)) {
      process.stderr.write(`warning: --fail-on fn:${pattern}: no function of that name in either profile\n`);
    }
    for (const violation of violations) process.stderr.write(`FAIL ${violation.message}\n`);
    if (violations.length > 0) {
      process.exitCode = 1;
    } else if (thresholds.length > 0) {
      process.stderr.write(`OK: no threshold exceeded (${thresholds.map((t) => t.text).join(', ')})\n`);
    }
  } catch (error) {
    output?.discard();
    fail(error);
  }
}

import type { ArgumentsCamelCase, Argv } from 'yargs';
import { record, InvalidArgumentError, type Profile, type ProfileStats } from '@pyspy/core';
import { fail } from '../errors.js';
import { AtomicOutput, EXTENSIONS, FORMATS, formatFromPath, type Format } from '../output.js';
import { nativeOptions, pidOption, samplingOptions, threadOptions, type SamplingArgs } from '../options.js';
import { renderOutput } from '../render-output.js';
import { formatCount } from '../format.js';
import { fstatSync } from 'node:fs';

interface RecordArgs extends SamplingArgs {
  output?: string;
  format?: Format;
  duration?: number;
  threads: boolean;
  function: boolean;
  nolineno: boolean;
  fullFilenames: boolean;
  maxStacks?: number;
  hideProgress: boolean;
}

export const command = 'record [options] [-- command...]';
export const describe =
  'Sample a Python program and write a flame graph, speedscope, raw, Chrome trace, pyspy-ts JSON or pprof file';

export function builder(yargs: Argv): Argv<RecordArgs> {
  return yargs
    .parserConfiguration({ 'populate--': true })
    .option('pid', { ...pidOption, describe: 'PID of a running Python process to record (or give a command after --)' })
    .option('output', {
      alias: 'o',
      type: 'string',
      requiresArg: true,
      describe: 'Output file (default: pyspy-<pid>-<time>.<format extension>)',
    })
    .option('format', {
      alias: 'f',
      choices: FORMATS,
      describe:
        'Output format (default: from the -o extension: .svg flamegraph, .json speedscope, .trace.json chrometrace, .txt raw, ' +
        ".pyspy.json json (pyspy-ts's own, for diff and baselines), .pb.gz pprof; else flamegraph)",
    })
    .option('rate', { ...samplingOptions.rate, alias: 'r' })
    .option('duration', {
      alias: 'd',
      type: 'number',
      requiresArg: true,
      describe: 'Seconds to record (default: until the program exits or Ctrl-C)',
    })
    .option('nonblocking', samplingOptions.nonblocking)
    .option('gil', { ...samplingOptions.gil, alias: 'g' })
    .option('idle', { ...samplingOptions.idle, alias: 'i' })
    .option('threads', { alias: 't', type: 'boolean', default: false, describe: 'Show each thread as the root frame' })
    .option('function', {
      alias: 'F',
      type: 'boolean',
      default: false,
      describe: 'Aggregate by function (its first line), not by line',
    })
    .option('nolineno', { type: 'boolean', default: false, describe: 'Leave out line numbers' })
    .option('full-filenames', { type: 'boolean', default: false, describe: 'Show full file paths instead of short ones' })
    .option('subprocesses', { ...samplingOptions.subprocesses, alias: 's' })
    .option('async', samplingOptions.async)
    .option('full-task-names', samplingOptions.fullTaskNames)
    .option('cpu', samplingOptions.cpu)
    .option('gc', samplingOptions.gc)
    .option('thread-name', threadOptions['thread-name'])
    .option('tid', threadOptions.tid)
    .option('native', nativeOptions.native)
    .option('native-all', nativeOptions['native-all'])
    .option('max-stacks', {
      type: 'number',
      requiresArg: true,
      describe:
        'Distinct stacks to keep (default 100000): samples of newer stacks count as one "<other stacks>" stack, reported in the summary',
    })
    .option('hide-progress', { type: 'boolean', default: false, describe: 'Hide the progress line shown on a terminal' })
    .example('$0 record -o profile.svg -- python app.py', 'launch app.py and record it until it exits')
    .example('$0 record -o profile.svg --pid 1234 --duration 30', 'record a running process for 30 s')
    .example('$0 record -o tasks.svg --async --idle --pid 1234', 'where each asyncio task spends its time, waiting included')
    .example('$0 record --cpu -o profile.svg --pid 1234', 'where CPU time goes, even on a machine busy with other work')
    .epilog(
      'Ctrl-C stops the record and still writes the file. When the launched program exits on its own\n' +
        'with a nonzero code, pyspy-ts exits with that code after writing the file.',
    ) as unknown as Argv<RecordArgs>;
}

export async function handler(args: ArgumentsCamelCase<RecordArgs>): Promise<void> {
  const commandLine = (args['--'] ?? []).map(String);
  let output: AtomicOutput | undefined;
  try {
    if ((args.pid === undefined) === (commandLine.length === 0)) {
      throw new InvalidArgumentError('record needs --pid PID or a command after --, and not both');
    }
    const pid = args.pid;
    const format: Format = args.format ?? (args.output ? formatFromPath(args.output) : undefined) ?? 'flamegraph';
    const path = args.output ?? defaultOutputName(pid, format);
    // Created now, so a path we cannot write fails before any sampling.
    output = new AtomicOutput(path);

    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = new ProgressLine(!args.hideProgress && stderrIsTerminal());
    let profile: Profile;
    try {
      profile = await record({
        ...(pid !== undefined ? { pid } : { command: commandLine }),
        rateHz: args.rate,
        durationS: args.duration,
        nonblocking: args.nonblocking,
        gil: args.gil,
        idle: args.idle,
        function: args.function,
        nolineno: args.nolineno,
        fullFilenames: args.fullFilenames,
        subprocesses: args.subprocesses,
        async: args.async,
        fullTaskNames: args.fullTaskNames,
        cpu: args.cpu,
        gc: args.gc,
        native: args.native,
        nativeAll: args.nativeAll,
        threadName: args.threadName,
        tid: args.tid,
        maxStacks: args.maxStacks,
        // Our JSON keeps the timeline too, so that `convert` can make any format of it later.
        timeline: format === 'chrometrace' || format === 'json',
        signal: controller.signal,
        // No progress line, no polling: four stats objects a second made garbage that grew V8's
        // young generation through a long record (5 MB over 10 minutes).
        onProgress: progress.enabled ? (stats) => progress.update(stats) : undefined,
      });
    } finally {
      progress.clear();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }

    output.commit(await renderOutput(profile, format, { threads: args.threads }));
    process.stderr.write(summary(profile, format, path));
    const exitCode = profile.meta.exitCode;
    if (exitCode !== undefined && exitCode !== 0) process.exitCode = exitCode;
  } catch (error) {
    output?.discard();
    fail(error);
  }
}

function defaultOutputName(pid: number | undefined, format: Format): string {
  const time = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return `pyspy-${pid ?? 'run'}-${time}.${EXTENSIONS[format]}`;
}

/** The honest account of a record: what was asked, what was achieved, what went wrong. */
export function summary(profile: Profile, format: Format, path: string): string {
  const s = profile.stats;
  const lines: string[] = [];
  for (const note of profile.meta.notes ?? []) lines.push(note);
  if (profile.meta.stopReason === 'target-exited') {
    const code = profile.meta.exitCode;
    lines.push(`The program exited${code === undefined ? '' : ` with code ${code}`}; stopped sampling.`);
  }
  // A tick samples every thread running Python: several at once with threads that release the
  // GIL, and on a free-threaded build as many as run at once. (Last, so that the line's older
  // parts read as before to whatever parses them.)
  const perTick = s.ticks > 0 ? s.samples / s.ticks : 0;
  lines.push(
    `Samples: ${formatCount(s.samples)} in ${s.durationS.toFixed(1)} s at ${s.achievedRateHz.toFixed(1)} Hz ` +
      `(requested ${formatCount(s.requestedRateHz)} Hz). Errors: ${formatCount(s.errors)}. ` +
      `Missed (sampler behind): ${formatCount(s.missed)}. Profiler CPU: ${s.profilerCpuS.toFixed(2)} s. ` +
      `Samples per tick: ${perTick.toFixed(2)}.`,
  );
  if (profile.unit === 'cpu-nanoseconds') lines.push(cpuLine(s));
  if (s.otherSamples > 0)
    lines.push(
      `Other stacks: ${formatCount(s.otherSamples)} samples of stacks beyond --max-stacks were counted as "<other stacks>".`,
    );
  if (s.samples === 0) lines.push('No samples were collected: was the program idle? (--idle includes idle threads)');
  lines.push(`Wrote ${format} to ${path}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--cpu`: the CPU time put on stacks against what the kernel counted for the threads read. Less
 * is attributed when samples could not be read or were left out (`--gil`), never more.
 */
function cpuLine(s: ProfileStats): string {
  const share = s.cpuKernelS > 0 ? ` (${((100 * s.cpuAttributedS) / s.cpuKernelS).toFixed(1)}%)` : '';
  return `CPU: ${s.cpuAttributedS.toFixed(2)} s attributed to stacks, of ${s.cpuKernelS.toFixed(2)} s the kernel counted for the threads sampled${share}.`;
}

/** One line on a terminal, rewritten in place; nothing at all when off. */
class ProgressLine {
  private started = Date.now();
  private shown = false;
  constructor(readonly enabled: boolean) {}

  update(stats: ProfileStats): void {
    if (!this.enabled) return;
    const elapsed = ((Date.now() - this.started) / 1000).toFixed(1);
    const text = `Recording: ${elapsed} s, ${formatCount(stats.samples)} samples, ${formatCount(stats.errors)} errors, ${formatCount(stats.missed)} missed. Ctrl-C to stop.`;
    process.stderr.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}

/**
 * `process.stderr.isTTY`, asked only when stderr can be a terminal (a character device): opening
 * the stream loads Node's stream and net modules, 1.1 MB of resident memory that a record whose
 * stderr is a pipe or a file then keeps for its whole run.
 */
function stderrIsTerminal(): boolean {
  try {
    if (!fstatSync(2).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return process.stderr.isTTY === true;
}

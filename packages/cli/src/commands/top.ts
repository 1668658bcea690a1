import type { ArgumentsCamelCase, Argv } from 'yargs';
import { InvalidArgumentError, startLive, type LiveEnd, type LiveRecorder } from '@pyspy/core';
import { fail } from '../errors.js';
import { nativeOptions, pidOption, samplingOptions, threadOptions, type SamplingArgs } from '../options.js';
import { OutputTail, runInteractive } from '../top/interactive.js';
import { exitCodeOf } from '../top/lifecycle.js';
import { runPlain } from '../top/plain.js';

interface TopArgs extends SamplingArgs {
  interval: number;
}

export const command = 'top [options] [-- command...]';
export const describe = 'Show a live table of the functions where a Python program spends its time';

export function builder(yargs: Argv): Argv<TopArgs> {
  return yargs
    .parserConfiguration({ 'populate--': true })
    .option('pid', { ...pidOption, describe: 'PID of a running Python process to watch (or give a command after --)' })
    .option('rate', { ...samplingOptions.rate, alias: 'r' })
    .option('interval', {
      type: 'number',
      default: 1,
      requiresArg: true,
      describe: 'Seconds between refreshes (between tables when stdout is not a terminal)',
    })
    .option('nonblocking', samplingOptions.nonblocking)
    .option('gil', { ...samplingOptions.gil, alias: 'g' })
    .option('idle', { ...samplingOptions.idle, alias: 'i' })
    .option('subprocesses', { ...samplingOptions.subprocesses, alias: 's' })
    .option('async', samplingOptions.async)
    .option('full-task-names', samplingOptions.fullTaskNames)
    .option('cpu', samplingOptions.cpu)
    .option('gc', samplingOptions.gc)
    .option('thread-name', threadOptions['thread-name'])
    .option('tid', threadOptions.tid)
    .option('native', nativeOptions.native)
    .option('native-all', nativeOptions['native-all'])
    .example('$0 top --pid 1234', 'watch a running process')
    .example('$0 top --async --pid 1234', 'with a row per asyncio task: %Total is the time in that task')
    .example('$0 top -- python app.py', 'launch app.py and watch it')
    .example('$0 top --pid 1234 --interval 10 > top.log', 'a table every 10 s, for a log')
    .epilog(
      [
        'Columns: %Own and %Total are shares of the samples of the last interval where the function was running ' +
          '(the leaf frame) or anywhere on the stack (once per sample, even when recursive); OwnTime and TotalTime ' +
          'are the same in seconds since the start or the last reset. With --cpu all four are of CPU time; with ' +
          '--subprocesses a PID column says which process a function ran in.',
        'Keys: 1-4 sort by a column, L rows by line or by function, R reset, P pause, ? help, q or Ctrl-C quit.',
        'When stdout is not a terminal, a plain table is printed every interval until the program exits.',
        'A command started by top is stopped when top quits; when it exits on its own with a nonzero code, top exits with that code.',
      ].join('\n\n'),
    ) as unknown as Argv<TopArgs>;
}

export function parseInterval(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0.05 || value > 3600) {
    throw new InvalidArgumentError(`--interval must be a number of seconds between 0.05 and 3600, got ${String(value)}`);
  }
  return value;
}

export async function handler(args: ArgumentsCamelCase<TopArgs>): Promise<void> {
  const commandLine = (args['--'] ?? []).map(String);
  let live: LiveRecorder | undefined;
  try {
    if ((args.pid === undefined) === (commandLine.length === 0)) {
      throw new InvalidArgumentError('top needs --pid PID or a command after --, and not both');
    }
    const intervalMs = parseInterval(args.interval) * 1000;
    const pid = args.pid;
    const interactive = process.stdout.isTTY === true;
    live = await startLive({
      ...(pid !== undefined ? { pid } : { command: commandLine }),
      rateHz: args.rate,
      nonblocking: args.nonblocking,
      gil: args.gil,
      idle: args.idle,
      subprocesses: args.subprocesses,
      async: args.async,
      fullTaskNames: args.fullTaskNames,
      cpu: args.cpu,
      gc: args.gc,
      threadName: args.threadName,
      tid: args.tid,
      native: args.native,
      nativeAll: args.nativeAll,
      // On a terminal the program's output would scribble over the table: it is kept and shown after.
      // Its stdin stays away from the keys that drive the view.
      stdio: interactive ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    // Should this process die unexpectedly, what it launched must not run on unwatched.
    const launched = live.launched;
    process.on('exit', () => launched?.kill('SIGKILL'));
    const header = {
      pid: live.pid,
      pythonVersion: live.pythonVersion,
      freeThreaded: live.freeThreaded,
      command: pid === undefined ? commandLine : undefined,
      idleIncluded: args.idle,
    };
    let end: LiveEnd;
    if (interactive) {
      const tail = new OutputTail();
      live.launched?.stdout?.on('data', tail.add);
      live.launched?.stderr?.on('data', tail.add);
      end = await runInteractive(live, header, intervalMs, tail);
    } else {
      end = await runPlain(live, header, intervalMs);
    }
    process.exitCode = exitCodeOf(end);
  } catch (error) {
    // Never leave a launched program behind, whatever went wrong.
    await live?.stop().catch(() => undefined);
    fail(error);
  }
}

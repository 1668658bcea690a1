import type { ArgumentsCamelCase, Argv } from 'yargs';
import { dump, dumpCore, InvalidArgumentError, type LoopDump, type ProcessDump, type ThreadDump } from '@pyspy/core';
import { asyncTreeLines } from '../async-tree.js';
import { fail } from '../errors.js';
import { nativeOptions, nonblockingOption, pidOption, threadOptions } from '../options.js';

interface DumpArgs {
  pid?: number;
  core?: string;
  binary?: string[];
  json: boolean;
  locals: boolean;
  nonblocking: boolean;
  native: boolean;
  nativeAll: boolean;
  fullFilenames: boolean;
  async: boolean;
  subprocesses: boolean;
  threadName?: string;
  tid?: number[];
}

export const command = 'dump';
export const describe =
  "Print every thread's Python stack of a running process (and its Python children), now, or of a core file";

export function builder(yargs: Argv): Argv<DumpArgs> {
  return yargs
    .option('pid', pidOption)
    .option('core', {
      type: 'string',
      requiresArg: true,
      describe: "An ELF core file (a crash's, or gcore's) to read instead of a running process",
    })
    .option('binary', {
      type: 'string',
      array: true,
      requiresArg: true,
      describe:
        'With --core: the python executable or libpython the core was made with, for a core read where the paths it names do not exist (repeatable)',
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the dump as JSON' })
    .option('locals', { type: 'boolean', default: false, describe: "Show each frame's arguments and local variables" })
    .option('nonblocking', nonblockingOption)
    .option('native', nativeOptions.native)
    .option('native-all', nativeOptions['native-all'])
    .option('full-filenames', { type: 'boolean', default: false, describe: 'Show full file paths instead of short ones' })
    .option('async', {
      type: 'boolean',
      default: false,
      describe:
        "Show each asyncio event loop's tasks as a tree (like python3.14 -m asyncio pstree): names, coroutine stacks, " +
        'who awaits whom, the running task',
    })
    .option('subprocesses', {
      alias: 's',
      type: 'boolean',
      default: false,
      describe: 'Also dump every Python process descended from it (multiprocessing workers, subprocesses)',
    })
    .option('thread-name', threadOptions['thread-name'])
    .option('tid', threadOptions.tid)
    .example('$0 dump --pid 1234', 'why is process 1234 stuck?')
    .example('$0 dump --async --pid 1234', 'which asyncio task waits on what?')
    .example('$0 dump --pid 1234 --subprocesses', 'the parent and every worker of a multiprocessing pool')
    .example(
      '$0 dump --core core.1234 --binary ./python3.11',
      'where was each thread when it crashed?',
    ) as unknown as Argv<DumpArgs>;
}

export async function handler(args: ArgumentsCamelCase<DumpArgs>): Promise<void> {
  try {
    const result = await dumpOf(args);
    process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatDump(result, args.fullFilenames));
  } catch (error) {
    fail(error);
  }
}

function dumpOf(args: DumpArgs): Promise<ProcessDump> {
  if (args.core !== undefined) {
    if (args.pid !== undefined) throw new InvalidArgumentError('dump reads either --pid or --core, not both');
    if (args.nonblocking) throw new InvalidArgumentError('--nonblocking is for a running process: a core is not paused');
    if (args.subprocesses || args.threadName !== undefined || args.tid !== undefined) {
      throw new InvalidArgumentError('--subprocesses, --thread-name and --tid are for a running process, not a core');
    }
    if (args.native)
      throw new InvalidArgumentError('--native reads a running process; a core is dumped with its Python frames only');
    return dumpCore(args.core, { locals: args.locals, binaries: args.binary ?? [], async: args.async });
  }
  if (args.binary !== undefined) throw new InvalidArgumentError('--binary goes with --core');
  if (args.pid === undefined) throw new InvalidArgumentError('dump needs --pid PID or --core FILE');
  return dump(args.pid, {
    locals: args.locals,
    nonblocking: args.nonblocking,
    native: args.native,
    nativeAll: args.nativeAll,
    async: args.async,
    subprocesses: args.subprocesses,
    threadName: args.threadName,
    tid: args.tid,
  });
}

function threadStatus(thread: ThreadDump): string {
  return (thread.active ? 'active' : 'idle') + (thread.ownsGil ? '+gil' : '');
}

/**
 * py-spy's layout: a process header, then each thread and its frames, innermost first. With
 * `--async`, a thread that runs an event loop shows the loop's tasks as a tree instead; loops no
 * thread runs come last. Then the same for each of its Python descendants (`--subprocesses`).
 */
export function formatDump(result: ProcessDump, fullFilenames = false): string {
  return [result, ...(result.subprocesses ?? [])].map((p) => formatProcess(p, fullFilenames)).join('\n');
}

function formatProcess(result: ProcessDump, fullFilenames: boolean): string {
  const lines = [
    `Process ${result.pid}: ${result.commandLine.join(' ')}`,
    `Python v${result.pythonVersion}${result.freeThreaded ? ' free-threaded' : ''} (${result.executable})`,
    '',
  ];
  const loops = result.loops ?? [];
  for (const thread of result.threads) {
    const name = thread.name ? `: "${thread.name}"` : '';
    lines.push(`Thread ${thread.nativeThreadId} (${threadStatus(thread)})${name}`);
    const loop = loops.find((l) => l.nativeThreadId === thread.nativeThreadId);
    // A loop's tree replaces its thread's Python frames, which it shows task by task; with
    // --native the thread's stack is printed too, as the tree has no native frames.
    const withNative = thread.frames.some((f) => f.kind === 'native');
    if (loop && !withNative) {
      lines.push(...loopLines(loop, fullFilenames));
      continue;
    }
    for (const frame of thread.frames) {
      const file = fullFilenames ? frame.filename : frame.shortFilename;
      // A native frame without line information is placed by its module: `dgemm_kernel (libopenblas.so)`.
      lines.push(
        frame.kind === 'native' && frame.line === 0 ? `    ${frame.name} (${file})` : `    ${frame.name} (${file}:${frame.line})`,
      );
      if (frame.locals && frame.locals.length > 0) {
        const args = frame.locals.filter((l) => l.isArg);
        const locals = frame.locals.filter((l) => !l.isArg);
        if (args.length > 0) lines.push('        Arguments:', ...args.map((l) => `            ${l.name}: ${l.repr}`));
        if (locals.length > 0) lines.push('        Locals:', ...locals.map((l) => `            ${l.name}: ${l.repr}`));
      }
    }
    if (loop) lines.push(...loopLines(loop, fullFilenames));
  }
  for (const loop of loops) {
    if (loop.nativeThreadId === undefined || loop.nativeThreadId === null) {
      lines.push('Event loop no thread runs now', ...loopLines(loop, fullFilenames));
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A loop's header, its task tree, and the done tasks still referenced. */
function loopLines(loop: LoopDump, fullFilenames: boolean): string[] {
  const running = loop.tasks.find((t) => t.address === loop.runningTask);
  const pending = loop.tasks.filter((t) => t.state === 'pending').length;
  const lines = [
    `    Event loop ${loop.loopType}: ${pending} pending task${pending === 1 ? '' : 's'}` +
      (running ? `, running ${running.name}` : ', none running'),
  ];
  lines.push(...asyncTreeLines(loop, fullFilenames).map((line) => `    ${line}`));
  const done = loop.tasks.filter((t) => t.state !== 'pending');
  if (done.length > 0) {
    lines.push(`    Done, still referenced: ${done.map((t) => `${t.name} (${t.state})`).join(', ')}`);
  }
  return lines;
}

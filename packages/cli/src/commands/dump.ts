import type { ArgumentsCamelCase, Argv } from 'yargs';
import { dump, type LoopDump, type ProcessDump, type ThreadDump } from '@pyspy/core';
import { asyncTreeLines } from '../async-tree.js';
import { fail } from '../errors.js';
import { nonblockingOption, pidOption } from '../options.js';

interface DumpArgs {
  pid?: number;
  json: boolean;
  locals: boolean;
  nonblocking: boolean;
  fullFilenames: boolean;
  async: boolean;
}

export const command = 'dump';
export const describe = "Print every thread's Python stack of a running process, now";

export function builder(yargs: Argv): Argv<DumpArgs> {
  return yargs
    .option('pid', { ...pidOption, demandOption: true })
    .option('json', { type: 'boolean', default: false, describe: 'Print the dump as JSON' })
    .option('locals', { type: 'boolean', default: false, describe: "Show each frame's arguments and local variables" })
    .option('nonblocking', nonblockingOption)
    .option('full-filenames', { type: 'boolean', default: false, describe: 'Show full file paths instead of short ones' })
    .option('async', {
      type: 'boolean',
      default: false,
      describe:
        "Show each asyncio event loop's tasks as a tree (like python3.14 -m asyncio pstree): names, coroutine stacks, " +
        'who awaits whom, the running task',
    })
    .example('$0 dump --pid 1234', 'why is process 1234 stuck?')
    .example('$0 dump --async --pid 1234', 'which asyncio task waits on what?') as unknown as Argv<DumpArgs>;
}

export async function handler(args: ArgumentsCamelCase<DumpArgs>): Promise<void> {
  try {
    const result = await dump(args.pid as number, { locals: args.locals, nonblocking: args.nonblocking, async: args.async });
    process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatDump(result, args.fullFilenames));
  } catch (error) {
    fail(error);
  }
}

function threadStatus(thread: ThreadDump): string {
  return (thread.active ? 'active' : 'idle') + (thread.ownsGil ? '+gil' : '');
}

/**
 * py-spy's layout: a process header, then each thread and its frames, innermost first. With
 * `--async`, a thread that runs an event loop shows the loop's tasks as a tree instead; loops no
 * thread runs come last.
 */
export function formatDump(result: ProcessDump, fullFilenames = false): string {
  const lines = [
    `Process ${result.pid}: ${result.commandLine.join(' ')}`,
    `Python v${result.pythonVersion} (${result.executable})`,
    '',
  ];
  const loops = result.loops ?? [];
  for (const thread of result.threads) {
    const name = thread.name ? `: "${thread.name}"` : '';
    lines.push(`Thread ${thread.nativeThreadId} (${threadStatus(thread)})${name}`);
    const loop = loops.find((l) => l.nativeThreadId === thread.nativeThreadId);
    if (loop) {
      lines.push(...loopLines(loop, fullFilenames));
      continue;
    }
    for (const frame of thread.frames) {
      const file = fullFilenames ? frame.filename : frame.shortFilename;
      lines.push(`    ${frame.name} (${file}:${frame.line})`);
      if (frame.locals && frame.locals.length > 0) {
        const args = frame.locals.filter((l) => l.isArg);
        const locals = frame.locals.filter((l) => !l.isArg);
        if (args.length > 0) lines.push('        Arguments:', ...args.map((l) => `            ${l.name}: ${l.repr}`));
        if (locals.length > 0) lines.push('        Locals:', ...locals.map((l) => `            ${l.name}: ${l.repr}`));
      }
    }
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

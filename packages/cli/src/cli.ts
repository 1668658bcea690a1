#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import type { CommandModule } from 'yargs';
import { REPEATABLE_WITHOUT_ARRAY } from './options.js';

// Node 22.1+ keeps V8's compiled code of the chunks below between runs (in the OS temp dir).
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// yargs looks for package.json from the working directory as ESM, and says "unknown".
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// One module per command, loaded only when it runs (or for --help, which lists them all): each
// pulls in its own part of @pyspy/core and @pyspy/render. Adding a command is one line here.
const COMMANDS = {
  record: () => import('./commands/record.js'),
  top: () => import('./commands/top.js'),
  dump: () => import('./commands/dump.js'),
  diff: () => import('./commands/diff.js'),
  convert: () => import('./commands/convert.js'),
};

const argv = process.argv.slice(2);
// What install checks and scripts run most, answered without loading yargs (as it would answer).
if (argv.length === 1 && argv[0] === '--version') {
  process.stdout.write(`${version}\n`);
} else {
  void run(argv);
}

/** The pieces of yargs 18 we reach for that its typings (@types/yargs 17) do not declare. */
type YargsInternals = {
  getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } };
  getOptions(): { array: string[]; key: Record<string, unknown> };
};

async function run(argv: string[]): Promise<void> {
  const named = argv.find((arg) => !arg.startsWith('-'));
  const wanted =
    named !== undefined && named in COMMANDS
      ? [named as keyof typeof COMMANDS]
      : (Object.keys(COMMANDS) as (keyof typeof COMMANDS)[]);

  const [{ default: yargs }, { EXIT_CODES_HELP, fail }, ...commands] = await Promise.all([
    import('yargs'),
    import('./errors.js'),
    ...wanted.map((name) => COMMANDS[name]()),
  ]);

  const cli = yargs(argv);
  for (const command of commands) cli.command(command as unknown as CommandModule);
  // yargs lays out the whole --help text each time a command starts, in case its handler calls
  // showHelp later (ours never do; --help is laid out when asked for). That layout ran hot enough
  // for V8 to optimise wrap-ansi with TurboFan: 20 ms and 5 MB of resident memory for a whole
  // record, which must stay near bare Node's.
  const internals = cli as unknown as YargsInternals;
  const usage = internals.getInternalMethods().getUsageInstance();
  usage.cacheHelpMessage = () => {};
  await cli
    .scriptName('pyspy-ts')
    .usage(
      '$0 <command> [options]\n\nA sampling profiler for Python programs: reads a running CPython from outside, never runs code in it.',
    )
    .demandCommand(1, 'Say which command to run: see the list above.')
    .strict()
    .check((args) => {
      // yargs makes an option given twice an array, which no scalar option takes: py-spy (clap)
      // refuses it too, rather than guess which one was meant.
      const { array, key } = internals.getOptions();
      const repeatable = [...array, ...REPEATABLE_WITHOUT_ARRAY];
      const twice = Object.keys(key).find((k) => k.length > 1 && !repeatable.includes(k) && Array.isArray(args[k]));
      if (twice) usageError(`--${twice} was given more than once: give it once`);
      return true;
    })
    .epilog(EXIT_CODES_HELP)
    .fail((message, error) => {
      // yargs reports its own parse errors ("Not enough arguments following: pid") as a YError,
      // with the message also passed: a usage error like any other. Anything else is ours.
      if (error && error.name !== 'YError') fail(error);
      usageError(message ?? error?.message);
    })
    .help()
    .version(version)
    .parseAsync();
}

function usageError(message: string): never {
  process.stderr.write(`error: ${message}\nRun 'pyspy-ts --help' for usage.\n`);
  process.exit(2);
}

#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as convertCommand from './commands/convert.js';
import * as diffCommand from './commands/diff.js';
import * as dumpCommand from './commands/dump.js';
import * as recordCommand from './commands/record.js';
import * as topCommand from './commands/top.js';
import { EXIT_CODES_HELP } from './errors.js';

// yargs looks for package.json from the working directory as ESM, and says "unknown".
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

// One module per command; adding one is one line here.
await yargs(hideBin(process.argv))
  .scriptName('pyspy-ts')
  .usage(
    '$0 <command> [options]\n\nA sampling profiler for Python programs: reads a running CPython from outside, never runs code in it.',
  )
  .command(recordCommand)
  .command(topCommand)
  .command(dumpCommand)
  .command(diffCommand)
  .command(convertCommand)
  .demandCommand(1, 'Say which command to run: see the list above.')
  .strict()
  .epilog(EXIT_CODES_HELP)
  .fail((message, error) => {
    if (error) throw error;
    process.stderr.write(`error: ${message}\nRun 'pyspy-ts --help' for usage.\n`);
    process.exit(2);
  })
  .help()
  .version(version)
  .parseAsync();

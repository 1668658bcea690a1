import type { ArgumentsCamelCase, Argv } from 'yargs';
import { fail } from '../errors.js';
import { AtomicOutput, FORMATS, formatFromPath, type Format } from '../output.js';
import { readProfileFile } from '../profile-file.js';
import { renderOutput } from '../render-output.js';

interface ConvertArgs {
  input: string;
  output: string;
  format?: Format;
  threads: boolean;
}

export const command = 'convert <input>';
export const describe =
  'Write a saved profile (.pyspy.json) in another format: flame graph, speedscope, raw, Chrome trace, pprof';

export function builder(yargs: Argv): Argv<ConvertArgs> {
  return yargs
    .positional('input', {
      type: 'string',
      describe: 'A profile recorded with -o NAME.pyspy.json (speedscope and collapsed stacks are read too, with less in them)',
    })
    .option('output', { alias: 'o', type: 'string', requiresArg: true, demandOption: true, describe: 'Output file' })
    .option('format', {
      alias: 'f',
      choices: FORMATS,
      describe: 'Output format (default: from the -o extension, as for record; else flamegraph)',
    })
    .option('threads', { alias: 't', type: 'boolean', default: false, describe: 'Show each thread as the root frame' })
    .example('$0 convert ci.pyspy.json -o ci.svg', 'a flame graph of a profile a CI job kept')
    .example('$0 convert ci.pyspy.json -o ci.pb.gz', 'the same profile for pprof, Pyroscope or Parca')
    .epilog(
      'The output is what record would have written with that -o from the same samples: a Chrome trace keeps its\n' +
        'timeline, which pyspy-ts JSON files carry.',
    ) as unknown as Argv<ConvertArgs>;
}

export async function handler(args: ArgumentsCamelCase<ConvertArgs>): Promise<void> {
  let output: AtomicOutput | undefined;
  try {
    const profile = readProfileFile(args.input, 'profile');
    const format: Format = args.format ?? formatFromPath(args.output) ?? 'flamegraph';
    output = new AtomicOutput(args.output);
    output.commit(await renderOutput(profile, format, { threads: args.threads }));
    process.stderr.write(`Wrote ${format} to ${args.output}\n`);
  } catch (error) {
    output?.discard();
    fail(error);
  }
}

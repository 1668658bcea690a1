// Records a Python program from Node and writes a flame graph and a reloadable profile.
//
//   pnpm --filter @pyspy/example-node-api start -- [OUT_DIR] [python3 examples/fibonacci.py ...]
//
// What it shows: record() launches the command (or takes { pid }), the Profile it returns is
// plain data, and the renderers turn it into files. Ctrl-C stops the record early and still
// writes what was collected.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record } from '@pyspy/core';
import { renderFlamegraph, renderProfileJson } from '@pyspy/render';

const here = dirname(fileURLToPath(import.meta.url));
const [outDir = '.', ...command] = process.argv.slice(2).filter((a) => a !== '--');
const program = command.length > 0 ? command : ['python3', resolve(here, '../fibonacci.py')];

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());

const profile = await record({ command: program, rateHz: 200, signal: stop.signal, stdio: 'inherit' });
const { samples, achievedRateHz, errors, missed } = profile.stats;
console.log(`${samples} samples at ${achievedRateHz.toFixed(0)} Hz, ${errors} errors, ${missed} missed`);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'profile.svg'), renderFlamegraph(profile, { title: program.join(' ') }));
writeFileSync(join(outDir, 'profile.pyspy.json'), renderProfileJson(profile));
console.log(`wrote ${join(outDir, 'profile.svg')} and ${join(outDir, 'profile.pyspy.json')}`);

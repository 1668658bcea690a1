/**
 * Start-up: the bundled CLI loads the command that runs and nothing else (no other command, no
 * renderer for dump, no yargs for --version). The bundle is CommonJS: a preloaded script lists
 * what `require` loaded when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const listLoaded = join(mkdtempSync(join(tmpdir(), 'pyspy-startup-')), 'list-loaded.cjs');
writeFileSync(
  listLoaded,
  'process.on("exit", () => process.stderr.write("LOADED " + Object.keys(require.cache).join(" ") + "\\n"));\n',
);

/** The bundle's files a CLI run loaded, relative to dist/ and without .js: `cli`, `commands/dump`. */
function partsLoaded(...args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--require', listLoaded, join(dist, 'cli.js'), ...args], {
    encoding: 'utf8',
    cwd: tmpdir(),
    timeout: 30_000,
  });
  const line = /^LOADED (.*)$/m.exec(r.stderr)?.[1] ?? '';
  return line
    .split(' ')
    .filter((path) => path.startsWith(`${dist}/`))
    .map((path) => path.slice(dist.length + 1).replace(/\.js$/, ''));
}

describe('pyspy-ts start-up', () => {
  it('--version loads the entry alone', () => {
    expect(partsLoaded('--version')).toEqual(['cli']);
  });

  it('dump loads yargs and the dump command, no other command and no renderer', () => {
    expect(partsLoaded('dump', '--help').sort()).toEqual(['cli', 'commands/dump', 'yargs']);
  });

  it('--help loads every command, to list them, and no renderer', () => {
    expect(partsLoaded('--help').sort()).toEqual([
      'cli',
      'commands/convert',
      'commands/diff',
      'commands/dump',
      'commands/record',
      'commands/top',
      'yargs',
    ]);
  });
});

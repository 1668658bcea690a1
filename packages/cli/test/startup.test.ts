/**
 * Start-up: the bundled CLI loads the command that runs and nothing else (no other command, no
 * renderer for dump, no yargs for --version). Module loads are logged by an ESM resolve hook.
 */
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/cli.js');

// Registers a resolve hook that prints every file: URL the program loads, one per line, to stderr.
const hooks = `data:text/javascript,${encodeURIComponent(
  'export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.startsWith("file:")) process.stderr.write("LOADED " + r.url + "\\n"); return r; }',
)}`;
const register = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(hooks)});`)}`;

/** Names of the bundle's files (entry and chunks, hash left out) a CLI run loaded. */
function chunksLoaded(...args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', register, cli, ...args], {
    encoding: 'utf8',
    cwd: tmpdir(),
    timeout: 30_000,
  });
  const names = [...r.stderr.matchAll(/^LOADED (\S+)$/gm)]
    .map((m) => fileURLToPath(m[1]!))
    .filter((path) => path.startsWith(dirname(cli)))
    .map((path) =>
      path
        .slice(dirname(cli).length + 1)
        .replace(/-[A-Z0-9]{8}\.js$/, '')
        .replace(/\.js$/, ''),
    );
  return [...new Set(names)];
}

describe('pyspy-ts start-up', () => {
  it('--version loads neither yargs nor any command', () => {
    const loaded = chunksLoaded('--version');
    expect(loaded).toContain('cli');
    for (const heavy of ['yargs', 'record', 'top', 'dump', 'diff']) expect(loaded).not.toContain(`chunks/${heavy}`);
  });

  it('dump loads yargs and the dump command, no other command and no renderer', () => {
    const loaded = chunksLoaded('dump', '--help');
    expect(loaded).toContain('chunks/dump');
    expect(loaded).toContain('chunks/yargs');
    for (const other of ['record', 'top', 'diff', 'flamegraph', 'pprof', 'speedscope'])
      expect(loaded).not.toContain(`chunks/${other}`);
  });

  it('--help loads every command, to list them', () => {
    const loaded = chunksLoaded('--help');
    for (const command of ['record', 'top', 'dump', 'diff']) expect(loaded).toContain(`chunks/${command}`);
  });
});

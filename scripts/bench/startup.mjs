// Start-up of the CLI against bare Node, in one run, interleaved; and what `npm i pyspy-ts` installs.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, run, startTarget, tmpFile } from './lib.mjs';
import { PY_SPY, ROOT, TARGETS } from './tools.mjs';

// What an npm-installed `pyspy-ts` runs: its bin file through its shebang's node (pnpm's
// node_modules/.bin shim adds a shell in front, which users of npm, npx or pnpm dlx do not have).
const CLI = join(ROOT, 'packages/cli/bin/pyspy-ts.js');

/** Targets from issue #15, as a multiple of bare Node's start-up. */
const TARGETS_X = { '--version': 1.5, dump: 2 };

export async function measureStartup(interp, cfg, anomalies) {
  const target = await startTarget(interp, join(TARGETS, 'idle.py'), [600]);
  try {
    const base = tmpFile('base.txt');
    const head = tmpFile('head.txt');
    writeFileSync(base, 'main (app.py:1);work (app.py:5) 60\nmain (app.py:1);parse (app.py:9) 40\n');
    writeFileSync(head, 'main (app.py:1);work (app.py:5) 80\nmain (app.py:1);parse (app.py:9) 20\n');
    const commands = [
      ['node -e 0', [process.execPath, '-e', '0']],
      ['pyspy-ts --version', [process.execPath, CLI, '--version']],
      ['pyspy-ts dump --pid PID', [process.execPath, CLI, 'dump', '--pid', String(target.pid)]],
      ['pyspy-ts diff base head', [process.execPath, CLI, 'diff', base, head]],
      ['py-spy dump --pid PID', [PY_SPY, 'dump', '--pid', String(target.pid)]],
    ];
    const wall = new Map(commands.map(([name]) => [name, []]));
    // Interleaved, so that load from elsewhere on the machine falls on every command alike.
    for (let i = 0; i < cfg.startupRuns; i++) {
      for (const [name, argv] of commands) {
        const r = await run(argv, { timeoutMs: 60_000 });
        if (r.code !== 0) anomalies.push(`${interp.id} start-up ${name}: exit ${r.code}: ${r.stderr.split('\n')[0]}`);
        else wall.get(name).push(r.wallS * 1000);
      }
    }
    const nodeMs = median(wall.get('node -e 0'));
    const rows = commands.map(([name]) => {
      const ms = median(wall.get(name));
      const key = Object.keys(TARGETS_X).find((k) => name === `pyspy-ts ${k}` || name.startsWith(`pyspy-ts ${k} `));
      return { name, ms, min: Math.min(...wall.get(name)), times: ms / nodeMs, targetX: key ? TARGETS_X[key] : undefined };
    });
    return { interp: interp.id, runs: cfg.startupRuns, rows, install: installedSize() };
  } finally {
    await target.stop();
  }
}

/**
 * Bytes `npm i pyspy-ts` puts in node_modules on this platform: the files each package publishes
 * (npm pack's own list, without running prepack), plus this platform's binary package. The
 * publish test (tests/publish.test.ts) measures the real install from a registry.
 */
function installedSize() {
  const packed = (dir) =>
    JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8' }))[0];
  const cli = packed(join(ROOT, 'packages/cli'));
  const napi = packed(join(ROOT, 'crates/pyspy-napi'));
  const deps = Object.keys(JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')).dependencies ?? {});
  const platform = `linux-${process.arch}-gnu`;
  const binary = statSync(join(ROOT, `crates/pyspy-napi/pyspy.${platform}.node`)).size;
  return {
    packages: { 'pyspy-ts': cli.unpackedSize, '@pyspy/napi': napi.unpackedSize, [`@pyspy/napi-${platform}`]: binary },
    dependencies: deps,
  };
}

const f = (x, d = 0) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

export function startupSection(results) {
  const out = [
    '## Start-up (CLI against bare Node)',
    '',
    'Wall time of the whole process, median of interleaved runs (min beside it); `pyspy-ts` is run as an npm install runs it: ' +
      '`node packages/cli/bin/pyspy-ts.js …`. The dump target sleeps a few frames deep. Targets (issue #15): `--version` within 1.5× and `dump` within 2× of `node -e 0`.',
    '',
  ];
  for (const r of results) {
    out.push(`${r.interp}, ${r.runs} runs each:`, '');
    out.push('| command | median ms | min ms | × node | target |', '|---|---|---|---|---|');
    for (const row of r.rows) {
      const verdict = row.targetX === undefined ? '' : `≤ ${row.targetX}× ${row.times <= row.targetX ? '(met)' : '(**missed**)'}`;
      out.push(`| \`${row.name}\` | ${f(row.ms, 1)} | ${f(row.min, 1)} | ${f(row.times, 2)}× | ${verdict} |`);
    }
    const sizes = Object.entries(r.install.packages);
    const total = sizes.reduce((sum, [, bytes]) => sum + bytes, 0);
    out.push(
      '',
      `Installed by \`npm i pyspy-ts\` (files as packed): ${sizes.map(([name, bytes]) => `${name} ${f(bytes / 1024, 0)} kB`).join(', ')}; ` +
        `**${f(total / 1e6, 2)} MB** in all (target: under 3 MB). pyspy-ts's dependencies: ${r.install.dependencies.join(', ') || 'none'}.`,
      '',
    );
  }
  return out.join('\n');
}

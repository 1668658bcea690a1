#!/usr/bin/env node
// pnpm bench: pyspy-ts and py-spy side by side, alternating, median of N runs -> BENCHMARKS.md.
// A measurement tool, not a test: it never fails because one profiler is slower than the other.
//
//   node scripts/bench/run.mjs [--quick] [--runs N] [--duration S] [--soak S]
//        [--cost S] [--interpreters id1,id2] [--only rates,slowdown,dump,core,soak,duplicates,threads,native,async,free-threaded,cost,cap] [--out FILE]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CPU_METHOD, killAll, log } from './lib.mjs';
import { measureAsync } from './async.mjs';
import {
  measureCore,
  measureCost,
  measureDump,
  measureDuplicates,
  measureFreeThreaded,
  measureNative,
  measureRates,
  measureSlowdown,
  measureSoak,
  measureCap,
  measureThreads,
} from './metrics.mjs';
import { renderReport } from './report.mjs';
import { measureStartup } from './startup.mjs';
import { PYSPY_TS, ROOT, ensurePySpy, pyspyTsVersion } from './tools.mjs';

const METRICS = [
  'startup',
  'rates',
  'slowdown',
  'dump',
  'core',
  'soak',
  'duplicates',
  'threads',
  'native',
  'async',
  'free-threaded',
  'cost',
  'cap',
];
const USAGE = `usage: node scripts/bench/run.mjs [options]
  --quick                 1 run, short durations (a smoke check in a couple of minutes)
  --runs N                runs per cell, median reported (default 5; 1 with --quick)
  --duration S            seconds per record in the rate table (default 3; 1 with --quick)
  --soak S                seconds of the long 1 kHz memory record (default 600; 20 with --quick)
  --cap S                 seconds of the --max-stacks record of ever-new code (default 1800; 20 with --quick)
  --cost S                seconds of each record on the many-thread target (default 10; 3 with --quick)
  --interpreters a,b      ids from .cache/pythons/manifest.json (default 3.11-system)
                          (free-threaded: every provisioned free-threaded build and its default twin)
  --only m1,m2            subset of: ${METRICS.join(',')}
  --out FILE              default BENCHMARKS.md at the repo root`;

function parseCli() {
  // `pnpm bench -- --quick` passes a literal "--" through: drop it.
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      duration: { type: 'string' },
      soak: { type: 'string' },
      cap: { type: 'string' },
      cost: { type: 'string' },
      interpreters: { type: 'string', default: '3.11-system' },
      only: { type: 'string', default: METRICS.join(',') },
      out: { type: 'string', default: join(ROOT, 'BENCHMARKS.md') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name, v, dflt) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${v}`);
    return n;
  };
  const q = values.quick;
  const only = values.only
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of only) if (!METRICS.includes(m)) throw new Error(`--only: unknown metric ${m} (know ${METRICS.join(', ')})`);
  return {
    argsText: argv.join(' '),
    out: values.out,
    only,
    interpreterIds: values.interpreters
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    cfg: {
      quick: q,
      runs: Math.round(positive('runs', values.runs, q ? 1 : 5)),
      durationS: positive('duration', values.duration, q ? 1 : 3),
      soakS: positive('soak', values.soak, q ? 20 : 600),
      costS: positive('cost', values.cost, q ? 3 : 10),
      capS: positive('cap', values.cap, q ? 20 : 1800),
      costThreads: [20, 200],
      depths: [50, 200],
      rates: [1000, 5000, 10000, 20000],
      fibSeconds: q ? 1 : 3,
      dumpRuns: q ? 3 : 10,
      coreMiB: 2048,
      coreRuns: q ? 1 : 3,
      apiDumpCalls: q ? 20 : 200,
      dupSeconds: q ? 2 : 5,
      startupRuns: q ? 7 : 21,
    },
  };
}

function readManifest() {
  const path = join(ROOT, '.cache/pythons/manifest.json');
  return { path, manifest: existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : { interpreters: [] } };
}

/**
 * Each provisioned free-threaded build with its default-build twin: the same minor, not a debug
 * build, the same patch release where there is one (3.13t from Debian's 3.13.5 source beside
 * trixie's 3.13.5), so that what differs is the ABI.
 */
/** --async reads 3.8 and later, without free threading (README). */
function asyncReadable(interp) {
  const [major, minor] = interp.minor.split('.').map(Number);
  return !interp.freeThreaded && (major > 3 || (major === 3 && minor >= 8));
}

function freeThreadedPairs() {
  const { interpreters } = readManifest().manifest;
  return interpreters
    .filter((i) => i.freeThreaded)
    .map((ft) => {
      const twins = interpreters.filter((i) => !i.freeThreaded && !i.debug && i.minor === ft.minor);
      return [twins.find((i) => i.version === ft.version) ?? twins[0], ft];
    })
    .filter(([twin]) => twin !== undefined);
}

function loadInterpreters(ids) {
  const { path, manifest } = readManifest();
  return ids.map((id) => {
    const found = manifest.interpreters.find((i) => i.id === id);
    if (found) return found;
    // The system interpreter works without provisioning.
    if (id === '3.11-system' && existsSync('/usr/bin/python3.11'))
      return { id, exe: '/usr/bin/python3.11', minor: '3.11', env: {} };
    throw new Error(
      `interpreter ${id} is not in ${path} (run scripts/provision-pythons.sh); known: ${manifest.interpreters.map((i) => i.id).join(', ')}`,
    );
  });
}

/** The native addon's hash and the newest dist file: other people rebuilding mid-run shows up here. */
function buildFingerprint() {
  const napi = join(ROOT, 'crates/pyspy-napi');
  const node = readdirSync(napi).filter((n) => n.endsWith('.node'));
  const hash = createHash('sha1');
  for (const n of node) hash.update(readFileSync(join(napi, n)));
  let newest = 0;
  for (const pkg of ['cli', 'core', 'render']) {
    const dir = join(ROOT, 'packages', pkg, 'dist');
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { recursive: true })) newest = Math.max(newest, statSync(join(dir, String(e))).mtimeMs);
  }
  return `addon sha1 ${hash.digest('hex').slice(0, 12)}, dist ${new Date(newest).toISOString().slice(0, 19)}Z`;
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function environment(interpreters, pySpy) {
  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return '?';
    }
  };
  const cpuModel = (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [])[1] ?? cpus()[0]?.model ?? '?';
  return {
    cpuModel,
    nproc: sh('nproc', []),
    memGb: (totalmem() / 2 ** 30).toFixed(1),
    kernel: sh('uname', ['-r']),
    loadStart: loadAverage(),
    node: process.version,
    pyspyTs: pyspyTsVersion(),
    build: buildFingerprint(),
    pySpy,
    interpreters: interpreters.map((i) => ({
      ...i,
      version: sh(i.exe, ['-c', 'import sys; print(sys.version.split()[0])']),
    })),
  };
}

async function main() {
  const { cfg, out, only, interpreterIds, argsText } = parseCli();
  if (process.getuid?.() !== 0)
    log('warning: not root: attaching with ptrace may be refused (see /proc/sys/kernel/yama/ptrace_scope)');
  if (!existsSync(join(ROOT, 'packages/cli/dist/cli.js')) || !existsSync(PYSPY_TS)) {
    throw new Error('pyspy-ts is not built: run `pnpm exec turbo run build` (pnpm bench does)');
  }
  const interpreters = loadInterpreters(interpreterIds);
  const pySpy = ensurePySpy();
  const env = environment(interpreters, pySpy);
  const startedAt = `${new Date().toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  const t0 = Date.now();
  log(`${env.pyspyTs} vs ${pySpy}; ${cfg.runs} run(s); interpreters ${interpreterIds.join(', ')}; metrics ${only.join(', ')}`);

  const results = {
    startup: [],
    rates: [],
    slowdown: [],
    dump: [],
    core: [],
    soak: [],
    duplicates: [],
    threads: [],
    native: [],
    async: [],
    'free-threaded': [],
    cost: [],
    cap: [],
  };
  const anomalies = [];
  let rebuiltNoted = false;
  const write = () => {
    env.loadEnd = loadAverage();
    const now = buildFingerprint();
    if (now !== env.build && !rebuiltNoted) {
      rebuiltNoted = true;
      anomalies.push(`pyspy-ts was rebuilt during this run (${env.build} -> ${now}): later sections measured different code`);
    }
    writeFileSync(
      out,
      renderReport({
        env,
        cfg,
        argsText,
        results,
        anomalies,
        cpuMethod: CPU_METHOD,
        startedAt,
        elapsedS: (Date.now() - t0) / 1000,
      }),
    );
  };
  const step = async (name, interp, fn) => {
    if (!only.includes(name)) return;
    const id = Array.isArray(interp) ? interp.map((i) => i.id).join(' and ') : interp.id;
    log(`${name} on ${id}...`);
    try {
      const r = await fn(interp, cfg, anomalies);
      if (Array.isArray(r)) results[name].push(...r);
      else results[name].push(r);
    } catch (e) {
      anomalies.push(`${id} ${name}: aborted: ${e.message}`);
      log(`${name} on ${id} aborted: ${e.stack}`);
    }
    write(); // partial results survive an interrupted run
  };
  for (const interp of interpreters) {
    await step('startup', interp, measureStartup);
    await step('rates', interp, measureRates);
    await step('slowdown', interp, measureSlowdown);
    await step('dump', interp, measureDump);
    await step('core', interp, measureCore);
    await step('duplicates', interp, measureDuplicates);
    await step('threads', interp, measureThreads);
    await step('soak', interp, measureSoak);
    // pyspy-ts refuses --native on Python 2 (README), and the extension is built for Python 3.
    if (interp.minor !== '2.7') await step('native', interp, measureNative);
    // --async reads 3.8+ without free threading (README).
    if (asyncReadable(interp)) await step('async', interp, measureAsync);
    await step('cost', interp, measureCost);
    await step('cap', interp, measureCap);
  }
  if (only.includes('free-threaded')) {
    const pairs = freeThreadedPairs();
    if (pairs.length === 0) anomalies.push('free-threaded: no free-threaded build (and twin) is provisioned');
    for (const pair of pairs) {
      env.interpreters.push(...pair.filter((p) => !env.interpreters.some((i) => i.id === p.id)));
      await step('free-threaded', pair, measureFreeThreaded);
    }
  }
  write();
  log(`wrote ${out} in ${((Date.now() - t0) / 60000).toFixed(1)} min; ${anomalies.length} anomalies`);
}

main()
  .catch((e) => {
    console.error(`bench: ${e.message}`);
    process.exitCode = 1;
  })
  .finally(killAll);

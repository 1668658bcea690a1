// The measurements. Each returns plain rows for report.mjs and pushes oddities to `anomalies`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TMP, checkNotStopped, firstLine, log, median, procState, run, startTarget, vmRssKb } from './lib.mjs';
import { PYSPY_TS, PY_SPY, TARGETS, api, dumpCli, recordPySpy, recordPyspyTs } from './tools.mjs';

const DEEP = join(TARGETS, 'deep.py');
const FIB = join(TARGETS, 'fib.py');
const CHURN = join(TARGETS, 'churn.py');
const NEW_CODE = join(TARGETS, 'new_code.py');
const PARKED = join(TARGETS, 'parked.py');
const BIG_HEAP = join(TARGETS, 'big_heap.py');
const NATIVE_WORK = join(TARGETS, 'native_work.py');
const NATIVE_TARGET = join(TARGETS, '../../../tests/targets/native/native_target.py');
const HOTEXT_C = join(TARGETS, '../../../tests/targets/native/hotext.c');
const WAKE_C = join(TARGETS, 'wake.c');
const TOOLS = ['pyspy-ts', 'py-spy'];
const record = (tool, opts) => (tool === 'pyspy-ts' ? recordPyspyTs(opts) : recordPySpy(opts));
/** Alternate which tool goes first, run by run. */
const orderFor = (i) => (i % 2 === 0 ? TOOLS : [...TOOLS].reverse());
const mode = (nonblocking) => (nonblocking ? 'nonblocking' : 'blocking');
const perSampleUs = (cpuS, samples) => (cpuS !== undefined && samples ? (cpuS / samples) * 1e6 : undefined);

let wakeBinary;

/**
 * The floor under a tick's CPU (`targets/wake.c`): what a thread that wakes `rate` times a second
 * and does nothing else spends a wake-up, in µs, read the way the sampler reads its own CPU. On
 * this virtual machine it moves several-fold from hour to hour, so each row measures it beside
 * its own runs. Undefined when the loop could not run.
 */
async function wakeFloorUs(rate, seconds, anomalies) {
  if (wakeBinary === undefined) {
    wakeBinary = join(TMP, 'wake');
    execFileSync('gcc', ['-O2', '-o', wakeBinary, WAKE_C]);
  }
  const r = await run([wakeBinary, String(rate), String(seconds)], { timeoutMs: (seconds + 30) * 1000 });
  try {
    const { ticks, cpuUs } = JSON.parse(r.stdout);
    return ticks ? cpuUs / ticks : undefined;
  } catch {
    anomalies.push(`wake-up floor at ${rate} Hz: ${firstLine(r.stderr) || `exit ${r.code}`}`);
    return undefined;
  }
}

/** Seconds of each floor measurement: enough wake-ups at every rate measured (100 Hz: 300). */
const FLOOR_S = 3;

/** A long-lived target that is restarted if a profiler run killed it. */
async function longTarget(interp, script, args, anomalies) {
  let t = await startTarget(interp, script, args);
  return {
    get pid() {
      return t.pid;
    },
    async check(label) {
      checkNotStopped(t.pid, label, anomalies);
      const s = procState(t.pid);
      if (s === undefined || s === 'Z') {
        anomalies.push(`${label}: the target died during the run; restarted it`);
        await t.stop();
        t = await startTarget(interp, script, args);
      }
    },
    stop: () => t.stop(),
  };
}

/** Metric 1 (+3): achieved rate, missed samples and CPU per sample, attached with --pid. */
export async function measureRates(interp, cfg, anomalies) {
  const rows = [];
  const perRunS = cfg.durationS + 3;
  for (const depth of cfg.depths) {
    const maxS = cfg.rates.length * 4 * cfg.runs * perRunS + 300;
    const target = await longTarget(interp, DEEP, [depth, maxS], anomalies);
    try {
      for (const nonblocking of [false, true]) {
        for (const rate of cfg.rates) {
          const got = { 'pyspy-ts': [], 'py-spy': [] };
          const floors = [];
          for (let i = 0; i < cfg.runs; i++) {
            floors.push(await wakeFloorUs(rate, FLOOR_S, anomalies));
            for (const tool of orderFor(i)) {
              const label = `${interp.id} depth ${depth} ${rate} Hz ${mode(nonblocking)} ${tool} run ${i + 1}`;
              const r = await record(tool, {
                target: { pid: target.pid },
                rate,
                durationS: cfg.durationS,
                nonblocking,
                timeoutMs: (cfg.durationS + 60) * 1000,
              });
              for (const p of r.problems) anomalies.push(`${label}: ${p}`);
              await target.check(label);
              got[tool].push(r);
            }
          }
          const ts = got['pyspy-ts'].filter((r) => r.ok);
          const ps = got['py-spy'].filter((r) => r.ok);
          const row = {
            interp: interp.id,
            depth,
            mode: mode(nonblocking),
            rate,
            runs: cfg.runs,
            floorUs: median(floors),
            ts: {
              ok: ts.length,
              hz: median(ts.map((r) => r.hz)),
              missedPct: median(ts.map((r) => (100 * r.missed) / (r.ticks + r.missed || 1))),
              errors: median(ts.map((r) => r.errors)),
              samples: median(ts.map((r) => r.samples)),
              ticks: median(ts.map((r) => r.ticks)),
              treeUs: median(ts.map((r) => perSampleUs(r.treeCpuS, r.samples))),
              selfUs: median(ts.map((r) => perSampleUs(r.selfCpuS, r.samples))),
            },
            ps: {
              ok: ps.length,
              hz: median(ps.map((r) => r.hz)),
              missedPct: median(ps.map((r) => Math.max(0, 100 * (1 - r.samples / (rate * r.windowS))))),
              errors: median(ps.map((r) => r.errors)),
              samples: median(ps.map((r) => r.samples)),
              behindS: median(ps.map((r) => r.behindMaxS)),
              treeUs: median(ps.map((r) => perSampleUs(r.treeCpuS, r.samples))),
            },
          };
          rows.push(row);
          log(
            `rate ${interp.id} depth ${depth} ${row.mode} ${rate} Hz: pyspy-ts ${row.ts.hz?.toFixed(0)} Hz ` +
              `(${row.ts.missedPct?.toFixed(1)}% missed), py-spy ${row.ps.hz?.toFixed(0)} Hz (${row.ps.missedPct?.toFixed(1)}% short)`,
          );
        }
      }
    } finally {
      await target.stop();
    }
  }
  return rows;
}

/**
 * A free-threaded build beside its default-build twin: the rates of metric 1 at depth 200 only,
 * the stack whose reading costs most, for both (each build's table and walk are its own).
 */
export async function measureFreeThreaded(pair, cfg, anomalies) {
  const rows = [];
  for (const interp of pair) rows.push(...(await measureRates(interp, { ...cfg, depths: [200] }, anomalies)));
  return rows;
}

const elapsedOf = (stdout) => {
  const m = /elapsed_s=([\d.]+)/.exec(stdout ?? '');
  return m ? Number(m[1]) : undefined;
};

/** Metric 2: the target's own time for a fixed amount of work, unprofiled and profiled (launched). */
export async function measureSlowdown(interp, cfg, anomalies) {
  const fibN = 27;
  const cal = await run([interp.exe, FIB, fibN, 5, 0], { timeoutMs: 120_000, env: interp.env });
  const per = elapsedOf(cal.stdout);
  if (!per) throw new Error(`fib.py calibration failed on ${interp.id}: ${cal.stderr}`);
  const repeat = Math.max(1, Math.round(cfg.fibSeconds / (per / 5)));
  const command = [interp.exe, FIB, String(fibN), String(repeat), '0.5'];
  const timeoutMs = (cfg.fibSeconds * 20 + 60) * 1000;
  const configs = [];
  for (const rate of [100, 1000]) for (const nonblocking of [false, true]) configs.push({ rate, nonblocking });
  // Each profiled pair gets its own unprofiled run just before it: on a machine whose load drifts,
  // a ratio to a baseline taken minutes earlier says more about the neighbours than the profiler.
  const got = configs.map(() => ({ base: [], 'pyspy-ts': [], 'py-spy': [] }));
  for (let i = 0; i < cfg.runs; i++) {
    for (const [c, { rate, nonblocking }] of configs.entries()) {
      const b = elapsedOf((await run(command, { timeoutMs, env: interp.env })).stdout);
      got[c].base.push(b);
      for (const tool of orderFor(i + c)) {
        const label = `${interp.id} slowdown ${rate} Hz ${mode(nonblocking)} ${tool} run ${i + 1}`;
        const r = await record(tool, { target: { command }, rate, nonblocking, timeoutMs, env: interp.env });
        for (const p of r.problems) anomalies.push(`${label}: ${p}`);
        const elapsed = elapsedOf(r.stdout);
        if (elapsed === undefined) anomalies.push(`${label}: the target printed no elapsed time`);
        const missedPct = r.missed !== undefined ? (100 * r.missed) / (r.ticks + r.missed || 1) : undefined;
        got[c][tool].push({
          elapsed,
          ratio: elapsed && b ? elapsed / b : undefined,
          samples: r.samples,
          workHz: elapsed ? r.samples / elapsed : undefined,
          missedPct,
        });
      }
    }
    log(`slowdown ${interp.id}: run ${i + 1}/${cfg.runs} done`);
  }
  const rows = configs.map(({ rate, nonblocking }, c) => {
    const side = (tool) => ({
      elapsed: median(got[c][tool].map((r) => r.elapsed)),
      ratio: median(got[c][tool].map((r) => r.ratio)),
      samples: median(got[c][tool].map((r) => r.samples)),
      workHz: median(got[c][tool].map((r) => r.workHz)),
      missedPct: median(got[c][tool].map((r) => r.missedPct)),
    });
    return {
      interp: interp.id,
      rate,
      mode: mode(nonblocking),
      baseS: median(got[c].base),
      ts: side('pyspy-ts'),
      ps: side('py-spy'),
    };
  });
  return { rows, work: `fib(${fibN}) x ${repeat}`, command };
}

/** Metric 4: dump latency on a 200-deep stack: CLI wall time, and in-process through @pyspy/core. */
export async function measureDump(interp, cfg, anomalies) {
  const depth = 200;
  const target = await longTarget(interp, DEEP, [depth, 600], anomalies);
  try {
    const got = { 'pyspy-ts': [], 'py-spy': [] };
    for (let i = 0; i < cfg.dumpRuns; i++) {
      for (const tool of orderFor(i)) {
        const r = await dumpCli(tool, target.pid);
        const label = `${interp.id} dump ${tool} run ${i + 1}`;
        if (!r.ok) anomalies.push(`${label}: failed: ${r.error}`);
        else if (Math.abs(r.frames - depth) > 2) anomalies.push(`${label}: printed ${r.frames} frames, expected ${depth}`);
        await target.check(label);
        got[tool].push(r);
      }
    }
    // CLI start-up alone, to read the dump numbers against.
    const startup = {};
    for (const [tool, bin] of [
      ['pyspy-ts', PYSPY_TS],
      ['py-spy', PY_SPY],
    ]) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await run([bin, '--version'], { timeoutMs: 60_000, cpu: true }));
      startup[tool] = { wallMs: median(runs.map((r) => r.wallS * 1000)), cpuMs: median(runs.map((r) => r.cpuS * 1000)) };
    }
    const inProc = await api(['dump', target.pid, cfg.apiDumpCalls], 120_000);
    if (inProc.error) anomalies.push(`${interp.id} in-process dump: ${inProc.error}`);
    else if (Math.abs(inProc.frames - depth) > 2)
      anomalies.push(`${interp.id} in-process dump: ${inProc.frames} frames, expected ${depth}`);
    const side = (tool) => ({
      medianMs: median(got[tool].filter((r) => r.ok).map((r) => r.wallS * 1000)),
      frames: median(got[tool].filter((r) => r.ok).map((r) => r.frames)),
      ok: got[tool].filter((r) => r.ok).length,
    });
    return { interp: interp.id, depth, runs: cfg.dumpRuns, ts: side('pyspy-ts'), ps: side('py-spy'), inProc, startup };
  } finally {
    await target.stop();
  }
}

/** Metric 5: the profiler's RSS, once a second, over a long 1 kHz record of a 50-deep stack. */
export async function measureSoak(interp, cfg, anomalies) {
  const rate = 1000;
  const target = await longTarget(interp, DEEP, [50, cfg.soakS * 2 + 300], anomalies);
  const out = [];
  try {
    for (const tool of TOOLS) {
      const rss = [];
      let timer;
      const onPid = (pid) => {
        timer = setInterval(() => {
          const kb = vmRssKb(pid);
          if (kb !== undefined) rss.push(kb);
        }, 1000);
      };
      let r;
      try {
        r = await record(tool, {
          target: { pid: target.pid },
          rate,
          durationS: cfg.soakS,
          timeoutMs: (cfg.soakS + 120) * 1000,
          onPid,
        });
      } finally {
        clearInterval(timer);
      }
      const label = `${interp.id} soak ${tool}`;
      for (const p of r.problems) anomalies.push(`${label}: ${p}`);
      await target.check(label);
      // "Early" = 10% into the record, after start-up allocations settle.
      const early = rss[Math.min(rss.length - 1, Math.max(1, Math.floor(rss.length / 10)))];
      const end = rss[rss.length - 1];
      const growthKb = end !== undefined && early !== undefined ? end - early : undefined;
      out.push({
        interp: interp.id,
        tool,
        seconds: cfg.soakS,
        readings: rss.length,
        startKb: rss[0],
        earlyKb: early,
        peakKb: rss.length ? Math.max(...rss) : undefined,
        endKb: end,
        growthKb,
        grows: growthKb !== undefined && growthKb > Math.max(1024, 0.05 * early),
        samples: r.samples,
        hz: r.hz,
        cpuUs: perSampleUs(r.treeCpuS, r.samples),
      });
      log(`soak ${interp.id} ${tool}: RSS ${rss[0]} -> peak ${out.at(-1).peakKb} -> ${end} kB`);
    }
  } finally {
    await target.stop();
  }
  return out;
}

/** Ticks vs samples on a stack that changes on every call: samples must stay <= ticks x threads. */
export async function measureDuplicates(interp, cfg, anomalies) {
  const rate = 1000;
  const rows = [];
  for (const threads of [1, 4]) {
    const target = await longTarget(interp, CHURN, [threads, cfg.dupSeconds * 8 + 300], anomalies);
    try {
      for (const nonblocking of [false, true]) {
        const label = `${interp.id} duplicates ${threads} thread(s) ${mode(nonblocking)}`;
        const ts = await api(['record', target.pid, rate, cfg.dupSeconds, String(!nonblocking)], (cfg.dupSeconds + 60) * 1000);
        await target.check(`${label} pyspy-ts`);
        const ps = await recordPySpy({
          target: { pid: target.pid },
          rate,
          durationS: cfg.dupSeconds,
          nonblocking,
          timeoutMs: (cfg.dupSeconds + 60) * 1000,
        });
        await target.check(`${label} py-spy`);
        for (const p of ps.problems) anomalies.push(`${label} py-spy: ${p}`);
        if (ts.error) anomalies.push(`${label} pyspy-ts: ${ts.error}`);
        else {
          if (ts.samples > ts.ticks * threads)
            anomalies.push(`${label} pyspy-ts: ${ts.samples} samples > ${ts.ticks} ticks x ${threads} threads`);
          if (ts.stackCountSum !== ts.samples)
            anomalies.push(`${label} pyspy-ts: stack counts sum to ${ts.stackCountSum}, stats say ${ts.samples} samples`);
        }
        const psTicksBound = Math.round(rate * (ps.windowS ?? cfg.dupSeconds));
        if (ps.samples > psTicksBound * threads)
          anomalies.push(`${label} py-spy: ${ps.samples} samples > ${psTicksBound} ticks x ${threads}`);
        rows.push({
          interp: interp.id,
          threads,
          mode: mode(nonblocking),
          rate,
          seconds: cfg.dupSeconds,
          ts,
          ps: { samples: ps.samples, stacks: ps.stacks, ticksBound: psTicksBound, behindS: ps.behindMaxS },
        });
      }
    } finally {
      await target.stop();
    }
  }
  return rows;
}

/**
 * --thread-name on a process of 200 parked threads: the sampler's CPU per tick by how many
 * threads are kept (pyspy-ts only: py-spy has no thread filter). Without --idle the parked
 * threads are only looked at (their scheduler state, and their thread state when kept); with
 * --idle every kept thread is also paused and its frames walked.
 */
export async function measureThreads(interp, cfg, anomalies) {
  const rate = 100;
  const threads = 200;
  const kept = [
    { kept: 'all, no filter', args: [] },
    { kept: 200, args: ['--thread-name', '^t-'] },
    { kept: 50, args: ['--thread-name', '^t-0[0-4]'] },
    { kept: 10, args: ['--thread-name', '^t-00'] },
    { kept: 1, args: ['--thread-name', '^t-000$'] },
  ];
  const rows = [];
  const target = await longTarget(interp, PARKED, [threads, kept.length * 2 * cfg.runs * (cfg.durationS + 5) + 300], anomalies);
  try {
    for (const idle of [false, true]) {
      for (const k of kept) {
        const runs = [];
        for (let i = 0; i < cfg.runs; i++) {
          const label = `${interp.id} threads ${k.kept} kept${idle ? ' --idle' : ''} run ${i + 1}`;
          const r = await recordPyspyTs({
            target: { pid: target.pid },
            rate,
            durationS: cfg.durationS,
            timeoutMs: (cfg.durationS + 60) * 1000,
            extraArgs: [...k.args, ...(idle ? ['--idle'] : [])],
          });
          for (const p of r.problems) anomalies.push(`${label}: ${p}`);
          await target.check(label);
          if (r.ok) runs.push(r);
        }
        rows.push({
          interp: interp.id,
          threads,
          kept: k.kept,
          mode: idle ? '--idle' : 'default',
          rate,
          runs: runs.length,
          hz: median(runs.map((r) => r.hz)),
          tickUs: median(runs.map((r) => (r.ticks ? (r.selfCpuS / r.ticks) * 1e6 : undefined))),
        });
      }
    }
  } finally {
    await target.stop();
  }
  return rows;
}

/**
 * Metric 6: `dump --core` of a core of about `cfg.coreMiB` MiB (gcore of targets/big_heap.py, every
 * page written, a 50-deep stack): CLI wall time and peak RSS, natively and through WASM
 * (PYSPY_BACKEND=wasm), and py-spy's `dump --core` of the same file.
 */
export async function measureCore(interp, cfg, anomalies) {
  const depth = 50;
  const target = await startTarget(interp, BIG_HEAP, [cfg.coreMiB, depth, 600], { readyTimeoutMs: 120_000 });
  const prefix = join(TMP, 'bench-core');
  const core = `${prefix}.${target.pid}`;
  try {
    const made = await run(['gcore', '-o', prefix, String(target.pid)], { timeoutMs: 600_000 });
    await target.stop();
    if (made.code !== 0) throw new Error(`gcore failed: ${made.stderr.trim().split('\n').pop()}`);
    const sizeMiB = statSync(core).size / 2 ** 20;
    const variants = [
      ['pyspy-ts native', [PYSPY_TS, 'dump', '--core', core], {}],
      ['pyspy-ts WASM', [PYSPY_TS, 'dump', '--core', core], { PYSPY_BACKEND: 'wasm' }],
      ['py-spy', [PY_SPY, 'dump', '--core', core], {}],
    ];
    const got = Object.fromEntries(variants.map(([name]) => [name, []]));
    for (let i = 0; i < cfg.coreRuns; i++) {
      for (const [name, argv, env] of i % 2 === 0 ? variants : [...variants].reverse()) {
        const r = await run(argv, { timeoutMs: 120_000, cpu: true, env });
        const frames = r.stdout.split('\n').filter((l) => /^ {4}\S.*\(.*:\d+\)$/.test(l)).length;
        if (r.code !== 0) anomalies.push(`${interp.id} core ${name} run ${i + 1}: exit ${r.code}: ${firstLine(r.stderr)}`);
        else if (frames < depth) anomalies.push(`${interp.id} core ${name} run ${i + 1}: ${frames} frames, expected ${depth}`);
        got[name].push({ ...r, ok: r.code === 0 && frames >= depth });
      }
    }
    const side = (name) => {
      const ok = got[name].filter((r) => r.ok);
      const failure = got[name].find((r) => !r.ok);
      return {
        ok: ok.length,
        wallMs: median(ok.map((r) => r.wallS * 1000)),
        maxRssMb: median(ok.map((r) => r.maxRssKb / 1024)),
        error: failure && firstLine(failure.stderr),
      };
    };
    log(`core of ${sizeMiB.toFixed(0)} MiB: ${variants.map(([n]) => `${n} ${side(n).wallMs?.toFixed(0)} ms`).join(', ')}`);
    return { interp: interp.id, sizeMiB, runs: cfg.coreRuns, sides: Object.fromEntries(variants.map(([n]) => [n, side(n)])) };
  } finally {
    await target.stop();
    rmSync(core, { force: true });
  }
}

/** hotext.so (tests/targets/native/hotext.c) for `interp`, built with -g and without frame pointers. */
function buildHotext(interp) {
  const dir = mkdtempSync(join(tmpdir(), `pyspy-bench-hotext-${interp.id}-`));
  const include = (interp.include ?? []).map((d) => `-I${d}`);
  if (include.length === 0) throw new Error(`${interp.id}: no include folders in the manifest to build the C extension with`);
  execFileSync('gcc', [
    '-O2',
    '-g',
    '-fomit-frame-pointer',
    '-shared',
    '-fPIC',
    ...include,
    '-o',
    join(dir, 'hotext.so'),
    HOTEXT_C,
  ]);
  return dir;
}

/**
 * Metric 7: `--native` side by side. Rates, errors and unnamed frames attached with --pid to the
 * test extension's target (a thread in C and Python called back from C, a thread in the vdso);
 * slowdown launched on a fixed amount of the same work. Errors: pyspy-ts's are ticks whose read
 * or unwind failed (its summary), py-spy's the errors it prints; both as a share of the samples
 * they attempted. Unnamed: samples with an address-only frame in the raw output.
 */
export async function measureNative(interp, cfg, anomalies) {
  const ext = buildHotext(interp);
  const rows = [];
  const target = await longTarget(interp, NATIVE_TARGET, [ext], anomalies);
  try {
    for (const rate of [100, 1000]) {
      const got = { 'pyspy-ts': [], 'py-spy': [] };
      for (let i = 0; i < cfg.runs; i++) {
        for (const tool of orderFor(i)) {
          const label = `${interp.id} native ${rate} Hz ${tool} run ${i + 1}`;
          const r = await record(tool, {
            target: { pid: target.pid },
            rate,
            durationS: cfg.durationS,
            native: true,
            timeoutMs: (cfg.durationS + 60) * 1000,
          });
          for (const p of r.problems) anomalies.push(`${label}: ${p}`);
          await target.check(label);
          got[tool].push(r);
        }
      }
      const side = (tool) => {
        const ok = got[tool].filter((r) => r.ok);
        const attempted = (r) => (tool === 'pyspy-ts' ? r.ticks : r.samples + (r.errors ?? 0));
        return {
          ok: ok.length,
          // Thread stacks per second for both (py-spy's "Hz" is that; pyspy-ts's summary gives ticks).
          samplesPerS: median(ok.map((r) => (tool === 'pyspy-ts' ? r.samples / r.durationS : r.hz))),
          errorPct: median(ok.map((r) => (100 * (r.errors ?? 0)) / (attempted(r) || 1))),
          unresolvedPct: median(ok.map((r) => (100 * (r.unresolvedSamples ?? 0)) / (r.samples || 1))),
          cpuUs: median(ok.map((r) => perSampleUs(r.treeCpuS, r.samples))),
          selfUs: median(ok.map((r) => perSampleUs(r.selfCpuS, r.samples))),
        };
      };
      rows.push({ interp: interp.id, rate, kind: 'attached', ts: side('pyspy-ts'), ps: side('py-spy') });
      log(`native ${interp.id} ${rate} Hz: pyspy-ts ${JSON.stringify(rows.at(-1).ts)} py-spy ${JSON.stringify(rows.at(-1).ps)}`);
    }
  } finally {
    await target.stop();
  }
  // Slowdown: the same work unprofiled, then under each profiler with --native, launched.
  const cal = await run([interp.exe, NATIVE_WORK, ext, 20, 0], { timeoutMs: 120_000, env: interp.env });
  const per = elapsedOf(cal.stdout);
  if (!per) throw new Error(`native_work.py calibration failed on ${interp.id}: ${cal.stderr}`);
  const rounds = Math.max(1, Math.round((cfg.fibSeconds / per) * 20));
  const command = [interp.exe, NATIVE_WORK, ext, String(rounds), '0.5'];
  const timeoutMs = (cfg.fibSeconds * 20 + 60) * 1000;
  const slowdown = [];
  for (const rate of [100, 1000]) {
    const got = { base: [], 'pyspy-ts': [], 'py-spy': [] };
    for (let i = 0; i < cfg.runs; i++) {
      const b = elapsedOf((await run(command, { timeoutMs, env: interp.env })).stdout);
      got.base.push(b);
      for (const tool of orderFor(i)) {
        const label = `${interp.id} native slowdown ${rate} Hz ${tool} run ${i + 1}`;
        const r = await record(tool, { target: { command }, rate, native: true, timeoutMs, env: interp.env });
        for (const p of r.problems) anomalies.push(`${label}: ${p}`);
        const elapsed = elapsedOf(r.stdout);
        if (elapsed === undefined) anomalies.push(`${label}: the target printed no elapsed time`);
        got[tool].push({ ratio: elapsed && b ? elapsed / b : undefined });
      }
    }
    slowdown.push({
      rate,
      baseS: median(got.base),
      ts: median(got['pyspy-ts'].map((r) => r.ratio)),
      ps: median(got['py-spy'].map((r) => r.ratio)),
    });
    log(
      `native slowdown ${interp.id} ${rate} Hz: pyspy-ts ${slowdown.at(-1).ts?.toFixed(3)}x py-spy ${slowdown.at(-1).ps?.toFixed(3)}x`,
    );
  }
  rmSync(ext, { recursive: true, force: true });
  return { interp: interp.id, rows, slowdown, work: `native_work.py x ${rounds} rounds` };
}

const MANY_THREADS = join(TARGETS, 'many_threads.py');

/**
 * Metric 8 (issue #17): what a record costs as the target grows in threads. `many_threads.py N 4`
 * (N − 4 threads parked on an Event, 4 spinning), attached at 100 Hz for cfg.costS seconds, both
 * modes. pyspy-ts's *sampler* CPU is its own "Profiler CPU" (the sampling thread); *process* is
 * user+sys of the whole profiler (Node start-up and rendering included). µs per thread-tick =
 * sampler CPU ÷ (ticks × N).
 */
export async function measureCost(interp, cfg, anomalies) {
  const rate = 100;
  const rows = [];
  for (const threads of cfg.costThreads) {
    const maxS = 4 * cfg.runs * (cfg.costS + 5) + 300;
    const target = await longTarget(interp, MANY_THREADS, [threads, 4, maxS], anomalies);
    try {
      for (const nonblocking of [false, true]) {
        const got = { 'pyspy-ts': [], 'py-spy': [] };
        const floors = [];
        for (let i = 0; i < cfg.runs; i++) {
          floors.push(await wakeFloorUs(rate, FLOOR_S, anomalies));
          for (const tool of orderFor(i)) {
            const label = `${interp.id} cost ${threads} threads ${mode(nonblocking)} ${tool} run ${i + 1}`;
            const r = await record(tool, {
              target: { pid: target.pid },
              rate,
              durationS: cfg.costS,
              nonblocking,
              timeoutMs: (cfg.costS * 4 + 60) * 1000,
            });
            for (const p of r.problems) anomalies.push(`${label}: ${p}`);
            await target.check(label);
            if (r.ok) got[tool].push(r);
          }
        }
        const ts = got['pyspy-ts'];
        const ps = got['py-spy'];
        const seconds = (r) => r.durationS ?? r.windowS ?? cfg.costS;
        rows.push({
          interp: interp.id,
          threads,
          mode: mode(nonblocking),
          rate,
          seconds: cfg.costS,
          // As a share of a core: µs a wake-up × wake-ups a second ÷ 1e6 × 100.
          floorPct: ((median(floors) ?? NaN) * rate) / 1e4,
          ts: {
            hz: median(ts.map((r) => r.hz)),
            missedPct: median(ts.map((r) => (100 * r.missed) / (r.ticks + r.missed || 1))),
            samplerPct: median(ts.map((r) => (100 * r.selfCpuS) / seconds(r))),
            processPct: median(ts.map((r) => (100 * r.treeCpuS) / seconds(r))),
            threadTickUs: median(ts.map((r) => (r.ticks ? (r.selfCpuS / (r.ticks * threads)) * 1e6 : undefined))),
            maxRssKb: median(ts.map((r) => r.maxRssKb)),
          },
          ps: {
            // py-spy does not fall behind by skipping: its rate is samples of the busy threads per second.
            behindS: median(ps.map((r) => r.behindMaxS)),
            processPct: median(ps.map((r) => (100 * r.treeCpuS) / seconds(r))),
            maxRssKb: median(ps.map((r) => r.maxRssKb)),
          },
        });
        log(`cost ${interp.id} ${threads} threads ${mode(nonblocking)}: ${JSON.stringify(rows.at(-1))}`);
      }
    } finally {
      await target.stop();
    }
  }
  return rows;
}

/**
 * `--max-stacks` over a long 1 kHz record of a program that makes a new function every
 * millisecond: the profiler's memory must stop growing once its stacks reach the cap. Both tools
 * at once on the same target, nonblocking (neither ptrace-stops the target under the other), so
 * that a half-hour row costs half an hour; RSS of each read once a second.
 */
export async function measureCap(interp, cfg, anomalies) {
  const rate = 1000;
  const target = await longTarget(interp, NEW_CODE, [1, cfg.capS * 2 + 600], anomalies);
  const rss = { 'pyspy-ts': [], 'py-spy': [] };
  const timers = [];
  const watch = (tool) => (pid) => {
    timers.push(
      setInterval(() => {
        const kb = vmRssKb(pid);
        if (kb !== undefined) rss[tool].push(kb);
      }, 1000),
    );
  };
  try {
    const options = {
      target: { pid: target.pid },
      rate,
      durationS: cfg.capS,
      nonblocking: true,
      timeoutMs: (cfg.capS + 300) * 1000,
    };
    let results;
    try {
      results = await Promise.all([
        recordPyspyTs({ ...options, onPid: watch('pyspy-ts') }),
        recordPySpy({ ...options, onPid: watch('py-spy') }),
      ]);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
    await target.check(`${interp.id} cap`);
    return TOOLS.map((tool, i) => {
      const r = results[i];
      for (const p of r.problems) anomalies.push(`${interp.id} cap ${tool}: ${p}`);
      const kb = rss[tool];
      const at = (fraction) => kb[Math.min(kb.length - 1, Math.floor(kb.length * fraction))];
      log(
        `cap ${interp.id} ${tool}: ${r.samples} samples, ${r.stacks} stacks, RSS ${at(0.1)} -> ${at(0.5)} -> ${at(0.95)} kB, peak ${Math.max(...kb)} kB`,
      );
      return {
        interp: interp.id,
        tool,
        seconds: cfg.capS,
        samples: r.samples,
        stacks: r.stacks,
        otherSamples: r.otherSamples,
        // The last readings are of the profile being converted and written, not of the record.
        tenthKb: at(0.1),
        halfKb: at(0.5),
        lateKb: at(0.95),
        peakKb: kb.length ? Math.max(...kb) : undefined,
        secondHalfGrowthKb: kb.length ? at(0.95) - at(0.5) : undefined,
      };
    });
  } finally {
    await target.stop();
  }
}

// Metric 6: what --async costs, on a program with 1,000 live asyncio tasks (targets/tasks.py).
import { join } from 'node:path';
import { checkNotStopped, log, median, run, startTarget } from './lib.mjs';
import { TARGETS, recordPySpy, recordPyspyTs } from './tools.mjs';

const TASKS_PY = join(TARGETS, 'tasks.py');
const TASKS = 1000;
const RATE = 1000;

const elapsedOf = (stdout) => {
  const m = /elapsed_s=([\d.]+)/.exec(stdout ?? '');
  return m ? Number(m[1]) : undefined;
};
const missedPct = (r) => (r.missed !== undefined ? (100 * r.missed) / (r.ticks + r.missed || 1) : undefined);
const perSampleUs = (cpuS, samples) => (cpuS !== undefined && samples ? (cpuS / samples) * 1e6 : undefined);

/** The profilers compared: plain record, record --async, and py-spy (which has no --async) as plain. */
const CONFIGS = [
  { label: 'pyspy-ts record', tool: 'pyspy-ts', args: [] },
  { label: 'pyspy-ts record --async', tool: 'pyspy-ts', args: ['--async'] },
  { label: 'py-spy record', tool: 'py-spy', args: [] },
];

function record(config, opts) {
  return config.tool === 'pyspy-ts' ? recordPyspyTs({ ...opts, extraArgs: config.args }) : recordPySpy(opts);
}

/**
 * Slowdown: the target times fib(25) x K in its worker task while 1,000 tasks are parked, unprofiled
 * and under each profiler at 1 kHz (blocking), each profiled run after an unprofiled one of its own.
 * Rate: attached with --pid to the same target working without end, for cfg.durationS.
 */
export async function measureAsync(interp, cfg, anomalies) {
  const fibN = 25;
  const cal = await run([interp.exe, TASKS_PY, TASKS, fibN, 20, 0.5], { timeoutMs: 120_000, env: interp.env });
  const per = elapsedOf(cal.stdout);
  if (!per) throw new Error(`tasks.py calibration failed on ${interp.id}: ${cal.stderr}`);
  const repeat = Math.max(1, Math.round(cfg.fibSeconds / (per / 20)));
  const command = [interp.exe, TASKS_PY, String(TASKS), String(fibN), String(repeat), '0.5'];
  const timeoutMs = (cfg.fibSeconds * 20 + 60) * 1000;
  const got = CONFIGS.map(() => ({ base: [], runs: [] }));
  for (let i = 0; i < cfg.runs; i++) {
    for (const [c, config] of CONFIGS.entries()) {
      const b = elapsedOf((await run(command, { timeoutMs, env: interp.env })).stdout);
      got[c].base.push(b);
      const r = await record(config, { target: { command }, rate: RATE, timeoutMs, env: interp.env });
      for (const p of r.problems) anomalies.push(`${interp.id} async slowdown ${config.label} run ${i + 1}: ${p}`);
      const elapsed = elapsedOf(r.stdout);
      got[c].runs.push({ elapsed, ratio: elapsed && b ? elapsed / b : undefined, missedPct: missedPct(r), samples: r.samples });
    }
    log(`async slowdown ${interp.id}: run ${i + 1}/${cfg.runs} done`);
  }
  const slowdown = CONFIGS.map((config, c) => ({
    label: config.label,
    baseS: median(got[c].base),
    elapsedS: median(got[c].runs.map((r) => r.elapsed)),
    ratio: median(got[c].runs.map((r) => r.ratio)),
    missedPct: median(got[c].runs.map((r) => r.missedPct)),
    samples: median(got[c].runs.map((r) => r.samples)),
  }));

  const attached = [];
  const target = await startTarget(interp, TASKS_PY, [TASKS, fibN, 0, 0.5]);
  try {
    const attachConfigs = [
      ...CONFIGS.map((c) => ({ ...c, rate: RATE })),
      // Every waiting task is a sample each tick: 1,000 samples a tick.
      { label: 'pyspy-ts record --async --idle', tool: 'pyspy-ts', args: ['--async', '--idle'], rate: 100 },
    ];
    for (const config of attachConfigs) {
      const runs = [];
      for (let i = 0; i < cfg.runs; i++) {
        const r = await record(config, {
          target: { pid: target.pid },
          rate: config.rate,
          durationS: cfg.durationS,
          timeoutMs: (cfg.durationS + 60) * 1000,
        });
        const label = `${interp.id} async attached ${config.label} run ${i + 1}`;
        for (const p of r.problems) anomalies.push(`${label}: ${p}`);
        checkNotStopped(target.pid, label, anomalies);
        runs.push(r);
      }
      const ok = runs.filter((r) => r.ok);
      attached.push({
        label: config.label,
        rate: config.rate,
        hz: median(ok.map((r) => r.hz)),
        missedPct: median(
          ok.map((r) =>
            config.tool === 'pyspy-ts' ? missedPct(r) : Math.max(0, 100 * (1 - r.samples / (config.rate * r.windowS))),
          ),
        ),
        errors: median(ok.map((r) => r.errors)),
        samplesPerTick: median(ok.map((r) => (r.ticks ? r.samples / r.ticks : undefined))),
        samplerUsPerTick: median(ok.map((r) => (r.selfCpuS !== undefined && r.ticks ? (r.selfCpuS / r.ticks) * 1e6 : undefined))),
        treeUsPerSample: median(ok.map((r) => perSampleUs(r.treeCpuS, r.samples))),
      });
      log(
        `async attached ${interp.id} ${config.label}: ${attached.at(-1).hz?.toFixed(0)} Hz, ${attached.at(-1).missedPct?.toFixed(2)}% missed`,
      );
    }
  } finally {
    await target.stop();
  }
  return { interp: interp.id, tasks: TASKS, work: `fib(${fibN}) x ${repeat}`, command, slowdown, attached };
}

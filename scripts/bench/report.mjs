// Renders the results as BENCHMARKS.md.
import { startupSection } from './startup.mjs';

const f = (x, d = 0) =>
  x === undefined || x === null || Number.isNaN(x)
    ? '–'
    : Number(x)
        .toFixed(d)
        .replace(/\B(?=(\d{3})+(?!\d))/g, d ? '' : ',');
const pct = (x) => (x === undefined ? '–' : `${f(x, x < 10 ? 1 : 0)}%`);
const ratio = (a, b) => (a === undefined || b === undefined || !b ? '–' : `${f(a / b, 2)}×`);
const mb = (kb) => (kb === undefined ? '–' : f(kb / 1024, 1));
const table = (head, rows) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function rateSection(rows) {
  const body = rows.map((r) => [
    r.interp,
    r.depth,
    r.mode,
    f(r.rate),
    f(r.ts.hz),
    pct(r.ts.missedPct),
    f(r.ts.errors),
    f(r.ps.hz),
    pct(r.ps.missedPct),
    f(r.ps.errors),
    ratio(r.ts.hz, r.ps.hz),
    f(r.ts.treeUs, 1),
    f(r.ts.selfUs, 1),
    f(r.floorUs, 1),
    f(r.ps.treeUs, 1),
    ratio(r.ts.treeUs, r.ps.treeUs),
  ]);
  return [
    '## 1. Achieved sampling rate, missed samples (and 3. profiler CPU per sample)',
    '',
    'Attached with `--pid` to `targets/deep.py DEPTH` (recursion to DEPTH frames, then a pure-Python loop). ' +
      'Medians over the runs. *missed*: pyspy-ts = missed / (ticks + missed) from its summary line; py-spy = ' +
      '1 − samples / (rate × window), since py-spy does not skip ticks but falls behind. *CPU/sample*: user+sys ' +
      'of the whole profiler process (Node start-up and rendering included for pyspy-ts) ÷ samples; ' +
      '*sampler* is pyspy-ts\'s own "Profiler CPU" (the sampling thread only). *wake-up floor*: the CPU a ' +
      'thread spends a tick when it wakes at the requested rate and does nothing else (`targets/wake.c`, same ' +
      "clock as the sampler's, measured beside each run): on this virtual machine it moves several-fold from hour to " +
      "hour, and no sampler spends less. Issue #17's targets at depth 200 and 1 kHz: sampler ≤ 15 µs a sample " +
      'nonblocking, ≤ 25 µs blocking. Ratios are pyspy-ts ÷ py-spy (rate: higher is better; CPU: lower is better).',
    '',
    table(
      [
        'interp',
        'depth',
        'mode',
        'req Hz',
        'pyspy-ts Hz',
        'missed',
        'err',
        'py-spy Hz',
        'missed',
        'err',
        'rate ratio',
        'pyspy-ts µs/sample',
        'sampler µs/sample',
        'wake-up floor µs',
        'py-spy µs/sample',
        'CPU ratio',
      ],
      body,
    ),
    '',
    'Highest requested rate (of those tested) with < 1% missed:',
    '',
    sustainedRates(rows),
  ].join('\n');
}

/** Per interpreter, depth and mode: the highest requested rate each profiler kept with < 1% missed. */
function sustainedRates(rows) {
  const best = [];
  for (const key of [...new Set(rows.map((r) => `${r.interp}|${r.depth}|${r.mode}`))]) {
    const group = rows.filter((r) => `${r.interp}|${r.depth}|${r.mode}` === key);
    const top = (side) => {
      const okRates = group.filter((r) => r[side].missedPct !== undefined && r[side].missedPct < 1).map((r) => r.rate);
      return okRates.length ? `${f(Math.max(...okRates))} Hz` : `< ${f(Math.min(...group.map((r) => r.rate)))} Hz`;
    };
    const [interp, depth, mode] = key.split('|');
    best.push([interp, depth, mode, top('ts'), top('ps')]);
  }
  return table(['interp', 'depth', 'mode', 'pyspy-ts', 'py-spy'], best);
}

function freeThreadedSection(rows) {
  return [
    '## 6. A free-threaded build beside its default twin',
    '',
    'Metric 1 at depth 200 on each provisioned free-threaded build (`--disable-gil`, PEP 703) and the default ' +
      'build of the same release: the sustained rate (highest requested rate with < 1% missed), then each cell. ' +
      'py-spy does not read free-threaded builds: its cells there are its failures (see the anomalies).',
    '',
    sustainedRates(rows),
    '',
    table(
      [
        'interp',
        'mode',
        'req Hz',
        'pyspy-ts Hz',
        'missed',
        'err',
        'sampler µs/sample',
        'wake-up floor µs',
        'py-spy Hz',
        'missed',
      ],
      rows.map((r) => [
        r.interp,
        r.mode,
        f(r.rate),
        f(r.ts.hz),
        pct(r.ts.missedPct),
        f(r.ts.errors),
        f(r.ts.selfUs, 1),
        f(r.floorUs, 1),
        f(r.ps.hz),
        pct(r.ps.missedPct),
      ]),
    ),
  ].join('\n');
}

function slowdownSection(results) {
  const parts = ['## 2. Target slowdown', ''];
  for (const s of results) {
    parts.push(
      `\`${s.command.map((a) => a.replace(/.*\/scripts\/bench\//, 'scripts/bench/')).join(' ')}\` (${s.work}), launched by the profiler; ` +
        `the target times its own work after a 0.5 s sleep (profiler start-up excluded). Slowdown = median of ` +
        `(profiled time ÷ the unprofiled run made just before it); times are medians. *samples/s* = samples ÷ ` +
        `work time (idle samples of the sleep are left out by both): read a slowdown together with it, since a ` +
        `profiler that takes fewer samples slows the target less. *missed*: pyspy-ts's own count.`,
      '',
      table(
        [
          'interp',
          'rate',
          'mode',
          'unprofiled s',
          'pyspy-ts s',
          'slowdown',
          'samples/s',
          'missed',
          'py-spy s',
          'slowdown',
          'samples/s',
          'pyspy-ts ÷ py-spy',
        ],
        s.rows.map((r) => [
          r.interp,
          f(r.rate),
          r.mode,
          f(r.baseS, 3),
          f(r.ts.elapsed, 3),
          r.ts.ratio === undefined ? '–' : `${f(r.ts.ratio, 2)}×`,
          f(r.ts.workHz),
          pct(r.ts.missedPct),
          f(r.ps.elapsed, 3),
          r.ps.ratio === undefined ? '–' : `${f(r.ps.ratio, 2)}×`,
          f(r.ps.workHz),
          ratio(r.ts.ratio, r.ps.ratio),
        ]),
      ),
      '',
    );
  }
  return parts.join('\n');
}

function coreSection(rows) {
  const names = ['pyspy-ts native', 'pyspy-ts WASM', 'py-spy'];
  return [
    '## 4b. `dump --core` of a 2 GiB core',
    '',
    'A gcore of `targets/big_heap.py` (every page of its heap written, a 50-deep stack), read by the CLI: wall time of the whole ' +
      'command (Node start-up included for pyspy-ts) and its peak RSS, medians. *WASM* is the same CLI with `PYSPY_BACKEND=wasm`: ' +
      'the core is read through a JS callback, in pieces. A failed py-spy run is listed under the anomalies.',
    '',
    table(
      ['interp', 'core MiB', 'runs', ...names.flatMap((n) => [`${n} ms`, `${n} RSS MB`])],
      rows.map((r) => [
        r.interp,
        f(r.sizeMiB),
        r.runs,
        ...names.flatMap((n) =>
          r.sides[n].ok ? [f(r.sides[n].wallMs), f(r.sides[n].maxRssMb)] : [`failed: ${r.sides[n].error}`, '–'],
        ),
      ]),
    ),
  ].join('\n');
}

function asyncSection(results, durationS) {
  const parts = ['## 8. `--async` cost (1,000 live asyncio tasks)', ''];
  for (const r of results) {
    parts.push(
      `\`${r.command.map((a) => a.replace(/.*\/scripts\/bench\//, 'scripts/bench/')).join(' ')}\` (${r.work} in a worker ` +
        `task while ${f(r.tasks)} tasks are parked three coroutines deep, in groups of 100), launched by the profiler at ` +
        '1 kHz, blocking; each profiled run after an unprofiled one of its own. py-spy has no `--async`: its row is a ' +
        "plain record of the same program. *missed*: pyspy-ts's own count.",
      '',
      table(
        ['interp', 'profiler', 'unprofiled s', 'profiled s', 'slowdown', 'missed', 'samples'],
        r.slowdown.map((s) => [
          r.interp,
          s.label,
          f(s.baseS, 3),
          f(s.elapsedS, 3),
          s.ratio === undefined ? '–' : `${f(s.ratio, 2)}×`,
          pct(s.missedPct),
          f(s.samples),
        ]),
      ),
      '',
      `Attached with \`--pid\` to the same program working without end, records of ${durationS} s, medians; ` +
        '`--async --idle` samples every waiting task each tick (1,000 samples a tick), at 100 Hz. *sampler µs/tick*: ' +
        "the sampling thread's CPU per tick; *µs/sample*: the whole profiler process per sample.",
      '',
      table(
        ['interp', 'profiler', 'req Hz', 'Hz', 'missed', 'errors', 'samples/tick', 'sampler µs/tick', 'µs/sample'],
        r.attached.map((a) => [
          r.interp,
          a.label,
          f(a.rate),
          f(a.hz),
          pct(a.missedPct),
          f(a.errors),
          f(a.samplesPerTick, 2),
          f(a.samplerUsPerTick, 1),
          f(a.treeUsPerSample, 1),
        ]),
      ),
      '',
    );
  }
  return parts.join('\n');
}

function dumpSection(rows) {
  return [
    '## 4. `dump` latency (200-deep stack)',
    '',
    'CLI: wall time of the whole command, median (Node start-up included for pyspy-ts). In-process: ' +
      '`dump()` from `@pyspy/core` called in a loop in one Node process (first call: opens the process, parses the ELF; then steady state).',
    '',
    table(
      [
        'interp',
        'runs',
        'pyspy-ts CLI ms',
        'py-spy CLI ms',
        'CLI ratio',
        'frames (ts / py-spy)',
        'in-process first ms',
        'in-process median ms',
        'p90 ms',
        'in-process ÷ py-spy CLI',
      ],
      rows.map((r) => [
        r.interp,
        r.runs,
        f(r.ts.medianMs, 1),
        f(r.ps.medianMs, 1),
        ratio(r.ts.medianMs, r.ps.medianMs),
        `${f(r.ts.frames)} / ${f(r.ps.frames)}`,
        f(r.inProc.firstMs, 2),
        f(r.inProc.medianMs, 3),
        f(r.inProc.p90Ms, 3),
        ratio(r.inProc.medianMs, r.ps.medianMs),
      ]),
    ),
    '',
    ...rows.map(
      (r) =>
        `CLI start-up alone (\`--version\`, ${r.interp} run): pyspy-ts ${f(r.startup?.['pyspy-ts']?.wallMs)} ms wall / ` +
        `${f(r.startup?.['pyspy-ts']?.cpuMs)} ms CPU; py-spy ${f(r.startup?.['py-spy']?.wallMs, 1)} ms wall / ${f(r.startup?.['py-spy']?.cpuMs)} ms CPU.`,
    ),
  ].join('\n');
}

function soakSection(rows, soakS) {
  return [
    `## 5. Profiler memory over a ${soakS} s record at 1 kHz`,
    '',
    'VmRSS of the profiler process read from /proc once a second. *early* = 10% into the record; ' +
      '*grows* = end − early > max(1 MB, 5%).',
    '',
    table(
      [
        'interp',
        'tool',
        'seconds',
        'start MB',
        'early MB',
        'peak MB',
        'end MB',
        'growth MB',
        'grows',
        'samples',
        'Hz',
        'CPU µs/sample',
      ],
      rows.map((r) => [
        r.interp,
        r.tool,
        r.seconds,
        mb(r.startKb),
        mb(r.earlyKb),
        mb(r.peakKb),
        mb(r.endKb),
        mb(r.growthKb),
        r.grows ? '**yes**' : 'no',
        f(r.samples),
        f(r.hz),
        f(r.cpuUs, 1),
      ]),
    ),
  ].join('\n');
}

function duplicateSection(rows) {
  return [
    '## Duplicate samples (honest counts)',
    '',
    '`targets/churn.py THREADS` changes its stack on every call; 1 kHz. pyspy-ts through `record()` of ' +
      '`@pyspy/core` (which reports ticks, and idle samples it left out); py-spy does not report ticks, so its bound is ' +
      'rate × window. Samples must stay ≤ ticks × threads; with the GIL only one thread runs at a time, so a ' +
      'samples/tick well above 1 means threads waiting for the GIL were counted as active.',
    '',
    table(
      [
        'interp',
        'threads',
        'mode',
        'seconds',
        'pyspy-ts ticks',
        'missed',
        'samples',
        'idle left out',
        'samples/tick',
        'distinct stacks',
        'py-spy tick bound',
        'samples',
        'samples/tick',
        'distinct stacks',
      ],
      rows.map((r) => [
        r.interp,
        r.threads,
        r.mode,
        r.seconds,
        f(r.ts.ticks),
        f(r.ts.missed),
        f(r.ts.samples),
        f(r.ts.idleSamples),
        r.ts.ticks ? f(r.ts.samples / r.ts.ticks, 2) : '–',
        f(r.ts.distinctStacks),
        f(r.ps.ticksBound),
        f(r.ps.samples),
        r.ps.ticksBound ? f(r.ps.samples / r.ps.ticksBound, 2) : '–',
        f(r.ps.stacks),
      ]),
    ),
  ].join('\n');
}

function threadSection(rows) {
  return [
    '## Thread filters: cost of a tick by threads kept',
    '',
    '`targets/parked.py 200`: 200 threads parked on an event; `--thread-name` keeps some; 100 Hz. *µs/tick*: ' +
      'the sampler\'s own CPU ("Profiler CPU") ÷ ticks, median of the runs. Without `--idle` a parked thread is only ' +
      'looked at (its scheduler state; its thread state when kept); with `--idle` each kept thread is also paused and ' +
      'its frames walked. Threads left out are not read at all. py-spy has no thread filter.',
    '',
    table(
      ['interp', 'threads', 'kept', 'mode', 'runs', 'Hz', 'µs/tick'],
      rows.map((r) => [r.interp, r.threads, r.kept, r.mode, r.runs, f(r.hz), f(r.tickUs, 1)]),
    ),
  ].join('\n');
}

function capSection(rows, capS) {
  return [
    '## 10. A program that makes new code without end (`--max-stacks`, issue #17)',
    '',
    `\`targets/new_code.py 1\`: a new function (\`exec\`) every millisecond of pure-Python work, so nearly every sample is a stack never seen before; both tools at once on it for ${capS} s at 1 kHz, nonblocking. ` +
      'pyspy-ts keeps its default `--max-stacks` (100,000) and counts the samples of newer stacks as `<other stacks>`; py-spy has no cap. ' +
      'VmRSS of each profiler read once a second: at 10%, 50% and 95% of the record, its growth from 50% to 95%, and the peak, ' +
      'which for both tools comes at the end, while the profile is converted and written.',
    '',
    table(
      [
        'interp',
        'tool',
        'seconds',
        'samples',
        'distinct stacks',
        '`<other stacks>` samples',
        'RSS 10% MB',
        'RSS 50% MB',
        'RSS 95% MB',
        'growth 50→95% MB',
        'peak MB',
      ],
      rows.map((r) => [
        r.interp,
        r.tool,
        r.seconds,
        f(r.samples),
        f(r.stacks),
        r.tool === 'pyspy-ts' ? f(r.otherSamples) : 'no cap',
        mb(r.tenthKb),
        mb(r.halfKb),
        mb(r.lateKb),
        mb(r.secondHalfGrowthKb),
        mb(r.peakKb),
      ]),
    ),
  ].join('\n');
}

function costSection(rows, costS) {
  return [
    '## 9. Cost per thread (issue #17)',
    '',
    `\`targets/many_threads.py N 4\` (N − 4 threads parked on an Event, 4 spinning), attached at 100 Hz for ${costS} s. ` +
      '*sampler*: pyspy-ts\'s own "Profiler CPU" (the sampling thread) as a share of one core; *process*: user+sys of the ' +
      'whole profiler process (Node start-up and rendering included for pyspy-ts) over the record. µs per thread-tick = ' +
      'sampler CPU ÷ (ticks × N). py-spy: its process CPU and how far behind it said it fell. Targets: ≤ 5% of a core ' +
      'at 200 threads, ≤ 1% at 20, no missed ticks. *wake-up floor*: a thread that wakes 100 times a second and does ' +
      'nothing else, as a share of a core (`targets/wake.c`, measured beside each run; see section 1). ' +
      'CPU ratio: pyspy-ts process ÷ py-spy process.',
    '',
    table(
      [
        'interp',
        'threads',
        'mode',
        'pyspy-ts Hz',
        'missed',
        'sampler CPU',
        'wake-up floor',
        'process CPU',
        'µs/thread-tick',
        'peak RSS MB',
        'py-spy CPU',
        'py-spy behind s',
        'py-spy peak RSS MB',
        'CPU ratio',
      ],
      rows.map((r) => [
        r.interp,
        r.threads,
        r.mode,
        f(r.ts.hz, 1),
        pct(r.ts.missedPct),
        pct(r.ts.samplerPct),
        pct(r.floorPct),
        pct(r.ts.processPct),
        f(r.ts.threadTickUs, 2),
        mb(r.ts.maxRssKb),
        pct(r.ps.processPct),
        f(r.ps.behindS, 1),
        mb(r.ps.maxRssKb),
        ratio(r.ts.processPct, r.ps.processPct),
      ]),
    ),
  ].join('\n');
}

function nativeSection(results) {
  const rows = results.flatMap((r) =>
    r.rows.map((row) => {
      const slow = r.slowdown.find((s) => s.rate === row.rate);
      return [
        r.interp,
        f(row.rate),
        f(row.ts.samplesPerS),
        f(row.ps.samplesPerS),
        pct(row.ts.errorPct),
        pct(row.ps.errorPct),
        pct(row.ts.unresolvedPct),
        pct(row.ps.unresolvedPct),
        slow?.ts === undefined ? '–' : `${f(slow.ts, 3)}×`,
        slow?.ps === undefined ? '–' : `${f(slow.ps, 3)}×`,
        f(row.ts.cpuUs, 1),
        f(row.ts.selfUs, 1),
        f(row.ps.cpuUs, 1),
      ];
    }),
  );
  return [
    '## 7. `--native` beside py-spy `--native`',
    '',
    'The test extension (`tests/targets/native/hotext.c`, `-O2 -g -fomit-frame-pointer`): rates, errors and ' +
      'unnamed frames attached with `--pid` to `tests/targets/native/native_target.py` (C called from Python, ' +
      'Python called back from C, a thread in the vdso); slowdown launched on `scripts/bench/targets/native_work.py` ' +
      `(${results.map((r) => `${r.interp}: ${r.work}`).join('; ')}). *errors*: pyspy-ts = ticks with a failed read or ` +
      'an incomplete unwind ÷ ticks; py-spy = its printed errors ÷ (samples + errors). *samples/s*: thread stacks a ' +
      'second (py-spy also samples the thread parked in C, which pyspy-ts leaves out as idle). *unnamed*: samples with a ' +
      "frame shown as an address. *slowdown*: the target's own time for the work ÷ unprofiled. *CPU/sample*: " +
      'as in section 1.',
    '',
    table(
      [
        'interp',
        'req Hz',
        'pyspy-ts samples/s',
        'py-spy samples/s',
        'pyspy-ts errors',
        'py-spy errors',
        'pyspy-ts unnamed',
        'py-spy unnamed',
        'pyspy-ts slowdown',
        'py-spy slowdown',
        'pyspy-ts CPU/sample µs',
        'sampler µs',
        'py-spy CPU/sample µs',
      ],
      rows,
    ),
  ].join('\n');
}

export function renderReport({ env, cfg, argsText, results, anomalies, cpuMethod, startedAt, elapsedS }) {
  const out = [
    '# Benchmarks: pyspy-ts vs py-spy',
    '',
    `Generated by \`scripts/bench/run.mjs\` on ${startedAt} (took ${f(elapsedS / 60, 1)} min)` +
      (cfg.quick ? '. **Quick mode** (`--quick`): 1 run, short durations: a smoke check, not numbers to quote.' : '.'),
    'Do not edit by hand: run `pnpm bench` again.',
    '',
    '## Machine and versions',
    '',
    `- CPU: ${env.cpuModel}, nproc = ${env.nproc}; memory ${env.memGb} GB; kernel ${env.kernel}`,
    `- ${env.pyspyTs} [${env.build}]; ${env.pySpy} (PyPI, in \`.cache/bench/venv\`); Node ${env.node}`,
    ...env.interpreters.map((i) => `- Python \`${i.id}\`: ${i.version} (\`${i.exe}\`)`),
    `- Load average (1/5/15 min) at start: ${env.loadStart}; at the end: ${env.loadEnd}` +
      (Number(env.loadStart.split(' ')[0]) > 0.5 * Number(env.nproc)
        ? ` — **the machine was busy** with other work (${env.nproc} CPUs): expect noise, compare ratios within one run only.`
        : ''),
    `- Settings: ${cfg.runs} run(s) per cell, alternating which tool goes first; records of ${cfg.durationS} s; ` +
      `slowdown work ≈ ${cfg.fibSeconds} s; ${cfg.dumpRuns} CLI dumps; soak ${cfg.soakS} s; cap record ${cfg.capS} s.`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'pnpm install',
    'bash scripts/provision-pythons.sh   # writes .cache/pythons/manifest.json',
    `pnpm bench${argsText ? ` ${argsText}` : ''}   # = turbo run build && node scripts/bench/run.mjs${argsText ? ` ${argsText}` : ''}`,
    '```',
    '',
    'Each measurement runs (as root, for ptrace):',
    '',
    '```sh',
    'python scripts/bench/targets/deep.py DEPTH MAX_S &   # then, alternating:',
    './node_modules/.bin/pyspy-ts record --pid $PID --rate R --duration D --format raw -o OUT --hide-progress [--nonblocking]',
    '.cache/bench/venv/bin/py-spy record --pid $PID --rate R --duration D --format raw -o OUT [--nonblocking]   # SIGINT at D + 0.05 s if still running',
    './node_modules/.bin/pyspy-ts record --rate R --format raw -o OUT --hide-progress [--nonblocking] -- python scripts/bench/targets/fib.py 27 K 0.5',
    '.cache/bench/venv/bin/py-spy record --rate R --format raw -o OUT [--nonblocking] -- python scripts/bench/targets/fib.py 27 K 0.5',
    './node_modules/.bin/pyspy-ts dump --pid $PID;  .cache/bench/venv/bin/py-spy dump --pid $PID',
    'node scripts/bench/api.mjs dump $PID N;  node scripts/bench/api.mjs record $PID 1000 D true',
    './node_modules/.bin/pyspy-ts record [--async] --rate 1000 --format raw -o OUT --hide-progress -- python scripts/bench/targets/tasks.py 1000 25 K 0.5',
    'python scripts/bench/targets/big_heap.py 2048 50 & gcore -o core $PID;  [PYSPY_BACKEND=wasm] ./node_modules/.bin/pyspy-ts dump --core core.$PID;  .cache/bench/venv/bin/py-spy dump --core core.$PID',
    'python scripts/bench/targets/parked.py 200 MAX_S &   # then ./node_modules/.bin/pyspy-ts record --pid $PID --rate 100 --thread-name PATTERN [--idle] ...',
    'python scripts/bench/targets/new_code.py 1 MAX_S &   # then both at once, --rate 1000 --duration 1800 --nonblocking (the cap row)',
    '```',
    '',
    `CPU time: ${cpuMethod}. Every run has a timeout; targets run under \`sh\` in their own process group, ` +
      'are killed when their measurement ends, and exit on their own after a maximum time.',
    '',
  ];
  if (results.startup.length) out.push(startupSection(results.startup), '');
  if (results.rates.length) out.push(rateSection(results.rates), '');
  if (results.slowdown.length) out.push(slowdownSection(results.slowdown), '');
  if (results.dump.length) out.push(dumpSection(results.dump), '');
  if (results.core.length) out.push(coreSection(results.core), '');
  if (results.soak.length) out.push(soakSection(results.soak, cfg.soakS), '');
  if (results.duplicates.length) out.push(duplicateSection(results.duplicates), '');
  if (results.threads?.length) out.push(threadSection(results.threads), '');
  if (results['free-threaded'].length) out.push(freeThreadedSection(results['free-threaded']), '');
  if (results.native.length) out.push(nativeSection(results.native), '');
  if (results.async?.length) out.push(asyncSection(results.async, cfg.durationS), '');
  if (results.cost.length) out.push(costSection(results.cost, cfg.costS), '');
  if (results.cap?.length) out.push(capSection(results.cap, cfg.capS), '');
  out.push('## Anomalies seen during this run', '');
  if (anomalies.length === 0) out.push('None.');
  else {
    const counts = new Map();
    for (const a of anomalies) counts.set(a, (counts.get(a) ?? 0) + 1);
    for (const [a, n] of counts) out.push(`- ${a}${n > 1 ? ` (×${n})` : ''}`);
  }
  return `${out.join('\n')}\n`;
}

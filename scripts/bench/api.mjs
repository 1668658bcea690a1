// In-process measurements through @pyspy/core (no CLI start-up). Prints one JSON line.
//   node api.mjs dump PID COUNT                      latency of dump(), first call and steady state
//   node api.mjs record PID RATE SECONDS BLOCKING    record() stats: ticks vs samples
// Run by run.mjs in its own process: the target is never a child of this process.
const core = await import(new URL('../../packages/core/dist/index.js', import.meta.url).href);

const [command, ...args] = process.argv.slice(2);
const pid = Number(args[0]);

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

if (command === 'dump') {
  const count = Number(args[1] ?? 50);
  const times = [];
  let frames = 0;
  let first;
  for (let i = 0; i <= count; i++) {
    const t0 = process.hrtime.bigint();
    const d = await core.dump(pid);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    frames = Math.max(...d.threads.map((t) => t.frames.length));
    if (i === 0) first = ms;
    else times.push(ms);
  }
  times.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      firstMs: first,
      medianMs: quantile(times, 0.5),
      p90Ms: quantile(times, 0.9),
      minMs: times[0],
      frames,
      calls: count,
    }),
  );
} else if (command === 'record') {
  const [, rate, seconds, blocking] = args;
  const p = await core.record({ pid, rateHz: Number(rate), durationS: Number(seconds), nonblocking: blocking === 'false' });
  const sum = p.stacks.reduce((n, s) => n + s.count, 0);
  console.log(
    JSON.stringify({
      ...p.stats,
      stackCountSum: sum,
      distinctStacks: p.stacks.length,
      threadsSeen: p.threads.length,
    }),
  );
} else {
  console.error('usage: api.mjs dump PID COUNT | record PID RATE SECONDS BLOCKING');
  process.exit(2);
}

// Process plumbing for the benchmark: timed runs with CPU accounting, targets, cleanup, statistics.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TMP = mkdtempSync(join(tmpdir(), 'pyspy-bench-'));
let tmpCounter = 0;
export const tmpFile = (name) => join(TMP, `${++tmpCounter}-${name}`);

// Every process group we started, killed on any exit of this script.
const live = new Set();
function killGroup(pgid, signal = 'SIGKILL') {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
export function killAll() {
  for (const pgid of live) killGroup(pgid);
  live.clear();
}
process.on('exit', () => {
  killAll();
  rmSync(TMP, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, killing everything it started`);
    killAll();
    process.exit(130);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The first child of `pid` (from /proc), or undefined. */
export function childOf(pid) {
  try {
    const c = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return c ? Number(c.split(/\s+/)[0]) : undefined;
  } catch {
    return undefined;
  }
}

/** Process state letter (R, S, T, t, Z...) or undefined when gone. */
export function procState(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

export function vmRssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

// CPU accounting of a run: GNU time when installed, else `sh` reading its own /proc stat
// (cutime + cstime: the CPU of every child it waited for) after the command exits.
export const HAVE_TIME = existsSync('/usr/bin/time');
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();
export const CPU_METHOD = HAVE_TIME
  ? "GNU `/usr/bin/time -f '%e %U %S %M'` around the profiler (user+sys of the profiler and every child it waited for)"
  : "`sh -c 'cmd; cat /proc/$$/stat'` (cutime+cstime of the shell: the profiler and every child it waited for)";

function wrapForCpu(argv, cpuFile) {
  if (HAVE_TIME) return ['/usr/bin/time', '-f', '%e %U %S %M', '-o', cpuFile, '--', ...argv];
  return ['/bin/sh', '-c', '"$@"; rc=$?; cat /proc/$$/stat > "$BENCH_CPU_FILE"; exit $rc', 'bench-cpu', ...argv];
}

function readCpu(cpuFile) {
  let text;
  try {
    text = readFileSync(cpuFile, 'utf8').trim();
  } catch {
    return {};
  }
  if (HAVE_TIME) {
    // "Command exited with non-zero status N" / "Command terminated by signal N" may come first.
    const [e, u, s, m] = text.split('\n').pop().trim().split(/\s+/).map(Number);
    return { cpuS: u + s, userS: u, sysS: s, maxRssKb: m, timeWallS: e };
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const u = Number(f[13]) / CLK_TCK;
  const s = Number(f[14]) / CLK_TCK;
  return { cpuS: u + s, userS: u, sysS: s };
}

/**
 * Runs argv in its own process group, with a hard timeout (SIGKILL to the whole group).
 * - cpu: wrap it to measure user+sys of the process tree.
 * - stopAfterMs: send SIGINT to the command itself (not the wrapper) after that long.
 * - onPid(pid): called with the command's pid (not the wrapper's) once it exists.
 * Resolves with { code, signal, stdout, stderr, wallS, timedOut, interruptedAtS, cpuS, ... }.
 */
export async function run(argv, { timeoutMs, cpu = false, stopAfterMs, onPid, env } = {}) {
  if (!timeoutMs) throw new Error('run: a timeout is required');
  const cpuFile = tmpFile('cpu');
  const full = cpu ? wrapForCpu(argv, cpuFile) : argv;
  const started = process.hrtime.bigint();
  const child = spawn(full[0], full.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env, BENCH_CPU_FILE: cpuFile },
  });
  const elapsedS = () => Number(process.hrtime.bigint() - started) / 1e9;
  live.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  let interruptedAtS;
  let innerPid = cpu ? undefined : child.pid;
  let done = false;
  const findInner = async () => {
    for (let i = 0; !done && innerPid === undefined && i < 2000; i++) {
      innerPid = childOf(child.pid);
      if (innerPid === undefined) await sleep(1);
    }
    if (innerPid !== undefined && !done) onPid?.(innerPid);
  };
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  child.on('error', (e) => (stderr += `spawn error: ${e.message}\n`));
  const timers = [
    setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs),
  ];
  if (stopAfterMs !== undefined) {
    timers.push(
      setTimeout(() => {
        if (innerPid === undefined || done) return;
        interruptedAtS = elapsedS();
        try {
          process.kill(innerPid, 'SIGINT');
        } catch {
          interruptedAtS = undefined;
        }
      }, stopAfterMs),
    );
  }
  findInner();
  const { code, signal } = await exited;
  done = true;
  const wallS = elapsedS();
  timers.forEach(clearTimeout);
  killGroup(child.pid); // whatever it left behind
  live.delete(child.pid);
  return { code, signal, stdout, stderr, wallS, timedOut, interruptedAtS, ...(cpu ? readCpu(cpuFile) : {}) };
}

/**
 * Starts a Python target under `sh` (so ptrace stops are not reported to this Node process as an
 * exit; see packages/core/src/launch.ts) and waits for it to print "ready".
 * Returns { pid, stop() }; stop() kills its whole process group.
 */
export async function startTarget(interp, script, args, { readyTimeoutMs = 20000 } = {}) {
  const sh = spawn('/bin/sh', ['-c', '"$@"; exit $?', 'bench-target', interp.exe, script, ...args.map(String)], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...interp.env },
  });
  live.add(sh.pid);
  const stop = async () => {
    killGroup(sh.pid);
    live.delete(sh.pid);
    if (sh.exitCode === null && sh.signalCode === null) await new Promise((r) => sh.once('close', r));
  };
  try {
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`target ${script} not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      sh.stdout.on('data', (d) => {
        out += d;
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      sh.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`target ${script} exited (${code}) before it was ready`));
      });
    });
    const pid = childOf(sh.pid);
    if (!pid) throw new Error(`target ${script}: no python process under sh`);
    return { pid, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** If a profiler left the target stopped (ptrace not released), say so and resume it. */
export function checkNotStopped(pid, what, anomalies) {
  const state = procState(pid);
  if (state === 'T' || state === 't') {
    anomalies.push(`${what}: target ${pid} left in state ${state} (stopped) after the profiler exited; sent SIGCONT`);
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Sum of the trailing counts of a raw (collapsed) profile ("stack count" per line), and its line count. */
export function rawStats(path) {
  let text;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  let samples = 0;
  let stacks = 0;
  // Samples with a frame that has no name, only an address (`0x7f… (?)`, `0x1a2b (libc.so.6)`).
  let unresolvedSamples = 0;
  for (const line of text.split('\n')) {
    const m = / (\d+)$/.exec(line);
    if (m) {
      samples += Number(m[1]);
      stacks++;
      if (line.split(';').some((frame) => /^0x[0-9a-f]+ /.test(frame))) unresolvedSamples += Number(m[1]);
    }
  }
  return { samples, stacks, unresolvedSamples };
}
export const rawSampleCount = (path) => rawStats(path)?.samples;

/** First meaningful line of an error output, for the anomalies list. */
export function firstLine(text) {
  return (
    (text || '')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l) ?? ''
  );
}

export function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

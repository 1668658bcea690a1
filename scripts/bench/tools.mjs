// The two profilers under test: how to install, run and read each of them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstLine, log, rawSampleCount, rawStats, run, tmpFile } from './lib.mjs';

export const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const PYSPY_TS = join(ROOT, 'node_modules/.bin/pyspy-ts');
export const PY_SPY_VERSION = '0.4.2';
export const VENV = join(ROOT, '.cache/bench/venv');
export const PY_SPY = join(VENV, 'bin/py-spy');
export const TARGETS = join(ROOT, 'scripts/bench/targets');

/** py-spy==PY_SPY_VERSION from PyPI in a private venv; reused when already there. */
export function ensurePySpy() {
  const version = () => {
    try {
      return execFileSync(PY_SPY, ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  if (version() === `py-spy ${PY_SPY_VERSION}`) return version();
  log(`installing py-spy==${PY_SPY_VERSION} into ${VENV}`);
  mkdirSync(join(ROOT, '.cache/bench'), { recursive: true });
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  if (!existsSync(join(VENV, 'bin/pip'))) {
    execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit', timeout: 120_000 });
  }
  execFileSync(join(VENV, 'bin/pip'), ['install', '--quiet', `py-spy==${PY_SPY_VERSION}`], {
    stdio: 'inherit',
    timeout: 600_000,
  });
  const v = version();
  if (v !== `py-spy ${PY_SPY_VERSION}`) throw new Error(`py-spy install failed: got "${v}"`);
  return v;
}

export function pyspyTsVersion() {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8'));
  let rev = '';
  try {
    rev = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    if (dirty) rev += ' + uncommitted changes';
  } catch {
    // not a git checkout
  }
  return `pyspy-ts ${pkg.version}${rev ? ` (${rev})` : ''}`;
}

const SUMMARY =
  /Samples: ([\d,]+) in ([\d.]+) s at ([\d.]+) Hz \(requested ([\d,.]+) Hz\)\. Errors: ([\d,]+)\. Missed \(sampler behind\): ([\d,]+)\. Profiler CPU: ([\d.]+) s\./;
const num = (s) => Number(s.replace(/,/g, ''));

/** Parses pyspy-ts record's stderr summary line. */
export function parsePyspyTsSummary(stderr) {
  const m = SUMMARY.exec(stderr);
  if (!m) return undefined;
  const [samples, durationS, hz, requestedHz, errors, missed, selfCpuS] = m.slice(1).map(num);
  // Ticks are not printed: achieved Hz is ticks / duration, so ticks = Hz x duration (duration
  // is printed to 0.1 s, and the record stops at --duration, so the error is well under 1%).
  const ticks = Math.round(hz * durationS);
  return { samples, durationS, hz, requestedHz, errors, missed, selfCpuS, ticks };
}

// Lines either tool prints on every normal run: anything else on stderr is worth a look.
const PYSPY_TS_NORMAL = [SUMMARY, /^Other stacks: /, /^Wrote \w+ to /, /^The program exited/, /^No samples were collected/];
const PY_SPY_NORMAL = [
  /^py-spy> Sampling process/,
  /^py-spy> Wrote /,
  /^py-spy> You can use/,
  /behind in sampling/,
  /^py-spy> Stopped sampling because/,
  /^$/,
];
const unexpected = (stderr, normal) =>
  stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !normal.some((re) => re.test(l)));

/**
 * One pyspy-ts record. target: { pid } or { command: [...] }.
 * Returns the summary numbers plus the process-tree CPU, the raw file's sample sum and problems.
 */
export async function recordPyspyTs({ target, rate, durationS, nonblocking, native, timeoutMs, onPid, env, extraArgs = [] }) {
  const out = tmpFile('pyspy-ts.txt');
  const argv = [PYSPY_TS, 'record', ...(target.pid ? ['--pid', String(target.pid)] : []), ...extraArgs];
  argv.push('--rate', String(rate), ...(durationS ? ['--duration', String(durationS)] : []));
  argv.push('--format', 'raw', '-o', out, '--hide-progress', ...(nonblocking ? ['--nonblocking'] : []));
  if (native) argv.push('--native');
  if (target.command) argv.push('--', ...target.command);
  const r = await run(argv, { timeoutMs, cpu: true, onPid, env });
  const s = parsePyspyTsSummary(r.stderr);
  const raw = rawStats(out);
  const rawSamples = rawSampleCount(out);
  const problems = [];
  if (r.timedOut) problems.push(`timed out after ${timeoutMs / 1000} s (killed)`);
  else if (r.code !== 0)
    problems.push(`exit code ${r.code ?? r.signal}: ${firstLine(unexpected(r.stderr, PYSPY_TS_NORMAL).join('\n'))}`);
  if (!s && !r.timedOut) problems.push(`no summary line; stderr: ${firstLine(r.stderr)}`);
  if (s && rawSamples !== undefined && rawSamples !== s.samples) {
    problems.push(`raw file holds ${rawSamples} samples but the summary says ${s.samples}`);
  }
  const extra = unexpected(r.stderr, PYSPY_TS_NORMAL);
  if (extra.length && r.code === 0) problems.push(`stderr: ${extra.slice(0, 3).join(' | ')}`);
  const other = /Other stacks: ([\d,]+) samples/.exec(r.stderr);
  return {
    ...(s ?? {}),
    otherSamples: other ? num(other[1]) : 0,
    stacks: raw?.stacks,
    unresolvedSamples: raw?.unresolvedSamples,
    rawSamples,
    treeCpuS: r.cpuS,
    maxRssKb: r.maxRssKb,
    wallS: r.wallS,
    stdout: r.stdout,
    ok: !!s && !r.timedOut,
    problems,
  };
}

/**
 * One py-spy record. py-spy counts --duration in samples (rate x duration), so when it falls
 * behind it runs past the duration: it is stopped with SIGINT (it then writes what it has) at
 * durationS + stopGraceS after it was spawned, and its window is that time, else durationS.
 */
export async function recordPySpy({ target, rate, durationS, nonblocking, native, timeoutMs, onPid, env, stopGraceS = 0.05 }) {
  const out = tmpFile('py-spy.txt');
  const argv = [PY_SPY, 'record', ...(target.pid ? ['--pid', String(target.pid)] : [])];
  argv.push('--rate', String(rate), ...(durationS ? ['--duration', String(durationS)] : []));
  argv.push('--format', 'raw', '-o', out, ...(nonblocking ? ['--nonblocking'] : []));
  if (native) argv.push('--native');
  if (target.command) argv.push('--', ...target.command);
  const stopAfterMs = durationS && target.pid ? (durationS + stopGraceS) * 1000 : undefined;
  const r = await run(argv, { timeoutMs, cpu: true, onPid, env, stopAfterMs });
  const raw = rawStats(out);
  const samples = raw?.samples;
  // py-spy prints its messages ("Samples: N Errors: M", "behind in sampling") on stdout.
  const said = r.stdout + r.stderr;
  const line = /Samples: (\d+) Errors: (\d+)/.exec(said);
  const behind = [...said.matchAll(/([\d.]+)s behind in sampling/g)].map((m) => Number(m[1]));
  const windowS = r.interruptedAtS ?? durationS;
  const problems = [];
  if (r.timedOut) problems.push(`timed out after ${timeoutMs / 1000} s (killed)`);
  else if (r.code !== 0)
    problems.push(`exit code ${r.code ?? r.signal}: ${firstLine(unexpected(r.stderr, PY_SPY_NORMAL).join('\n'))}`);
  if (/No child process \(os error 10\)/.test(r.stderr) && problems.length) {
    problems[problems.length - 1] +=
      ' (known py-spy race, benfred/py-spy#759: it reaps the launched child twice; the profile is written)';
  }
  if (line && samples !== undefined && Number(line[1]) !== samples) {
    problems.push(`raw file holds ${samples} samples but py-spy says ${line[1]}`);
  }
  return {
    samples,
    stacks: raw?.stacks,
    unresolvedSamples: raw?.unresolvedSamples,
    reportedSamples: line ? Number(line[1]) : undefined,
    errors: line ? Number(line[2]) : undefined,
    behindMaxS: behind.length ? Math.max(...behind) : 0,
    windowS,
    interrupted: r.interruptedAtS !== undefined,
    hz: windowS && samples !== undefined ? samples / windowS : undefined,
    treeCpuS: r.cpuS,
    maxRssKb: r.maxRssKb,
    wallS: r.wallS,
    stdout: r.stdout,
    ok: samples !== undefined && !r.timedOut && r.code === 0,
    problems,
  };
}

/** Wall time of one CLI dump (Node start-up included for pyspy-ts), and how many frames it printed. */
export async function dumpCli(tool, pid) {
  const argv = tool === 'pyspy-ts' ? [PYSPY_TS, 'dump', '--pid', String(pid)] : [PY_SPY, 'dump', '--pid', String(pid)];
  const r = await run(argv, { timeoutMs: 60_000 });
  // Both print one line per frame that names a file and line: "name (file:line)".
  const frames = r.stdout.split('\n').filter((l) => /\(.*:\d+\)\s*$/.test(l)).length;
  return { wallS: r.wallS, ok: r.code === 0 && !r.timedOut, frames, error: r.code === 0 ? undefined : firstLine(r.stderr) };
}

/** Runs api.mjs (in-process @pyspy/core calls) in its own Node process and parses its JSON. */
export async function api(args, timeoutMs) {
  const r = await run([process.execPath, join(ROOT, 'scripts/bench/api.mjs'), ...args.map(String)], { timeoutMs });
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: `api.mjs ${args[0]} failed (${r.timedOut ? 'timeout' : `exit ${r.code}`}): ${firstLine(r.stderr)}` };
  }
}

/**
 * A release as users get it: a real npm registry (verdaccio, on 127.0.0.1), every package
 * published from a clean clone of this repository (built by its prepack, binary included, by
 * scripts/release/publish.mjs), then installed and run from empty directories: npx, npm i -g,
 * pnpm dlx, and a Node script importing @pyspy/core. Only what is committed is published.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from './helpers.js';

const VERDACCIO_DIR = join(repoRoot, '.cache/verdaccio');
// The clone is made anew each run, at one path, and builds its Rust into a target directory kept
// between runs: crates.io dependencies are compiled once, the clone's own crates every time.
const CLONE = join(repoRoot, '.cache/publish-test/clone');
const CARGO_TARGET = join(repoRoot, '.cache/publish-test/target');
const { version } = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as { version: string };
const phases: string[] = [];

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Run {
  const started = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
  });
  phases.push(`${((Date.now() - started) / 1000).toFixed(1)} s  ${cmd} ${args.join(' ')}`);
  return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function ok(r: Run, what: string): Run {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r;
}

/** verdaccio 6.8.0 from the npm registry, installed once from its committed lockfile. */
function installVerdaccio(): string {
  const bin = join(VERDACCIO_DIR, 'node_modules/.bin/verdaccio');
  const lock = readFileSync(join(repoRoot, 'tests/publish/package-lock.json'), 'utf8');
  if (
    existsSync(bin) &&
    existsSync(join(VERDACCIO_DIR, 'package-lock.json')) &&
    readFileSync(join(VERDACCIO_DIR, 'package-lock.json'), 'utf8') === lock
  )
    return bin;
  rmSync(VERDACCIO_DIR, { recursive: true, force: true });
  mkdirSync(VERDACCIO_DIR, { recursive: true });
  for (const file of ['package.json', 'package-lock.json'])
    cpSync(join(repoRoot, 'tests/publish', file), join(VERDACCIO_DIR, file));
  ok(sh('npm', ['ci', '--no-audit', '--no-fund'], { cwd: VERDACCIO_DIR, timeoutMs: 300_000 }), 'installing verdaccio');
  return bin;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForRegistry(url: string, registry: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (registry.exitCode !== null) throw new Error(`verdaccio exited (${registry.exitCode}): ${log()}`);
    try {
      if ((await fetch(`${url}-/ping`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`verdaccio did not answer at ${url}: ${log()}`);
}

/** Bytes of every file below `dir`. */
function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

describe.runIf(process.platform === 'linux' && process.arch === 'x64')('published from a clean clone to a local registry', () => {
  let registry: ChildProcess | undefined;
  let work: string;
  /** Environment of a user whose npm, npx and pnpm use the local registry, with caches of their own. */
  let userEnv: NodeJS.ProcessEnv;
  let pythonTarget: ChildProcess | undefined;

  beforeAll(async () => {
    const verdaccio = installVerdaccio();
    work = tempDir('publish');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    writeFileSync(
      join(work, 'verdaccio.yaml'),
      [
        `storage: ${join(work, 'storage')}`,
        'auth:',
        '  htpasswd:',
        `    file: ${join(work, 'htpasswd')}`,
        'uplinks:',
        '  npmjs:',
        '    url: https://registry.npmjs.org/',
        // A slow answer from the public registry must not mark it down for five minutes (the
        // defaults: 30 s, two failures), which turns every later third-party dependency into a 404.
        '    timeout: 120s',
        '    max_fails: 100',
        '    fail_timeout: 1s',
        'packages:',
        // Ours come only from what this test publishes, never from the public registry.
        "  '@pyspy/*':",
        '    access: $all',
        '    publish: $authenticated',
        "  'pyspy-ts':",
        '    access: $all',
        '    publish: $authenticated',
        "  '**':",
        '    access: $all',
        '    proxy: npmjs',
        'log: { type: stdout, format: pretty, level: warn }',
        '',
      ].join('\n'),
    );
    let registryLog = '';
    registry = spawn(process.execPath, [verdaccio, '--config', join(work, 'verdaccio.yaml'), '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    registry.stdout!.on('data', (d: Buffer) => (registryLog += d));
    registry.stderr!.on('data', (d: Buffer) => (registryLog += d));
    await waitForRegistry(url, registry, () => registryLog);

    const user = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'publisher', password: 'publish-test-only' }),
    });
    expect(user.ok, await user.clone().text()).toBe(true);
    const { token } = (await user.json()) as { token: string };
    const npmrc = join(work, 'npmrc');
    writeFileSync(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
    userEnv = {
      ...process.env,
      npm_config_userconfig: npmrc,
      npm_config_registry: url,
      npm_config_cache: join(work, 'npm-cache'),
      npm_config_update_notifier: 'false',
      XDG_CACHE_HOME: join(work, 'xdg-cache'),
      npm_config_store_dir: join(work, 'pnpm-store'),
    };

    // Only what is committed: a clone, installed from the lockfile, nothing built yet.
    const clone = CLONE;
    rmSync(clone, { recursive: true, force: true });
    ok(sh('git', ['clone', '--quiet', repoRoot, clone], { cwd: work }), 'git clone');
    ok(
      sh('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'], { cwd: clone, timeoutMs: 300_000 }),
      'pnpm install in the clone',
    );
    for (const built of ['packages/cli/dist', 'packages/core/dist', 'crates/pyspy-napi/index.js'])
      expect(existsSync(join(clone, built)), built).toBe(false);
    // The clone installs from the public registry; it publishes to the local one.
    const { npm_config_store_dir: _store, XDG_CACHE_HOME: _cache, ...userEnvRest } = userEnv;
    const publishEnv = { ...userEnvRest, CARGO_TARGET_DIR: CARGO_TARGET };
    const published = ok(
      sh(process.execPath, ['scripts/release/publish.mjs', '--host-only'], { cwd: clone, env: publishEnv, timeoutMs: 1_800_000 }),
      'publishing',
    );
    // publish.mjs times each of its steps.
    phases.push(
      ...published.stderr
        .split('\n')
        .filter((line) => /^\$ |^ {2}\(\d/.test(line))
        .map((line) => `    ${line.trim()}`),
    );
  }, 2_400_000);

  afterAll(() => {
    pythonTarget?.kill('SIGKILL');
    registry?.kill('SIGTERM');
    console.log(`publish test phases:\n  ${phases.join('\n  ')}`);
    if (work) rmSync(work, { recursive: true, force: true });
    rmSync(CLONE, { recursive: true, force: true });
  });

  function emptyDir(name: string): string {
    const dir = join(work, name);
    mkdirSync(dir);
    return dir;
  }

  it('npx pyspy-ts --version prints the version', () => {
    const r = ok(
      sh('npx', ['--yes', 'pyspy-ts', '--version'], { cwd: emptyDir('npx-version'), env: userEnv }),
      'npx pyspy-ts --version',
    );
    expect(r.stdout.trim()).toBe(version);
  });

  it('npx pyspy-ts record -o out.svg -- python3 … writes a flame graph of the program', () => {
    const dir = emptyDir('npx-record');
    writeFileSync(
      join(dir, 'busy.py'),
      'import time\n\ndef published_busy_loop():\n    end = time.monotonic() + 1.5\n    while time.monotonic() < end:\n        sum(range(1000))\n\npublished_busy_loop()\n',
    );
    const r = ok(
      sh('npx', ['--yes', 'pyspy-ts', 'record', '-o', 'out.svg', '--', 'python3', 'busy.py'], { cwd: dir, env: userEnv }),
      'npx pyspy-ts record',
    );
    expect(r.stderr).toMatch(/Samples: [1-9]/);
    expect(readFileSync(join(dir, 'out.svg'), 'utf8')).toContain('published_busy_loop');
  });

  describe('with a running Python process', () => {
    let pid: number;
    beforeAll(async () => {
      const script = join(emptyDir('target'), 'waiting.py');
      writeFileSync(
        script,
        'import time\n\ndef published_waiting_here():\n    print("ready", flush=True)\n    time.sleep(600)\n\npublished_waiting_here()\n',
      );
      pythonTarget = spawn('python3', [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      pid = pythonTarget.pid!;
      await new Promise<void>((resolve, reject) => {
        pythonTarget!.stdout!.on('data', (d: Buffer) => String(d).includes('ready') && resolve());
        pythonTarget!.once('exit', (code) => reject(new Error(`target exited (${code})`)));
      });
    });

    it('npx pyspy-ts dump --pid shows its stack', () => {
      const r = ok(
        sh('npx', ['--yes', 'pyspy-ts', 'dump', '--pid', String(pid)], { cwd: emptyDir('npx-dump'), env: userEnv }),
        'npx pyspy-ts dump',
      );
      expect(r.stdout).toMatch(/published_waiting_here \(\S*waiting\.py:5\)/);
    });

    it('a Node script importing @pyspy/core dumps it', () => {
      const dir = emptyDir('node-api');
      ok(sh('npm', ['init', '-y'], { cwd: dir, env: userEnv }), 'npm init');
      ok(sh('npm', ['install', '--no-audit', '--no-fund', '@pyspy/core'], { cwd: dir, env: userEnv }), 'npm install @pyspy/core');
      writeFileSync(
        join(dir, 'dump.mjs'),
        "import { dump } from '@pyspy/core';\nconst result = await dump(Number(process.argv[2]));\nconsole.log(result.threads[0].frames.map((f) => f.name).join(' < '));\n",
      );
      const r = ok(sh(process.execPath, ['dump.mjs', String(pid)], { cwd: dir, env: userEnv }), 'node dump.mjs');
      expect(r.stdout).toContain('published_waiting_here < <module>');
    });
  });

  it('npm i pyspy-ts installs under 3 MB: the CLI, @pyspy/napi and this platform’s binary, linked against glibc ≤ 2.17', () => {
    const dir = emptyDir('npm-i');
    ok(sh('npm', ['init', '-y'], { cwd: dir, env: userEnv }), 'npm init');
    ok(sh('npm', ['install', '--no-audit', '--no-fund', 'pyspy-ts'], { cwd: dir, env: userEnv }), 'npm install pyspy-ts');
    const modules = join(dir, 'node_modules');
    const installed = readdirSync(modules, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .flatMap((e) => (e.name.startsWith('@') ? readdirSync(join(modules, e.name)).map((n) => `${e.name}/${n}`) : [e.name]));
    expect(installed.sort()).toEqual(['@pyspy/napi', '@pyspy/napi-linux-x64-gnu', 'pyspy-ts']);
    const bytes = treeBytes(modules);
    console.log(`npm i pyspy-ts: ${(bytes / 1e6).toFixed(2)} MB in node_modules`);
    expect(bytes).toBeLessThan(3e6);
    const binary = join(modules, '@pyspy/napi-linux-x64-gnu/pyspy.linux-x64-gnu.node');
    const glibc = [...spawnSync('objdump', ['-T', binary], { encoding: 'utf8' }).stdout.matchAll(/GLIBC_2\.(\d+)/g)].map((m) =>
      Number(m[1]),
    );
    expect(glibc.length).toBeGreaterThan(0);
    expect(Math.max(...glibc)).toBeLessThanOrEqual(17);
    const r = ok(sh(join(modules, '.bin/pyspy-ts'), ['--version'], { cwd: dir, env: userEnv }), 'node_modules/.bin/pyspy-ts');
    expect(r.stdout.trim()).toBe(version);
  });

  it('npm i -g pyspy-ts puts pyspy-ts on the PATH', () => {
    const prefix = emptyDir('global');
    ok(
      sh('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', 'pyspy-ts'], {
        cwd: prefix,
        env: userEnv,
      }),
      'npm i -g',
    );
    const r = ok(sh(join(prefix, 'bin/pyspy-ts'), ['--version'], { cwd: prefix, env: userEnv }), 'global pyspy-ts');
    expect(r.stdout.trim()).toBe(version);
  });

  it('pnpm dlx pyspy-ts --version', () => {
    const r = ok(sh('pnpm', ['dlx', 'pyspy-ts', '--version'], { cwd: emptyDir('pnpm-dlx'), env: userEnv }), 'pnpm dlx');
    expect(r.stdout.trim()).toBe(version);
  });
});

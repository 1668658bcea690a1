#!/usr/bin/env node
// Publishes every package of a release to the registry npm is configured for (npm_config_registry
// and its token, as `npm publish` finds them):
//   1. the native binaries into their per-platform packages (crates/pyspy-napi/npm/<platform>),
//      `napi artifacts`; then `napi pre-publish` publishes those and writes @pyspy/napi's
//      optionalDependencies;
//   2. `pnpm -r publish`: @pyspy/napi, @pyspy/render, @pyspy/core, pyspy-ts, dependencies first;
//      each builds itself on prepack.
//
//   node scripts/release/publish.mjs --artifacts DIR   binaries of every target, from CI's build jobs
//   node scripts/release/publish.mjs --host-only       builds and publishes this machine's binary only
//                                                      (tests/publish.test.ts, against a local registry)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('../..', import.meta.url).pathname;
const NAPI = join(ROOT, 'crates/pyspy-napi');
const { values } = parseArgs({ options: { artifacts: { type: 'string' }, 'host-only': { type: 'boolean', default: false } } });
if (!values.artifacts === !values['host-only']) {
  console.error('usage: node scripts/release/publish.mjs --artifacts DIR | --host-only');
  process.exit(2);
}

const sh = (cmd, args, cwd = ROOT) => {
  console.error(`$ ${[cmd, ...args].join(' ')}`);
  const started = Date.now();
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
  console.error(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
};
const napi = (...args) => sh('pnpm', ['exec', 'napi', ...args], NAPI);

const napiConfig = JSON.parse(readFileSync(join(NAPI, 'package.json'), 'utf8')).napi;
const prePublishArgs = ['pre-publish', '--tag-style', 'npm'];
if (values['host-only']) {
  const hostTarget = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-gnu`;
  if (!napiConfig.targets.includes(hostTarget)) throw new Error(`this host's target ${hostTarget} is not one of napi.targets`);
  // Through turbo, so that @pyspy/napi's prepack finds it built.
  sh('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@pyspy/napi']);
  const artifacts = mkdtempSync(join(tmpdir(), 'pyspy-artifacts-'));
  const binary = `${napiConfig.binaryName}.linux-${process.arch}-gnu.node`;
  copyFileSync(join(NAPI, binary), join(artifacts, binary));
  // The other targets have no binary here: publish this one, and list only it as optional.
  const config = join(artifacts, 'napi.json');
  writeFileSync(config, JSON.stringify({ ...napiConfig, targets: [hostTarget] }));
  napi('artifacts', '--output-dir', artifacts, '--config-path', config);
  prePublishArgs.push('--config-path', config);
} else {
  const artifacts = resolve(values.artifacts);
  if (!existsSync(artifacts)) throw new Error(`no artifacts directory ${artifacts}`);
  napi('artifacts', '--output-dir', artifacts);
}
napi(...prePublishArgs);
sh('pnpm', ['-r', 'publish', '--no-git-checks']);

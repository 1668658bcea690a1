import { createRequire } from 'node:module';
import type * as Native from '@pyspy/napi';
import { NativeAddonError } from './errors.js';

// The napi-rs loader is CommonJS and picks the right .node binary for this platform. Loaded on
// first use, not on import: `diff` and the renderers need no addon, and must work where there is
// none (a CI job comparing stored profiles on another OS).
const require = createRequire(import.meta.url);
let loaded: typeof Native | undefined;
export function native(): typeof Native {
  if (loaded) return loaded;
  try {
    loaded = require('@pyspy/napi') as typeof Native;
  } catch (error) {
    throw new NativeAddonError(describeLoadFailure(error), { cause: error });
  }
  return loaded;
}
export type { Native };

/** The per-platform packages @pyspy/napi is published with (its `napi.targets`). */
const BUILDS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl'];
const SUPPORTED = 'Linux x64 (glibc 2.17+ or musl) and Linux arm64 (glibc 2.17+); diff works anywhere';

/**
 * One line: where we are, why the addon did not load, what would work. napi-rs's own message
 * ("Cannot find native binding. npm has a bug…") blames npm whatever happened; what really
 * happened (`GLIBC_2.33 not found`, a package left out) is in its `cause` chain.
 */
export function describeLoadFailure(error: unknown): string {
  const { build, label } = currentPlatform();
  const found = loadErrorMessages(error);
  // "Cannot find module" is the loader trying a place where nothing is: only a cause when no
  // candidate was found at all.
  const failures = found.filter((message) => !/^Cannot find module\b/.test(message));
  let cause: string;
  if (failures.length > 0) cause = [...new Set(failures)].join('; ');
  else if (BUILDS.includes(build))
    cause = `its package @pyspy/napi-${build} is not installed (installed with optional dependencies left out?)`;
  else cause = `there is no build for ${build}`;
  return `the native addon cannot load on ${label}: ${cause}. pyspy-ts reads processes on ${SUPPORTED}`;
}

/** Messages of an error and its `cause` chain, first lines only, napi-rs's generic one left out. */
function loadErrorMessages(error: unknown): string[] {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e); e = (e as Error & { cause?: unknown }).cause) {
    seen.add(e);
    const firstLine = e.message.split('\n', 1)[0]!.trim();
    if (firstLine && !firstLine.startsWith('Cannot find native binding')) messages.push(firstLine);
  }
  return messages;
}

/** napi-rs's name for this platform (`linux-x64-gnu`, `darwin-arm64`) and how to show it. */
function currentPlatform(): { build: string; label: string } {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return { build: base, label: base };
  let glibc: string | undefined;
  try {
    glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
  } catch {
    // No report: name the platform without its libc.
  }
  const build = `${base}-${glibc ? 'gnu' : 'musl'}`;
  return { build, label: glibc ? `${build} (glibc ${glibc})` : build };
}

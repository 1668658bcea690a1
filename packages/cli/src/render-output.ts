/**
 * A profile as the bytes of an output file, in any format: what `record` writes and what
 * `convert` writes from a saved `.pyspy.json`, through the same function, so that the two agree.
 * Each renderer is imported only when its format is the one asked for: the CLI loads one of the
 * six, not all of them (and pprof's encoder).
 */
import type { Profile } from '@pyspy/core';
import type { Format } from './output.js';

export interface RenderOptions {
  /** Each thread as a root frame (flame graph and collapsed stacks), like py-spy's `--threads`. */
  threads?: boolean;
}

export async function renderOutput(profile: Profile, format: Format, options: RenderOptions = {}): Promise<string | Uint8Array> {
  const threads = options.threads ?? false;
  switch (format) {
    case 'flamegraph':
      return (await import('@pyspy/render/flamegraph')).renderFlamegraph(profile, { threads, title: flamegraphTitle(profile) });
    case 'speedscope':
      return (await import('@pyspy/render/speedscope')).renderSpeedscope(profile);
    case 'raw':
      return (await import('@pyspy/render/collapsed')).renderCollapsed(profile, { threads });
    case 'chrometrace':
      return (await import('@pyspy/render/chrometrace')).renderChromeTrace(profile);
    case 'json':
      return (await import('@pyspy/render/profile-json')).renderProfileJson(profile);
    case 'pprof': {
      const [{ renderPprof }, { gzipSync }] = await Promise.all([import('@pyspy/render/pprof'), import('node:zlib')]);
      // profile.proto readers expect it gzipped (they also take it raw, but pprof files are .pb.gz).
      return gzipSync(renderPprof(profile));
    }
  }
}

/** From the profile alone, so that a saved profile converted later gets the same title. */
function flamegraphTitle(profile: Profile): string {
  const what = profile.meta.command ? profile.meta.command.join(' ') : `process ${profile.meta.pid}`;
  const cpu = profile.unit === 'cpu-nanoseconds' ? ', CPU time' : '';
  return `${what} (Python ${profile.meta.pythonVersion}${cpu})`;
}

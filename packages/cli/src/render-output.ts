/**
 * A profile as the bytes of an output file, in any format: what `record` writes and what
 * `convert` writes from a saved `.pyspy.json`, through the same function, so that the two agree.
 */
import { gzipSync } from 'node:zlib';
import {
  renderChromeTrace,
  renderCollapsed,
  renderFlamegraph,
  renderPprof,
  renderProfileJson,
  renderSpeedscope,
  type Profile,
} from '@pyspy/render';
import type { Format } from './output.js';

export interface RenderOptions {
  /** Each thread as a root frame (flame graph and collapsed stacks), like py-spy's `--threads`. */
  threads?: boolean;
}

export function renderOutput(profile: Profile, format: Format, options: RenderOptions = {}): string | Uint8Array {
  const threads = options.threads ?? false;
  switch (format) {
    case 'flamegraph':
      return renderFlamegraph(profile, { threads, title: flamegraphTitle(profile) });
    case 'speedscope':
      return renderSpeedscope(profile);
    case 'raw':
      return renderCollapsed(profile, { threads });
    case 'chrometrace':
      return renderChromeTrace(profile);
    case 'json':
      return renderProfileJson(profile);
    case 'pprof':
      // profile.proto readers expect it gzipped (they also take it raw, but pprof files are .pb.gz).
      return gzipSync(renderPprof(profile));
  }
}

function flamegraphTitle(profile: Profile): string {
  const what = profile.meta.command ? profile.meta.command.join(' ') : `process ${profile.meta.pid}`;
  const cpu = profile.unit === 'cpu-nanoseconds' ? ', CPU time' : '';
  return `${what} (Python ${profile.meta.pythonVersion}${cpu})`;
}

/**
 * The file a record writes, in the format asked for. Each renderer is imported only when its
 * format is the one asked for: the CLI loads one of the six, not all of them (and pprof's encoder).
 */
import type { Profile } from '@pyspy/core';
import type { Format } from './output.js';

export async function renderOutput(
  profile: Profile,
  format: Format,
  options: { threads: boolean; title: string },
): Promise<string | Uint8Array> {
  const { threads, title } = options;
  switch (format) {
    case 'flamegraph':
      return (await import('@pyspy/render/flamegraph')).renderFlamegraph(profile, { threads, title });
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

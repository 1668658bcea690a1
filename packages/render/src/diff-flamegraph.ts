/**
 * A differential flame graph (after Brendan Gregg's): the shape is HEAD's, each frame coloured by
 * how its share of the samples changed from BASE at the same place in the tree: red where it grew,
 * blue where it shrank, white where it stayed; the stronger the colour, the larger the change
 * (relative to the largest change in the graph). Both profiles are normalized as `diffProfiles`
 * does, so frames match across checkouts and line numbers do not split them.
 */
import { normalizeProfile, type DiffOptions } from './diff.js';
import { formatPts } from './diff-report.js';
import { renderFlamegraph, type FlamegraphOptions } from './flamegraph.js';
import { buildFrameTree, type FlameFrame, type FlamegraphLayout } from './flamegraph-layout.js';
import type { Profile } from './profile.js';

export interface DiffFlamegraphOptions extends Omit<FlamegraphOptions, 'frameStyle' | 'threads'>, DiffOptions {}

/** Inclusive share (percent) of every tree position of a profile, keyed by its label path. */
function sharesByPath(profile: Profile): Map<string, number> {
  const root = buildFrameTree(profile, false);
  const shares = new Map<string, number>();
  if (root.samples === 0) return shares;
  const pending = [{ node: root, path: '' }];
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    shares.set(path, (100 * node.samples) / root.samples);
    for (const child of node.children?.values() ?? []) pending.push({ node: child, path: `${path}\n${child.label}` });
  }
  return shares;
}

function pathOf(frame: FlameFrame, layout: FlamegraphLayout): string {
  const labels: string[] = [];
  for (let f = frame; f.parent >= 0; f = layout.frames[f.parent]) labels.push(f.label);
  return labels
    .reverse()
    .map((l) => `\n${l}`)
    .join('');
}

/** Red for growth, blue for shrinkage; `intensity` in [0, 1]. Never quite white for a real change. */
export function deltaFill(deltaPts: number, intensity: number): string {
  if (deltaPts === 0 || intensity <= 0) return 'rgb(250,250,250)';
  const fade = Math.round(235 - 185 * Math.min(1, intensity));
  return deltaPts > 0 ? `rgb(255,${fade},${fade})` : `rgb(${fade},${fade},255)`;
}

export function renderDiffFlamegraph(base: Profile, head: Profile, options: DiffFlamegraphOptions = {}): string {
  const { by, stripPrefixes, ...flamegraphOptions } = options;
  const baseShares = sharesByPath(normalizeProfile(base, { by, stripPrefixes }));
  const normalizedHead = normalizeProfile(head, { by, stripPrefixes });
  const headShares = sharesByPath(normalizedHead);
  // Changes below a hundredth of a point are rounding, not signal.
  const deltaAt = (path: string) => {
    const delta = (headShares.get(path) ?? 0) - (baseShares.get(path) ?? 0);
    return Math.abs(delta) < 0.01 ? 0 : delta;
  };
  let largest = 0;
  for (const path of headShares.keys()) largest = Math.max(largest, Math.abs(deltaAt(path)));

  return renderFlamegraph(normalizedHead, {
    title: 'Differential Flame Graph',
    subtitle: 'width: head; red grew, blue shrank since base',
    ...flamegraphOptions,
    frameStyle: (frame, layout) => {
      const path = pathOf(frame, layout);
      const delta = deltaAt(path);
      const baseShare = baseShares.get(path) ?? 0;
      return {
        fill: deltaFill(delta, largest > 0 ? Math.abs(delta) / largest : 0),
        tooltipSuffix: `, ${formatPts(delta)} points since base (${baseShare.toFixed(2)}%)`,
        data: { delta: Number(delta.toFixed(2)) },
      };
    },
  });
}

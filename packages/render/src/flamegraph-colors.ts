/**
 * Frame colours: warm and deterministic per function name, so the same function has the same colour
 * in every graph of a project and a diff by eye works. Library code gets its own hues where the
 * file path gives it away (full filenames; short ones are stripped of the sys.path prefix).
 */

export type FramePalette = 'user' | 'stdlib' | 'library' | 'task' | 'native' | 'synthetic';

export const SEARCH_MATCH_FILL = 'rgb(230,0,230)';

/** FNV-1a over UTF-16 code units: tiny, stable across engines, good enough spread for hues. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // A final avalanche so names differing only in the last character still land far apart.
  hash ^= hash >>> 15;
  hash = Math.imul(hash, 0x2c1b3c6d);
  hash ^= hash >>> 12;
  return hash >>> 0;
}

export function paletteForFile(file: string): FramePalette {
  if (/[\\/](site|dist)-packages[\\/]/.test(file)) return 'library';
  if (/[\\/]python\d(\.\d+)?t?[\\/]|^<frozen |^<built-in/.test(file)) return 'stdlib';
  return 'user';
}

interface HslRange {
  hue: [number, number];
  saturation: [number, number];
  lightness: [number, number];
}

const RANGES: Record<Exclude<FramePalette, 'synthetic'>, HslRange> = {
  // Red to orange, like flamegraph.pl's "hot"; dark text stays readable on all of it.
  user: { hue: [0, 40], saturation: [78, 92], lightness: [55, 66] },
  // Yellow: standard library.
  stdlib: { hue: [48, 58], saturation: [70, 85], lightness: [56, 66] },
  // Aqua: third-party packages.
  library: { hue: [172, 195], saturation: [45, 60], lightness: [58, 70] },
  // Blue to violet: asyncio tasks (`--async`), so that the task chain stands out from the code.
  task: { hue: [215, 260], saturation: [55, 70], lightness: [70, 80] },
  // Green: native code (C, C++, Cython, Rust) with --native.
  native: { hue: [95, 135], saturation: [40, 58], lightness: [55, 67] },
};

function within([low, high]: [number, number], fraction: number): number {
  return low + (high - low) * fraction;
}

function hslToRgb(hueDeg: number, saturationPct: number, lightnessPct: number): string {
  const s = saturationPct / 100;
  const l = lightnessPct / 100;
  const chroma = (1 - Math.abs(2 * l - 1)) * s;
  const channel = (n: number) => {
    const k = (n + hueDeg / 30) % 12;
    return Math.round(255 * (l - (chroma / 2) * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return `rgb(${channel(0)},${channel(8)},${channel(4)})`;
}

/** The fill of a frame: a function of its name (and its file's palette) only. */
export function frameFill(name: string, palette: FramePalette): string {
  if (palette === 'synthetic') return 'rgb(208,208,200)';
  const hash = hashName(name);
  const range = RANGES[palette];
  return hslToRgb(
    within(range.hue, (hash & 0x3ff) / 0x3ff),
    within(range.saturation, ((hash >>> 10) & 0x3ff) / 0x3ff),
    within(range.lightness, ((hash >>> 20) & 0x3ff) / 0x3ff),
  );
}

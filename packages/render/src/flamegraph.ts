import { frameFill, paletteForFile } from './flamegraph-colors.js';
import type { FlameFrame, FlamegraphLayout } from './flamegraph-layout.js';
import { layoutFlamegraph } from './flamegraph-layout.js';
import { FLAMEGRAPH_SCRIPT, flamegraphStyle } from './flamegraph-script.js';
import type { Profile, ProfileUnit } from './profile.js';
import { estimateTextWidth, fitLabel, LABEL_PADDING_PX } from './text-fit.js';
import { formatWeight } from './units.js';
import { escapeXml } from './xml.js';

export interface FlamegraphOptions {
  /** Default: "Flame Graph" ("Icicle Graph" when inverted). */
  title?: string;
  /** Shown under the title, before the total (sample count, or CPU time with `--cpu`). */
  subtitle?: string;
  /** Image width in px. Default 1200. */
  width?: number;
  /** Height of one frame row in px. Default 16. */
  frameHeight?: number;
  /** Frames narrower than this many px are left out (with their callees). Default 0.1. */
  minWidthPx?: number;
  /** One root frame per thread, like py-spy's `--threads`. Default false. */
  threads?: boolean;
  /** Root at the top, callees growing down (an icicle graph). Default false. */
  inverted?: boolean;
  /** What a count is, in tooltips and the subtitle, when the profile's unit is samples. Default "samples". */
  countName?: string;
  /**
   * Per-frame overrides, for graphs that colour by something other than the name (a differential
   * flame graph colours by change). `layout.frames[frame.parent]` walks up to the root.
   */
  frameStyle?: (frame: FlameFrame, layout: FlamegraphLayout) => FrameStyle | undefined;
}

export interface FrameStyle {
  /** An SVG colour for the frame's rectangle. */
  fill?: string;
  /** Appended to the tooltip, after the sample count. */
  tooltipSuffix?: string;
  /** Extra `data-*` attributes (names without the `data-` prefix), for tools and tests. */
  data?: Record<string, string | number>;
}

const SIDE_PADDING_PX = 10;
const UI_FONT_SIZE_PX = 12;
const TITLE_FONT_SIZE_PX = 17;
const HEADER_HEIGHT_PX = UI_FONT_SIZE_PX * 5;
const FOOTER_HEIGHT_PX = UI_FONT_SIZE_PX * 2 + 10;
/** Rows drawn when there is nothing to show, so the message has room. */
const EMPTY_ROWS = 3;

interface Geometry {
  width: number;
  height: number;
  frameHeight: number;
  frameFontSizePx: number;
  plotWidthPx: number;
  inverted: boolean;
  rows: number;
  unit: ProfileUnit;
  countName: string;
}

function checkedNumber(value: number | undefined, fallback: number, name: string, min: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min) {
    throw new RangeError(`flamegraph option ${name} must be a number >= ${min}, got ${value}`);
  }
  return result;
}

function formatPercent(part: number, total: number): string {
  return `${((100 * part) / total).toFixed(2)}%`;
}

/** Row top of a frame at `depth`: the root sits on the bottom row, or the top row when inverted. */
function rowY(depth: number, geometry: Geometry): number {
  const { inverted, frameHeight, rows } = geometry;
  return HEADER_HEIGHT_PX + (inverted ? depth : rows - 1 - depth) * frameHeight;
}

function fixed(value: number): string {
  return Number(value.toFixed(2)).toString();
}

function renderFrame(frame: FlameFrame, total: number, geometry: Geometry, style: FrameStyle = {}): string {
  const x = SIDE_PADDING_PX + frame.xPx;
  const y = rowY(frame.depth, geometry);
  const rectHeight = geometry.frameHeight - 1;
  const textY = y + rectHeight / 2 + geometry.frameFontSizePx * 0.36;
  // Pseudo-frames (a process root, <GC>) have no file: coloured like threads and the root.
  const palette =
    frame.kind !== 'frame'
      ? 'synthetic'
      : frame.frameKind === 'task' || frame.frameKind === 'native'
        ? frame.frameKind
        : frame.file === ''
          ? 'synthetic'
          : paletteForFile(frame.file);
  const amount = formatWeight(frame.samples, geometry.unit, geometry.countName);
  const tooltip = `${frame.label} (${amount}, ${formatPercent(frame.samples, total)})${style.tooltipSuffix ?? ''}`;
  const shown = fitLabel(frame.label, frame.widthPx, (text) => estimateTextWidth(text, geometry.frameFontSizePx));
  const attributes: [string, string | number][] = [
    ['data-id', frame.id],
    ['data-kind', frame.kind],
    ...(frame.frameKind ? ([['data-frame-kind', frame.frameKind]] as [string, string][]) : []),
    ['data-name', frame.name],
    ...(frame.kind === 'frame'
      ? ([
          ['data-file', frame.file],
          ['data-line', frame.line],
        ] as [string, string | number][])
      : []),
    ['data-label', frame.label],
    ['data-samples', frame.samples],
    ['data-start', frame.start],
    ['data-depth', frame.depth],
    ...Object.entries(style.data ?? {}).map(([key, value]) => [`data-${key}`, value] as [string, string | number]),
  ];
  const attributeText = attributes.map(([key, value]) => `${key}="${escapeXml(String(value))}"`).join(' ');
  return (
    `<g class="frame" ${attributeText}>` +
    `<title>${escapeXml(tooltip)}</title>` +
    `<rect x="${fixed(x)}" y="${fixed(y)}" width="${fixed(frame.widthPx)}" height="${fixed(rectHeight)}" ` +
    `fill="${escapeXml(style.fill ?? frameFill(frame.name, palette))}" rx="2" ry="2"/>` +
    `<text x="${fixed(x + LABEL_PADDING_PX)}" y="${fixed(textY)}">${escapeXml(shown)}</text>` +
    `</g>`
  );
}

/**
 * A self-contained interactive flame graph (SVG with inline style and script), in the manner of
 * flamegraph.pl and inferno: hover for details, click to zoom, search to highlight. Without scripts
 * it is a static picture whose frames still carry tooltips.
 */
export function renderFlamegraph(profile: Profile, options: FlamegraphOptions = {}): string {
  const width = checkedNumber(options.width, 1200, 'width', 2 * SIDE_PADDING_PX + 1);
  const frameHeight = checkedNumber(options.frameHeight, 16, 'frameHeight', 4);
  const minWidthPx = checkedNumber(options.minWidthPx, 0.1, 'minWidthPx', 0);
  const inverted = options.inverted ?? false;
  const countName = options.countName ?? 'samples';
  const title = options.title ?? (inverted ? 'Icicle Graph' : 'Flame Graph');
  const plotWidthPx = width - 2 * SIDE_PADDING_PX;

  const layout = layoutFlamegraph(profile, { plotWidthPx, minWidthPx, threads: options.threads ?? false });
  const total = layout.totalSamples;
  const rows = total > 0 ? layout.maxDepth + 1 : EMPTY_ROWS;
  const geometry: Geometry = {
    width,
    height: HEADER_HEIGHT_PX + rows * frameHeight + FOOTER_HEIGHT_PX,
    frameHeight,
    frameFontSizePx: Math.max(6, Math.min(UI_FONT_SIZE_PX, frameHeight - 4)),
    plotWidthPx,
    inverted,
    rows,
    unit: profile.unit,
    countName,
  };
  const { height } = geometry;
  const subtitle = [options.subtitle, formatWeight(total, profile.unit, countName)].filter(Boolean).join(' · ');
  const footerY = height - FOOTER_HEIGHT_PX / 2 + 4;

  const body =
    total > 0
      ? layout.frames.map((frame) => renderFrame(frame, total, geometry, options.frameStyle?.(frame, layout))).join('\n')
      : '';
  const message =
    total > 0
      ? ''
      : `<text id="message" x="${width / 2}" y="${HEADER_HEIGHT_PX + (rows * frameHeight) / 2}">No samples to show</text>\n`;

  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" data-total-samples="${total}">
<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/></linearGradient></defs>
<style type="text/css"><![CDATA[${flamegraphStyle({ frameFontSizePx: geometry.frameFontSizePx, uiFontSizePx: UI_FONT_SIZE_PX, titleFontSizePx: TITLE_FONT_SIZE_PX })}]]></style>
<rect x="0" y="0" width="${width}" height="${height}" fill="url(#background)"/>
<text id="title" x="${width / 2}" y="${UI_FONT_SIZE_PX * 2}">${escapeXml(title)}</text>
<text id="subtitle" x="${width / 2}" y="${UI_FONT_SIZE_PX * 3.5}">${escapeXml(subtitle)}</text>
<text id="unzoom" class="hide" x="${SIDE_PADDING_PX}" y="${UI_FONT_SIZE_PX * 2}">Reset Zoom</text>
<text id="search" class="hide" x="${width - SIDE_PADDING_PX}" y="${UI_FONT_SIZE_PX * 2}">Search</text>
${message}<g id="frames" data-total-samples="${total}" data-plot-x="${SIDE_PADDING_PX}" data-plot-width="${fixed(plotWidthPx)}" data-font-size="${geometry.frameFontSizePx}">
${body}
</g>
<text id="details" x="${SIDE_PADDING_PX}" y="${fixed(footerY)}"> </text>
<text id="matched" class="hide" x="${width - SIDE_PADDING_PX}" y="${fixed(footerY)}"></text>
<script type="text/ecmascript"><![CDATA[${FLAMEGRAPH_SCRIPT}]]></script>
</svg>
`;
}

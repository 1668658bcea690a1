/**
 * Fitting frame labels into their rectangles without a font engine. The SVG's script re-fits them
 * with real measurements; this estimate only has to be close enough for the static picture, so it
 * errs wide (an early '..' is better than text spilling over the next frame).
 */

/** Average advance of a proportional Latin glyph, in ems (Verdana/DejaVu Sans are wide faces). */
export const NARROW_CHAR_EM = 0.62;
/** CJK, Hangul, fullwidth forms and emoji take a full em. */
export const WIDE_CHAR_EM = 1.0;
/** Horizontal padding between a frame's edge and its label, in px. */
export const LABEL_PADDING_PX = 3;

/**
 * East Asian Wide/Fullwidth blocks and the emoji planes. The script reuses this pattern's source,
 * so its fallback estimate agrees with the static one.
 */
export const WIDE_CHAR_PATTERN =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F000}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;
const COMBINING_MARK = /\p{M}/u;

export function estimateTextWidth(text: string, fontSizePx: number): number {
  let ems = 0;
  for (const char of text) {
    if (COMBINING_MARK.test(char)) continue;
    ems += WIDE_CHAR_PATTERN.test(char) ? WIDE_CHAR_EM : NARROW_CHAR_EM;
  }
  return ems * fontSizePx;
}

/**
 * The label as it fits in `widthPx`: whole, or its longest prefix (by code point, so emoji are never
 * cut in half) followed by '..', or '' when not even one character and '..' fit.
 */
export function fitLabel(label: string, widthPx: number, measure: (text: string) => number): string {
  const available = widthPx - 2 * LABEL_PADDING_PX;
  if (available <= 0) return '';
  if (measure(label) <= available) return label;
  const chars = Array.from(label);
  // Longest prefix that fits, by binary search: widths grow with the prefix.
  let low = 0;
  let high = chars.length - 1;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (measure(`${chars.slice(0, mid).join('')}..`) <= available) low = mid;
    else high = mid - 1;
  }
  return low >= 1 ? `${chars.slice(0, low).join('')}..` : '';
}

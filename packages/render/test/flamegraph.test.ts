import { describe, expect, it } from 'vitest';
import { renderFlamegraph } from '../src/index.js';
import { SEARCH_MATCH_FILL } from '../src/flamegraph-colors.js';
import { estimateTextWidth, LABEL_PADDING_PX } from '../src/text-fit.js';
import { buildProfile, emptyProfile, frame, main, unicodeProfile, work } from './fixtures.js';
import { parseSvg } from './svg.js';

const frameNamed = (frames: ReturnType<typeof parseSvg>['frames'], name: string) =>
  frames.filter((f) => f.attributes['data-name'] === name);

describe('renderFlamegraph', () => {
  it('renders one frame element per merged frame, with data attributes for tools', () => {
    const { frames } = parseSvg(renderFlamegraph(unicodeProfile()));
    expect(frames).toHaveLength(7);
    const [nandu] = frameNamed(frames, 'función_ñandú').filter((f) => f.attributes['data-samples'] === '30');
    expect(nandu.attributes).toMatchObject({ class: 'frame', 'data-kind': 'frame', 'data-file': 'módulo.py', 'data-line': '7' });
    expect(nandu.title).toBe('función_ñandú (módulo.py:7) (30 samples, 37.50%)');
  });

  it('states the title and the total sample count', () => {
    const profile = buildProfile([{ frames: [main], count: 1234567 }]);
    const { textById } = parseSvg(renderFlamegraph(profile, { title: 'My app', subtitle: 'pid 42', countName: 'ticks' }));
    expect(textById.get('title')).toBe('My app');
    expect(textById.get('subtitle')).toBe('pid 42 · 1,234,567 ticks');
    expect(parseSvg(renderFlamegraph(profile, { inverted: true })).textById.get('title')).toBe('Icicle Graph');
  });

  it('escapes markup, quotes and non-ASCII names so the SVG stays well-formed', () => {
    const nasty = frame(`<script>alert("x" & 'y')</script>`, 'a&b<c>.py', 3);
    const control = frame('tab\there\u0001bell', 'new\nline.py', 0);
    const profile = buildProfile([
      { frames: [main, nasty], count: 2 },
      { frames: [main, control], count: 1 },
      { frames: [frame('関数', '🐍/ヘビ.py', 3)], count: 1 },
    ]);
    const svg = renderFlamegraph(profile, { title: '<T> & "T"', subtitle: ']]> </svg>' });
    expect(svg).not.toContain('<script>alert');
    expect(svg.match(/\]\]>/g)).toHaveLength(2); // only the two CDATA sections close
    const { frames, textById } = parseSvg(svg);
    expect(textById.get('title')).toBe('<T> & "T"');
    expect(textById.get('subtitle')).toContain(']]> </svg>');
    const [parsedNasty] = frameNamed(frames, nasty.name);
    expect(parsedNasty.attributes['data-file']).toBe('a&b<c>.py');
    expect(parsedNasty.title).toBe(`${nasty.name} (a&b<c>.py:3) (2 samples, 50.00%)`);
    expect(frameNamed(frames, 'tab\there\uFFFDbell')[0].attributes['data-file']).toBe('new\nline.py');
    expect(frameNamed(frames, '関数')[0].text).toBe('関数 (🐍/ヘビ.py:3)');
  });

  it('truncates labels with ".." to fit their rectangle, never splitting a character', () => {
    const long = frame('a_rather_long_function_name_that_cannot_fit', '🐍🐍🐍🐍.py', 1);
    const profile = buildProfile([
      { frames: [main, long], count: 5 },
      { frames: [main, work], count: 15 },
    ]);
    const { frames } = parseSvg(renderFlamegraph(profile, { width: 500 }));
    const [parsedLong] = frameNamed(frames, long.name);
    const width = Number(parsedLong.rect.width);
    expect(parsedLong.text).toMatch(/^a_rather_l.*\.\.$/);
    expect(estimateTextWidth(parsedLong.text, 12)).toBeLessThanOrEqual(width - 2 * LABEL_PADDING_PX);
    expect(frameNamed(frames, 'work')[0].text).toBe('work (app.py:20)');
    for (const f of frames) expect(f.text).not.toMatch(/[\uD800-\uDFFF]/u);
  });

  it('colours frames by function name, deterministically', () => {
    const a = frame('compute', 'a.py', 1);
    const b = frame('compute', 'b.py', 9);
    const profile = buildProfile([
      { frames: [main, a], count: 1 },
      { frames: [main, work, b], count: 1 },
    ]);
    const fills = (svg: string) => parseSvg(svg).frames.map((f) => f.rect.fill);
    expect(fills(renderFlamegraph(profile))).toEqual(fills(renderFlamegraph(profile)));
    const computes = frameNamed(parseSvg(renderFlamegraph(profile)).frames, 'compute');
    expect(computes[0].rect.fill).toBe(computes[1].rect.fill);
    for (const fill of fills(renderFlamegraph(unicodeProfile()))) {
      expect(fill).toMatch(/^rgb\(\d+,\d+,\d+\)$/);
      expect(fill).not.toBe(SEARCH_MATCH_FILL);
    }
  });

  it('draws the root at the bottom, or at the top when inverted', () => {
    const rootY = (svg: string) => Number(parseSvg(svg).frames[0].rect.y);
    const leafY = (svg: string) => Number(parseSvg(svg).frames.at(-1)!.rect.y);
    const profile = buildProfile([{ frames: [main, work], count: 1 }]);
    expect(rootY(renderFlamegraph(profile))).toBeGreaterThan(leafY(renderFlamegraph(profile)));
    expect(rootY(renderFlamegraph(profile, { inverted: true }))).toBeLessThan(
      leafY(renderFlamegraph(profile, { inverted: true })),
    );
  });

  it('uses the width and frame height it is given', () => {
    const profile = buildProfile([{ frames: [main, work], count: 1 }]);
    const { root, frames } = parseSvg(renderFlamegraph(profile, { width: 800, frameHeight: 20 }));
    expect(root.width).toBe('800');
    expect(frames.map((f) => [f.rect.width, f.rect.height])).toEqual([
      ['780', '19'],
      ['780', '19'],
      ['780', '19'],
    ]);
    expect(() => renderFlamegraph(profile, { width: 10 })).toThrow(RangeError);
    expect(() => renderFlamegraph(profile, { minWidthPx: Number.NaN })).toThrow(RangeError);
  });

  it('renders a thread root per thread with the threads option', () => {
    const threads = [
      { id: 7, name: 'MainThread', pid: 1 },
      { id: 8, name: 'écrivain', pid: 1 },
    ];
    const profile = buildProfile(
      [
        { frames: [main], count: 1, thread: 0 },
        { frames: [main], count: 3, thread: 1 },
      ],
      { threads },
    );
    const { frames } = parseSvg(renderFlamegraph(profile, { threads: true }));
    expect(frames.filter((f) => f.attributes['data-kind'] === 'thread').map((f) => f.attributes['data-label'])).toEqual([
      'thread MainThread (tid 7)',
      'thread écrivain (tid 8)',
    ]);
  });

  it('renders a valid SVG that says so when there are no samples', () => {
    const { frames, textById } = parseSvg(renderFlamegraph(emptyProfile()));
    expect(frames).toEqual([]);
    expect(textById.get('message')).toBe('No samples to show');
    expect(textById.get('subtitle')).toBe('0 samples');
  });
});

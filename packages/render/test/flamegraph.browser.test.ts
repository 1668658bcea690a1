/**
 * The flame graph's script, in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser). Missing Chromium is a failure, not a skip: the script is only tested here.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { renderFlamegraph } from '../src/index.js';
import { buildProfile, frame, japaneseFn, main, parse, unicodeFn, work } from './fixtures.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS_DIR = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const WIDTH = 1200;
const PLOT_WIDTH = WIDTH - 20;

const jsonLoads = frame('loads', '/usr/lib/python3.12/json/__init__.py', 346);
const requestsGet = frame('get', '/srv/venv/lib/python3.12/site-packages/requests/api.py', 73);
const longName = frame('a_function_with_a_name_long_enough_to_be_cut_short', 'módulo.py', 120);
const emojiLoader = frame('cargar_datos', '📦/datos_ñ.py', 5);

// 100 samples. función_ñandú: 30 under work + 10 under 関数; work: 50 (30 of them in función_ñandú).
const profile = buildProfile([
  { frames: [main, work, unicodeFn], count: 30 },
  { frames: [main, japaneseFn, unicodeFn], count: 10 },
  { frames: [main, parse], count: 12 },
  { frames: [main, parse, jsonLoads], count: 8 },
  { frames: [main, work], count: 20 },
  { frames: [main, japaneseFn, requestsGet, longName], count: 5 },
  { frames: [main, emojiLoader], count: 15 },
]);
const TOTAL = 100;

let browser: Browser;
let page: Page;
let pageErrors: string[];
let svgUrl: string;

const frameSelector = (name: string, samples?: number) =>
  `g.frame[data-name="${name}"]${samples === undefined ? '' : `[data-samples="${samples}"]`}`;
const rectWidth = (selector: string) => page.locator(`${selector} > rect`).evaluate((r) => Number(r.getAttribute('width')));
const text = (id: string) => page.locator(`#${id}`).evaluate((t) => t.textContent ?? '');

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run scripts/system-deps.sh (as root) to install it`);
  }
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const svgPath = `${ARTIFACTS_DIR}flamegraph.svg`;
  writeFileSync(
    svgPath,
    renderFlamegraph(profile, { width: WIDTH, title: 'Flame Graph: función_ñandú', subtitle: 'python app.py' }),
  );
  svgUrl = pathToFileURL(svgPath).href;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}, 20_000);

afterAll(async () => {
  await browser?.close();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: WIDTH, height: 300 } });
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  await page.goto(svgUrl);
  await page.waitForFunction(() => 'flamegraph' in window);
});

afterEach(async () => {
  await page?.close();
  expect(pageErrors).toEqual([]);
});

describe('flame graph in Chromium', () => {
  it("shows a frame's name, samples and share in the details line on hover", async () => {
    expect(await text('details')).toBe(' ');
    await page.hover(`${frameSelector('función_ñandú', 30)} > rect`);
    expect(await text('details')).toBe('Function: función_ñandú (módulo.py:7) (30 samples, 30.00%)');
    await page.hover(`${frameSelector('関数')} > rect`);
    expect(await text('details')).toContain('関数 (🐍/ヘビ.py:3) (15 samples, 15.00%)');
  });

  it('fits every label inside its rectangle with measured text widths', async () => {
    const overflows = await page.$$eval('g.frame', (groups) =>
      groups.flatMap((g) => {
        const label = g.querySelector('text') as SVGTextElement;
        const width = Number(g.querySelector('rect')!.getAttribute('width'));
        return label.getComputedTextLength() > width - 6 + 0.5 ? [label.textContent] : [];
      }),
    );
    expect(overflows).toEqual([]);
    const cut = await page.locator(`${frameSelector(longName.name)} > text`).textContent();
    expect(cut).toMatch(/^a_fu\w+\.\.$/);
  });

  it('highlights exactly the frames a search matches and reports their share', async () => {
    page.once('dialog', (dialog) => dialog.accept('función'));
    await page.click('#search');
    const highlighted = () =>
      page.$$eval('g.frame', (groups) =>
        groups
          .filter((g) => g.querySelector('rect')!.getAttribute('fill') === 'rgb(230,0,230)')
          .map((g) => g.getAttribute('data-label')),
      );
    expect(await highlighted()).toEqual(['función_ñandú (módulo.py:7)', 'función_ñandú (módulo.py:7)']);
    const matched = await text('matched');
    expect(matched).toMatch(/^Matched: \d+\.\d%$/);
    expect(Number(matched.match(/[\d.]+/)![0])).toBeCloseTo((100 * 40) / TOTAL, 1);

    // Nested matches count once: work (50) already holds 30 of función_ñandú's 40 samples.
    const result = await page.evaluate(() => (window as any).flamegraph.search('^(work|función)'));
    expect(result.matchedSamples).toBe(60);
    expect(result.percent).toBeCloseTo((100 * 60) / TOTAL, 6);
    expect(await text('matched')).toBe('Matched: 60.0%');
    expect(await highlighted()).toHaveLength(3);

    await page.keyboard.press('Escape');
    expect(await highlighted()).toEqual([]);
    expect(await page.locator('#matched').isVisible()).toBe(false);

    page.once('dialog', (dialog) => dialog.accept('(unbalanced'));
    await page.keyboard.press('Control+f');
    expect(await highlighted()).toEqual([]);
    expect(await text('matched')).toBe('Matched: 0.0%');
  });

  it('zooms into a clicked frame and resets', async () => {
    const workSelector = frameSelector('work');
    const before = await page.$$eval('g.frame > rect', (rects) => rects.map((r) => r.getAttribute('width')));
    expect(await page.locator('#unzoom').isVisible()).toBe(false);

    await page.click(`${workSelector} > rect`);
    expect(await rectWidth(workSelector)).toBeCloseTo(PLOT_WIDTH, 1);
    expect(await rectWidth(frameSelector('función_ñandú', 30))).toBeCloseTo((PLOT_WIDTH * 30) / 50, 1);
    expect(await page.locator(frameSelector('parse')).isVisible()).toBe(false);
    expect(await page.locator(frameSelector('関数')).isVisible()).toBe(false);
    expect(await page.locator(frameSelector('main')).isVisible()).toBe(true);
    expect(await rectWidth(frameSelector('main'))).toBeCloseTo(PLOT_WIDTH, 1);
    await page.locator('svg').screenshot({ path: `${ARTIFACTS_DIR}flamegraph-zoomed.png` });

    await page.click('#unzoom');
    expect(await page.locator(frameSelector('parse')).isVisible()).toBe(true);
    expect(await page.$$eval('g.frame > rect', (rects) => rects.map((r) => r.getAttribute('width')))).toEqual(before);
    expect(await page.locator('#unzoom').isVisible()).toBe(false);

    expect(
      await page.evaluate((id) => (window as any).flamegraph.zoom(id), await page.getAttribute(workSelector, 'data-id')),
    ).toBe(true);
    expect(await page.locator(frameSelector('parse')).isVisible()).toBe(false);
    await page.keyboard.press('Escape');
    expect(await page.locator(frameSelector('parse')).isVisible()).toBe(true);
  });

  it('reads as a static picture with tooltips when scripts are off', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const staticPage = await context.newPage();
    await staticPage.goto(svgUrl);
    expect(await staticPage.locator(`${frameSelector('work')} > text`).textContent()).toBe('work (app.py:20)');
    expect(await staticPage.locator(`${frameSelector('work')} > title`).textContent()).toBe(
      'work (app.py:20) (50 samples, 50.00%)',
    );
    expect(await staticPage.locator('#search').isVisible()).toBe(false);
    await context.close();
  });

  it('saves a screenshot for people to look at', async () => {
    await page.evaluate(() => (window as any).flamegraph.search('ñ'));
    await page.hover(`${frameSelector('関数')} > rect`);
    await page.locator('svg').screenshot({ path: `${ARTIFACTS_DIR}flamegraph.png` });
    expect(existsSync(`${ARTIFACTS_DIR}flamegraph.png`)).toBe(true);
  });
});

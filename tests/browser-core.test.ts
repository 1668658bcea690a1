/**
 * examples/browser-core-dump in a real browser (Debian's Chromium, driven by playwright-core, as
 * packages/render's browser test does): the page gets a real core through its file input, reads it
 * with the WASM build in a worker, and shows the stacks, which must be the live dump's. A 3.13+
 * core alone; a 3.11 core with its binary chosen too, as a user of an older Python would.
 */
import { existsSync, rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dump, type ProcessDump } from '@pyspy/core';
import { gcore, interpreterFiles } from './cores.js';
import { interpreterById, repoRoot, tempDir } from './helpers.js';
import { frames, startParked } from './parked.js';

const CHROMIUM_PATH = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

interface PageThread {
  tid: number;
  name: string;
  frames: { name: string; filename: string; line: number }[];
}

let browser: Browser;
let server: { url: string; close: () => void };
const coreDirs: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run scripts/system-deps.sh (as root)`);
  const { serve } = (await import(`${repoRoot}/examples/browser-core-dump/serve.mjs`)) as {
    serve: (port: number) => Promise<{ url: string; close: () => void }>;
  };
  server = await serve(0);
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  for (const d of coreDirs) rmSync(d, { recursive: true, force: true });
});

async function capture(id: string): Promise<{ core: string; live: ProcessDump; files: string[] }> {
  const { target } = await startParked(interpreterById(id));
  try {
    const live = await dump(target.pid);
    const files = interpreterFiles(target.pid);
    const dir = tempDir('browser-core');
    coreDirs.push(dir);
    return { core: gcore(target.pid, dir), live, files };
  } finally {
    target.child.kill('SIGKILL');
  }
}

/** Opens the page, chooses the files, and waits for it to finish. */
async function readInPage(core: string, binaries: string[] = []): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(server.url);
  if (binaries.length) await page.setInputFiles('#binaries', binaries);
  await page.setInputFiles('#core', core);
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('status')?.dataset.state ?? ''), null, {
    timeout: 60_000,
  });
  return { page, errors };
}

const threadsOnPage = (page: Page): Promise<PageThread[]> =>
  page.$$eval('section.thread', (sections) =>
    sections.map((s) => ({
      tid: Number(s.getAttribute('data-tid')),
      name: s.getAttribute('data-name') ?? '',
      frames: [...s.querySelectorAll('li')].map((li) => ({
        name: li.getAttribute('data-name') ?? '',
        filename: li.getAttribute('data-filename') ?? '',
        line: Number(li.getAttribute('data-line')),
      })),
    })),
  );

function expectLiveStacks(shown: PageThread[], live: ProcessDump) {
  expect(shown.map((t) => t.tid).sort()).toEqual(live.threads.map((t) => t.nativeThreadId).sort());
  for (const thread of live.threads) {
    const onPage = shown.find((t) => t.tid === thread.nativeThreadId);
    expect(onPage?.name).toBe(thread.name);
    expect(onPage?.frames).toEqual(frames(thread.frames));
  }
}

describe('the browser page reads a core with the WASM build', () => {
  it('shows every thread of a 3.14 core as the live dump, from the core alone', async () => {
    const { core, live } = await capture('3.14-sid');
    const { page, errors } = await readInPage(core);
    expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe(
      'done',
    );
    expect(await page.locator('#header').textContent()).toContain(`Python v${live.pythonVersion}`);
    expectLiveStacks(await threadsOnPage(page), live);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('says which binary a 3.11 core needs, and reads it once the binary is chosen too', async () => {
    const { core, live, files } = await capture('3.11-system');
    const without = await readInPage(core);
    const status = await without.page.locator('#status').textContent();
    expect(status).toMatch(/^PYSPY_MISSING_BINARY: .*python3\.11.*--binary/);
    await without.page.close();
    const { page, errors } = await readInPage(core, files);
    expect(await page.locator('#status').getAttribute('data-state'), (await page.locator('#status').textContent()) ?? '').toBe(
      'done',
    );
    expectLiveStacks(await threadsOnPage(page), live);
    expect(errors).toEqual([]);
    await page.close();
  });
});

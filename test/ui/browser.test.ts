/**
 * The dashboard in a real browser: Debian's headless Chromium driven by playwright-core (never
 * a downloaded browser). The demo loaded a day at a time; the overview's chart must draw a bar
 * per run, the clicks from the overview must reach a run, a table and a reject, the lineage's
 * nodes must link, the overview must refresh by itself when a run lands, and the pages must
 * work with JavaScript off. Screenshots go to the test's temp folder (copied to
 * $TRIBUTARY_UI_SCREENSHOTS when set). Under CI=true a missing
 * Chromium fails the test (`.ci/run` installs it); elsewhere it is skipped with a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import { startUi, type UiServer } from '../../src/ui/index.js';
import { Workspace } from '../helpers/workspace.js';
import { CHROMIUM, CHROMIUM_ARGS, DEMO, loadDemoByDay } from './helpers.js';

const inCI = process.env.CI === 'true' || process.env.CI === '1';
const present = fs.existsSync(CHROMIUM);
if (!present && !inCI)
  console.warn(`${CHROMIUM} is missing: skipping the browser tests (apt-get install chromium)`);

describe('chromium for the browser tests', () => {
  it.runIf(inCI)('is installed under CI (.ci/run installs it)', () => {
    expect(present, `${CHROMIUM} is missing`).toBe(true);
  });
});

describe.runIf(present)('dashboard in headless Chromium', () => {
  let ws: Workspace;
  let server: UiServer;
  let context: BrowserContext;
  let shots: string;

  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    await loadDemoByDay(ws);
    server = await startUi({ config: readConfig(path.join(ws.dir, 'tributary.yaml')), port: 0 });
    shots = path.join(ws.dir, 'screenshots');
    fs.mkdirSync(shots);
    // A fresh profile folder each time (launchPersistentContext's user data dir).
    context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(ws.dir, 'profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    // Kept where TRIBUTARY_UI_SCREENSHOTS says (a folder), else gone with the workspace.
    const keep = process.env.TRIBUTARY_UI_SCREENSHOTS;
    if (keep && shots && fs.existsSync(shots)) {
      fs.cpSync(shots, keep, { recursive: true });
      console.log(`dashboard screenshots: ${keep}`);
    }
    await ws?.drop();
  });

  const open = async (p: string): Promise<Page> => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(new URL(p, server.url).toString());
    (page as Page & { errors: string[] }).errors = errors;
    return page;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  it('overview: the chart draws a visible bar per run; no script error', async () => {
    const page = await open('/');
    const bars = page.locator('svg.chart rect.bar');
    await expect.poll(() => bars.count()).toBe(3);
    for (let i = 0; i < 3; i++) {
      const box = await bars.nth(i).boundingBox();
      expect(box?.height).toBeGreaterThan(10);
      expect(box?.width).toBeGreaterThan(5);
    }
    expect(await page.locator('svg.chart polyline.durline').count()).toBe(1);
    await expect.poll(() => page.locator('#live-mark').textContent()).toMatch(/live/);
    await shot(page, 'overview');
    expect((page as Page & { errors: string[] }).errors).toEqual([]);
    await page.close();
  });

  it('overview → a run → its files', async () => {
    const page = await open('/');
    await page.locator('.card a[href="/runs/3"]').click();
    await page.waitForURL(/\/runs\/3$/);
    expect(await page.locator('h1').textContent()).toContain('Run #3');
    expect(await page.locator('text=landing/2024-06-03/market1/orders.csv').count()).toBe(1);
    await shot(page, 'run');
    await page.close();
  });

  it('overview → a chart bar → its run', async () => {
    const page = await open('/');
    await page.locator('svg.chart a[href="/runs/2"]').click();
    await page.waitForURL(/\/runs\/2$/);
    expect(await page.locator('h1').textContent()).toContain('Run #2');
    await page.close();
  });

  it('overview → a table → its schema history', async () => {
    const page = await open('/');
    await page.locator('a[href="/tables/orders"]').first().click();
    await page.waitForURL(/\/tables\/orders$/);
    const history = page.locator('#history + table tbody tr');
    expect(await history.count()).toBeGreaterThanOrEqual(3);
    expect(await history.allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/add column\s*coupon_code/)]),
    );
    await shot(page, 'table');
    await page.close();
  });

  it('overview → rejects → one reject with its raw record; the filter form works', async () => {
    const page = await open('/');
    await page.locator('.card a[href="/rejects"]').click();
    await page.waitForURL(/\/rejects$/);
    await shot(page, 'rejects');
    await page.selectOption('select[name="reason"]', 'TYPE_MISMATCH');
    await page.locator('form.filters button[type="submit"]').click();
    await page.waitForURL(/reason=TYPE_MISMATCH/);
    const codes = await page.locator('table.rejects tbody tr td:nth-child(6)').allTextContents();
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['TYPE_MISMATCH']));
    await page.locator('table.rejects tbody tr td:first-child a').first().click();
    await page.waitForURL(/\/rejects\/\d+$/);
    expect(await page.locator('pre.raw').textContent()).toMatch(/\S/);
    await shot(page, 'reject');
    await page.close();
  });

  it('lineage: nodes drawn and linked', async () => {
    const page = await open('/lineage');
    const nodes = page.locator('svg.lineage a.node');
    expect(await nodes.count()).toBeGreaterThan(8);
    const box = await page.locator('svg.lineage').boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    await shot(page, 'lineage');
    await page.locator('svg.lineage a[data-node="model:user_totals"]').click();
    await page.waitForURL(/\/tables\/user_totals$/);
    expect(await page.locator('h1').textContent()).toContain('model');
    await page.close();
  });

  it('the overview refreshes by itself when a run lands', async () => {
    const page = await open('/');
    expect(await page.locator('svg.chart rect.bar').count()).toBe(3);
    // A fourth day: one more file, one more run, while the page stays open.
    const day = path.join(ws.dir, 'landing', '2024-06-04', 'market1');
    fs.mkdirSync(day, { recursive: true });
    fs.copyFileSync(
      path.join(DEMO, 'landing', '2024-06-03', 'market1', 'users.csv'),
      path.join(day, 'users.csv'),
    );
    await ws.run();
    await expect.poll(() => page.locator('svg.chart rect.bar').count(), { timeout: 20_000 }).toBe(4);
    expect(await page.locator('.card a[href="/runs/4"]').count()).toBe(1);
    await page.close();
  });

  it('works with JavaScript off', async () => {
    // A browser of its own (playwright gives it a fresh temporary profile), scripts disabled.
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
      await page.goto(server.url);
      expect(await page.locator('svg.chart rect.bar').count()).toBeGreaterThanOrEqual(3);
      await page.goto(new URL('/rejects?table=orders', server.url).toString());
      expect(await page.locator('table.rejects tbody tr').count()).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });
});

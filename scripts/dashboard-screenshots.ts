// `node --import tsx scripts/dashboard-screenshots.ts [OUT_DIR]`: the screenshots of
// docs/dashboard.md (default docs/images), taken from the demo's three days: the demo pipeline
// copied to a temp folder and loaded one day at a time (three runs, each day's files with that
// day's modification time), `tributary ui` on a free port, Debian's Chromium (/usr/bin/chromium,
// driven by playwright-core; never a downloaded browser) at 1280 px.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { readConfig } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { startUi } from '../src/ui/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DEMO = path.join(ROOT, 'examples', 'markets');
const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'docs', 'images'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-shots-'));
const quiet = { out: () => {}, err: (t: string) => process.stderr.write(`${t}\n`), isTTY: false };

try {
  fs.copyFileSync(path.join(DEMO, 'tributary.yaml'), path.join(dir, 'tributary.yaml'));
  fs.cpSync(path.join(DEMO, 'models'), path.join(dir, 'models'), { recursive: true });
  for (const day of ['2024-06-01', '2024-06-02', '2024-06-03']) {
    const to = path.join(dir, 'landing', day);
    fs.cpSync(path.join(DEMO, 'landing', day), to, { recursive: true });
    const at = new Date(`${day}T06:00:00Z`);
    for (const f of fs.readdirSync(to, { recursive: true, encoding: 'utf8' }))
      fs.utimesSync(path.join(to, f), at, at);
    const code = await main(
      ['node', 'tributary', 'run', '--quiet', '-c', path.join(dir, 'tributary.yaml')],
      quiet,
    );
    if (code > 1) throw new Error(`run of ${day} exited ${code}`);
  }
  const server = await startUi({ config: readConfig(path.join(dir, 'tributary.yaml')), port: 0 });
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(dir, 'profile-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  try {
    fs.mkdirSync(out, { recursive: true });
    const page = await context.newPage();
    const shoot = async (p: string, name: string, opts: { selector?: string; fullPage?: boolean } = {}) => {
      await page.goto(new URL(p, server.url).toString());
      const file = path.join(out, `dashboard-${name}.png`);
      if (opts.selector) {
        // From the top of the page down to the end of the element.
        const box = await page.locator(opts.selector).boundingBox();
        if (!box) throw new Error(`${opts.selector} not found on ${p}`);
        await page.screenshot({
          path: file,
          fullPage: true,
          clip: { x: 0, y: 0, width: 1280, height: Math.ceil(box.y + box.height + 24) },
        });
      } else await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
      console.log(file);
    };
    await shoot('/', 'overview', { fullPage: true });
    await shoot('/tables/orders', 'table', { selector: '#history + table' });
    await shoot('/runs/2', 'run', { fullPage: true });
    await shoot('/rejects', 'rejects', { fullPage: true });
    await shoot('/lineage', 'lineage', { selector: 'svg.lineage' });
  } finally {
    await context.close();
    await server.close();
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

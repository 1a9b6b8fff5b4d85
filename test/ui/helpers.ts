import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Workspace } from '../helpers/workspace.js';

/** Debian's Chromium (`apt-get install chromium`): the only browser the tests use, never a downloaded one. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags every launch uses: no network of its own, no first-run work, no sandbox (root in CI). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DEMO = path.resolve(__dirname, '../../examples/markets');
/** The demo's three days of files, each one run. */
export const DAYS = ['2024-06-01', '2024-06-02', '2024-06-03'] as const;

/**
 * The demo pipeline in `ws`, pointed at its destination, loaded one day at a time: three runs,
 * each day's files with that day's modification time (the deliveries freshness looks at).
 * `extra(day)` may add files to the day before it loads.
 */
export async function loadDemoByDay(
  ws: Workspace,
  extra?: (day: string, landing: string) => void,
  destination = ws.destination,
): Promise<void> {
  const yaml = fs
    .readFileSync(path.join(DEMO, 'tributary.yaml'), 'utf8')
    .replace(/^destination: .*$/m, `destination: ${destination}`);
  fs.writeFileSync(path.join(ws.dir, 'tributary.yaml'), yaml);
  fs.cpSync(path.join(DEMO, 'models'), path.join(ws.dir, 'models'), { recursive: true });
  for (const day of DAYS) {
    const to = path.join(ws.dir, 'landing', day);
    fs.cpSync(path.join(DEMO, 'landing', day), to, { recursive: true });
    extra?.(day, to);
    const at = new Date(`${day}T06:00:00Z`);
    for (const f of fs.readdirSync(to, { recursive: true, encoding: 'utf8' }))
      fs.utimesSync(path.join(to, f), at, at);
    await ws.run();
  }
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A GET (or another method) with node:http, so that any header (Host too) can be set. */
export function request(
  base: string,
  pathname: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const url = new URL(pathname, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

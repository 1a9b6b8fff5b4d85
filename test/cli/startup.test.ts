import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../helpers/workspace.js';
import { BIN } from './helpers.js';

/**
 * A CLI call loads only what its command runs (docs/performance.md, "Start-up"): the
 * command modules import their stages, drivers and queue client when their action runs, so
 * `--version`, `--help` and `status` on SQLite never load the server drivers, the queue
 * client, the worker pool or the CSV parser. Which modules a call loads (ES modules and
 * CommonJS requires) is recorded by test/helpers/record-imports.mjs in the real binary.
 */
const exec = promisify(execFile);
const RECORDER = path.resolve(__dirname, '../helpers/record-imports.mjs');

async function imported(args: string[], cwd: string): Promise<string[]> {
  const file = path.join(cwd, `.imports-${process.pid}-${Date.now()}.txt`);
  fs.writeFileSync(file, '');
  try {
    await exec(process.execPath, ['--import', RECORDER, BIN, ...args], {
      cwd,
      env: { ...process.env, TRIBUTARY_RECORD_IMPORTS: file },
    });
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The packages (from node_modules) among the URLs. */
function packages(urls: string[]): Set<string> {
  const out = new Set<string>();
  for (const u of urls) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
    if (m?.[1]) out.add(m[1]);
  }
  return out;
}

const HEAVY = ['bullmq', 'ioredis', 'mysql2', 'pg', 'pg-copy-streams', 'piscina', 'papaparse'];

describe('start-up loads only what the command runs', () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await Workspace.create('sqlite');
    ws.write('orders/a.csv', 'id,amount\n1,2.50\n');
    ws.config('sources:\n  - table: orders\n    files: "orders/*.csv"\n    primary_key: id\n');
    const r = await ws.cli('run', '--quiet');
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await ws.drop();
  });

  it('--version and --help load no stage: no config parser, driver or queue', async () => {
    for (const args of [['--version'], ['--help'], ['run', '--help']]) {
      const pk = packages(await imported(args, ws.dir));
      expect(pk.has('commander'), `${args}: the recorder saw the CLI's own parser`).toBe(true);
      for (const p of [...HEAVY, 'zod', 'yaml', 'pino']) expect(pk.has(p), `${args} loaded ${p}`).toBe(false);
    }
  });

  it('status on SQLite loads neither a server driver nor the queue, pool or parser', async () => {
    const urls = await imported(['status'], ws.dir);
    const pk = packages(urls);
    // The recorder sees both kinds of module: the config's schema (ES) and the driver (CommonJS).
    expect(pk.has('zod')).toBe(true);
    expect(pk.has('better-sqlite3')).toBe(true);
    // pino too: the logger is made at the first log line, and status logs none.
    for (const p of [...HEAVY, 'pino']) expect(pk.has(p), `status loaded ${p}`).toBe(false);
    expect(urls.some((u) => u.includes('/dist/runner/run.js'))).toBe(false);
  });

  it('a command that logs loads pino when it logs (the recorder sees it)', async () => {
    expect(packages(await imported(['run'], ws.dir)).has('pino')).toBe(true);
  });
});

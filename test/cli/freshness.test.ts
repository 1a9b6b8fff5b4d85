import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/ops/status.js';
import { Workspace } from '../helpers/workspace.js';

const execp = promisify(execFile);
const BIN = path.resolve(__dirname, '../../bin/tributary.js');

/**
 * Freshness (`expect_every`) through the CLI: `status` says which sources are late, and
 * `status --check` exits 5 when one is, 0 otherwise. The time is TRIBUTARY_NOW; file times are set.
 */
describe('status: freshness (expect_every)', () => {
  let ws: Workspace;
  const DAY1 = Date.parse('2024-06-01T06:00:00Z');
  const H = 3_600_000;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.config(`sources:
  - table: orders
    files: "in/orders_*.csv"
    primary_key: id
    expect_every: 24h
  - table: users
    files: "in/users_*.csv"
    primary_key: id
    expect_every: 2d
  - table: notes
    files: "in/notes_*.csv"
`);
  });
  afterEach(async () => {
    delete process.env.TRIBUTARY_NOW;
    await ws.drop();
  });

  const writeAt = (rel: string, content: string, at: number) => {
    const abs = ws.write(rel, content);
    fs.utimesSync(abs, at / 1000, at / 1000);
  };
  const statusAt = async (at: number, ...args: string[]) => {
    process.env.TRIBUTARY_NOW = new Date(at).toISOString();
    return ws.cli('status', ...args);
  };

  it('lists late sources, and --check exits 5 then, 0 otherwise', async () => {
    // No run yet: every watched source is late (no file recorded).
    const none = await statusAt(DAY1, '--check');
    expect(none.code).toBe(5);
    expect(none.stderr).toContain('2 source(s) late:');
    expect(none.stderr).toContain(
      'sources[0] (orders ← in/orders_*.csv): no file recorded yet, expected every 24h',
    );

    writeAt('in/orders_1.csv', 'id,v\n1,a\n', DAY1);
    writeAt('in/users_1.csv', 'id,v\n1,ann\n', DAY1 - 10 * H);
    writeAt('in/notes_1.csv', 'id,v\n1,n\n', DAY1 - 1000 * H);
    await ws.run('--quiet');

    const fresh = await statusAt(DAY1 + 23 * H, '--check');
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toContain('Freshness at 2024-06-02T05:00:00.000Z: no source is late');
    expect(fresh.stdout).toMatch(
      /orders ← in\/orders_\*\.csv\s+24h\s+in\/orders_1\.csv\s+2024-06-01T06:00:00\.000Z\s+23h\s+ok/,
    );
    expect(fresh.stdout).not.toContain('notes ←'); // no expect_every: not judged

    const late = await statusAt(DAY1 + 25 * H, '--check');
    expect(late.code).toBe(5);
    expect(late.stdout).toContain('1 source(s) LATE');
    expect(late.stderr).toContain(
      'sources[0] (orders ← in/orders_*.csv): newest file in/orders_1.csv modified 1d 1h ago, expected every 24h',
    );
    expect(late.stderr).not.toContain('users');
    // Without --check, status only says it.
    expect((await statusAt(DAY1 + 25 * H)).code).toBe(0);

    const json = await statusAt(DAY1 + 25 * H, '--json', '--check');
    expect(json.code).toBe(5);
    const report = JSON.parse(json.stdout) as StatusReport;
    expect(report.now).toBe('2024-06-02T07:00:00.000Z');
    expect(report.freshness).toEqual([
      {
        source: 0,
        table: 'orders',
        files: 'in/orders_*.csv',
        expectEvery: '24h',
        newestFile: 'in/orders_1.csv',
        modifiedAt: '2024-06-01T06:00:00.000Z',
        ageMs: 25 * H,
        late: true,
      },
      expect.objectContaining({ source: 1, newestFile: 'in/users_1.csv', ageMs: 35 * H, late: false }),
    ]);

    // A new file counts once a run has recorded it: `run --table users` leaves orders' new file
    // pending, so orders stays late; the plain run makes it fresh.
    writeAt('in/orders_2.csv', 'id,v\n2,b\n', DAY1 + 24 * H);
    await ws.run('--quiet', '--table', 'users');
    expect((await statusAt(DAY1 + 25 * H, '--check')).code).toBe(5);
    await ws.run('--quiet');
    expect((await statusAt(DAY1 + 25 * H, '--check')).code).toBe(0);
    // users' newest is 49 h old against 2d.
    expect((await statusAt(DAY1 + 39 * H, '--check')).stderr).toContain(
      'sources[1] (users ← in/users_*.csv): newest file in/users_1.csv modified 2d 1h ago, expected every 2d',
    );
  });

  it('--check without any expect_every exits 0; a bad TRIBUTARY_NOW is a usage error', async () => {
    ws.config('sources:\n  - table: notes\n    files: "in/*.csv"\n');
    const r = await statusAt(DAY1, '--check');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no source has `expect_every`: none can be late');
    process.env.TRIBUTARY_NOW = 'yesterday';
    const bad = await ws.cli('status');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('TRIBUTARY_NOW: got "yesterday"; expected an ISO date or date-time');
  });

  it('the binary exits 5 for a late source (the code monitoring sees)', async () => {
    const r = await execp(BIN, ['status', '--check'], {
      cwd: ws.dir,
      env: { ...process.env, TRIBUTARY_NOW: '2024-06-01T00:00:00Z' },
    }).then(
      () => ({ code: 0 }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(5);
  });
});

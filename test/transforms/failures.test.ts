import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markTableReset } from '../../src/transforms/state.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';
import { canonical, runOnce, withDest } from './helpers.js';

const ORDERS = `
sources:
  - table: orders
    files: "in/*.csv"
    primary_key: order_id
    cursor: updated_at
    columns: { amount: "decimal(12,2)" }
`;
const CSV =
  'order_id,user_id,amount,updated_at\n1,7,10.50,2024-06-01 10:00:00\n2,7,0.25,2024-06-01 11:00:00\n3,8,4.00,2024-06-01 12:00:00\n';

async function runJson(ws: Workspace) {
  const r = await ws.cli('run', '--json');
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { code: r.code, summary: events.find((e) => e.type === 'run_finished').summary };
}

describe.each(DIALECTS)('models that fail, and bad model folders, on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.config(ORDERS);
    ws.write('in/a.csv', CSV);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('a failing model stops its dependents, not its siblings, and the loaded data stays', async () => {
    ws.write('models/good.sql', "SELECT user_id, amount FROM {{ ref('orders') }}");
    ws.write('models/bad.sql', "-- @materialized table\nSELECT no_such_column FROM {{ ref('orders') }}");
    ws.write('models/after_bad.sql', "SELECT * FROM {{ ref('bad') }}");
    ws.write(
      'models/sibling.sql',
      "-- @materialized table\n-- @unique_key user_id\nSELECT user_id, ROUND(SUM(amount), 2) AS total FROM {{ ref('good') }} GROUP BY user_id",
    );
    const { code, summary } = await runJson(ws);
    expect(code).toBe(1);
    expect(summary.status).toBe('partial');
    const by = Object.fromEntries(summary.models.map((m: { name: string }) => [m.name, m]));
    expect(by.bad).toMatchObject({ status: 'failed' });
    expect(by.bad.error).toMatch(/no_such_column/);
    expect(by.after_bad).toMatchObject({ status: 'skipped', reason: 'upstream model bad failed' });
    expect(by.good).toMatchObject({ status: 'succeeded' });
    expect(by.sibling).toMatchObject({ status: 'succeeded', rows: 2 });
    await withDest(ws, async (dest) => {
      const [n] = await dest.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM orders');
      expect(Number(n?.n)).toBe(3);
      const totals = await dest.query<{ user_id: unknown; total: unknown }>(
        'SELECT user_id, total FROM sibling',
      );
      expect(totals.map((t) => [Number(t.user_id), Number(t.total)]).sort()).toEqual([
        [7, 10.75],
        [8, 4],
      ]);
    });

    // Fixed, the failed model and the one it blocked build on the next run, with nothing new to load.
    ws.write('models/bad.sql', "-- @materialized table\nSELECT order_id FROM {{ ref('orders') }}");
    const next = await runJson(ws);
    expect(next.code).toBe(0);
    expect(next.summary.models.map((m: { name: string; status: string }) => `${m.name}:${m.status}`)).toEqual(
      ['bad:succeeded', 'after_bad:succeeded'],
    );
  });

  it('cycles and references to nothing stop the run before anything is loaded, all reported together', async () => {
    ws.write('models/a.sql', "SELECT * FROM {{ ref('b') }}");
    ws.write('models/b.sql', "SELECT * FROM {{ ref('a') }}");
    ws.write('models/c.sql', "SELECT *\nFROM {{ ref('ordres') }}");
    ws.write('models/d.sql', '-- @materialized incremental\nSELECT 1 AS x');
    const r = await ws.cli('run');
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines).toEqual([
      '  - models/d.sql:1: an incremental model needs `-- @unique_key col[, col…]` in its header',
      "  - models/c.sql:2: ref('ordres') names no model and no loaded table",
      '  - models/a.sql: cycle: models/a.sql → models/b.sql → models/a.sql',
    ]);
    expect(r.stderr).toMatch(/3 problems; nothing was run/);
    expect(await withDest(ws, async (dest) => [...(await dest.readCatalog()).keys()])).toEqual([]);
    const models = await ws.cli('models');
    expect(models.code).toBe(2);
    expect(models.stderr).toContain("ref('ordres') names no model and no loaded table");
  });

  it('transform runs the named models with their upstream, and --full-refresh rebuilds them', async () => {
    ws.write('models/base.sql', "SELECT order_id, user_id, amount FROM {{ ref('orders') }}");
    ws.write(
      'models/per_user.sql',
      "-- @materialized incremental\n-- @unique_key user_id\nSELECT user_id, COUNT(*) AS n FROM {{ ref('base') }} GROUP BY user_id",
    );
    ws.write('models/other.sql', "-- @materialized table\nSELECT COUNT(*) AS n FROM {{ ref('orders') }}");
    expect((await ws.cli('run', '-q')).code).toBe(0);
    const listed = JSON.parse((await ws.cli('models', '--json')).stdout);
    expect(listed.map((m: { name: string }) => m.name)).toEqual(['base', 'other', 'per_user']);
    expect(listed[2]).toMatchObject({
      materialized: 'incremental',
      uniqueKey: ['user_id'],
      dependsOn: { models: ['base'], tables: [] },
      baseTables: ['orders'],
      lastBuild: { rows: 2 },
    });
    const up = await ws.cli('transform', 'per_user');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('Every model is up to date.');
    const full = await ws.cli('transform', 'per_user', '--full-refresh', '--json');
    const done = full.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    expect(done.summary.models).toEqual([
      expect.objectContaining({
        name: 'per_user',
        status: 'succeeded',
        refresh: 'full',
        reason: 'full refresh',
        rows: 2,
      }),
    ]);
    const unknown = await ws.cli('transform', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no model named nope; the models are: base, other, per_user');
  });

  it('rows deleted outside a run, marked with markTableReset, rebuild the incremental models reading them', async () => {
    const sql = "SELECT user_id, ROUND(SUM(amount), 2) AS total FROM {{ ref('orders') }} GROUP BY user_id";
    ws.write('models/totals.sql', `-- @materialized incremental\n-- @unique_key user_id\n${sql}`);
    ws.write('models/totals_check.sql', sql);
    expect((await runOnce(ws)).status).toBe('succeeded');
    // What `tributary reset` does to a table, outside any run.
    await withDest(ws, (dest) =>
      dest.transaction(async (tx) => {
        await markTableReset(tx, 'orders');
        await tx.execute('DELETE FROM orders WHERE user_id = 8');
      }),
    );
    const s = await runOnce(ws);
    expect(s.models).toEqual([
      expect.objectContaining({ name: 'totals', refresh: 'full', reason: 'orders was replaced or reset' }),
    ]);
    await withDest(ws, async (dest) => {
      const got = await canonical(dest, 'SELECT user_id, total FROM totals');
      expect(got).toEqual(await canonical(dest, 'SELECT user_id, total FROM totals_check'));
      expect(got).toHaveLength(1);
    });
  });
});

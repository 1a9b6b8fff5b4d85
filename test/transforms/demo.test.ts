import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCHES, expectedFinal } from '../../examples/markets/generate.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';
import { canonical, cents, runOnce, withDest } from './helpers.js';

const DEMO = path.resolve(__dirname, '../../examples/markets');

function demoWorkspace(ws: Workspace, batches: readonly string[] = BATCHES): void {
  for (const b of batches) {
    fs.cpSync(path.join(DEMO, 'landing', b), path.join(ws.dir, 'landing', b), { recursive: true });
  }
  fs.cpSync(path.join(DEMO, 'models'), path.join(ws.dir, 'models'), { recursive: true });
  const yaml = fs.readFileSync(path.join(DEMO, 'tributary.yaml'), 'utf8');
  ws.write('tributary.yaml', yaml.replace(/^destination: .*$/m, `destination: ${ws.destination}`));
}

/** The demo's models, as shipped, against the generator's independent expectation. */
describe.each(DIALECTS)('the markets demo models on %s', (dialect) => {
  let ws: Workspace;
  const expected = expectedFinal();

  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    demoWorkspace(ws);
    const r = await ws.cli('run');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  it('user_totals: per user, order count, total to the cent, first and last order date, delivered count', async () => {
    const want = new Map<
      string,
      { n: number; cents: number; first: string; last: string; delivered: number }
    >();
    for (const o of expected.orders.values()) {
      const k = `${o.market}|${o.user_id}`;
      const day = o.ordered_at.slice(0, 10);
      const w = want.get(k) ?? { n: 0, cents: 0, first: day, last: day, delivered: 0 };
      want.set(k, {
        n: w.n + 1,
        cents: w.cents,
        first: [day, w.first].sort()[0] as string,
        last: [day, w.last].sort()[1] as string,
        delivered: w.delivered + (o.status === 'delivered' ? 1 : 0),
      });
    }
    for (const [k, c] of expected.userTotalsCents) (want.get(k) as { cents: number }).cents = c;
    const rows = await withDest(ws, (dest) =>
      dest.query<Record<string, unknown>>('SELECT * FROM user_totals'),
    );
    const day = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v)).slice(0, 10);
    const got = new Map(
      rows.map((r) => [
        `${r.market}|${r.user_id}`,
        {
          n: Number(r.order_count),
          cents: cents(r.total_amount),
          first: day(r.first_order_date),
          last: day(r.last_order_date),
          delivered: Number(r.delivered_count),
        },
      ]),
    );
    expect(got).toEqual(want);
    for (const r of rows)
      expect(r.user_name ?? null).toBe(expected.users.get(`${r.market}|${r.user_id}`)?.name ?? null);
  });

  it('orders_enriched keeps every order, orphans with NULL user columns', async () => {
    const [all, orphans] = await withDest(ws, async (dest) => [
      await dest.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM orders_enriched'),
      await dest.query<{ market: string; order_id: unknown }>(
        'SELECT market, order_id FROM orders_enriched WHERE user_name IS NULL AND user_email IS NULL',
      ),
    ]);
    expect(Number(all[0]?.n)).toBe(expected.orders.size);
    expect(expected.orphanOrders.size).toBeGreaterThan(0);
    expect(new Set(orphans.map((o) => `${o.market}|${o.order_id}`))).toEqual(expected.orphanOrders);
  });

  it('deliveries_enriched: each delivery with its order and user', async () => {
    const rows = await withDest(ws, (dest) =>
      dest.query<Record<string, unknown>>(
        'SELECT market, delivery_id, order_id, user_id, user_name FROM deliveries_enriched',
      ),
    );
    expect(rows).toHaveLength(expected.deliveries.size);
    for (const r of rows) {
      const order = expected.orders.get(`${r.market}|${r.order_id}`);
      expect(r.user_id === null ? undefined : Number(r.user_id)).toBe(order?.user_id);
      expect(r.user_name ?? undefined).toBe(
        order && expected.users.get(`${r.market}|${order.user_id}`)?.name,
      );
    }
  });

  it('loaded batch by batch, user_totals is refreshed incrementally and ends the same', async () => {
    const step = await Workspace.create(dialect);
    try {
      demoWorkspace(step, []);
      const refreshes: Array<string | undefined> = [];
      for (const b of BATCHES) {
        fs.cpSync(path.join(DEMO, 'landing', b), path.join(step.dir, 'landing', b), { recursive: true });
        const s = await runOnce(step);
        refreshes.push(s.models?.find((m) => m.name === 'user_totals')?.refresh);
      }
      // Batch 2 adds columns to orders (a schema change): rebuilt; batch 3 is incremental.
      expect(refreshes).toEqual(['full', 'full', 'incremental']);
      const sql = 'SELECT * FROM user_totals';
      const once = await withDest(ws, (dest) => canonical(dest, sql));
      expect(await withDest(step, (dest) => canonical(dest, sql))).toEqual(once);
    } finally {
      await step.drop();
    }
  });

  it('a run with nothing new runs no model; history lists the model runs', async () => {
    const again = await ws.cli('run', '--json');
    const done = again.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    expect(done.summary.models ?? []).toEqual([]);
    const history = await ws.cli('history');
    expect(history.stdout).toMatch(/models\n/);
    expect(history.stdout).toMatch(/3 ok/);
    const first = JSON.parse((await ws.cli('history', '--json')).stdout).at(-1);
    expect(
      first.summary.models.map((m: { name: string; status: string }) => `${m.name}:${m.status}`),
    ).toEqual(['orders_enriched:succeeded', 'deliveries_enriched:succeeded', 'user_totals:succeeded']);
    expect(first.summary.models[2]).toMatchObject({ rows: expected.userTotalsCents.size, refresh: 'full' });
  });

  it('its data tests (models and sources) pass', async () => {
    const r = await ws.cli('test', '--json');
    expect(r.code, r.stdout).toBe(0);
    expect(
      JSON.parse(r.stdout).map((t: { name: string; status: string }) => `${t.status} ${t.name}`),
    ).toEqual([
      "passed deliveries_enriched: relationships((market, order_id), ref('orders'), (market, order_id))",
      'passed orders: not_null(amount)',
      "passed orders: accepted_values(currency, 'EUR', 'USD')",
      "passed orders_enriched: accepted_values(status, 'placed', 'paid', 'shipped', 'delivered', 'cancelled')",
      'passed user_totals: unique(market, user_id)',
      'passed user_totals: not_null(order_count, total_amount)',
    ]);
  });

  it('the demo command prints the top users by total', async () => {
    const r = await ws.cli('demo', '-c', path.join(ws.dir, 'tributary.yaml'));
    expect(r.code, r.stderr).toBe(0);
    const [topKey, topCents] = [...expected.userTotalsCents].sort((a, b) => b[1] - a[1])[0] as [
      string,
      number,
    ];
    expect(r.stdout).toContain('Top users by total');
    // npm start runs the demo's data tests after its models: all pass.
    expect(r.stdout).toContain('6 data test(s): 6 passed, 0 failed.');
    const section = r.stdout.slice(r.stdout.indexOf('Top users by total'));
    expect(section).toContain((topCents / 100).toFixed(2));
    expect(section).toContain(expected.users.get(topKey)?.name ?? '(unknown user)');
  });
});

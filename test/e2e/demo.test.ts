import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedFinal } from '../../examples/markets/generate.js';
import { DIALECTS, dump, fixed, Workspace } from '../helpers/workspace.js';

const DEMO = path.resolve(__dirname, '../../examples/markets');

/** The demo pipeline, as shipped, against the generator's independent expectation. */
describe.each(DIALECTS)('the markets demo on %s', (dialect) => {
  let ws: Workspace;
  const expected = expectedFinal();

  beforeAll(async () => {
    ws = await Workspace.create(dialect);
    fs.cpSync(path.join(DEMO, 'landing'), path.join(ws.dir, 'landing'), { recursive: true });
    const yaml = fs.readFileSync(path.join(DEMO, 'tributary.yaml'), 'utf8');
    ws.write('tributary.yaml', yaml.replace(/^destination: .*$/m, `destination: ${ws.destination}`));
    const r = await ws.cli('run');
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
  afterAll(async () => {
    await ws?.drop();
  });

  it('loads the final version of every order, exactly', async () => {
    const dest = await ws.open();
    const orders = await dump(dest, 'orders');
    await dest.close();
    expect(orders).toHaveLength(expected.orders.size);
    const want = [...expected.orders.values()].map(
      (o): Record<string, string | null> => ({
        market: o.market,
        order_id: String(o.order_id),
        user_id: String(o.user_id),
        amount: o.amount,
        currency: o.currency,
        status: o.status,
        ordered_at: o.ordered_at,
        updated_at: o.updated_at,
        coupon_code: o.coupon_code,
        channel: o.channel,
      }),
    );
    const byKey = (a: Record<string, string | null>) => `${a.market}|${a.order_id}`;
    expect(new Map(orders.map((o) => [byKey(o), o]))).toEqual(new Map(want.map((o) => [byKey(o), o])));
  });

  it('keeps the newest version of each user: stale re-sends are ignored', async () => {
    const dest = await ws.open();
    const users = await dump(dest, 'users');
    await dest.close();
    expect(users).toHaveLength(expected.users.size);
    for (const u of users) {
      const e = expected.users.get(`${u.market}|${u.user_id}`);
      expect(u, `${u.market}|${u.user_id}`).toMatchObject({
        name: e?.name,
        loyalty_tier: e?.loyalty_tier,
        updated_at: e?.updated_at,
      });
    }
  });

  it('sums amounts per user to the cent', async () => {
    const dest = await ws.open();
    const rows = await dest.query<{ market: string; user_id: number | string; total: number | string }>(
      'SELECT market, user_id, ROUND(SUM(amount), 2) AS total FROM orders GROUP BY market, user_id',
    );
    await dest.close();
    expect(rows).toHaveLength(expected.userTotalsCents.size);
    for (const r of rows) {
      const cents = expected.userTotalsCents.get(`${r.market}|${r.user_id}`) as number;
      expect(fixed(Number(r.total).toFixed(2), 2)).toBe((cents / 100).toFixed(2));
    }
  });

  it('turns nested delivery items into a child table', async () => {
    const dest = await ws.open();
    const items = await dump(dest, 'deliveries__items');
    await dest.close();
    const want = [...expected.deliveries.values()].reduce((n, d) => n + (d.items?.length ?? 0), 0);
    expect(items).toHaveLength(want);
  });

  it('rejects exactly the dirty rows, each with its reason and line', async () => {
    const rejects = JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<{
      file: string;
      line: number;
      code: string;
    }>;
    const got = rejects.map((r) => `${r.file}:${r.line}:${r.code}`).sort();
    const want = expected.rejects.map((r) => `landing/${r.file}:${r.line}:${r.kind}`).sort();
    expect(got).toEqual(want);
  });

  it('a second run finds nothing new', async () => {
    const r = await ws.cli('run');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing new to load.');
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, Workspace } from '../helpers/workspace.js';
import { canonical, runOnce, withDest } from './helpers.js';

const CONFIG = `
sources:
  - table: deliveries
    files: "in/*.jsonl"
    primary_key: delivery_id
    cursor: updated_at
`;

const SKU_TOTALS = `SELECT sku, SUM(qty) AS qty, COUNT(*) AS line_count
FROM {{ ref('deliveries__items') }}
GROUP BY sku`;

const line = (id: number, at: string, items: Array<[string, number]>) =>
  JSON.stringify({ delivery_id: id, updated_at: at, items: items.map(([sku, qty]) => ({ sku, qty })) });

/** A nested array's child rows are replaced when their parent changes: the old ones must leave the model. */
describe.each(DIALECTS)('an incremental model over a child table on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.config(CONFIG);
    ws.write('models/sku_totals.sql', `-- @materialized incremental\n-- @unique_key sku\n${SKU_TOTALS}`);
    ws.write('models/sku_check.sql', SKU_TOTALS);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('recomputes the keys of replaced child rows, old and new', async () => {
    ws.write(
      'in/1.jsonl',
      [
        line(1, '2024-06-01 10:00:00', [
          ['a', 1],
          ['b', 2],
        ]),
        line(2, '2024-06-01 10:00:00', [['c', 5]]),
      ].join('\n'),
    );
    expect((await runOnce(ws)).status).toBe('succeeded');
    // Delivery 1 now carries only c: a and b lose its lines; delivery 2 is unchanged.
    ws.write('in/2.jsonl', line(1, '2024-06-02 10:00:00', [['c', 4]]));
    const s = await runOnce(ws);
    expect(s.status).toBe('succeeded');
    expect(s.models?.find((m) => m.name === 'sku_totals')).toMatchObject({
      name: 'sku_totals',
      refresh: 'incremental',
      keys: 3,
    });
    await withDest(ws, async (dest) => {
      const got = await canonical(dest, 'SELECT sku, qty, line_count FROM sku_totals');
      expect(got).toEqual(await canonical(dest, 'SELECT sku, qty, line_count FROM sku_check'));
      expect(got).toEqual([
        JSON.stringify([
          ['sku', 'c'],
          ['qty', '9'],
          ['line_count', '2'],
        ]),
      ]);
    });
  });
});

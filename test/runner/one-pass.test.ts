import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';
import { DIALECTS, dump, rejectRows, Workspace } from '../helpers/workspace.js';

/**
 * A file for a table that exists is loaded in one pass when it fits the table as it is, and
 * in two when the first pass would have changed the schema — found at the first value that
 * does not fit, the one-pass transaction rolled back. Either way the tables, rejects and
 * counts are exactly those of two passes; checked with and without worker threads (files
 * over 1 MiB go to the pool, split in parts, as text rows on MySQL).
 */
function rows(from: number, n: number, line: (i: number) => string | undefined = () => undefined) {
  const out = ['order_id,qty,price,note,updated_at'];
  for (let i = from; i < from + n; i++) {
    out.push(
      line(i) ??
        `${i},${i % 50},${(i % 1000) + 0.25},"note ${i}, with a comma",2024-03-01 10:${String(i % 60).padStart(2, '0')}:00`,
    );
  }
  return `${out.join('\n')}\n`;
}

function writeData(ws: Workspace) {
  ws.write('in/1/orders.csv', rows(1, 100));
  // Fits the table: one pass, with two rejects that do not depend on the schema.
  ws.write(
    'in/2/orders.csv',
    rows(50, 30_000, (i) =>
      i === 7_000 ? `${i},1,2` : i === 20_000 ? `,1,2.25,x,2024-03-01 00:00:00` : undefined,
    ),
  );
  // Row 25,000 needs qty widened to a decimal: two passes, no reject.
  ws.write(
    'in/3/orders.csv',
    rows(20_000, 30_000, (i) => (i === 25_000 ? `${i},2.5,1.25,x,2024-03-02 00:00:00` : undefined)),
  );
  // A value no widening holds: two passes (the one pass cannot tell), one TYPE_MISMATCH.
  ws.write(
    'in/4/orders.csv',
    rows(60_000, 500, (i) => (i === 60_400 ? `${i},abc,1.25,x,2024-03-02 00:00:00` : undefined)),
  );
  // Fits again (qty is a decimal now): one pass.
  ws.write('in/5/orders.csv', rows(61_000, 200));
  // An extra column with only empty values: nothing to create, but the first pass sees it
  // (a rename warning would name it), so two passes.
  ws.write(
    'in/6/orders.csv',
    rows(62_000, 100).replace('updated_at\n', 'updated_at,spare\n').replaceAll(':00\n', ':00,\n'),
  );
  ws.config(`sources:
  - table: orders
    files: "in/*/orders.csv"
    primary_key: order_id
    cursor: updated_at
`);
}

describe.each(DIALECTS)('one-pass loads on %s', (dialect) => {
  const runs: Array<{ ws: Workspace; summary: RunSummary; events: RunEvent[] }> = [];
  beforeAll(async () => {
    for (const workers of [0, 2]) {
      const ws = await Workspace.create(dialect);
      writeData(ws);
      runs.push({ ws, ...(await ws.runInProcess({ workers, minPartBytes: 64 * 1024 })) });
    }
  }, 120_000);
  afterAll(async () => {
    for (const r of runs) await r.ws.drop();
  });

  const read = (ws: Workspace) =>
    ws.withDest(async (dest) => {
      const qty = (await dest.readCatalog()).get('orders')?.columns.find((c) => c.name === 'qty')?.type;
      return { orders: await dump(dest, 'orders'), rejects: await rejectRows(dest), qty };
    });

  it('reads a fitting file once, and twice when the schema must change, with the same result', async () => {
    for (const { summary, events } of runs) {
      expect(summary.status).toBe('succeeded');
      const passes = Object.fromEntries(
        events.flatMap((e) => (e.type === 'file_loaded' ? [[e.file, e.passes]] : [])),
      );
      expect(passes).toEqual({
        // A new table, read once too (test/runner/one-pass-new.test.ts).
        'in/1/orders.csv': 1,
        'in/2/orders.csv': 1,
        'in/3/orders.csv': 2,
        'in/4/orders.csv': 2,
        'in/5/orders.csv': 1,
        'in/6/orders.csv': 2,
      });
      expect(summary.tables[0]).toMatchObject({
        table: 'orders',
        inserted: 49_998 + 499 + 200 + 100,
      });
    }
    const [one, two] = runs;
    const a = await read(one!.ws);
    const b = await read(two!.ws);
    expect(a.qty).toEqual({ kind: 'decimal', precision: 20, scale: 1 });
    expect(a.rejects).toEqual([
      ['in/2/orders.csv', 6_952, 6_951, 'CSV_FIELD_COUNT', null],
      ['in/2/orders.csv', 19_952, 19_951, 'MISSING_PRIMARY_KEY', 'order_id'],
      ['in/4/orders.csv', 402, 401, 'TYPE_MISMATCH', 'qty'],
    ]);
    expect(a.orders.find((o) => o.order_id === '25000')?.qty).toMatch(/^2\.50*$/);
    expect(b).toEqual(a);
  });
});

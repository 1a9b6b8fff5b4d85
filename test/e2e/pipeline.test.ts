import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const ORDERS = `
sources:
  - table: orders
    files: "landing/*/{market}/orders*.csv"
    primary_key: [market, order_id]
    cursor: updated_at
    columns: { amount: "decimal(12,2)" }
  - table: orders
    files: "landing/*/{market}/orders*.jsonl"
    primary_key: [market, order_id]
    cursor: updated_at
    columns: { amount: "decimal(12,2)" }
`;

const batch1 =
  'Order ID,Amount,Status,Updated At\n1,12.50,placed,2024-06-01 10:00:00\n2,3.10,placed,2024-06-01 11:00:00\n';
const batch2 =
  'Order ID,Amount,Status,Updated At\n1,13.00,paid,2024-06-02 10:00:00\n3,7.25,placed,2024-06-02 09:00:00\n';
const batch3jsonl =
  '{"order_id": 2, "amount": 3.1, "status": "stale", "updated_at": "2024-05-01T00:00:00Z"}\n' +
  '{"order_id": 4, "amount": "0.99", "status": "placed", "updated_at": "2024-06-03T08:00:00Z", "channel": "app"}\n';

describe.each(DIALECTS)('pipeline end to end on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function table(name: string) {
    const dest = await ws.open();
    try {
      return await dump(dest, name);
    } finally {
      await dest.close();
    }
  }

  it('three batches in three runs give the same tables as one run over all three', async () => {
    ws.config(ORDERS);
    ws.write('landing/2024-06-01/m1/orders.csv', batch1);
    await ws.run();
    ws.write('landing/2024-06-02/m1/orders.csv', batch2);
    await ws.run();
    ws.write('landing/2024-06-03/m1/orders.jsonl', batch3jsonl);
    await ws.run();
    const incremental = await table('orders');

    const all = await Workspace.create(dialect);
    try {
      all.config(ORDERS);
      all.write('landing/2024-06-01/m1/orders.csv', batch1);
      all.write('landing/2024-06-02/m1/orders.csv', batch2);
      all.write('landing/2024-06-03/m1/orders.jsonl', batch3jsonl);
      await all.run();
      const dest = await all.open();
      const once = await dump(dest, 'orders');
      await dest.close();
      expect(once).toEqual(incremental);
    } finally {
      await all.drop();
    }
    expect(incremental).toEqual([
      {
        market: 'm1',
        order_id: '1',
        amount: '13.00',
        status: 'paid',
        updated_at: '2024-06-02 10:00:00',
        channel: null,
      },
      {
        market: 'm1',
        order_id: '2',
        amount: '3.10',
        status: 'placed',
        updated_at: '2024-06-01 11:00:00',
        channel: null,
      },
      {
        market: 'm1',
        order_id: '3',
        amount: '7.25',
        status: 'placed',
        updated_at: '2024-06-02 09:00:00',
        channel: null,
      },
      {
        market: 'm1',
        order_id: '4',
        amount: '0.99',
        status: 'placed',
        updated_at: '2024-06-03 08:00:00',
        channel: 'app',
      },
    ]);
  });

  it('merge with a cursor: a stale re-send is ignored, a newer version replaces the whole row, NULL stays NULL', async () => {
    ws.config(ORDERS);
    ws.write(
      'landing/d1/m1/orders.csv',
      'order_id,amount,note,updated_at\n1,5.00,first,2024-01-02 00:00:00\n',
    );
    await ws.run();
    // Older cursor: ignored even though it comes later.
    ws.write(
      'landing/d2/m1/orders.csv',
      'order_id,amount,note,updated_at\n1,6.00,stale,2024-01-01 00:00:00\n',
    );
    const stale = await ws.runJson();
    expect(stale.summary.tables[0]).toMatchObject({ table: 'orders', inserted: 0, updated: 0, unchanged: 1 });
    expect(await table('orders')).toEqual([
      { market: 'm1', order_id: '1', amount: '5.00', note: 'first', updated_at: '2024-01-02 00:00:00' },
    ]);
    // Newer cursor with an empty note: the whole row is replaced, the note becomes NULL.
    ws.write('landing/d3/m1/orders.csv', 'order_id,amount,note,updated_at\n1,7.00,,2024-01-03 00:00:00\n');
    const newer = await ws.runJson();
    expect(newer.summary.tables[0]).toMatchObject({ inserted: 0, updated: 1, unchanged: 0 });
    expect(await table('orders')).toEqual([
      { market: 'm1', order_id: '1', amount: '7.00', note: null, updated_at: '2024-01-03 00:00:00' },
    ]);
  });

  it('duplicate keys inside one file: the greatest cursor wins, ties go to the last row, identical rows load once', async () => {
    ws.config(ORDERS);
    ws.write(
      'landing/d1/m1/orders.csv',
      [
        'order_id,amount,updated_at',
        '1,1.00,2024-01-01 00:00:00',
        '1,2.00,2024-01-03 00:00:00',
        '1,3.00,2024-01-02 00:00:00', // older than the row before: ignored
        '2,1.00,2024-01-01 00:00:00',
        '2,2.00,2024-01-01 00:00:00', // same cursor: the later row wins
        '3,9.00,2024-01-01 00:00:00',
        '3,9.00,2024-01-01 00:00:00', // byte-identical duplicate
      ].join('\n'),
    );
    const r = await ws.runJson();
    expect(r.summary.tables[0]).toMatchObject({ inserted: 3 });
    expect((await table('orders')).map((o) => [o.order_id, o.amount])).toEqual([
      ['1', '2.00'],
      ['2', '2.00'],
      ['3', '9.00'],
    ]);
  });

  it('a rerun with nothing new loads nothing and says so', async () => {
    ws.config(ORDERS);
    ws.write('landing/d1/m1/orders.csv', batch1);
    await ws.run();
    const again = await ws.run();
    expect(again.stdout).toContain('Nothing new to load.');
    const json = await ws.runJson();
    expect(json.summary.files).toEqual({ discovered: 1, loaded: 0, unchanged: 1, failed: 0 });
    expect(json.summary.tables).toEqual([]);
  });

  it('a modified append file is reprocessed without duplicating its earlier rows', async () => {
    ws.config('sources:\n  - table: events\n    files: "in/*.ndjson"\n');
    ws.write('in/a.ndjson', '{"kind":"click","n":1}\n{"kind":"view","n":2}\n');
    ws.write('in/b.ndjson', '{"kind":"buy","n":3}\n');
    await ws.run();
    ws.write('in/a.ndjson', '{"kind":"click","n":1}\n{"kind":"view","n":2}\n{"kind":"view","n":5}\n');
    await ws.run();
    expect((await table('events')).map((e) => e.n).sort()).toEqual(['1', '2', '3', '5']);
    // Same content, new mtime: the hash says unchanged, nothing is written.
    ws.write('in/b.ndjson', '{"kind":"buy","n":3}\n');
    const r = await ws.runJson();
    expect(r.summary.files).toMatchObject({ loaded: 0, unchanged: 2 });
  });

  it('dirty rows are rejected with their reason while the rest of the file loads', async () => {
    ws.config(`${ORDERS}  - table: deliveries
    files: "landing/*/{market}/deliveries.csv"
    primary_key: [market, delivery_id]
`);
    ws.write('landing/d1/m1/orders.csv', batch1);
    ws.write('landing/d1/m1/deliveries.csv', 'delivery_id,shipped_at\n1,2024-02-28\n');
    await ws.run();
    ws.write(
      'landing/d2/m1/orders.csv',
      [
        'Order ID,Amount,Status,Updated At',
        '1,N/A,paid,2024-06-05 00:00:00', // not a decimal: the good version stays
        '2,"12,50",paid,2024-06-05 00:00:00', // decimal comma
        '5,1.00,placed,2024-06-05 00:00:00,extra', // one field too many
        ',1.00,placed,2024-06-05 00:00:00', // no key
        '6,2.00,placed,2024-06-05 00:00:00', // good
      ].join('\n'),
    );
    ws.write('landing/d2/m1/deliveries.csv', 'delivery_id,shipped_at\n2,2024-02-30\n3,2024-03-01\n');
    ws.write(
      'landing/d2/m2/orders.jsonl',
      '{"order_id": 7, "amount": "1.00", "updated_at": "2024-06-05T00:00:00Z"}\n{"order_id": 8, "amount": \n[1,2]\n',
    );
    const r = await ws.cli('run');
    expect(r.code).toBe(0); // rejected rows are reported, not a failure

    const orders = await table('orders');
    expect(orders.map((o) => [o.market, o.order_id, o.amount])).toEqual([
      ['m1', '1', '12.50'],
      ['m1', '2', '3.10'],
      ['m1', '6', '2.00'],
      ['m2', '7', '1.00'],
    ]);
    expect((await table('deliveries')).map((d) => d.delivery_id)).toEqual(['1', '3']);

    const rejects = JSON.parse((await ws.cli('rejects', '--json')).stdout) as Array<Record<string, unknown>>;
    const brief = rejects.map((x) => [x.file, x.line, x.code, x.column]);
    expect(brief).toEqual([
      ['landing/d2/m1/deliveries.csv', 2, 'TYPE_MISMATCH', 'shipped_at'],
      ['landing/d2/m1/orders.csv', 2, 'TYPE_MISMATCH', 'amount'],
      ['landing/d2/m1/orders.csv', 3, 'TYPE_MISMATCH', 'amount'],
      ['landing/d2/m1/orders.csv', 4, 'CSV_FIELD_COUNT', null],
      ['landing/d2/m1/orders.csv', 5, 'MISSING_PRIMARY_KEY', 'order_id'],
      ['landing/d2/m2/orders.jsonl', 2, 'JSON_SYNTAX', null],
      ['landing/d2/m2/orders.jsonl', 3, 'JSON_NOT_OBJECT', null],
    ]);
    const na = rejects.find((x) => x.line === 2 && x.file === 'landing/d2/m1/orders.csv');
    expect(na?.message).toMatch(/N\/A/);
    expect(na?.raw).toContain('N/A');
    expect(rejects.find((x) => x.column === 'shipped_at')?.message).toMatch(/2024-02-30/);
  });

  it('a file that cannot be read is marked failed, the others load, and it is retried next run', async () => {
    ws.config('sources:\n  - table: events\n    files: "in/*.ndjson*"\n');
    ws.write('in/a.ndjson', '{"n":1}\n');
    ws.write('in/b.ndjson.gz', '{"n":2}\n');
    // Truncate the gzip stream in the middle.
    const fs = await import('node:fs');
    const gz = fs.readFileSync(`${ws.dir}/in/b.ndjson.gz`);
    fs.writeFileSync(`${ws.dir}/in/b.ndjson.gz`, gz.subarray(0, gz.length - 6));
    ws.write('in/c.ndjson', '{"n":3}\n');
    const r = await ws.cli('run');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/in\/b\.ndjson\.gz: SOURCE_UNREADABLE/);
    expect((await table('events')).map((e) => e.n).sort()).toEqual(['1', '3']);
    ws.write('in/b.ndjson.gz', '{"n":2}\n');
    expect((await ws.cli('run')).code).toBe(0);
    expect((await table('events')).map((e) => e.n).sort()).toEqual(['1', '2', '3']);
  });

  it('nested JSON: objects flatten into columns, arrays of objects become a child table', async () => {
    ws.config(
      'sources:\n  - table: deliveries\n    files: "in/*.jsonl"\n    primary_key: delivery_id\n    cursor: updated_at\n',
    );
    ws.write(
      'in/1.jsonl',
      '{"delivery_id": 1, "updated_at": "2024-01-01", "address": {"city": "Kraków", "zip": "01234"}, "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}]}\n',
    );
    await ws.run();
    ws.write(
      'in/2.jsonl',
      '{"delivery_id": 1, "updated_at": "2024-01-02", "address": {"city": "Kraków", "zip": "01234"}, "items": [{"sku": "C", "qty": 5}]}\n',
    );
    await ws.run();
    expect(await table('deliveries')).toEqual([
      { delivery_id: '1', updated_at: '2024-01-02', address__city: 'Kraków', address__zip: '01234' },
    ]);
    expect(await table('deliveries__items')).toEqual([
      { delivery_id: '1', _tributary_idx: '0', sku: 'C', qty: '5' },
    ]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const src = (extra = '') => `sources:
  - table: items
    files: "in/*.csv"
    primary_key: id
${extra}`;

describe.each(DIALECTS)('schema evolution on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function q<T>(fn: (d: Awaited<ReturnType<Workspace['open']>>) => Promise<T>): Promise<T> {
    const dest = await ws.open();
    try {
      return await fn(dest);
    } finally {
      await dest.close();
    }
  }
  const schema = async () => JSON.parse((await ws.cli('schema', 'items', '--json')).stdout)[0].columns;
  const history = async () =>
    JSON.parse((await ws.cli('schema', 'items', '--history', '--json')).stdout) as Array<
      Record<string, unknown>
    >;

  it('widens without loss: integer → decimal, date → datetime, ids past 2^32, old rows exact', async () => {
    ws.config(src());
    ws.write('in/1.csv', 'id,cost,seen,big\n1,5,2024-01-01,4294967296\n2,7,2024-01-02,1\n');
    await ws.run();
    expect(await schema()).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'cost', type: 'integer' },
      { name: 'seen', type: 'date' },
      { name: 'big', type: 'integer' },
    ]);
    ws.write('in/2.csv', 'id,cost,seen,big\n3,6.49,2024-01-03 10:30:00,9007199254740993\n');
    await ws.run();
    const cols = await schema();
    expect(cols.find((c: { name: string }) => c.name === 'cost').type).toMatch(/^decimal\(\d+,2\)$/);
    expect(cols.find((c: { name: string }) => c.name === 'seen').type).toBe('datetime');
    const rows = await q((d) => dump(d, 'items'));
    expect(rows.map((r) => [r.id, r.cost, r.seen, r.big])).toEqual([
      ['1', '5.00', '2024-01-01 00:00:00', '4294967296'],
      ['2', '7.00', '2024-01-02 00:00:00', '1'],
      ['3', '6.49', '2024-01-03 10:30:00', '9007199254740993'],
    ]);
    const h = await history();
    expect(h.map((e) => [e.change, e.column, e.oldType, e.newType, e.file])).toEqual([
      ['create_table', null, null, null, 'in/1.csv'],
      [
        'widen_column',
        'cost',
        'integer',
        cols.find((c: { name: string }) => c.name === 'cost').type,
        'in/2.csv',
      ],
      ['widen_column', 'seen', 'date', 'datetime', 'in/2.csv'],
    ]);
    expect(h[1]?.runId).toBe(2);
  });

  it('decides a new column from every value, not a sample: a late outlier widens it', async () => {
    ws.config(src());
    const lines = ['id,v'];
    for (let i = 1; i <= 20_000; i++) lines.push(`${i},${i === 19_999 ? '0.5' : i}`);
    ws.write('in/1.csv', `${lines.join('\n')}\n`);
    const r = await ws.runJson();
    expect(r.summary.tables[0]).toMatchObject({ inserted: 20_000, rejected: 0 });
    expect((await schema())[1].type).toMatch(/^decimal/);
  });

  it('rejects a value that would need an incompatible change, unless the contract allows text', async () => {
    ws.config(src());
    ws.write('in/1.csv', 'id,qty\n1,5\n');
    await ws.run();
    ws.write('in/2.csv', 'id,qty\n2,many\n3,6\n');
    await ws.run();
    expect((await q((d) => dump(d, 'items'))).map((r) => r.qty)).toEqual(['5', '6']);
    const rejects = JSON.parse((await ws.cli('rejects', '--json')).stdout);
    expect(rejects).toMatchObject([{ code: 'TYPE_MISMATCH', column: 'qty', line: 2 }]);
    expect(rejects[0].message).toMatch(/"many" is not an? integer/);

    ws.config(src('    contract: { data_type: text }\n'));
    ws.write('in/3.csv', 'id,qty\n4,lots\n');
    await ws.run();
    expect((await schema())[1]).toEqual({ name: 'qty', type: 'text' });
    expect((await q((d) => dump(d, 'items'))).map((r) => r.qty)).toEqual(['5', '6', 'lots']);
  });

  it('type hints override inference; a hint the live table cannot take is a config error', async () => {
    ws.config(src('    columns: { zip: text, amount: "decimal(12,2)" }\n'));
    ws.write('in/1.csv', 'id,zip,amount\n1,12345,3\n');
    await ws.run();
    expect(await schema()).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'zip', type: 'text' },
      { name: 'amount', type: 'decimal(12,2)' },
    ]);
    ws.config(src('    columns: { zip: integer }\n'));
    ws.write('in/2.csv', 'id,zip,amount\n2,5,1\n');
    const r = await ws.cli('run');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/sources\[0\]\.columns\.zip: got "integer", but items\.zip is text/);
    expect((await q((d) => dump(d, 'items'))).length).toBe(1);
  });

  it('contract freeze: rows bringing a new column or needing a wider type are rejected, the rest loads', async () => {
    ws.config(src('    contract: freeze\n'));
    ws.write('in/0.csv', 'id,qty\n1,5\n');
    const created = await ws.cli('run');
    expect(created.code).toBe(1); // the table does not exist and tables are frozen: the file fails
    expect(created.stdout).toMatch(/contract freezes tables/);

    ws.config(src('    contract: { tables: evolve, columns: freeze, data_type: freeze }\n'));
    await ws.run();
    ws.write('in/1.csv', 'id,qty,color\n2,6,\n3,7,red\n4,7.5,\n');
    await ws.run();
    expect((await q((d) => dump(d, 'items'))).map((r) => r.id)).toEqual(['1', '2']);
    const rejects = JSON.parse((await ws.cli('rejects', '--json')).stdout);
    expect(rejects.map((r: Record<string, unknown>) => [r.line, r.code, r.column])).toEqual([
      [3, 'CONTRACT_FROZEN', 'color'],
      [4, 'CONTRACT_FROZEN', 'qty'],
    ]);
  });

  it('contract discard_row / discard_value: dropped rows and values are counted in the report', async () => {
    ws.config(src('    contract: { columns: discard_value, data_type: discard_row }\n'));
    ws.write('in/1.csv', 'id,qty\n1,5\n');
    await ws.run();
    ws.write('in/2.csv', 'id,qty,color\n2,6,red\n3,x,\n');
    const r = await ws.runJson();
    expect(r.summary.tables[0]).toMatchObject({
      inserted: 1,
      discardedRows: 1,
      discardedValues: 1,
      rejected: 0,
    });
    expect(await q((d) => dump(d, 'items'))).toEqual([
      { id: '1', qty: '5' },
      { id: '2', qty: '6' },
    ]);
    const text = await ws.cli('history', '--run', '2');
    expect(text.code).toBe(0);
  });

  it('renames: a mapped header keeps its column; an unmapped rename is pointed out', async () => {
    ws.config(src());
    ws.write('in/1.csv', 'id,email\n1,a@x\n');
    await ws.run();
    ws.write('in/2.csv', 'id,E-mail Address\n2,b@x\n');
    const warned = await ws.run();
    expect(warned.stdout).toMatch(
      /new column\(s\) e_mail_address while email is missing — a renamed header\?/,
    );

    ws.config(src('    rename: { "E-mail Address": email }\n'));
    ws.write('in/3.csv', 'id,E-mail Address\n3,c@x\n');
    await ws.run();
    expect((await q((d) => dump(d, 'items'))).map((r) => [r.id, r.email])).toEqual([
      ['1', 'a@x'],
      ['2', null],
      ['3', 'c@x'],
    ]);
  });

  it('hostile headers give a working table with predictable names and run nothing but our SQL', async () => {
    ws.config(src());
    const long = 'x'.repeat(300);
    const headers = [
      'id',
      'a`b',
      'x"; DROP TABLE users; --',
      'select',
      'order',
      '',
      'dup',
      'dup',
      'Order ID',
      'order_id',
      long,
      'Größe',
      '名前',
      'nul\u0000byte',
    ];
    const csvCell = (h: string) => (/[",\n]/.test(h) ? `"${h.replaceAll('"', '""')}"` : h);
    ws.write(
      'in/1.csv',
      `${headers.map(csvCell).join(',')}\n${headers.map((_, i) => String(i + 1)).join(',')}\n`,
    );
    await q(async (d) => {
      await d.execute('CREATE TABLE users (id INTEGER)');
    });
    await ws.run();
    const cols = (await schema()).map((c: { name: string }) => c.name);
    expect(cols).toEqual([
      'id',
      'a_b',
      'x_drop_table_users',
      'select',
      'order',
      'col_6',
      'dup',
      'dup_2',
      'order_id_2', // `Order ID`: the header spelled `order_id` keeps that name
      'order_id',
      expect.stringMatching(/^x{55}_[0-9a-f]{8}$/),
      'gro_e', // ß has no ASCII decomposition: it becomes a separator
      'col_13',
      'nul_byte',
    ]);
    const row = (await q((d) => dump(d, 'items')))[0] as Record<string, string>;
    expect(cols.map((c: string) => row[c])).toEqual(headers.map((_, i) => String(i + 1)));
    const tables = await q((d) => d.readCatalog());
    expect([...tables.keys()].sort()).toEqual(['items', 'users']);
  });
});

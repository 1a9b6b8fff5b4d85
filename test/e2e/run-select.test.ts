import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/runner/events.js';
import type { RunPreview } from '../../src/runner/preview.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

/**
 * `run --table T` and `run --source PATTERN` through the CLI (docs/loading.md, "Loading part
 * of a pipeline"): only the chosen sources' files load; other tables and their files stay as
 * they were (not in the ledger); a table in scope is reconciled with all of its files, so it
 * equals a full refresh of the files it holds; only the models reading it run. Then a plain run
 * catches up and every table equals a full refresh of the current files.
 */
const CONFIG = `sources:
  - table: orders
    files: "in/orders_*.csv"
    primary_key: id
  - table: orders
    files: "eu/orders_*.csv"
    primary_key: id
  - table: users
    files: "in/users_*.csv"
    primary_key: id
`;

describe.each(DIALECTS)('run --table / --source (%s)', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.config(CONFIG);
    ws.write(
      'models/order_count.sql',
      "-- @materialized table\nSELECT COUNT(*) AS n FROM {{ ref('orders') }}\n",
    );
    ws.write('models/user_names.sql', "-- @materialized table\nSELECT name FROM {{ ref('users') }}\n");
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function runJson(...args: string[]): Promise<{ code: number; summary: RunSummary; stderr: string }> {
    const r = await ws.cli('run', '--json', '--workers', '0', ...args);
    const done = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    if (!done) throw new Error(`no run_finished (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    return { code: r.code, summary: done.summary, stderr: r.stderr };
  }
  const ledger = () =>
    ws.withDest(async (d) =>
      (await d.query<{ path: string }>('SELECT path FROM _tributary_files ORDER BY path')).map((r) => r.path),
    );
  const rows = (table: string) =>
    ws.withDest(async (d) => (await dump(d, table)).map((r) => Object.values(r).join(':')));
  const tables = () => ws.withDest(async (d) => [...(await d.readCatalog()).keys()].sort());

  it('loads only the chosen sources, keeps their tables whole, leaves the rest pending, and a plain run catches up', async () => {
    ws.write('in/orders_1.csv', 'id,name\n1,a\n2,b\n');
    ws.write('eu/orders_1.csv', 'id,name\n3,c\n');
    ws.write('in/users_1.csv', 'id,name\n1,ann\n');

    // 1. --table orders: both sources of orders, not users; only the model reading orders.
    const one = await runJson('--table', 'orders');
    expect(one.code, one.stderr).toBe(0);
    expect(one.summary).toMatchObject({
      trigger: 'only table orders',
      files: { discovered: 2, loaded: 2, unchanged: 0, failed: 0 },
      filesLeft: 1,
    });
    expect(one.summary.models?.map((m) => [m.name, m.status])).toEqual([['order_count', 'succeeded']]);
    expect(await ledger()).toEqual(['eu/orders_1.csv', 'in/orders_1.csv']); // users_1 not recorded
    expect(await tables()).not.toContain('users');
    expect(await rows('orders')).toEqual(['1:a', '2:b', '3:c']);

    // 2. --source 'eu/*': a late eu file rebuilds orders, so the loaded in/ file loads again
    // with it (the table is a full refresh of its files); a new in/ file stays pending.
    ws.write('eu/orders_0.csv', 'id,name\n1,from-eu\n4,d\n');
    ws.write('in/orders_2.csv', 'id,name\n2,b2\n');
    ws.write('in/users_2.csv', 'id,name\n2,bob\n');
    const two = await runJson('--source', 'eu/*');
    expect(two.code, two.stderr).toBe(0);
    expect(two.summary.trigger).toBe('only source eu/orders_*.csv');
    expect(two.summary.reconciled).toEqual([
      { table: 'orders', action: 'rebuild', reason: 'eu/orders_0.csv arrived after in/orders_1.csv' },
    ]);
    expect(two.summary.files).toEqual({ discovered: 3, loaded: 3, unchanged: 0, failed: 0 });
    expect(two.summary.filesLeft).toBe(3); // in/orders_2, in/users_1, in/users_2
    // Key 1: in/orders_1 comes after eu/orders_0 in path order, so its "a" wins.
    expect(await rows('orders')).toEqual(['1:a', '2:b', '3:c', '4:d']);
    expect(await ledger()).toEqual(['eu/orders_0.csv', 'eu/orders_1.csv', 'in/orders_1.csv']);

    // 2b. A late file of the source left out is not looked at: no rebuild for it now.
    ws.write('in/orders_0.csv', 'id,name\n4,zero\n');
    const held = await runJson('--source', 'eu/*');
    expect(held.summary.reconciled).toBeUndefined();
    expect(held.summary.files).toEqual({ discovered: 2, loaded: 0, unchanged: 2, failed: 0 });
    expect(held.summary.filesLeft).toBe(4);
    expect(await rows('orders')).toEqual(['1:a', '2:b', '3:c', '4:d']);

    // 3. --dry-run --table users: only users' files; orders' pending file is said to be left.
    const dry = await ws.cli('run', '--dry-run', '--table', 'users', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    const preview = JSON.parse(dry.stdout) as RunPreview;
    expect(preview.files.map((f) => [f.path, f.action])).toEqual([
      ['in/users_1.csv', 'load'],
      ['in/users_2.csv', 'load'],
    ]);
    expect(preview.filesLeft).toBe(2);
    expect(preview.reconcile).toEqual([]);
    const dryText = await ws.cli('run', '--dry-run', '--table', 'users');
    expect(dryText.stdout).toContain('2 new or changed file(s) of other sources would be left pending');

    // 4. A plain run loads what was left (the late in/ file now rebuilds orders), and runs the
    // models that need it.
    const three = await runJson();
    expect(three.code, three.stderr).toBe(0);
    expect(three.summary.trigger).toBeUndefined();
    expect(three.summary.filesLeft).toBeUndefined();
    expect(three.summary.reconciled?.map((r) => r.reason)).toEqual([
      'in/orders_0.csv arrived after in/orders_1.csv',
    ]);
    expect(three.summary.files).toEqual({ discovered: 7, loaded: 7, unchanged: 0, failed: 0 });
    expect(three.summary.models?.map((m) => [m.name, m.status])).toEqual([
      ['order_count', 'succeeded'],
      ['user_names', 'succeeded'],
    ]);
    expect(await rows('orders')).toEqual(['1:a', '2:b2', '3:c', '4:zero']);
    expect(await rows('users')).toEqual(['1:ann', '2:bob']);

    // 5. --full-refresh --table users: users reloaded from its files; orders and its new file untouched.
    ws.write('in/orders_3.csv', 'id,name\n5,e\n');
    const four = await runJson('--full-refresh', '--table', 'users', '--yes');
    expect(four.code, four.stderr).toBe(0);
    expect(four.summary).toMatchObject({
      trigger: 'full refresh of users',
      files: { discovered: 2, loaded: 2, unchanged: 0 },
      filesLeft: 1,
    });
    expect(four.summary.models?.map((m) => m.name)).toEqual(['user_names']);
    expect(await ledger()).not.toContain('in/orders_3.csv');
    expect(await rows('orders')).toEqual(['1:a', '2:b2', '3:c', '4:zero']);

    // 6. The invariant: after a plain run, every table equals a full refresh of the current files.
    expect((await runJson()).summary.files.loaded).toBe(1);
    const before = { orders: await rows('orders'), users: await rows('users') };
    expect((await runJson('--full-refresh', '--yes')).code).toBe(0);
    expect({ orders: await rows('orders'), users: await rows('users') }).toEqual(before);
    expect(before.orders).toEqual(['1:a', '2:b2', '3:c', '4:zero', '5:e']);
  });
});

describe('run --table / --source: usage errors', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
    ws.config(CONFIG);
    ws.write('in/orders_1.csv', 'id,name\n1,a\n');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('an unknown table or a pattern matching no source exits 2 naming the closest, and touches nothing', async () => {
    const table = await ws.cli('run', '--table', 'ordrs');
    expect(table.code).toBe(2);
    expect(table.stderr).toContain(
      "no source feeds table ordrs (did you mean orders?); the config's tables are: orders, users",
    );
    const far = await ws.cli('run', '--table', 'invoices', '--dry-run');
    expect(far.code).toBe(2);
    expect(far.stderr).toContain("no source feeds table invoices; the config's tables are: orders, users");
    const source = await ws.cli('run', '--source', 'in/ordrs_*.csv');
    expect(source.code).toBe(2);
    expect(source.stderr).toContain(
      'no source has a files glob or table matching "in/ordrs_*.csv" (did you mean in/orders_*.csv?); the sources are: sources[0] (orders ← in/orders_*.csv), sources[1] (orders ← eu/orders_*.csv), sources[2] (users ← in/users_*.csv)',
    );
    const both = await ws.cli('run', '--table', 'users', '--source', 'eu/*', '--full-refresh', '--yes');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('no source of table users has a files glob or table matching "eu/*"');
    expect(fs.existsSync(path.join(ws.dir, '.tributary'))).toBe(false); // nothing was opened
  });

  it('--source matches a table name too, and a glob as written', async () => {
    const dry = async (...args: string[]) =>
      (JSON.parse((await ws.cli('run', '--dry-run', '--json', ...args)).stdout) as RunPreview).files.map(
        (f) => f.path,
      );
    ws.write('eu/orders_1.csv', 'id,name\n2,b\n');
    ws.write('in/users_1.csv', 'id,name\n1,ann\n');
    expect(await dry('--source', 'user*')).toEqual(['in/users_1.csv']);
    expect(await dry('--source', 'in/orders_*.csv')).toEqual(['in/orders_1.csv']);
    expect(await dry('--source', 'in/*')).toEqual(['in/orders_1.csv', 'in/users_1.csv']);
    expect(await dry('--table', 'Orders', '--source', 'e?/*')).toEqual(['eu/orders_1.csv']);
  });

  it('--test with --table tests the tables loaded and the models run, not the others', async () => {
    ws.config(
      `${CONFIG.replace('  - table: users\n', '  - table: users\n    tests: [unique(id)]\n')}  - table: orders\n    files: "none/*.csv"\n    primary_key: id\n    tests: [not_null(name)]\n`,
    );
    ws.write('in/users_1.csv', 'id,name\n1,ann\n');
    ws.write(
      'models/order_count.sql',
      "-- @materialized table\n-- @test not_null(n)\nSELECT COUNT(*) AS n FROM {{ ref('orders') }}\n",
    );
    ws.write('models/user_names.sql', "-- @test not_null(name)\nSELECT name FROM {{ ref('users') }}\n");
    const r = await ws.cli('run', '--json', '--workers', '0', '--table', 'orders', '--test');
    expect(r.code, r.stderr).toBe(0);
    const summary = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished').summary as RunSummary;
    expect(summary.models?.map((m) => m.name)).toEqual(['order_count']);
    expect(summary.tests?.map((t) => [t.name, t.status])).toEqual([
      ['order_count: not_null(n)', 'passed'],
      ['orders: not_null(name)', 'passed'],
    ]);
  });
});

/**
 * A config change that moves a file from table y (on_deleted_file: delete) to table x: a run
 * limited to x must not load it, for that would take y's ledger row of it, and y's rows from
 * it would stay for good. It is held until a run covering y takes it out of y.
 */
describe('run --table: a file moved from a table out of scope (sqlite)', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });
  const rows = (table: string) =>
    ws.withDest(async (d) => (await dump(d, table)).map((r) => Object.values(r).join(':')));

  it('is held, so a later run leaves y a full refresh of its files', async () => {
    ws.config(`sources:
  - table: x
    files: "in/x_*.csv"
    primary_key: id
  - table: y
    files: "in/*.csv"
    primary_key: id
    on_deleted_file: delete
`);
    ws.write('in/x_1.csv', 'id,name\n1,x1\n');
    ws.write('in/f.csv', 'id,name\n7,f\n');
    ws.write('in/y_1.csv', 'id,name\n8,y1\n');
    expect((await ws.cli('run', '--workers', '0')).code).toBe(0);
    expect(await rows('y')).toEqual(['7:f', '8:y1']);

    // in/f.csv now feeds x.
    ws.config(`sources:
  - table: y
    files: "in/y_*.csv"
    primary_key: id
    on_deleted_file: delete
  - table: x
    files: "in/*.csv"
    primary_key: id
`);
    const only = await ws.cli('run', '--json', '--workers', '0', '--table', 'x');
    expect(only.code, only.stderr).toBe(0);
    const summary = only.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished').summary as RunSummary;
    expect(summary).toMatchObject({ files: { loaded: 0 }, filesLeft: 1 });
    expect(summary.warnings).toContainEqual(
      expect.stringContaining('in/f.csv now feeds table x but was loaded into table y'),
    );
    expect(await rows('x')).toEqual(['1:x1']);
    expect(await rows('y')).toEqual(['7:f', '8:y1']); // untouched

    // A plain run takes f out of y and loads it into x: both are full refreshes of their files.
    expect((await ws.cli('run', '--workers', '0')).code).toBe(0);
    expect(await rows('y')).toEqual(['8:y1']);
    expect(await rows('x')).toEqual(['1:x1', '7:f']);
  });
});

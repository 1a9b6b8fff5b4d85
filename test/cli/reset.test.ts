import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';
import { cliOnTerminal } from './helpers.js';

const CONFIG = `sources:
  - table: orders
    files: "in/orders_*.jsonl"
    primary_key: id
    cursor: updated_at
  - table: users
    files: "in/users.csv"
    primary_key: id
`;
const order = (id: number, day: number, items = 1) =>
  JSON.stringify({
    id,
    updated_at: `2024-06-0${day} 10:00:00`,
    items: Array.from({ length: items }, (_, i) => ({ sku: `s${i}` })),
  });

describe.each(DIALECTS)('reset and full refresh on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.config(CONFIG);
    ws.write('in/orders_1.jsonl', `${order(1, 1, 2)}\n${order(2, 1)}\n`);
    ws.write('in/orders_2.jsonl', `${order(3, 2)}\n`);
    ws.write('in/users.csv', 'id,name\n1,Ann\n');
    await ws.run();
  });
  afterEach(async () => {
    await ws.drop();
  });

  async function state() {
    const dest = await ws.open();
    try {
      const files = await dest.query<{ path: string }>('SELECT path FROM _tributary_files ORDER BY path');
      return {
        orders: (await dump(dest, 'orders')).map((r) => r.id),
        items: (await dump(dest, 'orders__items')).length,
        users: await dump(dest, 'users', { system: true }),
        files: files.map((f) => f.path),
      };
    } finally {
      await dest.close();
    }
  }

  it('reset refuses without a terminal unless --yes, and changes nothing', async () => {
    const before = await state();
    const r = await ws.cli('reset', '--table', 'orders');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /reset orders: refusing without confirmation when no terminal can ask; pass --yes/,
    );
    expect(await state()).toEqual(before);
  });

  it('reset asks on a terminal: no changes nothing; yes forgets the table, and the next run rebuilds it from the files left', async () => {
    ws.remove('in/orders_2.jsonl');
    const no = await cliOnTerminal(ws, ['n'], 'reset', '--table', 'orders');
    expect(no.code).toBe(2);
    expect(no.questions).toEqual(['reset orders, losing the rows of 1 file(s) no longer on disk? [y/N] ']);
    expect(no.stderr).toContain(
      'orders: 3 row(s) and child tables orders__items (4) will be deleted; 2 file(s) will be forgotten.',
    );
    expect(no.stderr).toContain(
      '1 of them are no longer on disk, so their rows cannot come back: in/orders_2.jsonl',
    );
    expect(no.stderr).toContain('not confirmed; nothing was changed');
    expect((await state()).orders).toEqual(['1', '2', '3']);

    const yes = await cliOnTerminal(ws, ['y'], 'reset', '--table', 'orders');
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toContain('The next `tributary run` loads its files again.');
    const after = await state();
    expect(after).toMatchObject({ orders: [], items: 0, files: ['in/users.csv'] });
    await ws.run();
    expect(await state()).toMatchObject({
      orders: ['1', '2'],
      items: 3,
      files: ['in/orders_1.jsonl', 'in/users.csv'],
    });
  });

  it('reset --yes --json says what it removed, field by field; an unknown table is a usage error', async () => {
    const r = await ws.cli('reset', '--table', 'Orders', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      reset: [
        {
          table: 'orders',
          rows: 3,
          childTables: [{ table: 'orders__items', rows: 4 }],
          files: 2,
          missingFiles: [],
        },
      ],
    });
    const unknown = await ws.cli('reset', '--table', 'nope', '--yes');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no source feeds table nope; the config's tables are: orders, users/);
  });

  it('run --full-refresh --table reloads one table from all its files: rows of deleted files disappear', async () => {
    const usersBefore = (await state()).users;
    ws.remove('in/orders_2.jsonl');
    const refused = await ws.cli('run', '--full-refresh', '--table', 'orders');
    expect(refused.code).toBe(2);
    expect((await state()).orders).toEqual(['1', '2', '3']);

    const r = await ws.cli('run', '--full-refresh', '--table', 'orders', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const done = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    // Only orders' files: a full refresh of one table loads no other (users' files not even looked at).
    expect(done.summary).toMatchObject({
      trigger: 'full refresh of orders',
      files: { discovered: 1, loaded: 1, unchanged: 0, failed: 0 },
    });
    expect(done.summary.tables).toEqual([
      expect.objectContaining({ table: 'orders', files: 1, inserted: 2, updated: 0, childRows: 3 }),
    ]);
    const after = await state();
    expect(after.orders).toEqual(['1', '2']);
    expect(after.items).toBe(3);
    expect(after.users).toEqual(usersBefore); // untouched, same run id
    const text = await ws.cli('history', '--run', '2');
    expect(text.stdout).toMatch(/^Run 2 of test \(full refresh of orders\): succeeded/m);
  });

  it('run --full-refresh without --table refreshes every table of the config', async () => {
    const r = await ws.cli('run', '--full-refresh', '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
    expect(done.summary.trigger).toBe('full refresh of orders, users');
    expect(done.summary.files).toMatchObject({ loaded: 3, unchanged: 0 });
    expect((await state()).users.map((u) => u._tributary_run_id)).toEqual(['2']);
  });
});

describe('full refresh killed halfway', () => {
  const BIN = path.resolve(__dirname, '../../bin/tributary.js');
  const exec = promisify(execFile);
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('the next plain run finishes it: the same tables as an uninterrupted full refresh', async () => {
    ws.config(CONFIG);
    ws.write('in/orders_1.jsonl', `${order(1, 1, 2)}\n${order(2, 1)}\n`);
    ws.write('in/orders_2.jsonl', `${order(3, 2)}\n${order(1, 2, 3)}\n`);
    ws.write('in/users.csv', 'id,name\n1,Ann\n');
    await ws.run();
    ws.remove('in/orders_1.jsonl');
    // SIGKILL while the first orders file is being written, after the reset committed.
    const killed = await exec(BIN, ['run', '--full-refresh', '--table', 'orders', '--yes'], {
      cwd: ws.dir,
      env: { ...process.env, TRIBUTARY_CRASH_AT: 'load:1' },
    }).catch((e: { signal?: string }) => e);
    expect((killed as { signal?: string }).signal).toBe('SIGKILL');
    await ws.run();
    const dest = await ws.open();
    try {
      expect((await dump(dest, 'orders')).map((r) => [r.id, r.updated_at])).toEqual([
        ['1', '2024-06-02 10:00:00'],
        ['3', '2024-06-02 10:00:00'],
      ]);
      expect(await dump(dest, 'orders__items')).toHaveLength(4);
      const runs = await dest.query<{ status: string }>('SELECT status FROM _tributary_runs ORDER BY id');
      expect(runs.map((r) => r.status)).toEqual(['succeeded', 'crashed', 'succeeded']);
    } finally {
      await dest.close();
    }
    const crashed = await ws.cli('history', '--run', '2');
    expect(crashed.stdout).toMatch(
      /^Run 2 of test: crashed \(the process died; the next run went on with the files it had not committed\)\.\nStarted /,
    );
  });
});

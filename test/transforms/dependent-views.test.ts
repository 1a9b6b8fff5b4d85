import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Destination } from '../../src/destinations/types.js';
import { DIALECTS, Workspace } from '../helpers/workspace.js';
import { canonical, withDest } from './helpers.js';

// A relation replaced under the views that read it: a table model rebuilt, a model changing
// materialization, an incremental model's full refresh, a loaded table's column widened. On
// PostgreSQL a view is bound to the relation itself (DROP TABLE fails with 2BP01, ALTER … TYPE
// with 0A000) and the views are dropped and made again in the same transaction; SQLite and
// MariaDB views read the relation by name.

const ORDERS = `
sources:
  - table: orders
    files: "in/*.csv"
    primary_key: order_id
`;
const A = 'order_id,user_id,amount\n1,7,10\n2,7,5\n3,8,4\n';
const B = 'order_id,user_id,amount\n4,8,6\n5,9,1\n';

const TOTALS = `-- @materialized table
SELECT user_id, SUM(amount) AS total FROM {{ ref('orders') }} GROUP BY user_id`;

type Summary = { status: string; models: Array<Record<string, unknown>> };

async function run(ws: Workspace, ...args: string[]): Promise<Summary> {
  const r = await ws.cli(...(args.length > 0 ? args : ['run']), '--json');
  const done = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((e) => e.type === 'run_finished');
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${JSON.stringify(done?.summary?.models)}\n${r.stderr}`);
  return done.summary;
}

const statuses = (s: Summary) => s.models.map((m) => `${m.name}:${m.status}`);
const rows = (dest: Destination, sql: string) => canonical(dest, sql);
const pairs = (...p: Array<[number, number]>) =>
  p
    .map(([u, v]) =>
      JSON.stringify([
        ['user_id', String(u)],
        ['v', String(v)],
      ]),
    )
    .sort();

describe.each(DIALECTS)('models under the views that read them, on %s', (dialect) => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create(dialect);
    ws.config(ORDERS);
    ws.write('in/a.csv', A);
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('a table model read by a chain of views (and a view no model made) is rebuilt, and the views read its new rows', async () => {
    ws.write('models/totals.sql', TOTALS);
    ws.write('models/totals_v.sql', "SELECT user_id, total FROM {{ ref('totals') }}");
    ws.write('models/totals_vv.sql', "SELECT user_id, total AS v FROM {{ ref('totals_v') }} WHERE total > 0");
    expect(statuses(await run(ws))).toEqual([
      'totals:succeeded',
      'totals_v:succeeded',
      'totals_vv:succeeded',
    ]);
    await withDest(ws, async (dest) => {
      const options = dialect === 'postgres' ? ' WITH (security_barrier = true)' : '';
      await dest.execute(`CREATE VIEW report${options} AS SELECT user_id, v FROM totals_vv`);
      if (dialect === 'postgres') {
        await dest.execute("COMMENT ON VIEW report IS 'made by hand'");
        await dest.execute("COMMENT ON COLUMN report.v IS 'the total'");
        await dest.execute('GRANT SELECT ON report TO PUBLIC');
      }
    });

    ws.write('in/b.csv', B);
    const second = await run(ws);
    expect(second.status).toBe('succeeded');
    expect(second.models).toEqual([
      expect.objectContaining({ name: 'totals', status: 'succeeded', refresh: 'full', rows: 3 }),
    ]);
    await withDest(ws, async (dest) => {
      const want = pairs([7, 15], [8, 10], [9, 1]);
      expect(await rows(dest, 'SELECT user_id, v FROM totals_vv')).toEqual(want);
      expect(await rows(dest, 'SELECT user_id, v FROM report')).toEqual(want);
      if (dialect === 'postgres') {
        const [kept] = await dest.query<{ comment: string; column: string; acl: string; options: string }>(
          `SELECT obj_description('report'::regclass, 'pg_class') AS comment,
                  col_description('report'::regclass, 2) AS "column", relacl::text AS acl,
                  reloptions::text AS options
             FROM pg_class WHERE oid = 'report'::regclass`,
        );
        expect(kept).toMatchObject({
          comment: 'made by hand',
          column: 'the total',
          options: '{security_barrier=true}',
        });
        expect(kept?.acl).toContain('=r/'); // SELECT to PUBLIC
      }
    });
    // Once more, with nothing new: nothing runs; a full refresh rebuilds the table again.
    expect((await run(ws)).models ?? []).toEqual([]);
    expect(statuses(await run(ws, 'transform', 'totals', '--full-refresh'))).toEqual(['totals:succeeded']);
    await withDest(ws, async (dest) => {
      expect(await rows(dest, 'SELECT user_id, v FROM report')).toEqual(pairs([7, 15], [8, 10], [9, 1]));
    });
  });

  it('a reader of the views never finds them missing while the table under them is rebuilt', async () => {
    ws.write('models/totals.sql', TOTALS);
    ws.write('models/totals_v.sql', "SELECT user_id, total AS v FROM {{ ref('totals') }}");
    ws.write('models/top.sql', "SELECT user_id, v FROM {{ ref('totals_v') }} WHERE v > 4");
    await run(ws);
    const reader = await ws.open();
    const seen: string[] = [];
    const errors: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          seen.push(JSON.stringify(await rows(reader, 'SELECT user_id, v FROM top')));
        } catch (err) {
          errors.push(String(err));
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let i = 0; i < 4; i++)
        expect(statuses(await run(ws, 'transform', 'totals', '--full-refresh'))).toEqual([
          'totals:succeeded',
        ]);
    } finally {
      stop = true;
      await loop;
      await reader.close();
    }
    expect(errors).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([JSON.stringify(pairs([7, 15]))]));
  });

  it('a model read by a view changes its definition, then its materialization: view → table → incremental → view', async () => {
    const base = (header: string, where = '') =>
      `${header}SELECT order_id, user_id, amount FROM {{ ref('orders') }}${where}`;
    ws.write('models/base.sql', base(''));
    ws.write(
      'models/per_user.sql',
      "SELECT user_id, SUM(amount) AS v FROM {{ ref('base') }} GROUP BY user_id",
    );
    ws.write('models/top.sql', "SELECT user_id, v FROM {{ ref('per_user') }} WHERE v > 4");
    await run(ws);
    const check = async (...want: Array<[number, number]>) =>
      withDest(ws, async (dest) =>
        expect(await rows(dest, 'SELECT user_id, v FROM top')).toEqual(pairs(...want)),
      );
    await check([7, 15]);

    // The view's definition changes under per_user and top.
    ws.write('models/base.sql', base('', ' WHERE amount > 4'));
    expect(statuses(await run(ws))).toEqual(['base:succeeded', 'per_user:succeeded', 'top:succeeded']);
    await check([7, 15]);

    ws.write('models/base.sql', base('-- @materialized table\n'));
    ws.write('in/b.csv', B);
    expect(statuses(await run(ws))).toEqual(['base:succeeded', 'per_user:succeeded', 'top:succeeded']);
    await check([7, 15], [8, 10]);

    ws.write('models/base.sql', base('-- @materialized incremental\n-- @unique_key order_id\n'));
    expect(statuses(await run(ws))).toEqual(['base:succeeded', 'per_user:succeeded', 'top:succeeded']);
    ws.write('in/c.csv', 'order_id,user_id,amount\n6,9,7\n');
    const inc = await run(ws);
    expect(inc.models).toEqual([expect.objectContaining({ name: 'base', refresh: 'incremental' })]);
    await check([7, 15], [8, 10], [9, 8]);
    // A full refresh of the incremental model alone: the views over it are not run, and stay.
    const full = await run(ws, 'transform', 'base', '--full-refresh');
    expect(full.models).toEqual([
      expect.objectContaining({ name: 'base', status: 'succeeded', refresh: 'full', rows: 6 }),
    ]);
    await check([7, 15], [8, 10], [9, 8]);

    ws.write('models/base.sql', base(''));
    expect(statuses(await run(ws))).toEqual(['base:succeeded', 'per_user:succeeded', 'top:succeeded']);
    await check([7, 15], [8, 10], [9, 8]);
    await withDest(ws, async (dest) => expect((await dest.readCatalog()).has('base')).toBe(false));
  });

  it('a table model whose columns change together with the views that read them', async () => {
    ws.write('models/totals.sql', TOTALS);
    ws.write('models/totals_v.sql', "SELECT user_id, total AS v FROM {{ ref('totals') }}");
    ws.write('models/top.sql', "SELECT user_id, v FROM {{ ref('totals_v') }} WHERE v > 4");
    await run(ws);
    // `total` goes: the view's saved definition no longer fits the new table (on PostgreSQL
    // it is made from its model's new SQL within the table's rebuild, then built as usual).
    ws.write(
      'models/totals.sql',
      "-- @materialized table\nSELECT user_id, SUM(amount) AS amount_sum FROM {{ ref('orders') }} GROUP BY user_id",
    );
    ws.write('models/totals_v.sql', "SELECT user_id, amount_sum AS v FROM {{ ref('totals') }}");
    ws.write('in/b.csv', B);
    expect(statuses(await run(ws))).toEqual(['totals:succeeded', 'totals_v:succeeded', 'top:succeeded']);
    await withDest(ws, async (dest) => {
      expect(await rows(dest, 'SELECT user_id, v FROM top')).toEqual(pairs([7, 15], [8, 10]));
    });
  });

  it.runIf(dialect === 'postgres')(
    'a view no model made that no longer fits, or has a column default, stops the rebuild, named, and everything stays as it was',
    async () => {
      ws.write('models/totals.sql', TOTALS);
      await run(ws);
      await withDest(ws, (dest) => dest.execute('CREATE VIEW report AS SELECT user_id, total FROM totals'));
      ws.write(
        'models/totals.sql',
        "-- @materialized table\nSELECT user_id, SUM(amount) AS amount_sum FROM {{ ref('orders') }} GROUP BY user_id",
      );
      const r = await ws.cli('run', '--json');
      expect(r.code).toBe(1);
      const done = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((e) => e.type === 'run_finished');
      expect(done.summary.models).toEqual([expect.objectContaining({ name: 'totals', status: 'failed' })]);
      expect(done.summary.models[0].error).toMatch(
        /view "public"\."report" reads totals, and its definition no longer fits the new totals: .*total.*; change or drop the view/,
      );
      await withDest(ws, async (dest) => {
        expect(await rows(dest, 'SELECT user_id, total AS v FROM report')).toEqual(pairs([7, 15], [8, 4]));
        // One with a column default (or a trigger, or a rule) would not be made again whole.
        await dest.execute('DROP VIEW report');
        await dest.execute('CREATE VIEW report AS SELECT user_id FROM totals');
        await dest.execute('ALTER VIEW report ALTER COLUMN user_id SET DEFAULT 0');
      });
      const again = await ws.cli('run');
      expect(again.code).toBe(1);
      expect(again.stdout + again.stderr).toContain(
        'cannot replace totals: view(s) "public"."report" read it and have triggers, rules or column defaults',
      );
    },
  );

  it('a loaded table whose column a view model reads is widened by a new file', async () => {
    ws.write('models/amounts.sql', "SELECT user_id, amount AS v FROM {{ ref('orders') }}");
    ws.write(
      'models/per_user.sql',
      "-- @materialized table\nSELECT user_id, SUM(v) AS v FROM {{ ref('amounts') }} GROUP BY user_id",
    );
    ws.write('models/top.sql', "SELECT user_id, v FROM {{ ref('per_user') }}");
    await run(ws);
    ws.write('in/b.csv', 'order_id,user_id,amount\n4,8,6.5\n');
    const s = await run(ws);
    expect(s.status).toBe('succeeded');
    expect(statuses(s)).toEqual(['amounts:succeeded', 'per_user:succeeded', 'top:succeeded']);
    await withDest(ws, async (dest) => {
      const got = await dest.query<{ user_id: unknown; v: unknown }>('SELECT user_id, v FROM top');
      expect(got.map((r) => [Number(r.user_id), Number(r.v)]).sort()).toEqual([
        [7, 15],
        [8, 10.5],
      ]);
    });
  });
});

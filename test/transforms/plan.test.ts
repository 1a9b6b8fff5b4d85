import { describe, expect, it } from 'vitest';
import { buildGraph } from '../../src/transforms/graph.js';
import { parseModel } from '../../src/transforms/model.js';
import { type ModelState, type PlanInput, planRefresh, type TableChange } from '../../src/transforms/plan.js';
import { renderFiltered, renderModel } from '../../src/transforms/sql.js';

const model = (materialized: string) =>
  parseModel(
    `models/m.sql`,
    `-- @materialized ${materialized}\n${materialized === 'view' ? '' : '-- @unique_key market, user_id\n'}SELECT 1`,
  ).model!;

const COLS: Record<string, string[]> = {
  orders: ['market', 'order_id', 'user_id', '_tributary_run_id'],
  users: ['market', 'user_id', 'name', '_tributary_run_id'],
  rates: ['market', 'rate', '_tributary_run_id'],
  external: ['market', 'user_id'],
};

function input(
  materialized: string,
  over: Partial<PlanInput> & { changes?: Record<string, TableChange> } = {},
): PlanInput {
  const state: ModelState = {
    name: 'm',
    materialized: materialized as never,
    hash: 'h',
    builtRunId: 5,
    rows: 10,
  };
  return {
    model: model(materialized),
    hash: 'h',
    state,
    fullRefresh: false,
    bases: ['orders', 'users'],
    columnsOf: (t) => COLS[t],
    changeOf: (t) => over.changes?.[t] ?? { changed: 3, reset: 0 },
    ...over,
  };
}

describe('the incremental rule', () => {
  it.each([
    // case → expected refresh
    ['nothing changed since the build', input('incremental'), { kind: 'none' }],
    [
      'a table changed: recompute its keys',
      input('incremental', { changes: { orders: { changed: 6, reset: 0 } } }),
      { kind: 'incremental', changed: ['orders'] },
    ],
    [
      'a table was replaced or reset',
      input('incremental', { changes: { users: { changed: 7, reset: 7 } } }),
      { kind: 'full', reason: 'users was replaced or reset' },
    ],
    [
      'a changed table lacks a key column',
      input('incremental', { bases: ['orders', 'rates'], changes: { rates: { changed: 6, reset: 0 } } }),
      { kind: 'full', reason: 'rates changed and has no column user_id' },
    ],
    [
      'a changed table has no _tributary_run_id',
      input('incremental', { bases: ['external'], changes: { external: { changed: 6, reset: 0 } } }),
      { kind: 'full', reason: 'external changed and has no column _tributary_run_id' },
    ],
    ['first build', input('incremental', { state: undefined }), { kind: 'full', reason: 'first build' }],
    [
      'definition changed',
      input('incremental', { hash: 'other' }),
      { kind: 'full', reason: 'definition or upstream schema changed' },
    ],
    [
      'the model left the folder and came back',
      input('incremental', {
        state: { name: 'm', materialized: 'incremental', hash: null, builtRunId: 5, rows: 1 },
      }),
      { kind: 'full', reason: 'model came back' },
    ],
    ['--full-refresh', input('incremental', { fullRefresh: true }), { kind: 'full', reason: 'full refresh' }],
    [
      'a table it reads is not loaded yet',
      input('table', { bases: ['orders', 'later'] }),
      { kind: 'wait', reason: 'waiting for later to be loaded' },
    ],
    [
      'a table model with a changed upstream is rebuilt',
      input('table', { changes: { orders: { changed: 6, reset: 0 }, users: { changed: 9, reset: 0 } } }),
      { kind: 'full', reason: 'orders, users changed' },
    ],
    [
      'a view is left alone when data changes',
      input('view', { changes: { orders: { changed: 6, reset: 0 } } }),
      { kind: 'none' },
    ],
  ])('%s', (_name, p, expected) => {
    expect(planRefresh(p)).toEqual(expected);
  });
});

describe('rendering', () => {
  const q = (id: string) => `"${id}"`;
  const files = {
    'models/enriched.sql':
      "SELECT o.*, u.name FROM {{ ref('orders') }} o LEFT JOIN {{ ref('users') }} u USING (market, user_id)",
    'models/totals.sql':
      "-- @materialized incremental\n-- @unique_key market, user_id\nSELECT market, user_id, COUNT(*) AS n FROM {{ ref('enriched') }}\nJOIN {{ ref('rates') }} USING (market) GROUP BY market, user_id",
  };
  const { graph } = buildGraph(
    Object.entries(files).map(([f, t]) => parseModel(f, t).model!),
    { sources: new Set(['orders', 'users', 'rates']), isTable: (n) => n in COLS },
  );

  it('replaces refs by quoted names', () => {
    expect(renderModel(graph.models.get('enriched')!, q)).toBe(
      'SELECT o.*, u.name FROM "orders" o LEFT JOIN "users" u USING (market, user_id)',
    );
  });

  it('filters every table by the key columns it has, inlines models, and aliases bare refs', () => {
    const sql = renderFiltered(graph, 'totals', {
      quote: q,
      keysTable: 'k',
      key: ['market', 'user_id'],
      columnsOf: (t) => COLS[t],
    });
    expect(sql).toBe(
      [
        '-- @materialized incremental',
        '-- @unique_key market, user_id',
        'SELECT market, user_id, COUNT(*) AS n FROM (',
        'SELECT o.*, u.name FROM (',
        'SELECT * FROM "orders" WHERE ("market", "user_id") IN (SELECT "market", "user_id" FROM "k")',
        ') o LEFT JOIN (',
        'SELECT * FROM "users" WHERE ("market", "user_id") IN (SELECT "market", "user_id" FROM "k")',
        ') u USING (market, user_id)',
        ') AS "enriched"',
        'JOIN (',
        'SELECT * FROM "rates" WHERE ("market") IN (SELECT "market" FROM "k")',
        ') AS "rates" USING (market) GROUP BY market, user_id',
      ].join('\n'),
    );
  });
});

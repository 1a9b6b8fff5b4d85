import { describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { buildGraph, type TableNames } from '../../src/transforms/graph.js';
import { type Model, parseModel } from '../../src/transforms/model.js';
import { parseSelectors, selectionGraph, selectNodes } from '../../src/transforms/select.js';

const tables: TableNames = {
  sources: new Set(['orders', 'users', 'deliveries']),
  isTable: (n) => ['orders', 'users', 'deliveries', 'deliveries__items'].includes(n),
};

function models(files: Record<string, string>): Model[] {
  return Object.entries(files).map(([file, text]) => {
    const { model, problems } = parseModel(file, text);
    if (!model) throw new Error(problems.join('\n'));
    return model;
  });
}

// The demo's shape: orders + users → orders_enriched → user_totals; deliveries + orders_enriched → deliveries_enriched.
const { graph } = buildGraph(
  models({
    'models/orders_enriched.sql':
      "SELECT * FROM {{ ref('orders') }} o JOIN {{ ref('users') }} u ON u.user_id = o.user_id",
    'models/user_totals.sql':
      "SELECT user_id, COUNT(*) AS n FROM {{ ref('orders_enriched') }} GROUP BY user_id",
    'models/deliveries_enriched.sql':
      "SELECT * FROM {{ ref('deliveries') }} d JOIN {{ ref('orders_enriched') }} o ON o.order_id = d.order_id",
    'models/items.sql': "SELECT * FROM {{ ref('deliveries__items') }}",
  }),
  tables,
);
const nodes = selectionGraph(graph, ['orders', 'users', 'deliveries']);
const select = (...values: string[]) => [...selectNodes(nodes, parseSelectors(values))].sort();

describe('--select', () => {
  it.each([
    // selectors → selected models and tables
    [['user_totals'], ['user_totals']],
    [['+user_totals'], ['orders', 'orders_enriched', 'user_totals', 'users']],
    [['orders+'], ['deliveries_enriched', 'orders', 'orders_enriched', 'user_totals']],
    [['users+'], ['deliveries_enriched', 'orders_enriched', 'user_totals', 'users']],
    [['+orders_enriched+'], ['deliveries_enriched', 'orders', 'orders_enriched', 'user_totals', 'users']],
    [['user_totals+'], ['user_totals']],
    [['+deliveries'], ['deliveries']],
    // a child table a model reads is a node too
    [['deliveries__items+'], ['deliveries__items', 'items']],
    // a union: spaces, commas, repeated option
    [['user_totals items'], ['items', 'user_totals']],
    [
      ['user_totals,items', 'users'],
      ['items', 'user_totals', 'users'],
    ],
    [
      [' user_totals , ', '+items'],
      ['deliveries__items', 'items', 'user_totals'],
    ],
    // overlapping selectors: a node one selector already took is still walked through by the next
    [['orders_enriched,orders+'], ['deliveries_enriched', 'orders', 'orders_enriched', 'user_totals']],
    [
      ['orders_enriched', '+user_totals'],
      ['orders', 'orders_enriched', 'user_totals', 'users'],
    ],
    [
      ['orders+', 'user_totals+'],
      ['deliveries_enriched', 'orders', 'orders_enriched', 'user_totals'],
    ],
  ])('%j', (values, expected) => {
    expect(select(...values)).toEqual(expected);
  });

  it('no selector selects nothing (the callers then take everything)', () => {
    expect(parseSelectors([])).toEqual([]);
    expect(parseSelectors([' , '])).toEqual([]);
  });

  it.each([['++orders'], ['orders++'], ['tag:daily'], ['@orders'], ['or-ders'], ['+']])(
    'rejects the selector %j as bad usage',
    (text) => {
      expect(() => parseSelectors([text])).toThrow(`--select: "${text}" is not a selector`);
    },
  );

  it('an unknown name is a usage error naming the closest model or table', () => {
    const err = (value: string) => {
      try {
        select(value);
      } catch (e) {
        expect(e).toBeInstanceOf(TributaryError);
        expect((e as TributaryError).code).toBe('CONFIG_INVALID');
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(err('user_total')).toBe('--select: no model or table named user_total; did you mean user_totals?');
    expect(err('+ordres')).toBe('--select: no model or table named ordres; did you mean orders?');
    expect(err('Users+')).toBe('--select: no model or table named Users; did you mean users?');
    expect(err('payments')).toBe(
      '--select: no model or table named payments; the models and tables are: deliveries, deliveries__items, deliveries_enriched, items, orders, orders_enriched, user_totals, users',
    );
  });
});

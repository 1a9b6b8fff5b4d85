import { describe, expect, it } from 'vitest';
import {
  baseTables,
  beforeImageColumns,
  buildGraph,
  type TableNames,
  withUpstream,
} from '../../src/transforms/graph.js';
import { type Model, parseModel } from '../../src/transforms/model.js';

const tables: TableNames = {
  sources: new Set(['orders', 'users']),
  isTable: (n) => ['orders', 'users', 'orders__items'].includes(n),
};

function models(files: Record<string, string>): Model[] {
  return Object.entries(files).map(([file, text]) => {
    const { model, problems } = parseModel(file, text);
    if (!model) throw new Error(problems.join('\n'));
    return model;
  });
}

const DEMO = models({
  'models/enriched.sql': "SELECT * FROM {{ ref('orders') }} o JOIN {{ ref('users') }} u ON u.id = o.user_id",
  'models/totals.sql':
    "-- @materialized incremental\n-- @unique_key market, user_id\nSELECT market, user_id, COUNT(*) AS n FROM {{ ref('enriched') }} GROUP BY 1, 2",
  'models/top.sql': "-- @materialized table\nSELECT * FROM {{ ref('totals') }} ORDER BY n DESC LIMIT 3",
  'models/items.sql': "SELECT * FROM {{ ref('orders__items') }}",
});

describe('the model graph', () => {
  it('orders models after what they reference, ties by name', () => {
    const { graph, problems } = buildGraph(DEMO, tables);
    expect(problems).toEqual([]);
    expect(graph.order).toEqual(['enriched', 'items', 'totals', 'top']);
  });

  it('knows the loaded tables a model reads through other models', () => {
    const { graph } = buildGraph(DEMO, tables);
    expect(baseTables(graph, 'top')).toEqual(['orders', 'users']);
    expect(baseTables(graph, 'items')).toEqual(['orders__items']);
    expect(withUpstream(graph, ['top'])).toEqual(['enriched', 'totals', 'top']);
  });

  it('asks loads for the key columns of the tables incremental models read', () => {
    const { graph } = buildGraph(DEMO, tables);
    expect(beforeImageColumns(graph)).toEqual(
      new Map([
        ['orders', ['market', 'user_id']],
        ['users', ['market', 'user_id']],
      ]),
    );
  });

  it('reports a reference to nothing, naming the file and line', () => {
    const { problems } = buildGraph(
      models({ 'models/a.sql': "SELECT 1\nFROM {{ ref('nothing') }}" }),
      tables,
    );
    expect(problems).toEqual(["models/a.sql:2: ref('nothing') names no model and no loaded table"]);
  });

  it('reports each cycle once, naming its files, and leaves cyclic models out of the order', () => {
    const { graph, problems } = buildGraph(
      models({
        'models/a.sql': "SELECT * FROM {{ ref('b') }}",
        'models/b.sql': "SELECT * FROM {{ ref('c') }}",
        'models/c.sql': "SELECT * FROM {{ ref('a') }}",
        'models/self.sql': "SELECT * FROM {{ ref('self') }}",
        'models/ok.sql': "SELECT * FROM {{ ref('orders') }}",
      }),
      tables,
    );
    expect(problems).toEqual([
      'models/a.sql: cycle: models/a.sql → models/b.sql → models/c.sql → models/a.sql',
      'models/self.sql: cycle: models/self.sql → models/self.sql',
    ]);
    expect(graph.order).toEqual(['ok']);
  });

  it('rejects table and model names read without ref(), which would hide a dependency', () => {
    const { problems } = buildGraph(
      models({
        'models/a.sql':
          'SELECT * FROM orders o\nJOIN "users" u ON 1 = 1\n-- FROM b in a comment is fine\nJOIN b ON 1 = 1',
        'models/b.sql': "SELECT 'from orders' AS s FROM other_table",
      }),
      tables,
    );
    expect(problems).toEqual([
      "models/a.sql:1: reads orders without ref(); write {{ ref('orders') }} so the dependency is known",
      "models/a.sql:2: reads users without ref(); write {{ ref('users') }} so the dependency is known",
      "models/a.sql:4: reads b without ref(); write {{ ref('b') }} so the dependency is known",
    ]);
  });

  it('reports all problems together: duplicates, a loaded table’s name, missing refs, cycles', () => {
    const { problems } = buildGraph(
      models({
        'models/orders.sql': 'SELECT 1',
        'models/x/dup.sql': 'SELECT 1',
        'models/y/Dup.sql': 'SELECT 2',
        'models/p.sql': "SELECT * FROM {{ ref('q') }} JOIN {{ ref('gone') }} g ON 1 = 1",
        'models/q.sql': "SELECT * FROM {{ ref('p') }}",
      }),
      tables,
    );
    expect(problems).toEqual([
      'models/orders.sql: model orders has the name of a loaded table; rename the file',
      'models/y/Dup.sql: model Dup is also defined by models/x/dup.sql; model names must be unique',
      "models/p.sql:1: ref('gone') names no model and no loaded table",
      'models/p.sql: cycle: models/p.sql → models/q.sql → models/p.sql',
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { parseDataTest, testText } from '../../src/transforms/data-test.js';
import { buildGraph, type TableNames } from '../../src/transforms/graph.js';
import { type Model, parseModel } from '../../src/transforms/model.js';
import { planTests } from '../../src/transforms/test-plan.js';
import { testSql } from '../../src/transforms/test-sql.js';

describe('data test syntax', () => {
  it.each([
    // written → canonical text
    ['unique(id)', 'unique(id)'],
    ['  unique ( market ,user_id )  ', 'unique(market, user_id)'],
    ['not_null(a, b)', 'not_null(a, b)'],
    ["accepted_values(status, 'a', 'it''s', 3, -1.5)", "accepted_values(status, 'a', 'it''s', 3, -1.5)"],
    ["relationships(user_id, ref('users'), id)", "relationships(user_id, ref('users'), id)"],
    [
      "relationships((m, u), ref('users'), (market, user_id))",
      "relationships((m, u), ref('users'), (market, user_id))",
    ],
    ["relationships((u), ref('users'), (id))", "relationships(u, ref('users'), id)"],
    // numbers keep every digit, in canonical form (never through a 64-bit float)
    [
      'accepted_values(id, 9007199254740993, 12345678901234567.89)',
      'accepted_values(id, 9007199254740993, 12345678901234567.89)',
    ],
    ['accepted_values(n, 007.50, -0.0, -0, 0.05, -10)', 'accepted_values(n, 7.5, 0, 0, 0.05, -10)'],
  ])('%j', (text, canonical) => {
    const parsed = parseDataTest(text);
    expect(parsed.error).toBeUndefined();
    expect(testText(parsed.test!)).toBe(canonical);
    // The canonical text is a test too, the same one.
    expect(parseDataTest(canonical).test).toEqual(parsed.test);
  });

  it.each([
    ['', 'expected a test (unique, not_null, accepted_values, relationships), got the end'],
    ['uniq(id)', 'unknown test uniq; known: unique, not_null, accepted_values, relationships'],
    ['unique', 'unique: expected "(", got the end; the form is unique(col[, col…])'],
    ['unique()', 'unique: expected a column name, got ")" at column 8'],
    ['unique(id', 'unique: expected ")", got the end'],
    ['unique(id) or so', 'unexpected "or" at column 12 after unique(…)'],
    ['unique(id, id)', 'unique: column id is listed twice'],
    ['not_null("id")', 'unexpected """ at column 10 (values are written in single quotes)'],
    [`relationships(u, ref("users"), id)`, 'unexpected """ at column 22'],
    ['not_null(id;)', 'unexpected ";" at column 12'],
    ['accepted_values(status)', 'accepted_values: expected ",", got ")" at column 23'],
    [
      'accepted_values(status, paid)',
      `accepted_values: expected a value ('text' or a number), got "paid" at column 25`,
    ],
    ["accepted_values(status, 'paid)", 'the string starting at column 25 is never closed'],
    ['relationships(user_id, users, id)', `relationships: expected ref('table'), got "users" at column 24`],
    ["relationships(user_id, ref('a b'), id)", 'relationships: expected a table or model name in quotes'],
    [
      "relationships((a, b), ref('users'), id)",
      'relationships: 2 column(s) on the left, 1 in users; they pair up one to one',
    ],
    ["relationships(a, ref('users'))", 'relationships: expected ",", got ")" at column 30'],
  ])('rejects %j', (text, message) => {
    expect(parseDataTest(text).error).toContain(message);
  });
});

describe('data test SQL', () => {
  // A quote function that shows where identifiers went, and a name that would break out of a bad one.
  const q = (id: string) => `[${id.replaceAll(']', ']]')}]`;

  it('quotes every identifier and passes every value as a parameter', () => {
    const t = parseDataTest("accepted_values(status, 'a'' OR 1=1 --', 2)").test!;
    const sql = testSql(t, 'odd]name', q, 5);
    expect(sql.params).toEqual(["a' OR 1=1 --", '2']);
    expect(sql.count).toBe(
      'SELECT COUNT(*) AS [g], COALESCE(SUM([_tributary_rows]), 0) AS [n] FROM (SELECT [status], COUNT(*) AS [_tributary_rows] FROM [odd]]name] WHERE [status] IS NOT NULL AND [status] NOT IN (?, ?) GROUP BY [status]) AS f',
    );
    expect(sql.sample).toBe(
      'SELECT [status], COUNT(*) AS [_tributary_rows] FROM [odd]]name] WHERE [status] IS NOT NULL AND [status] NOT IN (?, ?) GROUP BY [status] ORDER BY [_tributary_rows] DESC, [status] LIMIT 5',
    );
    expect(sql.grouped).toBe(true);
  });

  it('puts a number as the dialect compares it exactly: its canonical text, every digit', () => {
    const t = parseDataTest("accepted_values(id, 'x', 9007199254740993, 00012345678901234567.890)").test!;
    const sql = testSql(t, 't', q, 5, (text) => ({ sql: 'CAST(? AS N)', params: [text] }));
    expect(sql.params).toEqual(['x', '9007199254740993', '12345678901234567.89']);
    expect(sql.count).toContain('[id] NOT IN (?, CAST(? AS N), CAST(? AS N))');
  });

  it.each([
    [
      'unique(a, b)',
      'SELECT [a], [b], COUNT(*) AS [_tributary_rows] FROM [t] WHERE [a] IS NOT NULL AND [b] IS NOT NULL GROUP BY [a], [b] HAVING COUNT(*) > 1 ORDER BY [_tributary_rows] DESC, [a], [b] LIMIT 3',
    ],
    ['not_null(a, b)', 'SELECT * FROM [t] WHERE [a] IS NULL OR [b] IS NULL LIMIT 3'],
    [
      "relationships((a, b), ref('p'), (x, y))",
      'SELECT c.* FROM [t] AS c WHERE c.[a] IS NOT NULL AND c.[b] IS NOT NULL AND NOT EXISTS (SELECT 1 FROM [p] AS p WHERE p.[x] = c.[a] AND p.[y] = c.[b]) LIMIT 3',
    ],
  ])('%s', (text, sample) => {
    const sql = testSql(parseDataTest(text).test!, 't', q, 3);
    expect(sql.sample).toBe(sample);
    expect(sql.params).toEqual([]);
  });
});

describe('planning data tests', () => {
  const tables: TableNames = {
    sources: new Set(['orders', 'users']),
    isTable: (n) => ['orders', 'users'].includes(n),
  };
  const model = (file: string, text: string): Model => {
    const { model, problems } = parseModel(file, text);
    if (!model) throw new Error(problems.join('\n'));
    return model;
  };

  it('binds model and source tests to what they test; source columns are named as the loader names them', () => {
    const { graph } = buildGraph(
      [
        model(
          'models/totals.sql',
          "-- @test unique(user_id)\n-- @test relationships(user_id, ref('users'), Id)\nSELECT 1 AS user_id",
        ),
      ],
      tables,
    );
    const { tests, problems } = planTests(
      graph.models,
      [
        {
          table: 'orders',
          index: 0,
          tests: ['not_null(Order_ID)', "relationships(User_Id, ref('totals'), user_id)"],
        },
        { table: 'orders', index: 1, tests: ['not_null(order_id)'] },
      ],
      tables,
      'tributary.yaml',
    );
    expect(problems).toEqual([]);
    expect(tests.map((t) => [t.name, t.origin])).toEqual([
      ['orders: not_null(order_id)', 'tributary.yaml: sources[0].tests[0]'],
      // A model's columns are as the model names them; the source's own are normalized.
      ["orders: relationships(user_id, ref('totals'), user_id)", 'tributary.yaml: sources[0].tests[1]'],
      ['totals: unique(user_id)', 'models/totals.sql:1'],
      ["totals: relationships(user_id, ref('users'), Id)", 'models/totals.sql:2'],
    ]);
  });

  it('reports every relationship to nothing, with its file and line or its config key', () => {
    const { graph } = buildGraph(
      [model('models/a.sql', "-- about a\n-- @test relationships(x, ref('nope'), id)\nSELECT 1 AS x")],
      tables,
    );
    const { problems } = planTests(
      graph.models,
      [{ table: 'users', index: 3, tests: ["relationships(x, ref('gone'), id)", 'uniq(x)'] }],
      tables,
      'p.yaml',
    );
    expect(problems).toEqual([
      "models/a.sql:2: ref('nope') names no model and no loaded table",
      "p.yaml: sources[3].tests[0]: ref('gone') names no model and no loaded table",
      'p.yaml: sources[3].tests[1]: unknown test uniq; known: unique, not_null, accepted_values, relationships',
    ]);
  });

  it('a test line does not change the definition a model is rebuilt by', async () => {
    const { definitionHashes } = await import('../../src/transforms/plan.js');
    const hash = (text: string) =>
      definitionHashes(buildGraph([model('models/m.sql', text)], tables).graph, new Map()).get('m');
    const sql = "-- @materialized table\nSELECT * FROM {{ ref('orders') }}";
    expect(hash(`-- @test not_null(id)\n${sql}`)).toBe(hash(`-- @test unique(id)\n${sql}`));
    expect(hash(`-- @test not_null(id)\n${sql}`)).not.toBe(hash(`-- @test not_null(id)\n${sql} WHERE 1 = 1`));
  });
});

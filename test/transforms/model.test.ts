import { describe, expect, it } from 'vitest';
import { parseModel } from '../../src/transforms/model.js';
import { followedByAlias, scanSql } from '../../src/transforms/scan.js';

const parse = (text: string, file = 'models/m.sql') => parseModel(file, text);

describe('model headers', () => {
  it.each([
    // header text → materialized, unique key
    ['SELECT 1', 'view', []],
    ['-- @materialized table\nSELECT 1', 'table', []],
    [
      '-- what it is\n--@materialized   incremental\n-- @unique_key market, user_id\n\nSELECT 1',
      'incremental',
      ['market', 'user_id'],
    ],
    ['-- @materialized table\n-- @unique_key id\nSELECT 1', 'table', ['id']],
  ])('%j', (text, materialized, key) => {
    const { model, problems } = parse(text);
    expect(problems).toEqual([]);
    expect(model?.materialized).toBe(materialized);
    expect(model?.uniqueKey).toEqual(key);
  });

  it('reads directives only in the leading comment block', () => {
    const { model } = parse('SELECT 1\n-- @materialized table\n');
    expect(model?.materialized).toBe('view');
  });

  it('reports every problem of a file, each with its line', () => {
    const { model, problems } = parse(
      '-- @materialised table\n-- @materialized incremental\n-- @unique_key a,,b\nSELECT {{ source("x") }} FROM t; DELETE FROM t',
    );
    expect(model).toBeUndefined();
    expect(problems).toEqual([
      'models/m.sql:1: unknown header @materialised; known: @materialized, @unique_key, @test',
      'models/m.sql:3: @unique_key: got "a,,b", expected column names separated by commas',
      'models/m.sql:4: one statement per model: remove the ";" and what follows',
      'models/m.sql:4: {{ source("x") }} is not a reference; the only template is {{ ref(\'name\') }}',
      'models/m.sql:1: an incremental model needs `-- @unique_key col[, col…]` in its header',
    ]);
  });

  it.each([
    [
      '-- @materialized view\n-- @unique_key id\nSELECT 1',
      '@unique_key applies to table and incremental models',
    ],
    [
      '-- @materialized snapshot\nSELECT 1',
      '@materialized: got "snapshot", expected view, table, incremental',
    ],
    ['UPDATE t SET a = 1', 'a model is one SELECT (or WITH … SELECT); found "UPDATE"'],
    ['-- nothing\n', 'the file has no SQL'],
    ["SELECT 'unclosed", 'string literal is never closed'],
  ])('rejects %j', (text, message) => {
    expect(parse(text).problems.join('\n')).toContain(message);
  });

  it('takes its name from the file and rejects names that cannot be tables', () => {
    expect(parse('SELECT 1', 'models/sub/user_totals.sql').model?.name).toBe('user_totals');
    expect(parse('SELECT 1', 'models/user totals.sql').problems[0]).toContain(
      '"user totals" cannot name a model',
    );
    expect(parse('SELECT 1', 'models/_tributary_x.sql').problems[0]).toContain('cannot name a model');
  });

  it('drops one trailing semicolon; WITH queries are SELECTs', () => {
    const { model, problems } = parse('WITH a AS (SELECT 1 AS x) SELECT x FROM a ;  \n');
    expect(problems).toEqual([]);
    expect(model?.sql).toBe('WITH a AS (SELECT 1 AS x) SELECT x FROM a');
  });
});

describe('references', () => {
  it('finds refs with their line and whether an alias follows', () => {
    const { model } = parse(
      "SELECT *\nFROM {{ ref('orders') }} AS o\nJOIN {{ref(\"users\")}} u ON u.id = o.user_id\nLEFT JOIN {{ ref('x') }}\nWHERE 1 = 1",
    );
    expect(model?.refs.map((r) => [r.name, r.line, r.aliased])).toEqual([
      ['orders', 2, true],
      ['users', 3, true],
      ['x', 4, false],
    ]);
  });

  it('ignores refs and semicolons inside comments and strings', () => {
    const { model, problems } = parse(
      "SELECT ';' AS s -- {{ ref('a') }};\n/* {{ ref('b') }} */ FROM {{ ref('c') }}",
    );
    expect(problems).toEqual([]);
    expect(model?.refs.map((r) => r.name)).toEqual(['c']);
  });
});

describe('the SQL scanner', () => {
  it('blanks comments and string contents, marks templates, keeping offsets and newlines', () => {
    const text = "SELECT 'it''s' -- c\n/* x\ny */ \"id\" {{ ref('t') }}";
    const { masked, templates } = scanSql(text);
    expect(masked).toHaveLength(text.length);
    expect(masked).toBe(`SELECT '     '     \n    \n     "id" ${'#'.repeat(14)}`);
    expect(templates).toEqual([{ start: 35, end: 49, body: " ref('t') ", line: 3 }]);
  });

  it.each([
    // text after the reference → alias?
    [' AS o', true],
    [' o ON 1', true],
    [' "o"', true],
    [' WHERE x', false],
    [' LEFT JOIN y', false],
    ['\n)', false],
    [', y', false],
    ['', false],
  ])('%j after a reference: alias %s', (after, alias) => {
    expect(followedByAlias(after, 0)).toBe(alias);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnSchema, DbValue, SchemaChange } from '../../src/core/types.js';
import { jsonRows } from '../../src/destinations/rowtext.js';
import { decimalValue, decimalValueSql } from '../../src/destinations/sqlite/dialect.js';
import { registerSqliteFunctions } from '../../src/destinations/sqlite/functions.js';
import { SqliteDestination } from '../../src/destinations/sqlite/index.js';
import type { LiveTable, RowNode, TableWritePlan, WriteStats } from '../../src/destinations/types.js';
import { testable } from '../helpers/servers.js';
import { Workspace } from '../helpers/workspace.js';
import { describeDestination } from './suite.js';

/**
 * The SQLite destination: the suite every destination runs (suite.ts), then what only SQLite
 * does — decimals stored exactly (as numbers or text), tables declared the old way rebuilt,
 * the JSON row path storing what bound values store.
 */
describeDestination('sqlite', { testable: await testable('sqlite') });

/** How SQLite stores decimals exactly (src/destinations/sqlite/dialect.ts). */
describe('SQLite exact decimals', () => {
  const db = new Database(':memory:');
  registerSqliteFunctions(db);
  db.exec('CREATE TABLE t (x DECIMAL_BLOB(65,30))');
  afterAll(() => db.close());

  /** Canonical decimal text, as coercion makes it. */
  const decimalText = fc
    .tuple(
      fc.boolean(),
      fc.stringMatching(/^(0|[1-9][0-9]{0,34})$/),
      fc.stringMatching(/^([0-9]{0,29}[1-9])?$/),
    )
    .map(([neg, int, frac]) => {
      const text = frac === '' ? int : `${int}.${frac}`;
      return neg && text !== '0' ? `-${text}` : text;
    });

  it('the SQL rule and the JS rule store every value alike, and it reads back exactly', () => {
    const viaSql = db.prepare(`INSERT INTO t SELECT ${decimalValueSql('value')} FROM json_each(?)`);
    const bound = db.prepare('INSERT INTO t VALUES (?)');
    const read = db.prepare("SELECT typeof(x) || ':' || quote(x) AS q, x FROM t ORDER BY rowid");
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
    console.log(`sqlite-exact seed ${seed}`);
    fc.assert(
      fc.property(decimalText, (text) => {
        db.exec('DELETE FROM t');
        viaSql.run(JSON.stringify([text]));
        bound.run(decimalValue(text));
        const [a, b] = read.all() as Array<{ q: string; x: unknown }>;
        expect(a?.q).toBe(b?.q);
        // Read back: a float by its shortest round trip, text as is.
        const x = a?.x;
        const back = typeof x === 'number' ? Number(text) === x : x === text;
        expect(back).toBe(true);
        const digits = text.replace(/[-.]/g, '').replace(/^0+/, '').length;
        expect(a?.q.startsWith('text:')).toBe(digits > 15);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('decimal_sum adds numbers and text exactly; NULLs are skipped; no value gives NULL', () => {
    const sum = (values: unknown[]) =>
      db.prepare('SELECT decimal_sum(value) AS s FROM json_each(?)').get(JSON.stringify(values)) as {
        s: unknown;
      };
    expect(sum([0.1, 0.2]).s).toBe('0.3');
    expect(sum(['12345678901234567.89', -12345.25, 2.5, null]).s).toBe('12345678901222225.14');
    expect(sum(['12345678901234567.89', '-98765432109876543210.25', '2.5']).s).toBe(
      '-98753086430975308639.86',
    );
    expect(sum([1e-7, '1']).s).toBe('1.0000001');
    expect(sum([1, -1]).s).toBe('0');
    expect(sum([null]).s).toBeNull();
    expect(sum([]).s).toBeNull();
    expect(() => sum(['abc'])).toThrow(/decimal_sum: "abc" is not a decimal/);
  });
});

describe('SQLite tables made with NUMERIC-affinity declarations', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = await Workspace.create('sqlite');
  });
  afterEach(async () => {
    await ws.drop();
  });

  it('are rebuilt with exact declarations before the next load, keeping their rows', async () => {
    ws.config('sources:\n  - table: t\n    files: "in/*.ndjson"\n    primary_key: id\n');
    ws.write(
      'in/a.ndjson',
      '{"id":1,"amount":2.5,"doc":[1]}\n{"id":2,"amount":1234567890123456789,"doc":[2]}\n',
    );
    await ws.run('--quiet');
    // What Tributary declared before: DECIMAL(p,s) and JSON (NUMERIC affinity).
    await ws.withDest(async (d) => {
      const ddl =
        (await d.query<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 't'"))[0]?.sql ?? '';
      const legacy = ddl.replace(/DECIMAL_BLOB/g, 'DECIMAL').replace(/JSON_TEXT/g, 'JSON');
      await d.execute('ALTER TABLE t RENAME TO t_old');
      await d.execute(legacy);
      await d.execute('INSERT INTO t SELECT * FROM t_old');
      await d.execute('DROP TABLE t_old');
      const types = await d.query<{ type: string }>("SELECT type FROM pragma_table_info('t') ORDER BY cid");
      expect(types.map((t) => t.type).slice(0, 3)).toEqual(['BIGINT', 'DECIMAL(20,1)', 'JSON']);
    });
    ws.write('in/b.ndjson', '{"id":3,"amount":12345678901234567.8,"doc":12345678901234567890123}\n');
    await ws.run('--quiet');
    const rows = await ws.withDest(async (d) => {
      const types = await d.query<{ type: string }>("SELECT type FROM pragma_table_info('t') ORDER BY cid");
      expect(types.map((t) => t.type).slice(0, 3)).toEqual(['BIGINT', 'DECIMAL_BLOB(20,1)', 'JSON_TEXT']);
      return d.query<Record<string, unknown>>(
        "SELECT typeof(id) || ':' || id AS id, typeof(amount) || ':' || amount AS amount, doc FROM t ORDER BY rowid",
      );
    });
    expect(rows).toEqual([
      { id: 'integer:1', amount: 'real:2.5', doc: '[1]' },
      // a 19-digit integer stored by NUMERIC affinity becomes the text a load stores now
      { id: 'integer:2', amount: 'text:1234567890123456789', doc: '[2]' },
      { id: 'integer:3', amount: 'text:12345678901234567.8', doc: '12345678901234567890123' },
    ]);
  });
});

/**
 * The SQLite writer's JSON row path (`writeText`, RowFormat json, read with json_each) must
 * store exactly what binding the same values row by row (`write`) stores: the same values,
 * the same storage classes, the same merge outcome and counts. (Keys sent several times in
 * one file, and when writeText is offered: suite.ts, with the other dialects.)
 */

const cols: ColumnSchema[] = [
  { name: 'id', type: { kind: 'integer' } },
  { name: 's', type: { kind: 'text' } },
  { name: 'n', type: { kind: 'integer' } },
  { name: 'flag', type: { kind: 'bool' } },
  { name: 'amount', type: { kind: 'decimal', precision: 38, scale: 4 } },
  { name: 'day', type: { kind: 'date' } },
  { name: 'at', type: { kind: 'datetime' } },
  { name: 'doc', type: { kind: 'json' } },
  { name: 'cur', type: { kind: 'integer' } },
];

const texts = [
  '',
  'tab\there',
  'line\nbreak',
  'back\\slash',
  '\\N',
  'NULL',
  'nul\0byte',
  '😀 emoji',
  'lone \ud800 high',
  'lone \udc00 low',
  '"quoted" \'single\'',
  '123',
  '1e3',
  ' 7 ',
  '\u2028\u2029',
  'x'.repeat(70_000),
];

function createTable(name: string, primaryKey: string[], fileId: boolean): SchemaChange {
  return {
    kind: 'create_table',
    table: { name, columns: cols, primaryKey },
    system: { fileId, idx: false },
  };
}

/** Rows with every kind of value coercion makes: strings, safe integers, bigints, booleans, null. */
function sampleRows(): RowNode[] {
  const ints: DbValue[] = [
    0,
    -1,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    2n ** 63n - 1n,
    -(2n ** 63n),
    2n ** 53n + 1n,
    null,
  ];
  const amounts: DbValue[] = [
    '0',
    '12.5',
    '-0.0001',
    '123456789012345678.1234',
    '99999999999999999999999999999999.9999',
    '100',
    '123456789012345', // 15 digits: an INTEGER
    '1234567890123456', // 16: text
    '0.000000000000000123',
    '-12345678901.2345',
    null,
  ];
  const docs: DbValue[] = ['{"a":1}', '[1,2]', '"text"', '12', 'true', 'null', null];
  return texts.map((s, i) => ({
    values: [
      i,
      s,
      ints[i % ints.length] as DbValue,
      [true, false, null][i % 3] as DbValue,
      amounts[i % amounts.length] as DbValue,
      i % 4 === 0 ? null : `2024-0${(i % 9) + 1}-1${i % 10}`,
      `2024-01-01 10:00:0${i % 10}${i % 2 ? '.123456' : ''}`,
      docs[i % docs.length] as DbValue,
      i % 5 === 0 ? null : i % 3,
    ],
  }));
}

describe('SQLite writer: rows as JSON (writeText)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-sqlite-text-'));
  const dest = new SqliteDestination(path.join(dir, 'out.db'));
  beforeAll(() => dest.open());
  afterAll(async () => {
    await dest.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function load(
    name: string,
    plan: Omit<TableWritePlan, 'table'>,
    rows: RowNode[],
    asText: boolean,
    batch: number,
  ): Promise<WriteStats> {
    const table = (await dest.readCatalog()).get(name) as LiveTable;
    return dest.transaction(async (tx) => {
      const w = await tx.writer({ ...plan, table });
      for (let i = 0; i < rows.length; i += batch) {
        const part = rows.slice(i, i + batch);
        if (!asText) await w.write(part);
        else {
          if (!w.writeText) throw new Error('no writeText');
          await w.writeText(jsonRows(part.map((r) => r.values)), part.length);
        }
      }
      return w.finish();
    });
  }

  /** Every column's value, storage class and bytes, so that 5 and 5.0 or '5' differ. */
  async function dump(name: string): Promise<unknown[]> {
    const names = [...cols.map((c) => c.name), '_tributary_run_id'];
    const sel = names.map((c) => `typeof("${c}") || ':' || quote("${c}")`).join(', ');
    return dest.query(`SELECT ${sel} FROM "${name}" ORDER BY rowid`);
  }

  it.each(['merge', 'append', 'replace'] as const)(
    'stores the same values and classes as write: %s',
    async (write) => {
      const [a, b] = [`j_${write}_rows`, `j_${write}_text`];
      const keys = write === 'merge' ? ['id'] : [];
      await dest.applySchemaChanges([
        createTable(a, keys, write === 'append'),
        createTable(b, keys, write === 'append'),
      ]);
      const rows = sampleRows();
      for (const runId of [1, 2]) {
        const plan = { write, primaryKey: keys, cursor: 'cur', runId, fileId: 1, children: [] };
        const expected = await load(a, plan, rows, false, 1000);
        expect(await load(b, plan, rows, true, 3)).toEqual(expected);
      }
      const back = await dump(b);
      expect(back).toEqual(await dump(a));
      expect(back).toHaveLength(rows.length);
      const stored = await dest.query<{ s: string; n: unknown }>(`SELECT s, n FROM "${b}" ORDER BY id`);
      // Lone surrogates are stored as the driver stores them on both paths (compared above).
      const wellFormed = texts.map((t, i) => [t, i] as const).filter(([t]) => !t.startsWith('lone '));
      expect(wellFormed.map(([, i]) => stored[i]?.s)).toEqual(wellFormed.map(([t]) => t));
      const big = await dest.query<{ q: string }>(
        `SELECT typeof(n) || ':' || quote(n) AS q FROM "${b}" WHERE id IN (4, 5, 6) ORDER BY id`,
      );
      expect(big.map((r) => r.q)).toEqual([
        'integer:9223372036854775807',
        'integer:-9223372036854775808',
        'integer:9007199254740993',
      ]);
    },
  );
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSchema, DbValue, SchemaChange } from '../../src/core/types.js';
import { jsonRows } from '../../src/destinations/rowtext.js';
import { SqliteDestination } from '../../src/destinations/sqlite/index.js';
import type { LiveTable, RowNode, TableWritePlan, WriteStats } from '../../src/destinations/types.js';

/**
 * The SQLite writer's JSON row path (`writeText`, RowFormat json, read with json_each) must
 * store exactly what binding the same values row by row (`write`) stores: the same values,
 * the same storage classes, the same merge outcome and counts. (Keys sent several times in
 * one file, and when writeText is offered: destination.test.ts, with the other dialects.)
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

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDestination } from '../../src/config/destination.js';
import { TributaryError } from '../../src/core/errors.js';
import type { ColumnSchema, DbValue, SchemaChange } from '../../src/core/types.js';
import { createDestination } from '../../src/destinations/index.js';
import type { Destination, LiveTable, RowNode, TableWritePlan } from '../../src/destinations/types.js';
import { DirectLoadConflict } from '../../src/destinations/types.js';
import { markFailed, readLedger } from '../../src/state/ledger.js';
import { insertRejects, listRejects } from '../../src/state/rejects.js';
import { finishRun, listRuns, startRun } from '../../src/state/runs.js';
import { ensureStateTables } from '../../src/state/tables.js';
import type { Dialect } from '../helpers/dialects.js';
import { dump } from '../helpers/dump.js';
import type { ServerKit } from '../helpers/servers.js';
import {
  childTable,
  compareWithSqlite,
  createTable,
  DEC,
  DT,
  dumpText,
  encodeRows,
  type FreshDestination,
  freshDestination,
  INT,
  images,
  load,
  type Plan,
  type RandomCase,
  rng,
  rowsOf,
  seedFor,
  sqliteReference,
  TEXT,
  table,
  textCursorRows,
  textCursorTable,
  WRITER_SEED,
} from '../helpers/writer.js';

/**
 * The destination suite: one body for every dialect, run by each dialect's test file
 * (mysql.test.ts, postgres.test.ts, sqlite.test.ts calling {@link describeDestination}) in a
 * database of its own: DDL and catalog, merge, append and replace, values, transactions, text
 * rows, errors, and the random comparison with the SQLite writer, the reference (on SQLite:
 * its text rows against its bound rows); on the servers also opening, before-images, direct
 * loads, locks, killed sessions and secrets. What differs between the servers each server's
 * file says once, in its kit (the shape: test/helpers/servers.ts); what only one dialect does,
 * its file adds after these tests, on the same database.
 */

/** The bytes of a text column as upper-case hex. */
const HEX: Record<Dialect, (column: string) => string> = {
  sqlite: (c) => `hex(${c})`,
  mariadb: (c) => `HEX(${c})`,
  postgres: (c) => `upper(encode(convert_to(${c}, 'UTF8'), 'hex'))`,
};
/** An exact sum of a decimal column (SQLite's SUM adds doubles; decimal_sum, its exact one). */
const SUM: Record<Dialect, string> = { sqlite: 'decimal_sum', mariadb: 'SUM', postgres: 'SUM' };
const DUPLICATE_KEY: Record<Dialect, RegExp> = {
  sqlite: /UNIQUE constraint failed/,
  mariadb: /Duplicate entry/,
  postgres: /duplicate key/,
};
/** What a table of every type declares as its limits (core/types.ts TableLimits) on each dialect. */
const DDL_LIMITS: Record<Dialect, LiveTable['limits']> = {
  sqlite: undefined,
  // The key's VARCHAR, MariaDB's JSON nesting, JSON_VALID's strings.
  mariadb: { maxChars: { code: 752 }, jsonDepth: 31, noLoneSurrogates: true },
  // No NUL in text; jsonb's strings and numbers; the key's B-tree entry holds 2,704 bytes
  // (a header, 8 a column).
  postgres: {
    noNul: true,
    noLoneSurrogates: true,
    jsonNumbers: { integerDigits: 131_072, fractionDigits: 16_383 },
    maxKeyBytes: 2_680,
  },
};

const TEXTS = [
  '',
  ' ',
  'tab\there',
  'line\nbreak',
  'cr\rlf\r\n',
  'back\\slash',
  '\\',
  '\\N',
  '\\.',
  'N',
  'NULL',
  '\\t not a tab',
  'nul\0byte',
  '\u001a ctrl-z',
  '😀 emoji',
  '𝄞 clef outside the BMP',
  '漢字かなカナ',
  'trailing backslash\\',
  '"quoted" \'single\'',
  'x'.repeat(70_000),
];
/** The texts a table takes: without NUL where the dialect refuses it (`limits.noNul`). */
const textsFor = (live: LiveTable) => TEXTS.filter((t) => !(live.limits?.noNul && t.includes('\0')));

/** The database a dialect file's own tests share with the suite (set before they run). */
export interface SuiteDatabase {
  readonly fresh: FreshDestination;
  readonly dest: Destination;
}

export interface SuiteOptions {
  /** Not selected, or a server unreachable outside CI: skipped (test/helpers/servers.ts `testable`). */
  testable: boolean;
  /** The server's kit; none for SQLite. */
  server?: ServerKit;
  /** The dialect file's own tests, run after the suite's, on its database. */
  own?: (db: SuiteDatabase) => void;
}

/** The suite on `dialect`. */
export function describeDestination(dialect: Dialect, options: SuiteOptions): void {
  describe.skipIf(!options.testable)(`${dialect} destination`, () => suite(dialect, options));
}

function suite(dialect: Dialect, { server: kit, own }: SuiteOptions): void {
  /** The ways rows reach a table here: bound values, text rows, and the server's other paths. */
  const paths: Array<{ name: string; text: boolean; options?: string }> = [
    { name: 'rows', text: false },
    { name: 'text rows', text: true },
    ...(kit?.variants ?? []).map(([name, options]) => ({ name, text: false, options })),
  ];
  let fresh: FreshDestination;
  let dest: Destination;
  const q = (name: string) => dest.dialect.quote(name);
  const count = async (t: string) => (await dest.query(`SELECT COUNT(*) AS n FROM ${q(t)}`))[0];
  /** A destination on the same database taking `options`, closed with the suite. */
  const other = (options?: string) => (options ? fresh.open(options) : Promise.resolve(dest));

  beforeAll(async () => {
    fresh = await freshDestination(dialect);
    dest = fresh.dest;
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  describe('writers', () => {
    describe('schema changes and catalog', () => {
      const all: ColumnSchema[] = [
        { name: 'code', type: TEXT },
        { name: 'n', type: INT },
        { name: 'flag', type: { kind: 'bool' } },
        { name: 'amount', type: DEC },
        { name: 'day', type: { kind: 'date' } },
        { name: 'at', type: DT },
        { name: 'note', type: TEXT },
        { name: 'payload', type: { kind: 'json' } },
      ];

      it('creates, adds and widens idempotently, and reads every logical type back', async () => {
        const changes: SchemaChange[] = [
          createTable('ddl', all, ['code', 'n'], { fileId: true, idx: false }),
          { kind: 'add_column', table: 'ddl', column: { name: 'extra', type: { kind: 'json' } } },
          { kind: 'add_column', table: 'ddl', column: { name: 'score', type: { kind: 'bool' } } },
        ];
        await dest.applySchemaChanges(changes);
        await dest.applySchemaChanges(changes); // a crashed run's DDL applied again changes nothing
        await load(
          dest,
          'ddl',
          { write: 'merge', primaryKey: ['code', 'n'], runId: 1 },
          rowsOf([
            ['a', 1, true, '1.50', '2024-01-02', '2024-01-02 03:04:05.123456', 'x', '[1]', null, true],
          ]),
        );
        const widen: SchemaChange[] = [
          { kind: 'widen_column', table: 'ddl', column: 'day', from: { kind: 'date' }, to: DT },
          { kind: 'widen_column', table: 'ddl', column: 'score', from: { kind: 'bool' }, to: INT },
          {
            kind: 'widen_column',
            table: 'ddl',
            column: 'n',
            from: INT,
            to: { kind: 'decimal', precision: 25, scale: 2 },
          },
          {
            kind: 'widen_column',
            table: 'ddl',
            column: 'amount',
            from: DEC,
            to: { kind: 'decimal', precision: 40, scale: 4 },
          },
        ];
        await dest.applySchemaChanges(widen);
        await dest.applySchemaChanges(widen);
        const live = await table(dest, 'ddl');
        expect(live).toEqual({
          name: 'ddl',
          columns: [
            { name: 'code', type: TEXT },
            { name: 'n', type: { kind: 'decimal', precision: 25, scale: 2 } },
            { name: 'flag', type: { kind: 'bool' } },
            { name: 'amount', type: { kind: 'decimal', precision: 40, scale: 4 } },
            { name: 'day', type: DT },
            { name: 'at', type: DT },
            { name: 'note', type: TEXT },
            { name: 'payload', type: { kind: 'json' } },
            { name: 'extra', type: { kind: 'json' } },
            { name: 'score', type: INT },
          ],
          primaryKey: ['code', 'n'],
          systemColumns: ['_tributary_run_id', '_tributary_file_id'],
          limits: DDL_LIMITS[dialect],
        });
        expect(await dump(dest, 'ddl')).toEqual([
          {
            code: 'a',
            n: '1.00',
            flag: 'true',
            amount: '1.5000',
            day: '2024-01-02 00:00:00', // a widened date is midnight
            at: '2024-01-02 03:04:05.123456',
            note: 'x',
            payload: '[1]',
            extra: null,
            score: '1',
          },
        ]);
        expect(await dest.query('SELECT score FROM ddl')).toEqual([{ score: 1 }]);
      });

      it('takes a long two-column text key down to the child table whole', async () => {
        const key: ColumnSchema[] = [
          { name: 'a', type: TEXT },
          { name: 'b', type: TEXT },
        ];
        await dest.applySchemaChanges([
          createTable('kp', [...key, { name: 'v', type: INT }], ['a', 'b']),
          childTable('kp', key),
        ]);
        const long = 'é'.repeat(380);
        await load(
          dest,
          'kp',
          { write: 'merge', primaryKey: ['a', 'b'], runId: 1, children: ['kp__items'] },
          [{ values: [long, long, 1], children: new Map([['kp__items', [[long, long, 0, 'x']]]]) }],
        );
        expect(await dest.query('SELECT a, b FROM kp__items')).toEqual([{ a: long, b: long }]);
      });

      it('lists user tables only: not state tables, views or temporary tables; `_` is not a wildcard', async () => {
        await dest.execute(`CREATE TABLE ${q('_tributary_scratch')} (id INT)`);
        await dest.execute(`CREATE TABLE ${q('atributaryb_c')} (id INT)`); // matches an unescaped _tributary_%
        await dest.execute(`CREATE VIEW ${q('v_ddl')} AS SELECT 1 AS one`);
        const names = await dest.transaction(async (tx) => {
          await tx.execute(`CREATE TEMPORARY TABLE ${q('tmp_x')} (id INT)`);
          return [...(await dest.readCatalog(tx)).keys()];
        });
        expect(names).toContain('atributaryb_c');
        expect(names).not.toContain('v_ddl');
        expect(names).not.toContain('tmp_x');
        expect(names.some((n) => n.startsWith('_tributary'))).toBe(false);
      });

      it('runs DDL inside a data transaction where DDL is transactional (a failure leaves no table), else refuses it', async () => {
        const failure = dest.transaction(async (tx) => {
          await dest.applySchemaChanges([createTable('never', [{ name: 'a', type: INT }], [])], tx);
          expect((await dest.readCatalog(tx)).has('never')).toBe(true);
          throw new Error('the load failed');
        });
        await expect(failure).rejects.toThrow(
          dest.capabilities.transactionalDdl ? /^the load failed$/ : /commits implicitly/,
        );
        expect((await dest.readCatalog()).has('never')).toBe(false);
      });
    });

    describe('merge', () => {
      const cols: ColumnSchema[] = [
        { name: 'id', type: INT },
        { name: 'v', type: TEXT },
        { name: 'cur', type: DT },
      ];
      const plan = (runId: number): Plan => ({ write: 'merge', primaryKey: ['id'], cursor: 'cur', runId });

      beforeAll(async () => {
        if (!dest) return;
        await dest.applySchemaChanges([
          createTable('m', cols, ['id'], { fileId: true, idx: false }),
          createTable('nc', cols, ['id']),
          createTable(
            'mi',
            [
              { name: 'k', type: INT },
              { name: 'v', type: TEXT },
              { name: 'c', type: INT },
            ],
            ['k'],
            { fileId: true, idx: false },
          ),
        ]);
      });

      it('keeps the newest cursor, ignores older rows, gives ties to the later row, leaves identical rows alone', async () => {
        const t1 = '2024-01-01 00:00:00';
        const t2 = '2024-01-02 00:00:00';
        const t0 = '2023-12-31 00:00:00';
        const loaded = rowsOf([
          [1, 'a', t1],
          [2, 'b', t1],
          [3, 'c', t1],
        ]);
        expect(await load(dest, 'm', plan(1), loaded)).toEqual({
          inserted: 3,
          updated: 0,
          unchanged: 0,
          deleted: 0,
          childRows: 0,
        });
        const stats = await load(
          dest,
          'm',
          { ...plan(2), fileId: 2 },
          rowsOf([
            [1, 'a2', t2], // newer: wins
            [2, 'b-old', t0], // older: ignored
            [3, 'c', t1], // identical: nothing changes, run id stays 1
            [4, 'd1', t1], // new key, then within-batch duplicates:
            [4, 'd2', t1], // tie: the later row wins
            [4, 'd-old', t0], // older than the row before it: ignored
            [4, 'd2', t1], // identical to the row standing: unchanged
          ]),
        );
        expect(stats).toEqual({ inserted: 1, updated: 2, unchanged: 4, deleted: 0, childRows: 0 });
        expect(await dumpText(dest, 'm', 'id', true)).toEqual([
          ['1', 'a2', t2, '2', '2'],
          ['2', 'b', t1, '1', '1'],
          ['3', 'c', t1, '1', '1'], // the file that supplied the row moves with it, and only then
          ['4', 'd2', t1, '2', '2'],
        ]);
        // The same with an integer cursor, an older row and a tie in one batch.
        const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: 1 };
        expect(
          await load(
            dest,
            'mi',
            p,
            rowsOf([
              [1, 'a', 5],
              [2, 'b', 5],
            ]),
          ),
        ).toEqual({ inserted: 2, updated: 0, unchanged: 0, deleted: 0, childRows: 0 });
        expect(
          await load(
            dest,
            'mi',
            { ...p, runId: 2, fileId: 2 },
            rowsOf([
              [1, 'old', 4],
              [2, 'b', 5],
              [1, 'tie', 5],
            ]),
          ),
        ).toEqual({ inserted: 0, updated: 1, unchanged: 2, deleted: 0, childRows: 0 });
        expect(await dumpText(dest, 'mi', 'k', true)).toEqual([
          ['1', 'tie', '5', '2', '2'],
          ['2', 'b', '5', '1', '1'],
        ]);
      });

      it('without a cursor the later row wins and identical rows count as unchanged', async () => {
        const p: Plan = { write: 'merge', primaryKey: ['id'], runId: 1 };
        await load(dest, 'nc', p, rowsOf([[1, 'a', null]]));
        const stats = await load(
          dest,
          'nc',
          { ...p, runId: 2 },
          rowsOf([
            [1, 'a', null],
            [1, 'b', null],
            [2, 'x', null],
            [2, 'y', null],
          ]),
        );
        expect(stats).toEqual({ inserted: 1, updated: 2, unchanged: 1, deleted: 0, childRows: 0 });
        expect(await dumpText(dest, 'nc', 'id')).toEqual([
          ['1', 'b', '∅', '2'],
          ['2', 'y', '∅', '2'],
        ]);
      });

      it('accepts any cursor over a stored NULL cursor, never a NULL cursor over a stored one', async () => {
        await dest.execute('DELETE FROM m');
        await dest.execute(
          "INSERT INTO m (id, v, cur, _tributary_run_id) VALUES (1, 'x', NULL, 1), (2, 'y', '2024-01-01 00:00:00', 1)",
        );
        const stats = await load(
          dest,
          'm',
          plan(3),
          rowsOf([
            [1, 'x2', '2000-01-01 00:00:00'],
            [2, 'y2', null],
          ]),
        );
        expect(stats).toEqual({ inserted: 0, updated: 1, unchanged: 1, deleted: 0, childRows: 0 });
      });

      it('keeps keys that differ only by case, accents or trailing spaces apart (binary collation)', async () => {
        await dest.applySchemaChanges([
          createTable(
            'ci',
            [
              { name: 'k', type: TEXT },
              { name: 'v', type: INT },
            ],
            ['k'],
          ),
        ]);
        const keys = ['a', 'A', 'á', 'a ', 'ß', 'ss'];
        const stats = await load(
          dest,
          'ci',
          { write: 'merge', primaryKey: ['k'], runId: 1 },
          rowsOf(keys.map((k, i) => [k, i])),
        );
        expect(stats.inserted).toBe(keys.length);
        const back = await dest.query<{ k: string }>('SELECT k FROM ci');
        expect(back.map((r) => r.k).sort()).toEqual([...keys].sort());
      });

      it('replaces the children of accepted parents and keeps those of stale parents', async () => {
        await dest.applySchemaChanges([
          createTable('o', cols, ['id']),
          childTable('o', [cols[0] as ColumnSchema]),
        ]);
        const node = (id: number, v: string, cur: string, skus: string[]): RowNode => ({
          values: [id, v, cur],
          children: new Map([['o__items', skus.map((s, i) => [id, i, s])]]),
        });
        const p = (runId: number): Plan => ({ ...plan(runId), children: ['o__items'] });
        const t1 = '2024-01-01 00:00:00';
        const t2 = '2024-01-02 00:00:00';
        expect(await load(dest, 'o', p(1), [node(1, 'a', t1, ['x', 'y']), node(2, 'b', t1, ['z'])])).toEqual({
          inserted: 2,
          updated: 0,
          unchanged: 0,
          deleted: 0,
          childRows: 3,
        });
        const stats = await load(dest, 'o', p(2), [
          node(1, 'a', t2, ['n1']), // accepted: children replaced
          node(2, 'b-old', '2023-01-01 00:00:00', ['stale']), // stale: children kept
          node(3, 'c', t1, ['p', 'q']), // new, then replaced within the batch by its tie
          node(3, 'c', t1, ['r']),
        ]);
        // Every accepted row's children count; identical rows with children are accepted.
        expect(stats).toEqual({ inserted: 1, updated: 2, unchanged: 1, deleted: 0, childRows: 4 });
        expect(await dumpText(dest, 'o__items', 'id, _tributary_idx')).toEqual([
          ['1', '0', 'n1', '2'],
          ['2', '0', 'z', '1'],
          ['3', '0', 'r', '2'],
        ]);
      });
    });

    describe('append and replace', () => {
      beforeAll(async () => {
        if (!dest) return;
        await dest.applySchemaChanges([
          createTable(
            'ap',
            [
              { name: 'a', type: INT },
              { name: 'b', type: TEXT },
            ],
            [],
            { fileId: true, idx: false },
          ),
          createTable('rp', [{ name: 'a', type: INT }], []),
        ]);
      });

      it('append replaces the rows of a re-sent file only', async () => {
        const p = (fileId: number): Plan => ({ write: 'append', runId: 1, fileId });
        await load(
          dest,
          'ap',
          p(1),
          rowsOf([
            [1, 'f1'],
            [2, 'f1'],
          ]),
        );
        await load(dest, 'ap', p(2), rowsOf([[3, 'f2']]));
        const again = await load(
          dest,
          'ap',
          { ...p(1), runId: 2 },
          rowsOf([
            [4, 'f1 again'],
            [4, 'f1 again'],
          ]),
        );
        expect(again).toEqual({ inserted: 2, updated: 0, unchanged: 0, deleted: 2, childRows: 0 });
        expect(await dumpText(dest, 'ap', 'a')).toEqual([
          ['3', 'f2', '1'],
          ['4', 'f1 again', '2'],
          ['4', 'f1 again', '2'],
        ]);
        const files = await dest.query(
          'SELECT _tributary_file_id AS f, COUNT(*) AS n FROM ap GROUP BY _tributary_file_id ORDER BY f',
        );
        expect(files).toEqual([
          { f: 1, n: 2 },
          { f: 2, n: 1 },
        ]);
      });

      it('replace empties the table first', async () => {
        await load(dest, 'rp', { write: 'replace', runId: 1 }, rowsOf([[1], [2], [3]]));
        const stats = await load(dest, 'rp', { write: 'replace', runId: 2 }, rowsOf([[9]]));
        expect(stats).toEqual({ inserted: 1, updated: 0, unchanged: 0, deleted: 3, childRows: 0 });
        expect(await dumpText(dest, 'rp', 'a')).toEqual([['9', '2']]);
      });
    });

    describe('values', () => {
      it.each(paths)('text round-trips byte for byte through the writer and merge: $name', async (how) => {
        const name = `txt_${how.name.replace(/\W+/g, '_')}`;
        const d = await other(how.options);
        await d.applySchemaChanges([
          createTable(
            name,
            [
              { name: 'i', type: INT },
              { name: 's', type: TEXT },
              { name: 'k', type: TEXT },
            ],
            ['i'],
          ),
        ]);
        const texts = textsFor(await table(d, name));
        const rows = rowsOf(texts.map((s, i) => [i, s, i % 2 ? null : s]));
        const merge = (runId: number): Plan => ({ write: 'merge', primaryKey: ['i'], runId });
        const stats = await load(d, name, merge(1), rows, 5, { text: how.text });
        expect(stats.inserted).toBe(texts.length);
        const back = await d.query<{ s: string | null; k: string | null; hex: string }>(
          `SELECT s, k, ${HEX[dialect]('s')} AS hex FROM ${name} ORDER BY i`,
        );
        expect(back.map((r) => r.s)).toEqual(texts);
        expect(back.map((r) => r.k)).toEqual(texts.map((s, i) => (i % 2 ? null : s)));
        expect(back.map((r) => r.hex)).toEqual(
          texts.map((s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()),
        );
        // Re-sending the same rows changes nothing: the stored text compares equal byte for byte.
        expect(await load(d, name, merge(2), rows, 1000, { text: how.text })).toEqual({
          inserted: 0,
          updated: 0,
          unchanged: texts.length,
          deleted: 0,
          childRows: 0,
        });
      });

      it('keeps 64-bit integers, decimals beyond 2^64, datetimes and JSON exact', async () => {
        await dest.applySchemaChanges([
          createTable(
            'num',
            [
              { name: 'i', type: INT },
              { name: 'big', type: INT },
              { name: 'dec', type: { kind: 'decimal', precision: 65, scale: 30 } },
              { name: 'money', type: { kind: 'decimal', precision: 18, scale: 2 } },
              { name: 'flag', type: { kind: 'bool' } },
              { name: 'doc', type: { kind: 'json' } },
              { name: 'at', type: DT },
              { name: 'day', type: { kind: 'date' } },
            ],
            ['i'],
          ),
        ]);
        const values: DbValue[][] = [
          [
            1,
            9007199254740993n,
            '12345678901234567890123456789012345.123456789012345678901234567890',
            '0.10',
            true,
            '{"a":[1,2.50]}',
            '2024-02-29 23:59:59.5',
            '0001-01-01',
          ],
          [
            2,
            9223372036854775807n,
            '-0.000000000000000000000000000001',
            '0.20',
            false,
            '"😀"',
            '0999-12-31 00:00:00',
            '9999-12-31',
          ],
          [
            3,
            -9223372036854775808n,
            '0',
            '0.70',
            null,
            '12345678901234567890',
            '2024-01-01 00:00:00.000001',
            null,
          ],
          [4, 42, null, '1000000000000000.01', true, null, null, '2024-06-30'],
        ];
        await load(dest, 'num', { write: 'merge', primaryKey: ['i'], runId: 1 }, rowsOf(values));
        // Integers come back as numbers while safe, as their digits beyond; JSON as its text.
        expect(await dest.query(`SELECT big, doc FROM num ORDER BY i`)).toEqual([
          { big: '9007199254740993', doc: '{"a":[1,2.50]}' },
          { big: '9223372036854775807', doc: '"😀"' },
          { big: '-9223372036854775808', doc: '12345678901234567890' },
          { big: 42, doc: null },
        ]);
        expect((await dump(dest, 'num')).map(({ doc: _, ...r }) => r)).toEqual([
          {
            i: '1',
            big: '9007199254740993',
            dec: '12345678901234567890123456789012345.123456789012345678901234567890',
            money: '0.10',
            flag: 'true',
            at: '2024-02-29 23:59:59.5',
            day: '0001-01-01',
          },
          {
            i: '2',
            big: '9223372036854775807',
            dec: '-0.000000000000000000000000000001',
            money: '0.20',
            flag: 'false',
            at: '0999-12-31 00:00:00',
            day: '9999-12-31',
          },
          {
            i: '3',
            big: '-9223372036854775808',
            dec: '0.000000000000000000000000000000',
            money: '0.70',
            flag: null,
            at: '2024-01-01 00:00:00.000001',
            day: null,
          },
          {
            i: '4',
            big: '42',
            dec: null,
            money: '1000000000000000.01',
            flag: 'true',
            at: null,
            day: '2024-06-30',
          },
        ]);
        expect(await dest.query(`SELECT ${SUM[dialect]}(money) AS s, COUNT(*) AS n FROM num`)).toEqual([
          { s: '1000000000000001.01', n: 4 },
        ]);
        // Exact beyond 2^64 in a key, too.
        await dest.applySchemaChanges([
          createTable('wide', [{ name: 'k', type: { kind: 'decimal', precision: 30, scale: 0 } }], ['k']),
        ]);
        const keys = ['18446744073709551613', '18446744073709551614', '18446744073709551615'];
        const wide = await load(
          dest,
          'wide',
          { write: 'merge', primaryKey: ['k'], runId: 1 },
          rowsOf(keys.map((k) => [k])),
        );
        expect(wide.inserted).toBe(3);
        expect((await dest.query<{ k: unknown }>('SELECT k FROM wide ORDER BY k')).map((r) => r.k)).toEqual(
          keys,
        );
      });
    });

    describe('transactions', () => {
      beforeAll(async () => {
        if (!dest) return;
        await dest.applySchemaChanges([
          createTable(
            'tx',
            [
              { name: 'id', type: INT },
              { name: 'v', type: TEXT },
            ],
            ['id'],
          ),
          createTable('tx_log', [{ name: 'msg', type: TEXT }], []),
        ]);
      });
      const merge = (live: LiveTable, children: LiveTable[] = []): TableWritePlan => ({
        table: live,
        write: 'merge',
        primaryKey: ['id'],
        cursor: undefined,
        runId: 1,
        fileId: 1,
        children,
      });

      it('rolls back everything, staging tables included, when the work fails', async () => {
        const live = await table(dest, 'tx');
        const failure = dest.transaction(async (tx) => {
          await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('before', 1)");
          const w = await tx.writer(merge(live));
          await w.write(
            rowsOf([
              [1, 'a'],
              [2, 'b'],
            ]),
          );
          // A statement between two batches ends an open LOAD DATA or COPY; a new one opens after.
          await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('between', 1)");
          await w.write(rowsOf([[3, 'c']]));
          await w.finish();
          expect(await tx.query('SELECT COUNT(*) AS n FROM tx')).toEqual([{ n: 3 }]);
          throw new Error('boom');
        });
        await expect(failure).rejects.toThrow('boom');
        expect(await count('tx')).toEqual({ n: 0 });
        expect(await count('tx_log')).toEqual({ n: 0 });
      });

      it('rolls back a merge with child tables (temporary tables do not commit implicitly)', async () => {
        const id: ColumnSchema = { name: 'id', type: INT };
        await dest.applySchemaChanges([
          createTable('txc', [id, { name: 'v', type: TEXT }], ['id']),
          childTable('txc', [id]),
        ]);
        const catalog = await dest.readCatalog();
        const failure = dest.transaction(async (tx) => {
          await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('before', 1)");
          const w = await tx.writer(
            merge(catalog.get('txc') as LiveTable, [catalog.get('txc__items') as LiveTable]),
          );
          await w.write([{ values: [1, 'a'], children: new Map([['txc__items', [[1, 0, 'x']]]]) }]);
          expect(await w.finish()).toEqual({
            inserted: 1,
            updated: 0,
            unchanged: 0,
            deleted: 0,
            childRows: 1,
          });
          throw new Error('after finish');
        });
        await expect(failure).rejects.toThrow('after finish');
        for (const t of ['txc', 'txc__items', 'tx_log']) expect(await count(t)).toEqual({ n: 0 });
      });

      it.each(['merge', 'append'] as const)(
        'rolls back a transaction that fails in the middle of a bulk write (%s), and every connection stays usable',
        async (write) => {
          const live = await table(dest, 'tx');
          const failure = dest.transaction(async (tx) => {
            const w = await tx.writer({ ...merge(live), write, primaryKey: write === 'merge' ? ['id'] : [] });
            await w.write(rowsOf(Array.from({ length: 5000 }, (_, i) => [i, 'x'])));
            throw new Error('reader failed');
          });
          await expect(failure).rejects.toThrow(/^reader failed$/);
          expect(await count('tx')).toEqual({ n: 0 });
          // Every pooled connection still works and holds no staging table.
          for (let i = 0; i < 6; i++) {
            await load(dest, 'tx', { write: 'merge', primaryKey: ['id'], runId: 1 }, rowsOf([[i, 'ok']]));
          }
          expect(await count('tx')).toEqual({ n: 6 });
          await dest.execute('DELETE FROM tx');
        },
      );

      it('streams many rows with bounded batches and keeps file order', async () => {
        const n = 60_000;
        const rows = rowsOf(Array.from({ length: n }, (_, i) => [i % 1000, `v${i}`]));
        const stats = await load(dest, 'tx', { write: 'merge', primaryKey: ['id'], runId: 1 }, rows, 2000);
        expect(stats).toEqual({ inserted: 1000, updated: n - 1000, unchanged: 0, deleted: 0, childRows: 0 });
        expect(await dest.query('SELECT v FROM tx WHERE id = 999')).toEqual([{ v: `v${n - 1}` }]);
        await dest.execute('DELETE FROM tx');
      });

      it('stores a failure’s or a reject’s text with a NUL in it, the NUL as ␀ (U+2400)', async () => {
        await ensureStateTables(dest, dest.dialect);
        const file = { path: 'in/nul.csv', table: 'nul', size: 1, mtimeMs: 1 };
        const run = await startRun(dest, 'nulpipe');
        await markFailed(dest, 'nulpipe', file, run.id, 'SOURCE_FORMAT: bad \u0000 byte');
        const [entry] = (await readLedger(dest, 'nulpipe')).values();
        expect(entry?.error).toBe('SOURCE_FORMAT: bad ␀ byte');
        await insertRejects(dest, 'nulpipe', { id: 1, path: file.path }, run.id, [
          {
            table: 'nul',
            line: 2,
            record: 1,
            code: 'CSV_QUOTE',
            column: null,
            message: 'm\u0000',
            raw: 'a\u0000b\u0000',
          },
        ]);
        const [reject] = await listRejects(dest, 'nulpipe');
        expect(reject).toMatchObject({
          raw: 'a␀b␀',
          message: 'm␀ [the raw record held 2 NUL characters (U+0000), stored as ␀ (U+2400)]',
        });
        const counts = {
          filesLoaded: 0,
          filesSkipped: 0,
          filesFailed: 1,
          rowsInserted: 0,
          rowsUpdated: 0,
          rowsUnchanged: 0,
          rowsRejected: 1,
        };
        await finishRun(dest, run.id, 'partial', counts, {}, 'failed: \u0000');
        expect((await listRuns(dest, 'nulpipe')).find((r) => r.id === run.id)?.error).toBe('failed: ␀');
      });

      it('inserts state rows and gives back their ids, in a transaction and out', async () => {
        await ensureStateTables(dest, dest.dialect);
        const sql = "INSERT INTO _tributary_runs (pipeline, status, started_at) VALUES (?, 'running', ?)";
        const a = await dest.insertRow(sql, ['p', 'now']);
        const b = await dest.transaction((tx) => tx.insertRow(sql, ['p', 'now']));
        expect(b).toBe(a + 1);
      });
    });

    describe('text rows (writeText)', () => {
      const cols: ColumnSchema[] = [
        { name: 'id', type: INT },
        { name: 's', type: TEXT },
        { name: 'cur', type: INT },
      ];

      it.each(['merge', 'append', 'replace'] as const)(
        'loads text rows exactly as write loads the same values: %s',
        async (write) => {
          const [a, b] = [`wt_${write}_rows`, `wt_${write}_text`];
          const fileId = write === 'append';
          const key = write === 'merge' ? ['id'] : [];
          await dest.applySchemaChanges([
            createTable(a, cols, key, { fileId, idx: false }),
            createTable(b, cols, key, { fileId, idx: false }),
          ]);
          const texts = textsFor(await table(dest, a));
          const rows = rowsOf([...texts.map((t, i) => [i, t, i % 3] as DbValue[]), [100, null, null]]);
          const p: Plan = { write, primaryKey: key, cursor: 'cur', runId: 1 };
          for (const runId of [1, 2]) {
            const expected = await load(dest, a, { ...p, runId }, rows);
            expect(await load(dest, b, { ...p, runId }, rows, 4, { text: true, between: true })).toEqual(
              expected,
            );
          }
          const rowsBack = (t: string) =>
            dest.query(
              `SELECT id, s, ${HEX[dialect]('s')} AS hex, cur, _tributary_run_id AS run FROM ${t} ORDER BY id`,
            );
          const back = await rowsBack(b);
          expect(back).toEqual(await rowsBack(a));
          expect(back.slice(0, texts.length).map((r) => r.s)).toEqual(texts);
        },
      );

      it('is offered where the destination has a row format, and without child tables only', async () => {
        const id: ColumnSchema = { name: 'id', type: INT };
        await dest.applySchemaChanges([createTable('wt_p', cols, ['id']), childTable('wt_p', [id])]);
        const catalog = await dest.readCatalog();
        expect(dest.capabilities.rowFormat).toBe(dialect === 'sqlite' ? 'json' : 'tsv');
        for (const how of paths) {
          const d = await other(how.options);
          for (const [write, children] of [
            ['merge', []],
            ['append', []],
            ['merge', [catalog.get('wt_p__items') as LiveTable]],
          ] as const) {
            await d.transaction(async (tx) => {
              const w = await tx.writer({
                table: catalog.get('wt_p') as LiveTable,
                write,
                primaryKey: write === 'merge' ? ['id'] : [],
                cursor: undefined,
                runId: 1,
                fileId: 1,
                children: [...children],
                direct: true,
              });
              const offered = d.capabilities.rowFormat !== undefined && children.length === 0;
              expect(typeof w.writeText === 'function', `${how.name}: ${write} ${children.length}`).toBe(
                offered,
              );
              await w.finish();
            });
          }
        }
      });
    });

    describe('errors', () => {
      it('a bad statement is terminal and keeps its SQL, a duplicate key does not show the value', async () => {
        const bad = (await dest
          .query('SELEKT nonsense FROM nowhere')
          .catch((e: unknown) => e)) as TributaryError;
        expect(bad).toMatchObject({ code: 'DEST_QUERY', transient: false });
        expect(bad.message).toContain('SELEKT nonsense FROM nowhere');
        await dest.applySchemaChanges([createTable('uk', [{ name: 'k', type: TEXT }], ['k'])]);
        await dest.execute("INSERT INTO uk (k) VALUES ('secret-value-123')");
        const dup = (await dest
          .execute('INSERT INTO uk (k) VALUES (?)', ['secret-value-123'])
          .catch((e: unknown) => e)) as TributaryError;
        expect(dup).toMatchObject({ code: 'DEST_QUERY', transient: false });
        expect(dup.message).toMatch(DUPLICATE_KEY[dialect]);
        expect(dup.message).not.toContain('secret-value-123');
        expect(String((dup.cause as Error).message)).not.toContain('secret-value-123');
      });
    });

    // Each case in tables and a SQLite file of its own: the cases run side by side.
    describe('against the SQLite writer', { concurrent: true }, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-dest-diff-'));
      beforeAll(() => {
        console.log(
          `${dialect} against the SQLite writer: seed ${WRITER_SEED} (replay with TRIBUTARY_WRITER_SEED=${WRITER_SEED})`,
        );
      });
      afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

      const base = { cursor: true, children: false, dups: true, text: false };
      const cases: Array<RandomCase & { options?: string }> = [
        { ...base, name: 'cursor' },
        { ...base, name: 'no cursor', cursor: false },
        { ...base, name: 'cursor, distinct keys', dups: false },
        { ...base, name: 'cursor, text rows', text: true },
        { ...base, name: 'cursor with children', children: true },
        { ...base, name: 'no cursor with children', cursor: false, children: true },
        ...(kit?.variants ?? []).map(([name, options]) => ({
          ...base,
          name: `cursor with children, ${name}`,
          children: true,
          options,
        })),
      ].filter((c) => kit || c.text); // SQLite: its text rows against its bound rows

      it.each(cases)('same stats and tables on random files: $name', async (c) => {
        await compareWithSqlite(
          await other(c.options),
          c,
          path.join(dir, `${c.name.replace(/\W+/g, '_')}.db`),
        );
      });
    });
  });

  // The servers' own part: SQLite has no server to open, kill or log in to, and ignores `direct`.
  if (kit) serverSuite(kit);
  if (own)
    own({
      get fresh() {
        return fresh;
      },
      get dest() {
        return dest;
      },
    });

  function serverSuite(server: ServerKit): void {
    describe('server', () => {
      const urlOf = (database: string, options = '') => `${server.baseUrl}/${database}${options}`;

      describe('open', () => {
        it('created the missing database (UTF-8, binary collation where it has one) and reports its capabilities', async () => {
          // freshDestination leaves creating the database to the destination's open().
          expect(await server.databaseEncoding(fresh.name)).toMatch(server.encoding);
          expect(dest.capabilities).toEqual(server.capabilities);
          expect(dest.description).toBe(urlOf(fresh.name));
          expect(dest.warnings).toEqual([]);
        });

        it('read-only: a missing database is absent, and nothing is created', async () => {
          const name = `${fresh.name}_none`;
          const missing = await createDestination(parseDestination(urlOf(name), os.tmpdir(), {}));
          await missing.open({ readOnly: true });
          expect(missing.absent).toBe(true);
          await missing.close();
          expect(await server.databaseEncoding(name)).toBeUndefined();
        });

        it('names an unknown URL option and lists the known ones', async () => {
          const make = (options: string) =>
            createDestination(parseDestination(urlOf('x', options), os.tmpdir(), {}));
          await expect(make('?poolSize=3')).rejects.toThrow(/option "poolSize" is unknown.*connectionLimit/);
        });
      });

      // Each case in tables and a SQLite file of its own: the cases run side by side.
      describe('before-images, against the SQLite writer', { concurrent: true }, () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-dest-images-'));
        beforeAll(() => ensureStateTables(dest, dest.dialect));
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

        async function pair(name: string, changes: SchemaChange[]) {
          const lite = await sqliteReference(path.join(dir, `${name}.db`));
          await lite.applySchemaChanges(changes);
          await dest.applySchemaChanges(changes);
          return lite;
        }

        const cases = [
          { name: 'merge with cursor', cursor: true, children: false },
          { name: 'merge without cursor', cursor: false, children: false },
          { name: 'merge with children', cursor: true, children: true },
          { name: 'merge with children, no cursor', cursor: false, children: true },
        ];

        it.each(cases)(
          'records the same images on random files: $name',
          async ({ name, cursor, children }) => {
            const tableName = `im_${name.replace(/\W+/g, '_')}`;
            const child = `${tableName}__items`;
            const k: ColumnSchema = { name: 'k', type: INT };
            const lite = await pair(tableName, [
              createTable(
                tableName,
                [k, { name: 'v', type: TEXT }, { name: 'amt', type: DEC }, { name: 'c', type: INT }],
                ['k'],
              ),
              childTable(tableName, [k]),
            ]);
            const beforeImages = new Map([
              [tableName, ['amt', 'k', 'missing', 'v']],
              [child, ['k', 'x']],
            ]);
            try {
              const r = rng(seedFor(`images ${name}`));
              const [catalog, liteCatalog] = [await dest.readCatalog(), await lite.readCatalog()];
              const sent: DbValue[][] = [];
              for (let file = 1; file <= 12; file++) {
                const rows: RowNode[] = [];
                const n = 1 + r(30);
                for (let i = 0; i < n; i++) {
                  // A third are earlier rows sent again: identical to the stored one (no image), or stale.
                  const values =
                    sent.length > 0 && r(3) === 0
                      ? [...(sent[r(sent.length)] as DbValue[])]
                      : [
                          1 + r(8),
                          ['a', 'b', "it's"][r(3)] as string,
                          ['1.10', '22.05', '0.00'][r(3)] as string,
                          1 + r(4),
                        ];
                  sent.push(values);
                  const key = values[0] as number;
                  const node: RowNode = { values };
                  if (children)
                    node.children = new Map([
                      [child, Array.from({ length: r(3) }, (_, j) => [key, j, `x${r(3)}`])],
                    ]);
                  rows.push(node);
                }
                // Three files per run: a row written earlier in the same run has no image.
                const p: Plan = {
                  write: 'merge',
                  primaryKey: ['k'],
                  cursor: cursor ? 'c' : undefined,
                  runId: Math.ceil(file / 3),
                  children: children ? [child] : [],
                  beforeImages,
                };
                expect(await load(dest, tableName, p, rows, 7, { catalog }), `file ${file}`).toEqual(
                  await load(lite, tableName, p, rows, 1000, { catalog: liteCatalog }),
                );
              }
              const expected = await images(lite, [tableName, child]);
              expect(expected.length).toBeGreaterThan(0);
              expect(await images(dest, [tableName, child])).toEqual(expected);
            } finally {
              await lite.close();
            }
          },
        );

        it('records re-sent append rows and a replace marker the same way', async () => {
          const lite = await pair('im_append', [
            createTable(
              'im_ap',
              [
                { name: 'a', type: INT },
                { name: 'amt', type: DEC },
              ],
              [],
              { fileId: true, idx: false },
            ),
            createTable('im_rp', [{ name: 'a', type: INT }], []),
            createTable('im_rp_plain', [{ name: 'a', type: INT }], []),
          ]);
          const beforeImages = new Map([
            ['im_ap', ['a', 'amt']],
            ['im_rp', ['a']],
          ]);
          const replaced = { inserted: 1, updated: 0, unchanged: 0, deleted: 2, childRows: 0 };
          try {
            for (const d of [lite, dest]) {
              const ap = (runId: number, fileId: number, rows: DbValue[][]) =>
                load(d, 'im_ap', { write: 'append', runId, fileId, beforeImages }, rowsOf(rows));
              await ap(1, 1, [
                [1, '1.50'],
                [2, '2.00'],
              ]);
              await ap(1, 2, [[3, '3.25']]);
              await ap(1, 2, [[4, '4.00']]); // re-sent in the same run: no image
              expect(await ap(2, 1, [[5, '5.00']])).toEqual(replaced); // re-sent in a later run: images of 1 and 2
              for (const t of ['im_rp', 'im_rp_plain']) {
                await load(d, t, { write: 'replace', runId: 1, beforeImages }, rowsOf([[1], [2]]));
                expect(await load(d, t, { write: 'replace', runId: 2, beforeImages }, rowsOf([[3]]))).toEqual(
                  replaced,
                );
              }
            }
            const expected = await images(lite, ['im_ap', 'im_rp', 'im_rp_plain']);
            expect(expected).toEqual(['im_ap|2|a=1,amt=1.5', 'im_ap|2|a=2,amt=2', 'im_rp|1|∅', 'im_rp|2|∅']);
            expect(await images(dest, ['im_ap', 'im_rp', 'im_rp_plain'])).toEqual(expected);
            // The same rows (decimals as numbers: SQLite stores 4.00 as 4).
            const rows = async (d: Destination) =>
              (await dumpText(d, 'im_ap', 'a')).map(([a, amt, run]) => [a, Number(amt), run]);
            expect(await rows(dest)).toEqual(await rows(lite));
          } finally {
            await lite.close();
          }
        });
      });

      it('compares text cursors in code point order, as SQLite does', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-dest-cursor-'));
        const lite = await sqliteReference(path.join(dir, 'text_cursor.db'));
        try {
          await lite.applySchemaChanges([textCursorTable('tc')]);
          await dest.applySchemaChanges([textCursorTable('tc')]);
          const r = rng(4242);
          for (let file = 1; file <= 12; file++) {
            const rows = textCursorRows(file, r);
            const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: file };
            expect(await load(dest, 'tc', p, rows), `file ${file}`).toEqual(await load(lite, 'tc', p, rows));
          }
          expect(await dumpText(dest, 'tc', 'k')).toEqual(await dumpText(lite, 'tc', 'k'));
        } finally {
          await lite.close();
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });

      describe('direct loads', () => {
        const cols: ColumnSchema[] = [
          { name: 'id', type: INT },
          { name: 'v', type: TEXT },
          { name: 'cur', type: INT },
        ];
        const direct: Plan = { write: 'merge', primaryKey: ['id'], cursor: 'cur', runId: 1, direct: true };
        const twice = rowsOf([
          [1, 'a', 1],
          [2, 'b', 1],
          [1, 'a2', 1],
        ]);

        beforeAll(async () => {
          if (!dest) return;
          await dest.applySchemaChanges([
            createTable('dl_log', [{ name: 'msg', type: TEXT }], []),
            createTable(
              'dl_narrow',
              [
                { name: 'k', type: INT },
                { name: 'd', type: { kind: 'decimal', precision: 4, scale: 2 } },
              ],
              ['k'],
            ),
          ]);
        });

        it.each([false, true])(
          'loads an empty table straight, with the run id (text rows: %s)',
          async (text) => {
            const name = `dl_empty_${text}`;
            await dest.applySchemaChanges([createTable(name, cols, ['id'])]);
            const rows = rowsOf(Array.from({ length: 3000 }, (_, i) => [i, `v${i}`, i % 5]));
            const stats = await load(dest, name, { ...direct, runId: 7 }, rows, 700, { text });
            expect(stats).toEqual({ inserted: 3000, updated: 0, unchanged: 0, deleted: 0, childRows: 0 });
            expect(
              await dest.query(
                `SELECT COUNT(*) AS n, MIN(_tributary_run_id) AS lo, MAX(_tributary_run_id) AS hi FROM ${name}`,
              ),
            ).toEqual([{ n: 3000, lo: 7, hi: 7 }]);
            expect(await dest.query(`SELECT v FROM ${name} WHERE id = 2999`)).toEqual([{ v: 'v2999' }]);
          },
        );

        it.each([
          { how: 'rows in one batch', text: false, between: false, batch: 1000 },
          { how: 'a row a batch, statements between', text: false, between: true, batch: 1 },
          { how: 'text rows, statements between', text: true, between: true, batch: 2 },
        ])(
          'throws DirectLoadConflict from finish when a key comes twice, and the rollback leaves nothing ($how)',
          async ({ how, text, between, batch }) => {
            const name = `dl_twice_${how.replace(/\W+/g, '_')}`;
            await dest.applySchemaChanges([createTable(name, cols, ['id'])]);
            const live = await table(dest, name);
            let finished = false;
            const err = await dest
              .transaction(async (tx) => {
                await tx.execute("INSERT INTO dl_log (msg, _tributary_run_id) VALUES ('before', 1)");
                const w = await tx.writer({
                  ...direct,
                  cursor: 'cur',
                  table: live,
                  fileId: 1,
                  children: [],
                  primaryKey: ['id'],
                });
                for (let i = 0; i < twice.length; i += batch) {
                  const part = twice.slice(i, i + batch);
                  if (text) await w.writeText?.(encodeRows(dest, part), part.length);
                  else await w.write(part);
                  if (between) await tx.query('SELECT 1'); // ends a LOAD DATA or COPY: the next batch opens another
                }
                finished = true;
                return w.finish();
              })
              .catch((e: unknown) => e);
            // From `finish` (types.ts); on PostgreSQL from whichever statement ends the COPY (writer.ts).
            if (server.conflictAtFinish || !between) expect(finished).toBe(true);
            expect(err).toBeInstanceOf(DirectLoadConflict);
            expect((err as Error).message).toContain(name);
            expect(await count(name)).toEqual({ n: 0 });
            expect(await count('dl_log')).toEqual({ n: 0 });
            // Loaded again without `direct`, through staging: the merge's result.
            const stats = await load(dest, name, { ...direct, direct: false }, twice, 1000, { text });
            expect(stats).toEqual({ inserted: 2, updated: 1, unchanged: 0, deleted: 0, childRows: 0 });
            expect(await dumpText(dest, name, 'id')).toEqual([
              ['1', 'a2', '1', '1'],
              ['2', 'b', '1', '1'],
            ]);
          },
        );

        it('goes through staging when the table has a row or the file child tables', async () => {
          const id: ColumnSchema = { name: 'id', type: INT };
          await dest.applySchemaChanges([
            createTable('dl_full', cols, ['id']),
            createTable('dl_kids', cols, ['id']),
            childTable('dl_kids', [id]),
          ]);
          await dest.execute("INSERT INTO dl_full (id, v, cur, _tributary_run_id) VALUES (9, 'old', 0, 1)");
          expect(await load(dest, 'dl_full', { ...direct, runId: 2 }, twice, 1, { text: true })).toEqual({
            inserted: 2,
            updated: 1,
            unchanged: 0,
            deleted: 0,
            childRows: 0,
          });
          const kids = twice.map((r) => ({
            values: r.values,
            children: new Map([['dl_kids__items', [[r.values[0] as number, 0, 'x']]]]),
          }));
          expect(await load(dest, 'dl_kids', { ...direct, children: ['dl_kids__items'] }, kids)).toEqual({
            inserted: 2,
            updated: 1,
            unchanged: 0,
            deleted: 0,
            childRows: 3,
          });
        });

        it.each([
          { how: 'direct, text rows', direct: true, text: true },
          { how: 'staged, text rows', direct: false, text: true },
          { how: 'direct, rows', direct: true, text: false },
        ])(
          'fails on a value its column cannot hold, leaving nothing ($how)',
          async ({ direct: isDirect, text }) => {
            const err = await load(
              dest,
              'dl_narrow',
              { write: 'merge', primaryKey: ['k'], runId: 1, direct: isDirect },
              rowsOf([
                [1, '1.00'],
                [2, '123.45'],
              ]),
              1000,
              { text },
            ).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(TributaryError);
            expect(await count('dl_narrow')).toEqual({ n: 0 });
          },
        );

        it.each([false, true])(
          'fails the load without showing the value, on a text its table refuses (limits; direct: %s)',
          async (isDirect) => {
            const name = `narrow_${isDirect}`;
            await dest.applySchemaChanges([
              createTable(
                name,
                [
                  { name: 'k', type: TEXT },
                  { name: 'v', type: INT },
                ],
                ['k'],
              ),
            ]);
            const { limits } = await table(dest, name);
            const maxChars = limits?.maxChars?.k;
            const refused = limits?.noNul ? 'nul\0secret' : `secret${'k'.repeat(maxChars ?? 0)}`;
            expect(limits?.noNul || maxChars !== undefined).toBe(true);
            const err = await load(
              dest,
              name,
              { write: 'merge', primaryKey: ['k'], runId: 1, direct: isDirect },
              rowsOf([
                ['ok', 1],
                [refused, 2],
              ]),
            ).catch((e: unknown) => e);
            expect(err).toBeInstanceOf(TributaryError);
            expect((err as TributaryError).message).not.toContain('secret');
            expect((err as TributaryError).message).not.toContain('kkkkkkkk');
            expect(String(((err as TributaryError).cause as Error | undefined)?.message)).not.toContain(
              'secret',
            );
            expect(await count(name)).toEqual({ n: 0 });
          },
        );
      });

      // Each on a lock of its own: side by side.
      describe('locks', { concurrent: true }, () => {
        it('a second destination sees who holds the lock and since when, and gets it once released', async () => {
          const second = await fresh.open();
          try {
            expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
            expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined(); // already ours
            expect(await second.tryLock('pipe', 'host-b:2')).toEqual({
              pipeline: 'pipe',
              holder: 'host-a:1',
              since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            });
            expect(await second.tryLock('other-pipe', 'host-b:2')).toBeUndefined();
            expect(await dest.holdsLock?.(dest, 'pipe')).toBe(true);
            expect(await second.holdsLock?.(second, 'pipe')).toBe(false);
            await dest.unlock('pipe');
            expect(await second.tryLock('pipe', 'host-b:2')).toBeUndefined();
            expect(await dest.tryLock('pipe', 'host-a:1')).toEqual(
              expect.objectContaining({ holder: 'host-b:2' }),
            );
          } finally {
            await second.close();
          }
          // Closing the holder released its locks.
          expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
          await dest.unlock('pipe');
        });

        it('the server frees the lock when the holder session dies, and the holder notices', async () => {
          const second = await fresh.open();
          try {
            expect(await second.tryLock('crash', 'dying:1')).toBeUndefined();
            const [row] = await server.admin(
              `SELECT ${server.lockSessionColumn} AS id FROM _tributary_locks WHERE pipeline = 'crash'`,
              [],
              fresh.name,
            );
            await server.kill(row?.id);
            // The stale row names the dead holder; the lock itself is free.
            expect(await dest.tryLock('crash', 'alive:2')).toBeUndefined();
            expect(await second.holdsLock?.(second, 'crash')).toBe(false);
            expect(second.lockLost?.('crash')).toBe(true);
            await dest.unlock('crash');
          } finally {
            await second.close();
          }
        });
      });

      // Each on a table or session of its own: side by side (one that finds the pool busy waits
      // for a connection; every lock wait here ends within a second).
      describe('errors', { concurrent: true }, () => {
        it('a killed connection is a transient error and the pool recovers', async () => {
          const err = (await dest
            .transaction(async (tx) => {
              const [me] = await tx.query<{ id: unknown }>(server.sessionIdSql);
              await server.kill(me?.id);
              await tx.query('SELECT 1');
            })
            .catch((e: unknown) => e)) as TributaryError;
          expect(err).toBeInstanceOf(TributaryError);
          expect(err).toMatchObject({ code: 'DEST_QUERY', transient: true });
          expect(await dest.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
        });

        it('a lock wait timeout is transient', async () => {
          await dest.applySchemaChanges([createTable('lw', [{ name: 'id', type: INT }], ['id'])]);
          await dest.execute('INSERT INTO lw (id) VALUES (1)');
          let release: () => void = () => {};
          const held = new Promise<void>((r) => {
            release = r;
          });
          let locked: () => void = () => {};
          const isLocked = new Promise<void>((r) => {
            locked = r;
          });
          const holder = dest.transaction(async (tx) => {
            await tx.execute('UPDATE lw SET _tributary_run_id = 1 WHERE id = 1');
            locked();
            await held;
          });
          await isLocked;
          const err = await dest
            .transaction(async (tx) => {
              await tx.execute(server.shortLockWait);
              await tx.execute('UPDATE lw SET _tributary_run_id = 2 WHERE id = 1');
            })
            .catch((e: unknown) => e);
          release();
          await holder;
          expect(err).toMatchObject({ code: 'DEST_QUERY', transient: true });
          expect((err as Error).message).toMatch(server.lockWaitError);
        });

        it('a deadlock is transient', async () => {
          await dest.applySchemaChanges([createTable('dlk', [{ name: 'id', type: INT }], ['id'])]);
          await dest.execute('INSERT INTO dlk (id) VALUES (1), (2)');
          let step: () => void = () => {};
          const both = new Promise<void>((r) => {
            let n = 0;
            step = () => {
              if (++n === 2) r();
            };
          });
          const cross = (a: number, b: number) =>
            dest.transaction(async (tx) => {
              await tx.execute('UPDATE dlk SET _tributary_run_id = 1 WHERE id = ?', [a]);
              step();
              await both;
              await tx.execute('UPDATE dlk SET _tributary_run_id = 1 WHERE id = ?', [b]);
            });
          const results = await Promise.allSettled([cross(1, 2), cross(2, 1)]);
          const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
          expect(failed).toHaveLength(1);
          expect(failed[0]?.reason).toMatchObject({ code: 'DEST_QUERY', transient: true });
          expect(String((failed[0]?.reason as Error | undefined)?.message)).toMatch(server.deadlockError);
        });

        it('a server error quoting a URL with a password never shows the password, in its message or cause', async () => {
          const secret = 'Xq9-secret-in-url';
          const url = `postgres://etl:${secret}@db.example/shop`;
          // The table's name is kept in the message; in the second the SQL is cut at 300
          // characters with the password's first three inside.
          const head = "SELECT 1 FROM nowhere WHERE x = '";
          const pad = 'y'.repeat(297 - head.length - 'postgres://etl:'.length);
          for (const sql of [`SELECT * FROM ${q(url)}`, `${head}${pad}${url}'`]) {
            const err = (await dest.query(sql).catch((e: unknown) => e)) as TributaryError;
            expect(err).toBeInstanceOf(TributaryError);
            expect(err.message).toMatch(server.missingTableError);
            expect(err.message).not.toContain('Xq9');
            expect(String((err.cause as Error).message)).not.toContain('Xq9');
          }
        });

        it('a refused connection is a transient DEST_CONNECT error without the password', async () => {
          const d = await createDestination(parseDestination(server.refusedUrl, os.tmpdir(), {}));
          expect(d.description).toBe(server.refusedUrl.replace('pw-not-shown', '***'));
          const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
          expect(err).toMatchObject({ code: 'DEST_CONNECT', transient: true });
          expect(err.message).not.toContain('pw-not-shown');
        });
      });

      describe('secrets', () => {
        const user = `trib_${Math.random().toString(36).slice(2, 10)}`;
        const password = 'Pa55-w0rd!with:@/chars';
        beforeAll(async () => {
          if (fresh) await server.createUser(user, password, fresh.name);
        });
        afterAll(async () => {
          if (fresh) await server.dropUser(user);
        });
        const url = (database: string) => {
          const u = new URL(urlOf(database));
          u.username = user;
          u.password = encodeURIComponent(password);
          return u.toString();
        };

        it('never shows the password in the description or in errors', async () => {
          const d = await createDestination(parseDestination(url(fresh.name), os.tmpdir(), {}));
          try {
            await d.open();
            expect(d.description).toBe(url(fresh.name).replace(encodeURIComponent(password), '***'));
            expect(d.description).not.toContain(password);
            const err = (await d
              .query(`SELECT '${password}' FROM no_such_table`)
              .catch((e: unknown) => e)) as Error;
            expect(err.message).toContain('no_such_table');
            expect(err.message).not.toContain(password);
          } finally {
            await d.close();
          }
        });

        it('cannot create a database the user may not create, and says so without the password', async () => {
          // The password from TRIBUTARY_DB_PASSWORD, the URL having none.
          const config = parseDestination(url(`${fresh.name}_denied`).replace(/:[^:@]*@/, '@'), os.tmpdir(), {
            TRIBUTARY_DB_PASSWORD: password,
          });
          expect(config).toMatchObject({ password });
          const d = await createDestination(config);
          expect(d.description).not.toContain(password);
          const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
          expect(err).toMatchObject({ code: 'DEST_CONNECT' });
          expect(err.message).toMatch(/does not exist and could not be created/);
          expect(err.message).not.toContain(password);
        });
      });
    });
  }
}

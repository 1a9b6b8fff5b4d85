import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDestination } from '../../src/config/destination.js';
import { TributaryError } from '../../src/core/errors.js';
import type { ColumnSchema, ColumnType, DbValue, SchemaChange } from '../../src/core/types.js';
import { translateMysqlError } from '../../src/destinations/mysql/errors.js';
import { MysqlDestination } from '../../src/destinations/mysql/index.js';
import { mergePaths, mergeTuning } from '../../src/destinations/mysql/write/merge.js';
import { tsvRow } from '../../src/destinations/rowtext.js';
import { SqliteDestination } from '../../src/destinations/sqlite/index.js';
import type {
  Destination,
  LiveTable,
  RowNode,
  TableWritePlan,
  WriteStats,
} from '../../src/destinations/types.js';
import { DirectLoadConflict, TOMBSTONES } from '../../src/destinations/types.js';
import { ensureStateTables } from '../../src/state/tables.js';
import { freshMysqlDatabase, MYSQL_TEST_URL, mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';

/**
 * The MySQL destination against the real server (MariaDB 10.11 here), in a database of its
 * own. Merge semantics are checked both case by case and against the SQLite writer, the
 * reference implementation, on random batches.
 */

const available = await mysqlAvailable();

const INT: ColumnType = { kind: 'integer' };
const TEXT: ColumnType = { kind: 'text' };
const DT: ColumnType = { kind: 'datetime' };

function openMysql(url: string): Promise<MysqlDestination> {
  const config = parseDestination(url, os.tmpdir(), {});
  if (config.kind !== 'mysql') throw new Error('not a mysql url');
  const dest = new MysqlDestination(config);
  return dest.open().then(() => dest);
}

function createTable(
  name: string,
  columns: ColumnSchema[],
  primaryKey: string[],
  system = { fileId: false, idx: false },
): SchemaChange {
  return { kind: 'create_table', table: { name, columns, primaryKey }, system };
}

async function table(dest: Destination, name: string): Promise<LiveTable> {
  const t = (await dest.readCatalog()).get(name);
  if (!t) throw new Error(`no table ${name}`);
  return t;
}

interface Plan {
  write: TableWritePlan['write'];
  primaryKey?: string[];
  cursor?: string;
  runId: number;
  fileId?: number;
  children?: string[];
  beforeImages?: TableWritePlan['beforeImages'];
  direct?: boolean;
}

/** Write `rows` to `name` in one transaction, in batches of `batch`. */
async function load(
  dest: Destination,
  name: string,
  p: Plan,
  rows: RowNode[],
  batch = 1000,
): Promise<WriteStats> {
  const catalog = await dest.readCatalog();
  const live = catalog.get(name);
  if (!live) throw new Error(`no table ${name}`);
  return dest.transaction(async (tx) => {
    const w = await tx.writer({
      table: live,
      write: p.write,
      primaryKey: p.primaryKey ?? [],
      cursor: p.cursor,
      runId: p.runId,
      fileId: p.fileId ?? 1,
      children: (p.children ?? []).map((c) => catalog.get(c) as LiveTable),
      beforeImages: p.beforeImages,
      direct: p.direct,
    });
    for (let i = 0; i < rows.length; i += batch) await w.write(rows.slice(i, i + batch));
    return w.finish();
  });
}

/**
 * `load` through `writeText`: each batch as the TSV lines a worker would encode. With
 * `between`, a statement runs between two batches (it ends the open LOAD DATA).
 */
async function loadText(
  dest: Destination,
  name: string,
  p: Plan,
  rows: RowNode[],
  batch = 1000,
  between = false,
): Promise<WriteStats> {
  const live = await table(dest, name);
  return dest.transaction(async (tx) => {
    const w = await tx.writer({
      table: live,
      write: p.write,
      primaryKey: p.primaryKey ?? [],
      cursor: p.cursor,
      runId: p.runId,
      fileId: p.fileId ?? 1,
      children: [],
      beforeImages: p.beforeImages,
      direct: p.direct,
    });
    if (!w.writeText) throw new Error('no writeText');
    for (let i = 0; i < rows.length; i += batch) {
      const part = rows.slice(i, i + batch);
      await w.writeText(part.map((r) => `${tsvRow(r.values)}\n`).join(''), part.length);
      if (between) await tx.query('SELECT 1');
    }
    return w.finish();
  });
}

const rowsOf = (values: DbValue[][]): RowNode[] => values.map((v) => ({ values: v }));

async function select(dest: Destination, sql: string): Promise<Array<Record<string, unknown>>> {
  return dest.query(sql);
}

/** Rows as comparable text (exact: numbers and strings alike become their text). */
async function dumpText(dest: Destination, name: string, order: string): Promise<string[][]> {
  const live = await table(dest, name);
  const cols = [
    ...live.columns.map((c) => c.name),
    ...live.systemColumns.filter((c) => c === '_tributary_run_id'),
  ];
  const rows = await dest.query<Record<string, unknown>>(
    `SELECT ${cols.map((c) => dest.dialect.quote(c)).join(', ')} FROM ${dest.dialect.quote(name)} ORDER BY ${order}`,
  );
  return rows.map((r) =>
    cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined) return '∅';
      const s = String(v);
      // DATETIME(6) reads back with six fractional digits; SQLite keeps the text as written.
      return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+$/.test(s) ? s.replace(/\.?0+$/, '') : s;
    }),
  );
}

describe('MySQL error text (no server)', () => {
  it('masks URL credentials and the password before cutting the SQL to 300 characters', () => {
    for (const at of [290, 296, 299]) {
      // The password starts `at`, before the 300 characters the SQL is cut to, and ends after.
      const lead = (prefix: string) => `SELECT '${'x'.repeat(at - prefix.length - 12)}', '${prefix}`;
      for (const sql of [
        `${lead('mysql://etl:')}Secr3tPassw0rd@db.example/shop'`,
        `${lead('')}Hunter2-long-pass'`,
      ]) {
        expect(sql.search(/Secr3t|Hunter2/)).toBe(at);
        const err = translateMysqlError(
          Object.assign(new Error('m'), {
            code: 'ER_PARSE_ERROR',
            errno: 1064,
            sqlMessage: 'You have an error',
          }),
          sql,
          { secrets: ['Hunter2-long-pass'] },
        ) as TributaryError;
        expect(err.message).not.toMatch(/Secr|Hunt|Se…|Hu…/);
      }
    }
  });
});

describe.skipIf(!available)('MySQL destination', () => {
  let db: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  let dest: MysqlDestination;

  beforeAll(async () => {
    db = await freshMysqlDatabase();
    dest = await openMysql(db.url);
  });
  afterAll(async () => {
    await dest?.close();
    await db?.drop();
  });

  describe('open', () => {
    it('creates a missing database with a binary collation and reports its capabilities', async () => {
      const name = `${db.name}_new`;
      const d = await openMysql(`${MYSQL_TEST_URL}/${name}`);
      const admin = await mysqlAdmin();
      try {
        const [rows] = await admin.query(
          'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS coll FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
          [name],
        );
        expect(rows).toEqual([
          { cs: 'utf8mb4', coll: expect.stringMatching(/^utf8mb4_(nopad_bin|0900_bin|bin)$/) },
        ]);
        expect(d.capabilities).toEqual({
          transactionalDdl: false,
          maxIdentifierLength: 64,
          bulkLoad: true,
          maxConcurrentLoads: 4,
          rowFormat: 'tsv',
        });
        expect(d.warnings).toEqual([]);
      } finally {
        await d.close();
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await admin.end();
      }
    });

    it('names an unknown URL option and lists the known ones', () => {
      const config = parseDestination(`${MYSQL_TEST_URL}/x?poolSize=3`, os.tmpdir(), {});
      expect(() => new MysqlDestination(config as never)).toThrow(
        /option "poolSize" is unknown.*connectionLimit/,
      );
      // A key or value from the URL is shown escaped: %1b is ESC, never sent to the terminal raw.
      const odd = parseDestination(`${MYSQL_TEST_URL}/x?a%1b=1&connectTimeout=5%1b`, os.tmpdir(), {});
      expect(() => new MysqlDestination(odd as never)).toThrow(/option "a\\u001b" is unknown/);
      const bad = parseDestination(`${MYSQL_TEST_URL}/x?connectTimeout=5%1b`, os.tmpdir(), {});
      expect(() => new MysqlDestination(bad as never)).toThrow(/connectTimeout: got "5\\u001b"; expected/);
    });
  });

  describe('schema changes and catalog', () => {
    const all: ColumnSchema[] = [
      { name: 'code', type: TEXT },
      { name: 'n', type: INT },
      { name: 'flag', type: { kind: 'bool' } },
      { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
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
      await dest.execute(
        "INSERT INTO ddl (code, n, flag, amount, day, at, note, payload, score, _tributary_run_id) VALUES ('a', 1, 1, 1.50, '2024-01-02', '2024-01-02 03:04:05.123456', 'x', '[1]', 1, 1)",
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
          { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
          { name: 'day', type: DT },
          { name: 'at', type: DT },
          { name: 'note', type: TEXT },
          { name: 'payload', type: { kind: 'json' } },
          { name: 'extra', type: { kind: 'json' } },
          { name: 'score', type: INT },
        ],
        primaryKey: ['code', 'n'],
        systemColumns: ['_tributary_run_id', '_tributary_file_id'],
        // What a value may not exceed here: the key's VARCHAR, MariaDB's JSON nesting.
        limits: { maxChars: { code: 752 }, jsonDepth: 31, noLoneSurrogates: true },
      });
      const [row] = await select(dest, 'SELECT n, day, score, at FROM ddl');
      expect(row).toEqual({
        n: '1.00',
        day: '2024-01-02 00:00:00.000000',
        score: 1,
        at: '2024-01-02 03:04:05.123456',
      });
      // The widened key column stays NOT NULL; json keeps its tag through ADD COLUMN.
      const cols = await select(
        dest,
        "SELECT COLUMN_NAME AS c, IS_NULLABLE AS nul, COLUMN_COMMENT AS tag, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ddl' AND COLUMN_NAME IN ('n', 'extra', 'code')",
      );
      expect(cols).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ c: 'n', nul: 'NO' }),
          expect.objectContaining({ c: 'extra', tag: 'tributary:json' }),
          // One text key column and one other: VARCHAR sized to keep the key within 3,072 bytes.
          expect.objectContaining({ c: 'code', t: 'varchar(752)' }),
        ]),
      );
      const idx = await select(
        dest,
        "SELECT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ddl' AND COLUMN_NAME = '_tributary_file_id'",
      );
      // A keyed (merge) table keeps the file id for provenance only: no index to maintain.
      expect(idx).toHaveLength(0);
      await dest.applySchemaChanges([createTable('ddl_append', all, [], { fileId: true, idx: false })]);
      const appendIdx = await select(
        dest,
        "SELECT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ddl_append' AND COLUMN_NAME = '_tributary_file_id'",
      );
      expect(appendIdx).toHaveLength(1); // an append table deletes a re-sent file's rows by it
    });

    it('sizes text keys so a child table (parent key + _tributary_idx) fits as well', async () => {
      const key: ColumnSchema[] = [
        { name: 'a', type: TEXT },
        { name: 'b', type: TEXT },
      ];
      await dest.applySchemaChanges([
        createTable('kp', [...key, { name: 'v', type: INT }], ['a', 'b']),
        createTable(
          'kp__items',
          [...key, { name: '_tributary_idx', type: INT }, { name: 'x', type: TEXT }],
          ['a', 'b', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
      ]);
      const types = await select(
        dest,
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ty FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('kp', 'kp__items') AND COLUMN_NAME IN ('a', 'b') ORDER BY t, c",
      );
      expect(types.map((r) => r.ty)).toEqual([
        'varchar(380)',
        'varchar(380)',
        'varchar(380)',
        'varchar(380)',
      ]);
      const long = 'é'.repeat(380);
      await load(dest, 'kp', { write: 'merge', primaryKey: ['a', 'b'], runId: 1, children: ['kp__items'] }, [
        { values: [long, long, 1], children: new Map([['kp__items', [[long, long, 0, 'x']]]]) },
      ]);
      expect(await select(dest, 'SELECT CHAR_LENGTH(a) AS n FROM kp__items')).toEqual([{ n: 380 }]);
    });

    it('lists user tables only: not state tables, views or temporary tables; `_` is not a wildcard', async () => {
      await dest.execute('CREATE TABLE `_tributary_scratch` (id INT)');
      await dest.execute('CREATE TABLE `atributaryb_c` (id INT)'); // matches an unescaped _tributary_%
      await dest.execute('CREATE OR REPLACE VIEW `v_ddl` AS SELECT 1 AS one');
      const names = [...(await dest.readCatalog()).keys()];
      expect(names).toContain('atributaryb_c');
      expect(names).not.toContain('_tributary_scratch');
      expect(names).not.toContain('v_ddl');
      expect(names.some((n) => n.startsWith('_tributary'))).toBe(false);
    });

    it('refuses to run DDL inside a data transaction', async () => {
      await expect(
        dest.transaction((tx) =>
          dest.applySchemaChanges([createTable('never', [{ name: 'a', type: INT }], [])], tx),
        ),
      ).rejects.toThrow(/commits implicitly/);
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
      await dest.applySchemaChanges([createTable('m', cols, ['id']), createTable('nc', cols, ['id'])]);
    });

    it('keeps the newest cursor, ignores older rows, gives ties to the later row, leaves identical rows alone', async () => {
      const t1 = '2024-01-01 00:00:00';
      const t2 = '2024-01-02 00:00:00';
      const t0 = '2023-12-31 00:00:00';
      expect(
        await load(
          dest,
          'm',
          plan(1),
          rowsOf([
            [1, 'a', t1],
            [2, 'b', t1],
            [3, 'c', t1],
          ]),
        ),
      ).toEqual({ inserted: 3, updated: 0, unchanged: 0, deleted: 0, childRows: 0 });

      const stats = await load(
        dest,
        'm',
        plan(2),
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
      expect(await dumpText(dest, 'm', 'id')).toEqual([
        ['1', 'a2', '2024-01-02 00:00:00', '2'],
        ['2', 'b', t1, '1'],
        ['3', 'c', t1, '1'],
        ['4', 'd2', t1, '2'],
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
        "INSERT INTO m (id, v, cur, _tributary_run_id) VALUES (1, 'x', NULL, 1), (2, 'y', '2024-01-01', 1)",
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
      const back = await select(dest, 'SELECT k FROM ci');
      expect(back.map((r) => r.k).sort()).toEqual([...keys].sort());
    });

    it('replaces the children of accepted parents and keeps those of stale parents', async () => {
      await dest.applySchemaChanges([
        createTable('o', cols, ['id']),
        createTable(
          'o__items',
          [
            { name: 'id', type: INT },
            { name: '_tributary_idx', type: INT },
            { name: 'sku', type: TEXT },
          ],
          ['id', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
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
      // As the SQLite writer: every accepted row's children count, identical rows with children are accepted.
      expect(stats).toEqual({ inserted: 1, updated: 2, unchanged: 1, deleted: 0, childRows: 4 });
      expect(await dumpText(dest, 'o__items', 'id, _tributary_idx')).toEqual([
        ['1', '0', 'n1', '2'],
        ['2', '0', 'z', '1'],
        ['3', '0', 'r', '2'],
      ]);
    });
  });

  describe('against the SQLite writer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-mysql-diff-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Deterministic pseudo-random numbers (a test that fails can be replayed). */
    function rng(seed: number): (n: number) => number {
      let s = seed;
      return (n) => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s % n;
      };
    }

    const cases = [
      { name: 'cursor', cursor: true, children: false, bulk: true },
      { name: 'no cursor', cursor: false, children: false, bulk: true },
      { name: 'cursor with children', cursor: true, children: true, bulk: true },
      { name: 'no cursor with children', cursor: false, children: true, bulk: true },
      { name: 'cursor, INSERT path', cursor: true, children: true, bulk: false },
    ];

    it.each(cases)(
      'same stats and tables on random files: $name',
      async ({ name, cursor, children, bulk }) => {
        const tableName = `d_${name.replace(/\W+/g, '_')}`;
        const child = `${tableName}__items`;
        const changes: SchemaChange[] = [
          createTable(
            tableName,
            [
              { name: 'k', type: INT },
              { name: 'v', type: TEXT },
              { name: 'c', type: INT },
            ],
            ['k'],
          ),
          createTable(
            child,
            [
              { name: 'k', type: INT },
              { name: '_tributary_idx', type: INT },
              { name: 'x', type: TEXT },
            ],
            ['k', '_tributary_idx'],
            { fileId: false, idx: true },
          ),
        ];
        const lite = new SqliteDestination(path.join(dir, `${tableName}.db`));
        await lite.open();
        const my = bulk ? dest : await openMysql(`${db.url}?localInfile=false`);
        try {
          await lite.applySchemaChanges(changes);
          await my.applySchemaChanges(changes);
          const r = rng(name.length * 7919);
          for (let file = 1; file <= 12; file++) {
            const rows: RowNode[] = [];
            const n = 1 + r(40);
            for (let i = 0; i < n; i++) {
              const k = 1 + r(8);
              const node: RowNode = { values: [k, ['a', 'b', 'c'][r(3)] as string, 1 + r(4)] };
              if (children)
                node.children = new Map([
                  [child, Array.from({ length: r(3) }, (_, j) => [k, j, `x${r(3)}`])],
                ]);
              rows.push(node);
            }
            const p: Plan = {
              write: 'merge',
              primaryKey: ['k'],
              cursor: cursor ? 'c' : undefined,
              runId: file,
              children: children ? [child] : [],
            };
            const expected = await load(lite, tableName, p, rows);
            const got = await load(my, tableName, p, rows, 7);
            expect(got, `file ${file}`).toEqual(expected);
          }
          expect(await dumpText(my, tableName, 'k')).toEqual(await dumpText(lite, tableName, 'k'));
          if (children) {
            expect(await dumpText(my, child, 'k, _tributary_idx')).toEqual(
              await dumpText(lite, child, 'k, _tributary_idx'),
            );
          }
        } finally {
          await lite.close();
          if (my !== dest) await my.close();
        }
      },
    );

    it.each([false, true])(
      'compares text cursors in code point order, as SQLite and PostgreSQL do (keyed UPDATE: %s)',
      async (keyed) => {
        const tableName = `tc_${keyed ? 'keyed' : 'upsert'}`;
        const changes = [
          createTable(
            tableName,
            [
              { name: 'k', type: INT },
              { name: 'v', type: TEXT },
              { name: 'c', type: TEXT },
            ],
            ['k'],
          ),
        ];
        const lite = new SqliteDestination(path.join(dir, `${tableName}.db`));
        await lite.open();
        const saved = { ...mergeTuning };
        if (keyed) mergeTuning.minRows = 0;
        try {
          await lite.applySchemaChanges(changes);
          await dest.applySchemaChanges(changes);
          // Code point order: 'B' < 'a', 'f' < 'é', 'z' < 'ä' < 'ｚ' < '😀'; a locale's would differ.
          const cursors = ['a', 'B', 'b', 'A', 'e', 'é', 'f', 'Z', 'ä', 'z', '😀', 'ｚ', 'a ', 'aB', 'ab'];
          const r = rng(4242);
          const updates = mergePaths.update;
          for (let file = 1; file <= 12; file++) {
            const rows: RowNode[] = [];
            for (let i = 0; i < 40; i++) {
              const k = file % 2 ? i + 1 : 1 + r(6);
              rows.push({ values: [k, `v${file}.${i}`, cursors[r(cursors.length)] as string] });
            }
            const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: file };
            expect(await load(dest, tableName, p, rows), `file ${file}`).toEqual(
              await load(lite, tableName, p, rows),
            );
          }
          expect(await dumpText(dest, tableName, 'k')).toEqual(await dumpText(lite, tableName, 'k'));
          if (keyed) expect(mergePaths.update).toBeGreaterThan(updates);
        } finally {
          Object.assign(mergeTuning, saved);
          await lite.close();
        }
      },
    );
  });

  describe('before-images, against the SQLite writer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-mysql-images-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** Deterministic pseudo-random numbers (a test that fails can be replayed). */
    function rng(seed: number): (n: number) => number {
      let s = seed;
      return (n) => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s % n;
      };
    }

    /** The tombstones of `tables`, as sorted comparable text (numbers compared as numbers). */
    async function images(d: Destination, tables: string[]): Promise<string[]> {
      const rows = await d.query<{ table_name: string; run_id: unknown; image: string | null }>(
        `SELECT table_name, run_id, image FROM ${TOMBSTONES} WHERE table_name IN (${tables.map(() => '?').join(', ')})`,
        tables,
      );
      return rows
        .map((r) => {
          const image =
            r.image === null
              ? '∅'
              : Object.entries(JSON.parse(r.image) as Record<string, unknown>)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([k, v]) => {
                    if (v === null) return `${k}=∅`;
                    const n = Number(v);
                    return `${k}=${typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) ? n : v}`;
                  })
                  .join(',');
          return `${r.table_name}|${r.run_id}|${image}`;
        })
        .sort();
    }

    async function pair(
      name: string,
      changes: SchemaChange[],
    ): Promise<[SqliteDestination, MysqlDestination]> {
      const lite = new SqliteDestination(path.join(dir, `${name}.db`));
      await lite.open();
      await ensureStateTables(lite, lite.dialect);
      await ensureStateTables(dest, dest.dialect);
      await lite.applySchemaChanges(changes);
      await dest.applySchemaChanges(changes);
      return [lite, dest];
    }

    const DEC: ColumnType = { kind: 'decimal', precision: 12, scale: 2 };
    const cases = [
      { name: 'merge with cursor', cursor: true, children: false },
      { name: 'merge without cursor', cursor: false, children: false },
      { name: 'merge with children', cursor: true, children: true },
      { name: 'merge with children, no cursor', cursor: false, children: true },
    ];

    it.each(cases)('records the same images on random files: $name', async ({ name, cursor, children }) => {
      const tableName = `im_${name.replace(/\W+/g, '_')}`;
      const child = `${tableName}__items`;
      const [lite, my] = await pair(tableName, [
        createTable(
          tableName,
          [
            { name: 'k', type: INT },
            { name: 'v', type: TEXT },
            { name: 'amt', type: DEC },
            { name: 'c', type: INT },
          ],
          ['k'],
        ),
        createTable(
          child,
          [
            { name: 'k', type: INT },
            { name: '_tributary_idx', type: INT },
            { name: 'x', type: TEXT },
          ],
          ['k', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
      ]);
      const beforeImages = new Map([
        [tableName, ['amt', 'k', 'missing', 'v']],
        [child, ['k', 'x']],
      ]);
      try {
        const r = rng(name.length * 104729);
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
            const k = values[0] as number;
            const node: RowNode = { values };
            if (children)
              node.children = new Map([[child, Array.from({ length: r(3) }, (_, j) => [k, j, `x${r(3)}`])]]);
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
          expect(await load(my, tableName, p, rows, 7), `file ${file}`).toEqual(
            await load(lite, tableName, p, rows),
          );
        }
        const expected = await images(lite, [tableName, child]);
        expect(expected.length).toBeGreaterThan(0);
        expect(await images(my, [tableName, child])).toEqual(expected);
      } finally {
        await lite.close();
      }
    });

    it('records re-sent append rows and a replace marker the same way', async () => {
      const [lite, my] = await pair('im_append', [
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
      try {
        for (const d of [lite, my]) {
          const ap = (runId: number, fileId: number, rows: DbValue[][]) =>
            load(d, 'im_ap', { write: 'append', runId, fileId, beforeImages }, rowsOf(rows));
          await ap(1, 1, [
            [1, '1.50'],
            [2, '2.00'],
          ]);
          await ap(1, 2, [[3, '3.25']]);
          await ap(1, 2, [[4, '4.00']]); // re-sent in the same run: no image
          await ap(2, 1, [[5, '5.00']]); // re-sent in a later run: images of 1 and 2
          for (const t of ['im_rp', 'im_rp_plain']) {
            await load(d, t, { write: 'replace', runId: 1, beforeImages }, rowsOf([[1], [2]]));
            await load(d, t, { write: 'replace', runId: 2, beforeImages }, rowsOf([[3]]));
          }
        }
        const expected = await images(lite, ['im_ap', 'im_rp', 'im_rp_plain']);
        expect(expected).toEqual(['im_ap|2|a=1,amt=1.5', 'im_ap|2|a=2,amt=2', 'im_rp|1|∅', 'im_rp|2|∅']);
        expect(await images(my, ['im_ap', 'im_rp', 'im_rp_plain'])).toEqual(expected);
      } finally {
        await lite.close();
      }
    });
  });

  describe('append and replace', () => {
    beforeAll(async () => {
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
      const files = await select(
        dest,
        'SELECT _tributary_file_id AS f, COUNT(*) AS n FROM ap GROUP BY f ORDER BY f',
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
    const texts = [
      '',
      ' ',
      'tab\there',
      'line\nbreak',
      'cr\rlf\r\n',
      'back\\slash',
      '\\',
      '\\N',
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

    it('escapes TSV fields exactly', () => {
      expect(
        tsvRow([null, '', '\\N', 'a\tb', 'a\nb', 'a\rb', 'a\\b', 'a\0b', true, false, 12n, -3, '1.50']),
      ).toBe('\\N\t\t\\\\N\ta\\tb\ta\\nb\ta\\rb\ta\\\\b\ta\\0b\t1\t0\t12\t-3\t1.50');
    });

    it.each([true, false])(
      'text round-trips byte for byte through LOAD DATA and merge (bulk=%s)',
      async (bulk) => {
        const name = bulk ? 'txt_bulk' : 'txt_insert';
        const d = bulk ? dest : await openMysql(`${db.url}?localInfile=false`);
        try {
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
          const rows = texts.map((s, i) => [i, s, i % 2 ? null : s] as DbValue[]);
          const stats = await load(d, name, { write: 'merge', primaryKey: ['i'], runId: 1 }, rowsOf(rows), 5);
          expect(stats.inserted).toBe(texts.length);
          const back = await d.query<{ i: number; s: string | null; k: string | null; hex: string }>(
            `SELECT i, s, k, HEX(s) AS hex FROM ${name} ORDER BY i`,
          );
          expect(back.map((r) => r.s)).toEqual(texts);
          expect(back.map((r) => r.k)).toEqual(texts.map((s, i) => (i % 2 ? null : s)));
          expect(back.map((r) => r.hex)).toEqual(
            texts.map((s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()),
          );
          // Re-sending the same rows changes nothing: the stored text compares equal byte for byte.
          const again = await load(d, name, { write: 'merge', primaryKey: ['i'], runId: 2 }, rowsOf(rows));
          expect(again).toEqual({
            inserted: 0,
            updated: 0,
            unchanged: texts.length,
            deleted: 0,
            childRows: 0,
          });
        } finally {
          if (d !== dest) await d.close();
        }
      },
    );

    it('keeps 64-bit integers and decimals exact', async () => {
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
          '{"a":[1,2]}',
        ],
        [2, 9223372036854775807n, '-0.000000000000000000000000000001', '0.20', false, '"😀"'],
        [3, -9223372036854775808n, '0', '0.70', null, '12345678901234567890'],
        [4, 42, null, '1000000000000000.01', true, null],
      ];
      await load(dest, 'num', { write: 'merge', primaryKey: ['i'], runId: 1 }, rowsOf(values));
      const back = await select(dest, 'SELECT big, `dec`, money, flag, doc FROM num ORDER BY i');
      expect(back).toEqual([
        {
          big: '9007199254740993',
          dec: '12345678901234567890123456789012345.123456789012345678901234567890',
          money: '0.10',
          flag: 1,
          doc: '{"a":[1,2]}',
        },
        {
          big: '9223372036854775807',
          dec: '-0.000000000000000000000000000001',
          money: '0.20',
          flag: 0,
          doc: '"😀"',
        },
        {
          big: '-9223372036854775808',
          dec: '0.000000000000000000000000000000',
          money: '0.70',
          flag: null,
          doc: '12345678901234567890',
        },
        { big: 42, dec: null, money: '1000000000000000.01', flag: 1, doc: null },
      ]);
      expect(await select(dest, 'SELECT SUM(money) AS s FROM num')).toEqual([{ s: '1000000000000001.01' }]);
    });

    it('fails the load, naming the column, when the server would have to alter a value', async () => {
      await dest.applySchemaChanges([
        createTable(
          'narrow',
          [
            { name: 'k', type: TEXT },
            { name: 'v', type: INT },
          ],
          ['k'],
        ),
      ]);
      const tooLong = 'k'.repeat(1000); // the key column is VARCHAR(760)
      const err = await load(
        dest,
        'narrow',
        { write: 'merge', primaryKey: ['k'], runId: 1 },
        rowsOf([
          ['ok', 1],
          [tooLong, 2],
        ]),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).message).toMatch(/column 'k'|k.*row 2/);
      expect((err as TributaryError).message).not.toContain('kkkkkkkk');
      expect(await select(dest, 'SELECT COUNT(*) AS n FROM narrow')).toEqual([{ n: 0 }]);
    });
  });

  describe('transactions', () => {
    beforeAll(async () => {
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

    it('rolls back everything, staging tables included, when the work fails', async () => {
      const live = await table(dest, 'tx');
      const failure = dest.transaction(async (tx) => {
        await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('before', 1)");
        const w = await tx.writer({
          table: live,
          write: 'merge',
          primaryKey: ['id'],
          cursor: undefined,
          runId: 1,
          fileId: 1,
          children: [],
        });
        await w.write(
          rowsOf([
            [1, 'a'],
            [2, 'b'],
          ]),
        );
        // A statement between two batches ends the open LOAD DATA and opens a new one after.
        await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('between', 1)");
        await w.write(rowsOf([[3, 'c']]));
        await w.finish();
        expect(await tx.query('SELECT COUNT(*) AS n FROM tx')).toEqual([{ n: 3 }]);
        throw new Error('boom');
      });
      await expect(failure).rejects.toThrow('boom');
      expect(await select(dest, 'SELECT COUNT(*) AS n FROM tx')).toEqual([{ n: 0 }]);
      expect(await select(dest, 'SELECT COUNT(*) AS n FROM tx_log')).toEqual([{ n: 0 }]);
    });

    it('rolls back a merge with child tables (temporary tables do not commit implicitly)', async () => {
      await dest.applySchemaChanges([
        createTable(
          'txc',
          [
            { name: 'id', type: INT },
            { name: 'v', type: TEXT },
          ],
          ['id'],
        ),
        createTable(
          'txc__items',
          [
            { name: 'id', type: INT },
            { name: '_tributary_idx', type: INT },
            { name: 'x', type: TEXT },
          ],
          ['id', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
      ]);
      const catalog = await dest.readCatalog();
      const failure = dest.transaction(async (tx) => {
        await tx.execute("INSERT INTO tx_log (msg, _tributary_run_id) VALUES ('before', 1)");
        const w = await tx.writer({
          table: catalog.get('txc') as LiveTable,
          write: 'merge',
          primaryKey: ['id'],
          cursor: undefined,
          runId: 1,
          fileId: 1,
          children: [catalog.get('txc__items') as LiveTable],
        });
        await w.write([{ values: [1, 'a'], children: new Map([['txc__items', [[1, 0, 'x']]]]) }]);
        expect(await w.finish()).toEqual({ inserted: 1, updated: 0, unchanged: 0, deleted: 0, childRows: 1 });
        throw new Error('after finish');
      });
      await expect(failure).rejects.toThrow('after finish');
      for (const t of ['txc', 'txc__items', 'tx_log']) {
        expect(await select(dest, `SELECT COUNT(*) AS n FROM ${t}`)).toEqual([{ n: 0 }]);
      }
    });

    it('rolls back a transaction that fails in the middle of a LOAD DATA', async () => {
      const live = await table(dest, 'tx');
      const failure = dest.transaction(async (tx) => {
        const w = await tx.writer({
          table: live,
          write: 'merge',
          primaryKey: ['id'],
          cursor: undefined,
          runId: 1,
          fileId: 1,
          children: [],
        });
        await w.write(rowsOf(Array.from({ length: 5000 }, (_, i) => [i, 'x'])));
        throw new Error('reader failed');
      });
      await expect(failure).rejects.toThrow('reader failed');
      // Every pooled connection still works and holds no staging table.
      for (let i = 0; i < 6; i++) {
        await load(dest, 'tx', { write: 'merge', primaryKey: ['id'], runId: 1 }, rowsOf([[i, 'ok']]));
      }
      expect(await select(dest, 'SELECT COUNT(*) AS n FROM tx')).toEqual([{ n: 6 }]);
      await dest.execute('DELETE FROM tx');
    });

    it('streams many rows with bounded batches and keeps file order', async () => {
      const n = 60_000;
      const rows = rowsOf(Array.from({ length: n }, (_, i) => [i % 1000, `v${i}`]));
      const stats = await load(dest, 'tx', { write: 'merge', primaryKey: ['id'], runId: 1 }, rows, 2000);
      expect(stats).toEqual({ inserted: 1000, updated: n - 1000, unchanged: 0, deleted: 0, childRows: 0 });
      const last = await select(dest, 'SELECT v FROM tx WHERE id = 999');
      expect(last).toEqual([{ v: `v${n - 1}` }]);
      await dest.execute('DELETE FROM tx');
    });
  });

  describe('text rows (writeText)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-mysql-text-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cols: ColumnSchema[] = [
      { name: 'id', type: INT },
      { name: 's', type: TEXT },
      { name: 'cur', type: INT },
    ];
    const texts = [
      '',
      'tab\there',
      'line\nbreak',
      'cr\rlf\r\n',
      'back\\slash',
      '\\',
      '\\N',
      'NULL',
      'nul\0byte',
      '😀 emoji',
      'trailing backslash\\',
      '"quoted" \'single\'',
    ];

    it.each(['merge', 'append', 'replace'] as const)(
      'loads TSV lines exactly as write loads the same values: %s',
      async (write) => {
        const [a, b] = [`wt_${write}_rows`, `wt_${write}_text`];
        const fileId = write === 'append';
        await dest.applySchemaChanges([
          createTable(a, cols, write === 'merge' ? ['id'] : [], { fileId, idx: false }),
          createTable(b, cols, write === 'merge' ? ['id'] : [], { fileId, idx: false }),
        ]);
        const rows = rowsOf([
          ...texts.map((t, i) => [i, t, i % 3] as DbValue[]),
          [100, null, null],
          [101, 'x'.repeat(70_000), 1],
        ]);
        const p: Plan = { write, primaryKey: write === 'merge' ? ['id'] : [], cursor: 'cur', runId: 1 };
        for (const runId of [1, 2]) {
          const expected = await load(dest, a, { ...p, runId }, rows);
          expect(await loadText(dest, b, { ...p, runId }, rows, 4, true)).toEqual(expected);
        }
        const dump = (t: string) =>
          dest.query(`SELECT id, s, HEX(s) AS hex, cur, _tributary_run_id AS run FROM ${t} ORDER BY id`);
        const back = await dump(b);
        expect(back).toEqual(await dump(a));
        expect(back.slice(0, texts.length).map((r) => r.s)).toEqual(texts);
      },
    );

    it('keeps file order across statements: keys sent several times in one file, as the SQLite writer', async () => {
      await dest.applySchemaChanges([createTable('wt_order', cols, ['id'])]);
      const lite = new SqliteDestination(path.join(dir, 'order.db'));
      await lite.open();
      try {
        await lite.applySchemaChanges([createTable('wt_order', cols, ['id'])]);
        let x = 7;
        const next = (n: number) => {
          x = (x * 1103515245 + 12345) % 2147483648;
          return x % n;
        };
        for (let file = 1; file <= 8; file++) {
          const rows = rowsOf(
            Array.from({ length: 5 + next(40) }, () => [
              1 + next(6),
              ['a', 'b', null][next(3)] as DbValue,
              next(4) === 0 ? null : 1 + next(4),
            ]),
          );
          const p: Plan = { write: 'merge', primaryKey: ['id'], cursor: 'cur', runId: file };
          const expected = await load(lite, 'wt_order', p, rows);
          expect(await loadText(dest, 'wt_order', p, rows, 3, true), `file ${file}`).toEqual(expected);
        }
        expect(await dumpText(dest, 'wt_order', 'id')).toEqual(await dumpText(lite, 'wt_order', 'id'));
      } finally {
        await lite.close();
      }
    });

    it('is offered with LOAD DATA and without child tables only', async () => {
      await dest.applySchemaChanges([
        createTable('wt_p', cols, ['id']),
        createTable(
          'wt_p__items',
          [
            { name: 'id', type: INT },
            { name: '_tributary_idx', type: INT },
          ],
          ['id', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
      ]);
      const catalog = await dest.readCatalog();
      const plan = (write: TableWritePlan['write'], children: LiveTable[]): TableWritePlan => ({
        table: catalog.get('wt_p') as LiveTable,
        write,
        primaryKey: write === 'merge' ? ['id'] : [],
        cursor: undefined,
        runId: 1,
        fileId: 1,
        children,
        direct: true,
      });
      const noBulk = await openMysql(`${db.url}?localInfile=false`);
      try {
        for (const [d, write, children, offered] of [
          [dest, 'merge', [], true],
          [dest, 'append', [], true],
          [dest, 'merge', [catalog.get('wt_p__items') as LiveTable], false],
          [noBulk, 'merge', [], false],
          [noBulk, 'append', [], false],
        ] as const) {
          await d.transaction(async (tx) => {
            const w = await tx.writer(plan(write, [...children]));
            expect(typeof w.writeText === 'function', `${write} ${children.length}`).toBe(offered);
            await w.finish();
          });
        }
      } finally {
        await noBulk.close();
      }
    });
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
      await dest.applySchemaChanges([
        createTable('dl_log', [{ name: 'msg', type: TEXT }], []),
        createTable(
          'dl_narrow',
          [
            { name: 'k', type: TEXT },
            { name: 'd', type: { kind: 'decimal', precision: 4, scale: 2 } },
          ],
          ['k'],
        ),
      ]);
    });

    it.each([false, true])('loads an empty table straight, with the run id (text rows: %s)', async (text) => {
      const name = `dl_empty_${text}`;
      await dest.applySchemaChanges([createTable(name, cols, ['id'])]);
      const rows = rowsOf(Array.from({ length: 3000 }, (_, i) => [i, `v${i}`, i % 5]));
      const stats = await (text ? loadText : load)(dest, name, { ...direct, runId: 7 }, rows, 700);
      expect(stats).toEqual({ inserted: 3000, updated: 0, unchanged: 0, deleted: 0, childRows: 0 });
      expect(
        await select(
          dest,
          `SELECT COUNT(*) AS n, MIN(_tributary_run_id) AS lo, MAX(_tributary_run_id) AS hi FROM ${name}`,
        ),
      ).toEqual([{ n: 3000, lo: 7, hi: 7 }]);
      expect(await select(dest, `SELECT v FROM ${name} WHERE id = 2999`)).toEqual([{ v: 'v2999' }]);
    });

    it.each([false, true])(
      'throws DirectLoadConflict from finish when a key comes twice, and the rollback leaves nothing (text rows: %s)',
      async (text) => {
        const name = `dl_twice_${text}`;
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
            if (text) {
              await w.writeText?.(`${tsvRow([1, 'a', 1])}\n${tsvRow([2, 'b', 1])}\n`, 2);
              await tx.query('SELECT 1'); // ends the LOAD DATA: the next text opens another
              await w.writeText?.(`${tsvRow([1, 'a2', 1])}\n`, 1);
            } else {
              await w.write(twice);
            }
            finished = true;
            return w.finish();
          })
          .catch((e: unknown) => e);
        expect(finished).toBe(true);
        expect(err).toBeInstanceOf(DirectLoadConflict);
        expect((err as Error).message).toContain(name);
        expect(await select(dest, `SELECT COUNT(*) AS n FROM ${name}`)).toEqual([{ n: 0 }]);
        expect(await select(dest, 'SELECT COUNT(*) AS n FROM dl_log')).toEqual([{ n: 0 }]);
        // Loaded again without `direct`, through staging: the merge's result.
        const stats = await (text ? loadText : load)(dest, name, { ...direct, direct: false }, twice);
        expect(stats).toEqual({ inserted: 2, updated: 1, unchanged: 0, deleted: 0, childRows: 0 });
        expect(await dumpText(dest, name, 'id')).toEqual([
          ['1', 'a2', '1', '1'],
          ['2', 'b', '1', '1'],
        ]);
      },
    );

    it('goes through staging when the table has a row or the file child tables', async () => {
      await dest.applySchemaChanges([
        createTable('dl_full', cols, ['id']),
        createTable('dl_kids', cols, ['id']),
        createTable(
          'dl_kids__items',
          [
            { name: 'id', type: INT },
            { name: '_tributary_idx', type: INT },
            { name: 'x', type: TEXT },
          ],
          ['id', '_tributary_idx'],
          { fileId: false, idx: true },
        ),
      ]);
      await dest.execute("INSERT INTO dl_full (id, v, cur, _tributary_run_id) VALUES (9, 'old', 0, 1)");
      expect(await loadText(dest, 'dl_full', { ...direct, runId: 2 }, twice)).toEqual({
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

    it('fails, naming the column, on a value the server would have to alter (direct and staged)', async () => {
      await dest.applySchemaChanges([
        createTable(
          'dl_narrow_int',
          [
            { name: 'k', type: INT },
            { name: 'd', type: { kind: 'decimal', precision: 4, scale: 2 } },
          ],
          ['k'],
        ),
      ]);
      for (const isDirect of [true, false]) {
        const err = await loadText(
          dest,
          'dl_narrow_int',
          { write: 'merge', primaryKey: ['k'], runId: 1, direct: isDirect },
          rowsOf([
            [1, '1.00'],
            [2, '123.45'],
          ]),
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TributaryError);
        expect((err as TributaryError).message).toMatch(/column 'd'/);
        expect(await select(dest, 'SELECT COUNT(*) AS n FROM dl_narrow_int')).toEqual([{ n: 0 }]);
      }
      for (const [values, column] of [
        [['k'.repeat(1000), '1.00'], 'k'],
        [['ok', '123.45'], 'd'],
      ] as const) {
        const err = await load(
          dest,
          'dl_narrow',
          { write: 'merge', primaryKey: ['k'], runId: 1, direct: true },
          rowsOf([['first', '1.00'], [...values]]),
        ).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TributaryError);
        expect((err as TributaryError).message).toMatch(new RegExp(`column '${column}'`));
        expect(await select(dest, 'SELECT COUNT(*) AS n FROM dl_narrow')).toEqual([{ n: 0 }]);
      }
    });
  });

  describe('keyed merge (UPDATE of the stored keys, INSERT of the new ones)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-mysql-keyed-'));
    const saved = { ...mergeTuning };
    beforeAll(() => {
      mergeTuning.minRows = 0;
    });
    afterAll(() => {
      Object.assign(mergeTuning, saved);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function rng(seed: number): (n: number) => number {
      let s = seed;
      return (n) => {
        s = (s * 1103515245 + 12345) % 2147483648;
        return s % n;
      };
    }

    /** Sorted tombstones of `name` as text. */
    async function images(d: Destination, name: string): Promise<string[]> {
      const rows = await d.query<{ run_id: unknown; image: string | null }>(
        `SELECT run_id, image FROM ${TOMBSTONES} WHERE table_name = ?`,
        [name],
      );
      return rows
        .map((r) => {
          const o = JSON.parse(r.image ?? 'null') as Record<string, unknown> | null;
          const image = o
            ? Object.keys(o)
                .sort()
                .map(
                  (k) =>
                    `${k}=${o[k] === null ? '∅' : Number.isNaN(Number(o[k])) ? String(o[k]) : Number(o[k])}`,
                )
                .join(',')
            : '∅';
          return `${r.run_id}|${image}`;
        })
        .sort();
    }

    const DEC: ColumnType = { kind: 'decimal', precision: 12, scale: 2 };
    const JSONT: ColumnType = { kind: 'json' };
    const cases = [
      { name: 'cursor', cursor: true, textKey: false },
      { name: 'no cursor', cursor: false, textKey: false },
      { name: 'composite text key', cursor: true, textKey: true },
    ];

    it.each(cases)(
      'same stats, tables and before-images as the SQLite writer on random files: $name',
      async ({ name, cursor, textKey }) => {
        const tableName = `km_${name.replace(/\W+/g, '_')}`;
        const columns: ColumnSchema[] = [
          ...(textKey ? [{ name: 'region', type: TEXT }] : []),
          { name: 'k', type: INT },
          { name: 'v', type: TEXT },
          { name: 'amt', type: DEC },
          { name: 'doc', type: JSONT },
          { name: 'c', type: INT },
        ];
        const pk = textKey ? ['region', 'k'] : ['k'];
        const changes = [createTable(tableName, columns, pk)];
        const lite = new SqliteDestination(path.join(dir, `${tableName}.db`));
        await lite.open();
        await ensureStateTables(lite, lite.dialect);
        await ensureStateTables(dest, dest.dialect);
        await lite.applySchemaChanges(changes);
        await dest.applySchemaChanges(changes);
        mergeTuning.maxScanPerRow = Number.POSITIVE_INFINITY;
        const before = mergePaths.update;
        try {
          const r = rng(name.length * 6151);
          const stored = new Map<string, DbValue[]>();
          for (let file = 1; file <= 12; file++) {
            // Distinct keys: a random subset of 40, shuffled.
            const keys = Array.from({ length: 40 }, (_, i) => i).filter(() => r(3) > 0);
            for (let i = keys.length - 1; i > 0; i--) {
              const j = r(i + 1);
              [keys[i], keys[j]] = [keys[j] as number, keys[i] as number];
            }
            const rows = keys.map((n): RowNode => {
              const keyValues: DbValue[] = textKey ? [['a', 'A', 'a '][n % 3] as string, n] : [n];
              const id = keyValues.join('|');
              const old = stored.get(id);
              // A third of the stored keys come again unchanged: identical, no image, unchanged.
              const values =
                old && r(3) === 0
                  ? [...old]
                  : [
                      ...keyValues,
                      ['a', 'b', null][r(3)] as DbValue,
                      ['1.10', '22.05', '0.00', null][r(4)] as DbValue,
                      ['{"a":1}', '{"a":1.0}', '[1, 2]', null][r(4)] as DbValue,
                      r(5) === 0 ? null : 1 + r(4),
                    ];
              stored.set(id, values);
              return { values };
            });
            const p: Plan = {
              write: 'merge',
              primaryKey: pk,
              cursor: cursor ? 'c' : undefined,
              runId: Math.ceil(file / 3),
              beforeImages: new Map([[tableName, ['k', 'v', 'amt', 'doc']]]),
            };
            const expected = await load(lite, tableName, p, rows);
            expect(await loadText(dest, tableName, p, rows, 9), `file ${file}`).toEqual(expected);
          }
          const order = textKey ? 'region, k' : 'k';
          // Decimals as numbers: SQLite gives 1.1 back for 1.10.
          const dump = async (d: Destination) =>
            (await dumpText(d, tableName, order)).map((r) =>
              r.map((v) => (/^-?\d+\.\d+$/.test(v) ? String(Number(v)) : v)),
            );
          expect(await dump(dest)).toEqual(await dump(lite));
          const expectedImages = await images(lite, tableName);
          expect(expectedImages.length).toBeGreaterThan(0);
          expect(await images(dest, tableName)).toEqual(expectedImages);
          expect(mergePaths.update - before).toBe(12);
        } finally {
          mergeTuning.maxScanPerRow = saved.maxScanPerRow;
          await lite.close();
        }
      },
    );

    it('takes the upsert when a key is staged twice or the stored range is much wider than the file', async () => {
      const cols: ColumnSchema[] = [
        { name: 'id', type: INT },
        { name: 'v', type: TEXT },
      ];
      await dest.applySchemaChanges([createTable('km_choice', cols, ['id'])]);
      const p: Plan = { write: 'merge', primaryKey: ['id'], runId: 1 };
      const paths = () => ({ ...mergePaths });
      let at = paths();
      const taken = () => {
        const now = paths();
        const d = { update: now.update - at.update, upsert: now.upsert - at.upsert };
        at = now;
        return d;
      };
      await load(dest, 'km_choice', p, rowsOf(Array.from({ length: 500 }, (_, i) => [i * 2, 'a'])));
      expect(taken()).toEqual({ update: 1, upsert: 0 }); // an empty table: a range of nothing
      // Every stored key again, half of them changed: the keyed UPDATE.
      expect(
        await load(
          dest,
          'km_choice',
          p,
          rowsOf(Array.from({ length: 500 }, (_, i) => [i * 2, i % 2 ? 'b' : 'a'])),
        ),
      ).toEqual({ inserted: 0, updated: 250, unchanged: 250, deleted: 0, childRows: 0 });
      expect(taken()).toEqual({ update: 1, upsert: 0 });
      // Two keys at both ends of the stored ones: the upsert's two lookups.
      expect(
        await load(
          dest,
          'km_choice',
          p,
          rowsOf([
            [0, 'c'],
            [999, 'new'],
          ]),
        ),
      ).toEqual({ inserted: 1, updated: 1, unchanged: 0, deleted: 0, childRows: 0 });
      expect(taken()).toEqual({ update: 0, upsert: 1 });
      // A key twice: the upsert, row after row.
      expect(
        await load(
          dest,
          'km_choice',
          p,
          rowsOf([
            [2, 'x'],
            [1001, 'y'],
            [2, 'z'],
          ]),
        ),
      ).toEqual({ inserted: 1, updated: 2, unchanged: 0, deleted: 0, childRows: 0 });
      expect(taken()).toEqual({ update: 0, upsert: 1 });
      // New keys past the stored ones, and a few stored ones: the keyed UPDATE.
      expect(
        await load(
          dest,
          'km_choice',
          p,
          rowsOf([[996, 'd'], [998, 'e'], ...Array.from({ length: 100 }, (_, i) => [2000 + i, 'n'])]),
        ),
      ).toEqual({ inserted: 100, updated: 2, unchanged: 0, deleted: 0, childRows: 0 });
      expect(taken()).toEqual({ update: 1, upsert: 0 });
      expect(await select(dest, 'SELECT v FROM km_choice WHERE id IN (0, 2, 998, 2099) ORDER BY id')).toEqual(
        [{ v: 'c' }, { v: 'z' }, { v: 'e' }, { v: 'n' }],
      );
    });
  });

  describe('locks', () => {
    it('a second destination sees who holds the lock and since when, and gets it once released', async () => {
      const other = await openMysql(db.url);
      try {
        expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
        expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined(); // already ours
        const held = await other.tryLock('pipe', 'host-b:2');
        expect(held).toEqual({
          pipeline: 'pipe',
          holder: 'host-a:1',
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
        expect(await other.tryLock('other-pipe', 'host-b:2')).toBeUndefined();
        await dest.unlock('pipe');
        expect(await other.tryLock('pipe', 'host-b:2')).toBeUndefined();
        expect(await dest.tryLock('pipe', 'host-a:1')).toEqual(
          expect.objectContaining({ holder: 'host-b:2' }),
        );
      } finally {
        await other.close();
      }
      // Closing the holder released its locks.
      expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
      await dest.unlock('pipe');
    });

    it('the server frees the lock when the holder connection dies', async () => {
      const other = await openMysql(db.url);
      const admin = await mysqlAdmin(db.name);
      try {
        expect(await other.tryLock('crash', 'dying:1')).toBeUndefined();
        const [rows] = await admin.query(
          "SELECT connection_id AS id FROM _tributary_locks WHERE pipeline = 'crash'",
        );
        await admin.query(`KILL CONNECTION ${(rows as Array<{ id: string }>)[0]?.id}`);
        // The stale row names the dead holder; the lock itself is free.
        expect(await dest.tryLock('crash', 'alive:2')).toBeUndefined();
        await dest.unlock('crash');
      } finally {
        await admin.end();
        await other.close();
      }
    });
  });

  describe('errors', () => {
    it('a killed connection is a transient error and the pool recovers', async () => {
      const admin = await mysqlAdmin();
      try {
        const failure = dest.transaction(async (tx) => {
          const [me] = await tx.query<{ id: number }>('SELECT CONNECTION_ID() AS id');
          await admin.query(`KILL CONNECTION ${me?.id}`);
          await tx.query('SELECT 1');
        });
        const err = (await failure.catch((e: unknown) => e)) as TributaryError;
        expect(err).toBeInstanceOf(TributaryError);
        expect(err.transient).toBe(true);
        expect(err.code).toBe('DEST_QUERY');
        expect(await select(dest, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        await admin.end();
      }
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
          await tx.execute('SET SESSION innodb_lock_wait_timeout = 1');
          await tx.execute('UPDATE lw SET _tributary_run_id = 2 WHERE id = 1');
        })
        .catch((e: unknown) => e);
      release();
      await holder;
      expect(err).toMatchObject({ code: 'DEST_QUERY', transient: true });
      expect((err as Error).message).toMatch(/1205/);
    });

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
      expect(dup.message).toMatch(/Duplicate entry/);
      expect(dup.message).not.toContain('secret-value-123');
      expect(String((dup.cause as Error).message)).not.toContain('secret-value-123');
    });

    it('a refused connection is a transient DEST_CONNECT error', async () => {
      const config = parseDestination('mysql://root:pw-not-shown@127.0.0.1:1/x', os.tmpdir(), {});
      const d = new MysqlDestination(config as never);
      const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
      expect(err).toMatchObject({ code: 'DEST_CONNECT', transient: true });
      expect(err.message).not.toContain('pw-not-shown');
    });
  });

  describe('secrets', () => {
    const user = `trib_${Math.random().toString(36).slice(2, 10)}`;
    const password = 'Pa55-w0rd!with:@/chars';
    const admin = () => mysqlAdmin();

    beforeAll(async () => {
      const a = await admin();
      await a.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
      await a.query(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`);
      await a.end();
    });
    afterAll(async () => {
      const a = await admin();
      await a.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await a.end();
    });

    const url = (pw: string) => {
      const base = new URL(`${MYSQL_TEST_URL}/${db.name}`);
      base.username = user;
      base.password = encodeURIComponent(pw);
      return base.toString();
    };

    it('never shows the password in the description or in errors', async () => {
      const d = await openMysql(url(password));
      try {
        expect(d.description).toBe(`mysql://${user}:***@127.0.0.1:3306/${db.name}`);
        expect(d.description).not.toContain(password);
        const err = (await d
          .query(`SELECT '${password}' FROM no_such_table`)
          .catch((e: unknown) => e)) as Error;
        expect(err.message).toContain('no_such_table');
        expect(err.message).not.toContain(password);
      } finally {
        await d.close();
      }
      const wrong = `${password}-wrong`;
      const err = (await openMysql(url(wrong)).catch((e: unknown) => e)) as TributaryError;
      expect(err).toMatchObject({ code: 'DEST_CONNECT', transient: false });
      expect(err.message).toMatch(/Access denied/);
      expect(err.message).not.toContain(wrong);
      expect(JSON.stringify(err.cause)).not.toContain(wrong);
    });

    it('cannot create a database the user may not create, and says so', async () => {
      const err = (await openMysql(url(password).replace(db.name, `${db.name}_forbidden`)).catch(
        (e: unknown) => e,
      )) as TributaryError;
      expect(err).toMatchObject({ code: 'DEST_CONNECT' });
      expect(err.message).toMatch(/does not exist and could not be created/);
    });
  });

  describe('without LOAD DATA', () => {
    it('says once that it falls back to INSERTs', async () => {
      const d = await openMysql(`${db.url}?localInfile=false`);
      try {
        expect(d.capabilities.bulkLoad).toBe(false);
        expect(d.capabilities.rowFormat).toBeUndefined();
        expect(d.warnings).toHaveLength(1);
        expect(d.warnings[0]).toMatch(/multi-row INSERTs/);
      } finally {
        await d.close();
      }
    });
  });
});

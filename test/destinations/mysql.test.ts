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
import type { Destination, RowNode } from '../../src/destinations/types.js';
import { ensureStateTables } from '../../src/state/tables.js';
import { MYSQL_TEST_URL, mysqlAdmin } from '../helpers/mysql.js';
import { type ServerKit, testable } from '../helpers/servers.js';
import {
  childTable,
  createTable,
  DEC,
  DT,
  decimalsAsNumbers,
  dumpText,
  type FreshDestination,
  INT,
  images,
  load,
  type Plan,
  rng,
  rowsOf,
  seedFor,
  sqliteReference,
  TEXT,
  textCursorRows,
  textCursorTable,
} from '../helpers/writer.js';
import { describeDestination } from './suite.js';

/**
 * The MySQL/MariaDB destination against the real server (MariaDB 10.11 here): the suite every
 * destination runs (suite.ts), told what differs on this server by its kit below, then what
 * only MySQL does — the physical DDL, the keyed merge's path choice, the driver's value forms,
 * LOAD DATA's text and LOAD DATA turned off, a wrong password.
 */

const columnsSql =
  'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, IS_NULLABLE AS nul, COLUMN_COMMENT AS tag, COLUMN_TYPE AS ty FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?) ORDER BY t, c';

describe('MySQL destination, LOAD DATA text and error text (no server)', () => {
  it('escapes TSV fields exactly', () => {
    expect(
      tsvRow([null, '', '\\N', 'a\tb', 'a\nb', 'a\rb', 'a\\b', 'a\0b', true, false, 12n, -3, '1.50']),
    ).toBe('\\N\t\t\\\\N\ta\\tb\ta\\nb\ta\\rb\ta\\\\b\ta\\0b\t1\t0\t12\t-3\t1.50');
  });

  it('shows an unknown URL option, or an option’s bad value, escaped: never a raw control character', () => {
    const make = (options: string) =>
      new MysqlDestination(parseDestination(`${MYSQL_TEST_URL}/x?${options}`, os.tmpdir(), {}) as never);
    // %1b is ESC, never sent to the terminal raw.
    expect(() => make('a%1b=1&connectTimeout=5%1b')).toThrow(/option "a\\u001b" is unknown/);
    expect(() => make('connectTimeout=5%1b')).toThrow(/connectTimeout: got "5\\u001b"; expected/);
  });

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

/** What the suite needs to know of this server (test/helpers/servers.ts). */
const mariadb: ServerKit = {
  dialect: 'mariadb',
  baseUrl: MYSQL_TEST_URL,
  refusedUrl: 'mysql://root:pw-not-shown@127.0.0.1:1/x',
  capabilities: {
    transactionalDdl: false,
    maxIdentifierLength: 64,
    bulkLoad: true,
    maxConcurrentLoads: 4,
    remoteLoads: true,
    longTextInIndex: false,
    rowFormat: 'tsv',
  },
  encoding: /^utf8mb4 utf8mb4_(nopad_bin|0900_bin|bin)$/,
  async admin(sql, params, database) {
    const c = await mysqlAdmin(database);
    try {
      const [rows] = await c.query(sql, params);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    } finally {
      await c.end();
    }
  },
  async databaseEncoding(name) {
    const [row] = await mariadb.admin(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS coll FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    );
    return row ? `${row.cs} ${row.coll}` : undefined;
  },
  sessionIdSql: 'SELECT CONNECTION_ID() AS id',
  async kill(id) {
    await mariadb.admin(`KILL CONNECTION ${Number(id)}`);
  },
  lockSessionColumn: 'connection_id',
  shortLockWait: 'SET SESSION innodb_lock_wait_timeout = 1',
  lockWaitError: /1205/,
  deadlockError: /1213/,
  missingTableError: /MySQL ER_NO_SUCH_TABLE 1146/,
  async createUser(user, password, database) {
    await mariadb.admin(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await mariadb.admin(`GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`);
  },
  async dropUser(user) {
    await mariadb.admin(`DROP USER IF EXISTS '${user}'@'%'`);
  },
  conflictAtFinish: true,
  variants: [['INSERT path', 'localInfile=false']],
};

describeDestination('mariadb', {
  testable: await testable('mariadb'),
  server: mariadb,
  own: (db) =>
    describe('MySQL only', () => {
      let fresh: FreshDestination;
      let dest: Destination;
      const select = (sql: string, params?: unknown[]) => dest.query<Record<string, unknown>>(sql, params);

      beforeAll(() => {
        fresh = db.fresh;
        dest = db.dest;
      });

      describe('DDL', () => {
        it('keeps a widened key column NOT NULL, tags json columns, and indexes the file id of keyless tables only', async () => {
          const cols: ColumnSchema[] = [
            { name: 'code', type: TEXT },
            { name: 'n', type: INT },
            { name: 'payload', type: { kind: 'json' } },
          ];
          await dest.applySchemaChanges([
            createTable('phys', cols, ['code', 'n'], { fileId: true, idx: false }),
            createTable('phys_append', cols, [], { fileId: true, idx: false }),
            { kind: 'add_column', table: 'phys', column: { name: 'extra', type: { kind: 'json' } } },
            {
              kind: 'widen_column',
              table: 'phys',
              column: 'n',
              from: INT,
              to: { kind: 'decimal', precision: 25, scale: 2 },
            },
          ]);
          const cols2 = await select(columnsSql, ['phys', 'phys']);
          expect(cols2).toEqual(
            expect.arrayContaining([
              expect.objectContaining({ c: 'n', nul: 'NO' }),
              expect.objectContaining({ c: 'extra', tag: 'tributary:json' }),
              // One text key column and one other: VARCHAR sized to keep the key within 3,072 bytes.
              expect.objectContaining({ c: 'code', ty: 'varchar(752)' }),
            ]),
          );
          const fileIndex = (t: string) =>
            select(
              "SELECT INDEX_NAME AS i FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = '_tributary_file_id'",
              [t],
            );
          // A keyed (merge) table keeps the file id for provenance only: no index to maintain.
          expect(await fileIndex('phys')).toHaveLength(0);
          expect(await fileIndex('phys_append')).toHaveLength(1); // an append table deletes a re-sent file's rows by it
        });

        it('sizes text keys so a child table (parent key + _tributary_idx) fits as well', async () => {
          const key: ColumnSchema[] = [
            { name: 'a', type: TEXT },
            { name: 'b', type: TEXT },
          ];
          await dest.applySchemaChanges([
            createTable('kp', [...key, { name: 'v', type: INT }], ['a', 'b']),
            childTable('kp', key),
          ]);
          const types = (await select(columnsSql, ['kp', 'kp__items'])).filter(
            (r) => r.c === 'a' || r.c === 'b',
          );
          expect(types.map((r) => r.ty)).toEqual([
            'varchar(380)',
            'varchar(380)',
            'varchar(380)',
            'varchar(380)',
          ]);
        });
      });

      describe('values', () => {
        it('reads values back in the driver’s forms: DATETIME(6) text, DECIMAL text, BOOLEAN 1/0', async () => {
          await dest.applySchemaChanges([
            createTable(
              'forms',
              [
                { name: 'i', type: INT },
                { name: 'n', type: { kind: 'decimal', precision: 25, scale: 2 } },
                { name: 'day', type: { kind: 'date' } },
                { name: 'at', type: DT },
                { name: 'flag', type: { kind: 'bool' } },
              ],
              ['i'],
            ),
          ]);
          await load(
            dest,
            'forms',
            { write: 'merge', primaryKey: ['i'], runId: 1 },
            rowsOf([
              [1, '1', '2024-01-02', '2024-01-02 03:04:05.123456', true],
              [2, '-0.5', null, '2024-01-02 00:00:00', false],
            ]),
          );
          await dest.applySchemaChanges([
            { kind: 'widen_column', table: 'forms', column: 'day', from: { kind: 'date' }, to: DT },
          ]);
          expect(await select('SELECT n, day, at, flag FROM forms ORDER BY i')).toEqual([
            { n: '1.00', day: '2024-01-02 00:00:00.000000', at: '2024-01-02 03:04:05.123456', flag: 1 },
            { n: '-0.50', day: null, at: '2024-01-02 00:00:00.000000', flag: 0 },
          ]);
        });

        it('fails the load, naming the column, when the server would have to alter a value (direct and staged)', async () => {
          await dest.applySchemaChanges([
            createTable(
              'narrow',
              [
                { name: 'k', type: TEXT },
                { name: 'd', type: { kind: 'decimal', precision: 4, scale: 2 } },
              ],
              ['k'],
            ),
          ]);
          for (const direct of [false, true]) {
            for (const text of [false, true]) {
              for (const [values, column] of [
                [['k'.repeat(1000), '1.00'], 'k'], // the key column is VARCHAR(760)
                [['ok', '123.45'], 'd'],
              ] as const) {
                const err = await load(
                  dest,
                  'narrow',
                  { write: 'merge', primaryKey: ['k'], runId: 1, direct },
                  rowsOf([['first', '1.00'], [...values]]),
                  1000,
                  { text },
                ).catch((e: unknown) => e);
                expect(err, `${column} direct=${direct} text=${text}`).toBeInstanceOf(TributaryError);
                expect((err as TributaryError).message).toMatch(new RegExp(`column '${column}'`));
                expect((err as TributaryError).message).not.toContain('kkkkkkkk');
                expect(await select('SELECT COUNT(*) AS n FROM narrow')).toEqual([{ n: 0 }]);
              }
            }
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
            const changes: SchemaChange[] = [createTable(tableName, columns, pk)];
            const lite = await sqliteReference(path.join(dir, `${tableName}.db`));
            await ensureStateTables(dest, dest.dialect);
            await lite.applySchemaChanges(changes);
            await dest.applySchemaChanges(changes);
            mergeTuning.maxScanPerRow = Number.POSITIVE_INFINITY;
            const before = mergePaths.update;
            try {
              const r = rng(seedFor(`keyed ${name}`));
              const [catalog, liteCatalog] = [await dest.readCatalog(), await lite.readCatalog()];
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
                const expected = await load(lite, tableName, p, rows, 1000, { catalog: liteCatalog });
                expect(
                  await load(dest, tableName, p, rows, 9, { text: true, catalog }),
                  `file ${file}`,
                ).toEqual(expected);
              }
              const order = textKey ? 'region, k' : 'k';
              expect(decimalsAsNumbers(await dumpText(dest, tableName, order))).toEqual(
                decimalsAsNumbers(await dumpText(lite, tableName, order)),
              );
              const expectedImages = await images(lite, [tableName]);
              expect(expectedImages.length).toBeGreaterThan(0);
              expect(await images(dest, [tableName])).toEqual(expectedImages);
              expect(mergePaths.update - before).toBe(12);
            } finally {
              mergeTuning.maxScanPerRow = saved.maxScanPerRow;
              await lite.close();
            }
          },
        );

        it('compares text cursors in code point order through the keyed UPDATE too, as SQLite does', async () => {
          const lite = await sqliteReference(path.join(dir, 'tc_keyed.db'));
          try {
            await lite.applySchemaChanges([textCursorTable('tc_keyed')]);
            await dest.applySchemaChanges([textCursorTable('tc_keyed')]);
            const r = rng(4242);
            const updates = mergePaths.update;
            for (let file = 1; file <= 12; file++) {
              const rows = textCursorRows(file, r);
              const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: file };
              expect(await load(dest, 'tc_keyed', p, rows), `file ${file}`).toEqual(
                await load(lite, 'tc_keyed', p, rows),
              );
            }
            expect(await dumpText(dest, 'tc_keyed', 'k')).toEqual(await dumpText(lite, 'tc_keyed', 'k'));
            expect(mergePaths.update).toBeGreaterThan(updates);
          } finally {
            await lite.close();
          }
        });

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
          expect(await select('SELECT v FROM km_choice WHERE id IN (0, 2, 998, 2099) ORDER BY id')).toEqual([
            { v: 'c' },
            { v: 'z' },
            { v: 'e' },
            { v: 'n' },
          ]);
        });
      });

      describe('secrets', () => {
        const user = `trib_${Math.random().toString(36).slice(2, 10)}`;
        const password = 'Pa55-w0rd!with:@/chars';
        beforeAll(() => mariadb.createUser(user, password, fresh.name));
        afterAll(() => mariadb.dropUser(user));

        it('a wrong password is a terminal DEST_CONNECT error that does not show it', async () => {
          const wrong = `${password}-wrong`;
          const url = new URL(`${MYSQL_TEST_URL}/${fresh.name}`);
          url.username = user;
          url.password = encodeURIComponent(wrong);
          const d = new MysqlDestination(parseDestination(url.toString(), os.tmpdir(), {}) as never);
          const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
          expect(err).toMatchObject({ code: 'DEST_CONNECT', transient: false });
          expect(err.message).toMatch(/Access denied/);
          expect(err.message).not.toContain(wrong);
          expect(JSON.stringify(err.cause)).not.toContain(wrong);
        });
      });

      describe('without LOAD DATA', () => {
        it('says once that it falls back to INSERTs', async () => {
          const d = await fresh.open('localInfile=false');
          expect(d.capabilities.bulkLoad).toBe(false);
          expect(d.capabilities.rowFormat).toBeUndefined();
          expect(d.warnings).toHaveLength(1);
          expect(d.warnings?.[0]).toMatch(/multi-row INSERTs/);
        });
      });
    }),
});

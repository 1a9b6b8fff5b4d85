import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDestination } from '../../src/config/destination.js';
import { TributaryError } from '../../src/core/errors.js';
import type { DbValue } from '../../src/core/types.js';
import { numberedParams, physicalName } from '../../src/destinations/postgres/dialect.js';
import {
  isTransientPgError,
  redactServerMessage,
  translatePgError,
} from '../../src/destinations/postgres/errors.js';
import { mergePaths } from '../../src/destinations/postgres/merge.js';
import { compactJson } from '../../src/destinations/postgres/session.js';
import type { Destination } from '../../src/destinations/types.js';
import { freshPostgresDatabase, POSTGRES_TEST_URL, postgresAdmin } from '../helpers/postgres.js';
import { type ServerKit, testable } from '../helpers/servers.js';
import {
  createTable,
  DEC,
  DT,
  dumpText,
  type FreshDestination,
  INT,
  load,
  openUrl,
  type Plan,
  rng,
  rowsOf,
  sqliteReference,
  TEXT,
  table,
  textCursorRows,
  textCursorTable,
} from '../helpers/writer.js';
import { describeDestination } from './suite.js';

/**
 * The PostgreSQL destination against the real server (15 here): the suite every destination
 * runs (suite.ts), told what differs on this server by its kit below, then what only
 * PostgreSQL does — placeholders, 63-byte names, SQLSTATE classification, `?schema=`, session
 * settings and encodings, the merge's path choice and order, the driver's value forms.
 */

describe('PostgreSQL SQL text (no server)', () => {
  it('numbers `?` placeholders outside literals, quoted names, dollar quotes and comments', () => {
    expect(numberedParams('SELECT a FROM t WHERE b = ? AND c IN (?, ?)')).toBe(
      'SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)',
    );
    expect(
      numberedParams(`SELECT '?', "x?y", E'it\\'s ?', $$ ? $$, $tag$?$tag$ -- ?\n, ? /* ? */ FROM t`),
    ).toBe(`SELECT '?', "x?y", E'it\\'s ?', $$ ? $$, $tag$?$tag$ -- ?\n, $1 /* ? */ FROM t`);
    expect(numberedParams("SELECT 'it''s ?', ?")).toBe("SELECT 'it''s ?', $1");
  });

  it('shortens names over 63 bytes, keeping distinct names distinct', () => {
    const a = `${'a'.repeat(55)}_0000000a`;
    const b = `${'a'.repeat(55)}_0000000b`;
    expect(a).toHaveLength(64);
    expect(physicalName('short')).toBe('short');
    expect(physicalName('x'.repeat(63))).toBe('x'.repeat(63));
    expect(Buffer.byteLength(physicalName(a))).toBe(63);
    expect(physicalName(a)).not.toBe(physicalName(b));
    const wide = 'é'.repeat(40); // 80 bytes: never cut inside a character
    expect(Buffer.byteLength(physicalName(wide))).toBeLessThanOrEqual(63);
    expect(physicalName(wide)).toMatch(/^(é)+_[0-9a-f]{8}$/);
  });

  it('keeps a name crafted to equal another name’s shortened form apart from it', () => {
    const long = `${'c'.repeat(55)}_0000000c`; // 64 bytes: shortened
    const crafted = physicalName(long); // 63 bytes: fits, but has the shortened shape
    expect(Buffer.byteLength(crafted)).toBe(63);
    expect(physicalName(crafted)).not.toBe(crafted);
    expect(physicalName(crafted)).not.toBe(physicalName(long));
    expect(Buffer.byteLength(physicalName(crafted))).toBeLessThanOrEqual(63);
    // Names that merely end like a hash, shorter than a shortened name can be, are kept.
    expect(physicalName('sku_deadbeef')).toBe('sku_deadbeef');
    expect(physicalName(`${'x'.repeat(50)}_deadbeef`)).toBe(`${'x'.repeat(50)}_deadbeef`);
    expect(physicalName(`${'x'.repeat(54)}_deadbeeg`)).toBe(`${'x'.repeat(54)}_deadbeeg`);
  });

  it('compacts JSON text outside strings only', () => {
    expect(compactJson('{"a": [1, 2], "b c": "x, y: \\" z"}')).toBe('{"a":[1,2],"b c":"x, y: \\" z"}');
    expect(compactJson('12345678901234567890.10')).toBe('12345678901234567890.10');
  });
});

describe('PostgreSQL error classification (no server)', () => {
  const classify = (e: object) =>
    translatePgError(Object.assign(new Error('m'), e), 'SELECT 1') as TributaryError;

  it.each([
    ['40001', true], // serialization_failure
    ['40P01', true], // deadlock_detected
    ['57P01', true], // admin_shutdown
    ['57P02', true],
    ['57P03', true],
    ['08006', true], // connection_failure
    ['08003', true],
    ['53300', true], // too_many_connections
    ['55P03', true], // lock_not_available
    ['23505', false], // unique_violation
    ['42601', false], // syntax_error
    ['22P02', false], // invalid_text_representation
    ['42501', false], // insufficient_privilege
    ['28P01', false], // invalid_password
  ])('SQLSTATE %s is transient: %s', (code, transient) => {
    const err = classify({ code });
    expect(err).toBeInstanceOf(TributaryError);
    expect(err.transient).toBe(transient);
    expect(err.message).toContain(`PostgreSQL ${code}`);
  });

  it('socket errors and a terminated connection are transient', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']) {
      expect(isTransientPgError(Object.assign(new Error('x'), { code }))).toBe(true);
      expect(classify({ code }).transient).toBe(true);
    }
    expect(isTransientPgError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(
      (translatePgError(new Error('Connection terminated unexpectedly'), 'q') as TributaryError).transient,
    ).toBe(true);
  });

  it('an error that is not the driver’s passes through', () => {
    const mine = new Error('a reader failed');
    expect(translatePgError(mine, 'q')).toBe(mine);
  });

  it('keeps object names, hides values, the DETAIL and the password', () => {
    expect(redactServerMessage('column "amount" of relation "orders" does not exist')).toBe(
      'column "amount" of relation "orders" does not exist',
    );
    expect(redactServerMessage('invalid input syntax for type bigint: "secret-42"')).toBe(
      'invalid input syntax for type bigint: "…"',
    );
    const err = translatePgError(
      Object.assign(new Error('invalid input syntax for type numeric: "s3cr3t-value"'), {
        code: '22P02',
        detail: 'Key (id)=(s3cr3t-value) already exists.',
      }),
      'INSERT INTO t VALUES ($1) -- pw Hunter2-pass',
      { secrets: ['Hunter2-pass'] },
    ) as TributaryError;
    expect(err.message).not.toContain('s3cr3t-value');
    expect(err.message).not.toContain('Hunter2-pass');
    expect(String((err.cause as Error).message)).not.toContain('s3cr3t-value');
    expect(err.transient).toBe(false);
  });

  it('masks URL credentials and the password before cutting the SQL, and in kept names', () => {
    const url = 'postgres://etl:Secr3tPassw0rd@db.example/shop';
    const secrets = ['Hunter2-long-pass', 'p@ss w/rd!'];
    const msg = (message: string, what: string, code = '42601') =>
      (translatePgError(Object.assign(new Error(message), { code }), what, { secrets }) as TributaryError)
        .message;
    for (const at of [290, 296, 299]) {
      // The password starts `at`, before the 300 characters the SQL is cut to, and ends after.
      const lead = (prefix: string) => `SELECT '${'x'.repeat(at - prefix.length - 12)}', '${prefix}`;
      const sql = `${lead('postgres://etl:')}Secr3tPassw0rd@db.example/shop'`;
      expect(sql.indexOf('Secr3t')).toBe(at);
      expect(msg('syntax error at or near "x"', sql)).not.toMatch(/Secr3t|Secr|Se…/);
      const other = `${lead('')}Hunter2-long-pass'`;
      expect(other.indexOf('Hunter2')).toBe(at);
      expect(msg('syntax error', other)).not.toMatch(/Hunter2|Hu…/);
    }
    // A quoted name is kept, a URL's credentials in it are not; nor a password URL-encoded.
    const kept = msg(`database "${url}" does not exist`, 'connecting', '3D000');
    expect(kept).toContain('database "postgres://etl:***@db.example/shop" does not exist');
    expect(msg('role "p%40ss%20w%2Frd!" does not exist', 'q', '28000')).not.toContain('p%40ss');
    // A translated server message quotes with other marks: values there go too.
    expect(redactServerMessage('ungültige Eingabesyntax für Typ bigint: »geheim-42«')).toBe(
      'ungültige Eingabesyntax für Typ bigint: "…"',
    );
    expect(redactServerMessage('syntaxe en entrée invalide pour le type bigint : « secret-42 »')).toBe(
      'syntaxe en entrée invalide pour le type bigint : "…"',
    );
  });

  it('login and missing-database errors are DEST_CONNECT', () => {
    expect(classify({ code: '28P01' }).code).toBe('DEST_CONNECT');
    expect(classify({ code: '3D000' }).code).toBe('DEST_CONNECT');
    expect(classify({ code: '42601' }).code).toBe('DEST_QUERY');
  });
});

/** What the suite needs to know of this server (test/helpers/servers.ts). */
const postgres: ServerKit = {
  dialect: 'postgres',
  baseUrl: POSTGRES_TEST_URL,
  refusedUrl: 'postgres://u:pw-not-shown@127.0.0.1:1/x',
  capabilities: {
    transactionalDdl: true,
    maxIdentifierLength: 63,
    bulkLoad: true,
    maxConcurrentLoads: 4,
    remoteLoads: true,
    longTextInIndex: true,
    rowFormat: 'tsv',
  },
  encoding: /^UTF8$/,
  async admin(sql, params, database) {
    const c = await postgresAdmin(database);
    try {
      let n = 0;
      return (
        await c.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows;
    } finally {
      await c.end();
    }
  },
  async databaseEncoding(name) {
    const [row] = await postgres.admin(
      'SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = ?',
      [name],
    );
    return row ? String(row.enc) : undefined;
  },
  sessionIdSql: 'SELECT pg_backend_pid() AS id',
  async kill(id) {
    await postgres.admin('SELECT pg_terminate_backend(?)', [id]);
  },
  lockSessionColumn: 'pid',
  shortLockWait: "SET LOCAL lock_timeout = '200ms'",
  lockWaitError: /55P03/,
  deadlockError: /40P01/,
  missingTableError: /PostgreSQL 42P01/,
  async createUser(user, password) {
    await postgres.admin(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  },
  async dropUser(user) {
    await postgres.admin(`DROP ROLE IF EXISTS ${user}`);
  },
  conflictAtFinish: false,
  variants: [],
};

describeDestination('postgres', {
  testable: await testable('postgres'),
  server: postgres,
  own: (db) =>
    describe('PostgreSQL only', () => {
      let fresh: FreshDestination;
      let dest: Destination;

      beforeAll(() => {
        fresh = db.fresh;
        dest = db.dest;
      });

      describe('run lock', () => {
        it('checks before commits that come at once go one at a time on the lock connection', async () => {
          // Files of different tables commit in parallel, each asking whether the lock is
          // still ours on the lock's one connection: a second query while the first runs is
          // deprecated in pg 8 (an error in pg 9), so they queue in the lock itself.
          const warnings: string[] = [];
          const onWarning = (w: Error) => warnings.push(w.message);
          process.on('warning', onWarning);
          try {
            expect(await dest.tryLock('lockq', 'test')).toBeUndefined();
            // The SqlClient argument is the file's transaction; PostgreSQL asks on the lock's own
            // connection, so the destination itself stands in for it here.
            const held = await Promise.all(
              Array.from({ length: 4 }, async () => (await dest.holdsLock?.(dest, 'lockq')) ?? false),
            );
            expect(held).toEqual([true, true, true, true]);
            await dest.unlock('lockq');
            await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
            expect(warnings.filter((m) => m.includes('already executing a query'))).toEqual([]);
          } finally {
            process.off('warning', onWarning);
          }
        });
      });

      describe('open', () => {
        it('read-only: a missing schema is absent, and nothing is created', async () => {
          const noSchema = await fresh.open('schema=nothing_here', { readOnly: true });
          expect(noSchema.absent).toBe(true);
          const admin = await postgresAdmin(fresh.name);
          try {
            const { rows } = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = 'nothing_here'");
            expect(rows).toEqual([]);
          } finally {
            await admin.end();
          }
        });

        it('keeps a pipeline in the schema of `?schema=`, created when missing', async () => {
          const other = await fresh.open('schema=Other%20Schema');
          expect(other.description).toBe(`${POSTGRES_TEST_URL}/${fresh.name}?schema=Other%20Schema`);
          await other.applySchemaChanges([createTable('in_other', [{ name: 'a', type: INT }], [])]);
          expect([...(await other.readCatalog()).keys()]).toEqual(['in_other']);
          expect((await dest.readCatalog()).has('in_other')).toBe(false);
          const [row] = await other.query<{ s: string }>('SELECT current_schema() AS s');
          expect(row?.s).toBe('Other Schema');
        });

        it('pins what its SQL and values assume, whatever the database sets for its sessions', async () => {
          const other = await freshPostgresDatabase();
          const admin = await postgresAdmin();
          try {
            for (const set of [
              'standard_conforming_strings = off',
              "client_encoding = 'LATIN1'",
              "DateStyle = 'SQL, DMY'",
              "TimeZone = 'America/New_York'",
            ])
              await admin.query(`ALTER DATABASE "${other.name}" SET ${set}`);
          } finally {
            await admin.end();
          }
          const d = await openUrl(other.url);
          try {
            const [s] = await d.query<Record<string, string>>(
              "SELECT current_setting('standard_conforming_strings') AS scs, current_setting('client_encoding') AS enc, current_setting('DateStyle') AS ds, current_setting('TimeZone') AS tz",
            );
            expect(s).toEqual({ scs: 'on', enc: 'UTF8', ds: 'ISO, YMD', tz: 'UTC' });
            // A backslash in a literal is itself (the catalog's LIKE … ESCAPE '\'), and text
            // outside LATIN1 round-trips.
            await d.applySchemaChanges([
              createTable(
                'pinned',
                [
                  { name: 'k', type: INT },
                  { name: 's', type: TEXT },
                  { name: 'at', type: DT },
                ],
                ['k'],
              ),
            ]);
            expect([...(await d.readCatalog()).keys()]).toEqual(['pinned']);
            const texts = ['€ 5', 'back\\slash', 'é', '😀'];
            await load(
              d,
              'pinned',
              { write: 'merge', primaryKey: ['k'], runId: 1 },
              rowsOf(texts.map((t, i) => [i, t, '2024-01-02 03:04:05'])),
            );
            expect(await d.query("SELECT s, at, 'a\\b' AS lit FROM pinned ORDER BY k")).toEqual(
              texts.map((t) => ({ s: t, at: '2024-01-02 03:04:05', lit: 'a\\b' })),
            );
          } finally {
            await d.close();
            await other.drop();
          }
        });

        it('refuses, as it opens, a database that does not store text as UTF-8', async () => {
          for (const encoding of ['LATIN1', 'SQL_ASCII']) {
            const other = await freshPostgresDatabase({ create: false });
            const admin = await postgresAdmin();
            try {
              await admin.query(
                `CREATE DATABASE "${other.name}" ENCODING '${encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
              );
              for (const readOnly of [false, true]) {
                for (const url of [other.url, `${other.url}?schema=fresh`]) {
                  const err = (await openUrl(url, { readOnly }).catch((e: unknown) => e)) as TributaryError;
                  expect(err).toBeInstanceOf(TributaryError);
                  expect(err.code).toBe('DEST_CONNECT');
                  expect(err.message).toContain(
                    `database ${other.name} on ${POSTGRES_TEST_URL}/${other.name}${url.includes('?') ? '?schema=fresh' : ''} stores text as ${encoding}, not UTF8`,
                  );
                }
              }
              const fresh = await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [other.name]);
              expect(fresh.rows).toHaveLength(1);
            } finally {
              await admin.end();
              await other.drop();
            }
          }
        });

        it('reads postgresql:// URLs with a schema and options', () => {
          const both = parseDestination('postgresql://u:pw@h/db?schema=s&ssl=true', os.tmpdir(), {});
          expect(both).toMatchObject({
            kind: 'postgres',
            host: 'h',
            port: 5432,
            schema: 's',
            options: { ssl: 'true' },
          });
        });
      });

      describe('schema changes and catalog', () => {
        it('stores names over 63 bytes shortened and distinct, and reads them back in full', async () => {
          const long = (c: string) => `${'l'.repeat(55)}_0000000${c}`;
          const tableName = `t${'x'.repeat(63)}`;
          await dest.applySchemaChanges([
            createTable(
              tableName,
              [
                { name: long('a'), type: INT },
                { name: long('b'), type: TEXT },
              ],
              [long('a')],
            ),
          ]);
          await dest.applySchemaChanges([
            { kind: 'add_column', table: tableName, column: { name: long('c'), type: INT } },
          ]);
          const live = await table(dest, tableName);
          expect(live.columns.map((c) => c.name)).toEqual([long('a'), long('b'), long('c')]);
          expect(live.primaryKey).toEqual([long('a')]);
          await load(
            dest,
            tableName,
            { write: 'merge', primaryKey: [long('a')], runId: 1 },
            rowsOf([[1, 'x', 2]]),
          );
          const q = dest.dialect.quote;
          expect(await dest.query(`SELECT ${q(long('b'))} FROM ${q(tableName)}`)).toEqual([
            { [long('b')]: 'x' },
          ]);
        });

        it('stores a header crafted to equal another name’s stored form apart from it (columns and tables)', async () => {
          const long = `${'h'.repeat(55)}_0000000h`;
          const crafted = physicalName(long); // what `long` is stored as: a header may spell it
          const tableLong = `t${'y'.repeat(63)}`;
          const tableCrafted = physicalName(tableLong);
          for (const name of [tableLong, tableCrafted]) {
            await dest.applySchemaChanges([
              createTable(
                name,
                [
                  { name: 'id', type: INT },
                  { name: long, type: TEXT },
                  { name: crafted, type: INT },
                ],
                ['id'],
              ),
            ]);
            await load(dest, name, { write: 'merge', primaryKey: ['id'], runId: 1 }, rowsOf([[1, name, 7]]));
          }
          const catalog = await dest.readCatalog();
          for (const name of [tableLong, tableCrafted]) {
            expect(catalog.get(name)?.columns.map((c) => c.name)).toEqual(['id', long, crafted]);
            const q = dest.dialect.quote;
            expect(await dest.query(`SELECT ${q(long)}, ${q(crafted)} FROM ${q(name)}`)).toEqual([
              { [long]: name, [crafted]: 7 },
            ]);
          }
        });
      });

      describe('values', () => {
        it('reads values back in the driver’s forms: NUMERIC text, timestamps without trailing zeros, BOOLEAN true/false, JSONB compact', async () => {
          await dest.applySchemaChanges([
            createTable(
              'forms',
              [
                { name: 'i', type: INT },
                { name: 'amount', type: DEC },
                { name: 'day', type: { kind: 'date' } },
                { name: 'at', type: DT },
                { name: 'flag', type: { kind: 'bool' } },
                { name: 'payload', type: { kind: 'json' } },
              ],
              ['i'],
            ),
          ]);
          await load(
            dest,
            'forms',
            { write: 'merge', primaryKey: ['i'], runId: 1 },
            rowsOf([
              [1, '1.5', '2024-01-02', '2024-01-02 03:04:05.123456', true, '[1]'],
              [2, null, '0001-01-01', '2024-02-29 23:59:59.5', false, '{"a": [1, 2.50]}'],
            ]),
          );
          await dest.applySchemaChanges([
            { kind: 'widen_column', table: 'forms', column: 'day', from: { kind: 'date' }, to: DT },
            {
              kind: 'widen_column',
              table: 'forms',
              column: 'amount',
              from: DEC,
              to: { kind: 'decimal', precision: 40, scale: 4 },
            },
          ]);
          expect(await dest.query('SELECT amount, day, at, flag, payload FROM forms ORDER BY i')).toEqual([
            {
              amount: '1.5000',
              day: '2024-01-02 00:00:00',
              at: '2024-01-02 03:04:05.123456',
              flag: true,
              payload: '[1]',
            },
            {
              amount: null,
              day: '0001-01-01 00:00:00',
              at: '2024-02-29 23:59:59.5',
              flag: false,
              payload: '{"a":[1,2.50]}',
            },
          ]);
        });
      });

      describe('merge paths', () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pg-paths-'));
        afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

        it('applies a file’s rows in file order, not in the staging table’s physical order', async () => {
          // Each key is stored as 'x' and staged twice: 'y' then 'x'. In file order 'y' changes
          // the row and 'x' changes it back (the key is written twice: the classification path).
          // Read the other way round, 'x' would change nothing and 'y' would win, in one statement.
          const changes = [
            createTable(
              'order_k',
              [
                { name: 'k', type: INT },
                { name: 'v', type: TEXT },
              ],
              ['k'],
            ),
          ];
          const lite = await sqliteReference(path.join(dir, 'order_k.db'));
          const { PgSession } = await import('../../src/destinations/postgres/session.js');
          const query = PgSession.prototype.query;
          try {
            await lite.applySchemaChanges(changes);
            await dest.applySchemaChanges(changes);
            const keys = [...Array(300).keys()].map((i) => i + 1);
            const p: Plan = { write: 'merge', primaryKey: ['k'], runId: 1 };
            const first = rowsOf(keys.map((k) => [k, 'x']));
            expect(await load(dest, 'order_k', p, first)).toEqual(await load(lite, 'order_k', p, first));
            const file = rowsOf(keys.flatMap((k) => [[k, 'y'] as DbValue[], [k, 'x'] as DbValue[]]));
            // Before the merge statement, move every other staged row to the end of the heap (a
            // new row version), as a table scan may return rows in any order.
            PgSession.prototype.query = async function (this: InstanceType<typeof PgSession>, sql, params) {
              const stage = /^WITH m AS \(INSERT .* FROM "(_tributary_stage_\d+_\d+)" s/.exec(sql)?.[1];
              if (stage) await this.execute(`UPDATE "${stage}" SET v = v WHERE _seq % 2 = 1`);
              return query.call(this, sql, params);
            } as typeof query;
            const q2 = { ...p, runId: 2 };
            expect(await load(dest, 'order_k', q2, file)).toEqual(await load(lite, 'order_k', q2, file));
            expect(await dumpText(dest, 'order_k', 'k')).toEqual(await dumpText(lite, 'order_k', 'k'));
          } finally {
            PgSession.prototype.query = query;
            await lite.close();
          }
        });

        it('compares text cursors in code point order, as SQLite does, in a database collating en-US', async () => {
          // en-US puts 'a' before 'B' and 'e' before 'é' before 'f'; code point order puts 'B'
          // before 'a' and 'é' after 'f'.
          const other = await freshPostgresDatabase({ create: false });
          const admin = await postgresAdmin();
          try {
            await admin.query(
              `CREATE DATABASE "${other.name}" ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0`,
            );
          } finally {
            await admin.end();
          }
          const en = await openUrl(other.url);
          const lite = await sqliteReference(path.join(dir, 'text_cursor.db'));
          try {
            const [order] = await en.query<{ before: boolean }>("SELECT 'a' < 'B' AS before");
            expect(order?.before).toBe(true); // the database's own order differs from code points
            await lite.applySchemaChanges([textCursorTable('tc')]);
            await en.applySchemaChanges([textCursorTable('tc')]);
            // One statement (distinct keys): stored 'a', then 'B' is older in code point order.
            const upserts = mergePaths.upsert;
            for (const [runId, v, c] of [
              [1, 'first', 'a'],
              [2, 'older', 'B'],
            ] as const) {
              const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId };
              const rows = rowsOf([[100, v, c]]);
              expect(await load(en, 'tc', p, rows)).toEqual(await load(lite, 'tc', p, rows));
            }
            expect(mergePaths.upsert).toBe(upserts + 2);
            expect(await en.query('SELECT v FROM tc WHERE k = 100')).toEqual([{ v: 'first' }]);
            const r = rng(4242);
            for (let file = 3; file <= 12; file++) {
              // Odd files: distinct keys (the one-statement upsert); even: keys repeated (the classification).
              const rows = textCursorRows(file, r);
              const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: file };
              expect(await load(en, 'tc', p, rows), `file ${file}`).toEqual(await load(lite, 'tc', p, rows));
            }
            expect(await dumpText(en, 'tc', 'k')).toEqual(await dumpText(lite, 'tc', 'k'));
          } finally {
            await lite.close();
            await en.close();
            await other.drop();
          }
        });

        it('takes the one-statement upsert when no key is written twice, else the staged classification', async () => {
          await dest.applySchemaChanges([
            createTable(
              'paths',
              [
                { name: 'k', type: INT },
                { name: 'v', type: TEXT },
              ],
              ['k'],
            ),
          ]);
          const p: Plan = { write: 'merge', primaryKey: ['k'], runId: 1 };
          const before = { ...mergePaths };
          await load(
            dest,
            'paths',
            p,
            rowsOf([
              [1, 'a'],
              [2, 'b'],
            ]),
          );
          expect(mergePaths.upsert).toBe(before.upsert + 1);
          expect(
            await load(
              dest,
              'paths',
              p,
              rowsOf([
                [1, 'x'],
                [1, 'y'],
                [3, 'z'],
              ]),
            ),
          ).toEqual({
            inserted: 1,
            updated: 2,
            unchanged: 0,
            deleted: 0,
            childRows: 0,
          });
          expect(mergePaths.staged).toBe(before.staged + 1);
          expect(await dumpText(dest, 'paths', 'k')).toEqual([
            ['1', 'y', '1'],
            ['2', 'b', '1'],
            ['3', 'z', '1'],
          ]);
        });
      });
    }),
});

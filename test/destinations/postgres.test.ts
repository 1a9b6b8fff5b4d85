import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDestination } from '../../src/config/destination.js';
import { TributaryError } from '../../src/core/errors.js';
import type { ColumnSchema, ColumnType, DbValue, SchemaChange } from '../../src/core/types.js';
import { numberedParams, physicalName } from '../../src/destinations/postgres/dialect.js';
import {
  isTransientPgError,
  redactServerMessage,
  translatePgError,
} from '../../src/destinations/postgres/errors.js';
import { PostgresDestination } from '../../src/destinations/postgres/index.js';
import { mergePaths } from '../../src/destinations/postgres/merge.js';
import { compactJson } from '../../src/destinations/postgres/session.js';
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
import {
  freshPostgresDatabase,
  POSTGRES_TEST_URL,
  postgresAdmin,
  postgresAvailable,
} from '../helpers/postgres.js';

/**
 * The PostgreSQL destination against the real server (15 here), in a database of its own.
 * Merge semantics are checked case by case and against the SQLite writer, the reference
 * implementation, on random files.
 */

const INT: ColumnType = { kind: 'integer' };
const TEXT: ColumnType = { kind: 'text' };
const DT: ColumnType = { kind: 'datetime' };

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

const available = await postgresAvailable();

function openPg(url: string, readOnly = false): Promise<PostgresDestination> {
  const config = parseDestination(url, os.tmpdir(), {});
  if (config.kind !== 'postgres') throw new Error('not a postgres url');
  const dest = new PostgresDestination(config);
  return dest.open({ readOnly }).then(() => dest);
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

/** Write `rows` to `name` in one transaction, in batches of `batch`; `text`: through writeText as TSV. */
async function load(
  dest: Destination,
  name: string,
  p: Plan,
  rows: RowNode[],
  batch = 1000,
  opts: { text?: boolean; between?: boolean } = {},
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
    for (let i = 0; i < rows.length; i += batch) {
      const part = rows.slice(i, i + batch);
      if (opts.text) {
        if (!w.writeText) throw new Error('no writeText');
        await w.writeText(part.map((r) => `${tsvRow(r.values)}\n`).join(''), part.length);
      } else await w.write(part);
      if (opts.between) await tx.query('SELECT 1');
    }
    return w.finish();
  });
}

const rowsOf = (values: DbValue[][]): RowNode[] => values.map((v) => ({ values: v }));

/** A table's rows as text in `order`, system run id included, in the form both destinations agree on. */
async function dumpText(dest: Destination, name: string, order: string): Promise<string[][]> {
  const live = await table(dest, name);
  const cols = [...live.columns.map((c) => c.name), '_tributary_run_id'];
  const rows = await dest.query<Record<string, unknown>>(
    `SELECT ${cols.map((c) => dest.dialect.quote(c)).join(', ')} FROM ${dest.dialect.quote(name)} ORDER BY ${order}`,
  );
  return rows.map((r) =>
    cols.map((c) => {
      const v = r[c];
      if (v === null || v === undefined) return '∅';
      if (v === true || v === false) return v ? '1' : '0';
      return String(v);
    }),
  );
}

/** Deterministic pseudo-random numbers (a test that fails can be replayed). */
function rng(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

describe.skipIf(!available)('PostgreSQL destination', () => {
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let dest: PostgresDestination;

  beforeAll(async () => {
    db = await freshPostgresDatabase({ create: false });
    dest = await openPg(db.url);
  });
  afterAll(async () => {
    await dest?.close();
    await db?.drop();
  });

  describe('open', () => {
    it('created the missing database (UTF8) and reports its capabilities', async () => {
      const admin = await postgresAdmin();
      try {
        const { rows } = await admin.query(
          'SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = $1',
          [db.name],
        );
        expect(rows).toEqual([{ enc: 'UTF8' }]);
      } finally {
        await admin.end();
      }
      expect(dest.capabilities).toEqual({
        transactionalDdl: true,
        maxIdentifierLength: 63,
        bulkLoad: true,
        maxConcurrentLoads: 4,
        rowFormat: 'tsv',
      });
      expect(dest.description).toBe(`${POSTGRES_TEST_URL}/${db.name}`);
    });

    it('read-only: a missing database or schema is absent, and nothing is created', async () => {
      const missing = await openPg(`${POSTGRES_TEST_URL}/${db.name}_none`, true);
      expect(missing.absent).toBe(true);
      await missing.close();
      const noSchema = await openPg(`${db.url}?schema=nothing_here`, true);
      expect(noSchema.absent).toBe(true);
      await noSchema.close();
      const admin = await postgresAdmin();
      try {
        const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [
          `${db.name}_none`,
        ]);
        expect(rows).toEqual([]);
      } finally {
        await admin.end();
      }
    });

    it('keeps a pipeline in the schema of `?schema=`, created when missing', async () => {
      const other = await openPg(`${db.url}?schema=Other%20Schema`);
      try {
        expect(other.description).toBe(`${POSTGRES_TEST_URL}/${db.name}?schema=Other%20Schema`);
        await other.applySchemaChanges([createTable('in_other', [{ name: 'a', type: INT }], [])]);
        expect([...(await other.readCatalog()).keys()]).toEqual(['in_other']);
        expect((await dest.readCatalog()).has('in_other')).toBe(false);
        const [row] = await other.query<{ s: string }>('SELECT current_schema() AS s');
        expect(row?.s).toBe('Other Schema');
      } finally {
        await other.close();
      }
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
      const d = await openPg(other.url);
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
              const err = (await openPg(url, readOnly).catch((e: unknown) => e)) as TributaryError;
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

    it('names an unknown URL option and lists the known ones', () => {
      const config = parseDestination(`${POSTGRES_TEST_URL}/x?poolSize=3`, os.tmpdir(), {});
      expect(() => new PostgresDestination(config as never)).toThrow(
        /option "poolSize" is unknown.*connectionLimit/,
      );
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

    it('creates, adds and widens idempotently in place, and reads every logical type back', async () => {
      const changes: SchemaChange[] = [
        createTable('ddl', all, ['code', 'n'], { fileId: true, idx: false }),
        { kind: 'add_column', table: 'ddl', column: { name: 'extra', type: { kind: 'json' } } },
        { kind: 'add_column', table: 'ddl', column: { name: 'score', type: { kind: 'bool' } } },
      ];
      await dest.applySchemaChanges(changes);
      await dest.applySchemaChanges(changes);
      await dest.execute(
        "INSERT INTO ddl (code, n, flag, amount, day, at, note, payload, score, _tributary_run_id) VALUES ('a', 1, true, 1.50, '2024-01-02', '2024-01-02 03:04:05.123456', 'x', '[1]', true, 1)",
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
          from: { kind: 'decimal', precision: 12, scale: 2 },
          to: { kind: 'decimal', precision: 40, scale: 4 },
        },
      ];
      await dest.applySchemaChanges(widen);
      await dest.applySchemaChanges(widen);
      expect(await table(dest, 'ddl')).toEqual({
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
        // No NUL in text; jsonb's strings and numbers; the key's B-tree entry holds 2,704 bytes
        // (a header, 8 a column).
        limits: {
          noNul: true,
          noLoneSurrogates: true,
          jsonNumbers: { integerDigits: 131_072, fractionDigits: 16_383 },
          maxKeyBytes: 2_680,
        },
      });
      expect(await dest.query('SELECT n, amount, day, score, at, payload FROM ddl')).toEqual([
        {
          n: '1.00',
          amount: '1.5000',
          day: '2024-01-02 00:00:00',
          score: 1,
          at: '2024-01-02 03:04:05.123456',
          payload: '[1]',
        },
      ]);
    });

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
      expect(await dest.query(`SELECT ${q(long('b'))} FROM ${q(tableName)}`)).toEqual([{ [long('b')]: 'x' }]);
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

    it('lists user tables only: not state tables, views or temporary tables; `_` is not a wildcard', async () => {
      await dest.execute('CREATE TABLE "_tributary_scratch" (id INT)');
      await dest.execute('CREATE TABLE "atributaryb_c" (id INT)');
      await dest.execute('CREATE OR REPLACE VIEW "v_ddl" AS SELECT 1 AS one');
      const names = await dest.transaction(async (tx) => {
        await tx.execute('CREATE TEMPORARY TABLE tmp_x (id INT)');
        return [...(await dest.readCatalog()).keys()];
      });
      expect(names).toContain('atributaryb_c');
      expect(names).not.toContain('_tributary_scratch');
      expect(names).not.toContain('v_ddl');
      expect(names).not.toContain('tmp_x');
    });

    it('runs DDL inside a data transaction: a failure leaves no table behind', async () => {
      const err = await dest
        .transaction(async (tx) => {
          await dest.applySchemaChanges([createTable('never', [{ name: 'a', type: INT }], [])], tx);
          expect((await tx.query("SELECT to_regclass('never') IS NOT NULL AS there"))[0]).toEqual({
            there: true,
          });
          throw new Error('the load failed');
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe('the load failed');
      expect((await dest.readCatalog()).has('never')).toBe(false);
    });
  });

  describe('merge', () => {
    beforeAll(async () => {
      await dest.applySchemaChanges([
        createTable(
          'm',
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
      const p: Plan = { write: 'merge', primaryKey: ['k'], cursor: 'c', runId: 1 };
      expect(
        await load(
          dest,
          'm',
          p,
          rowsOf([
            [1, 'a', 5],
            [2, 'b', 5],
          ]),
        ),
      ).toEqual({
        inserted: 2,
        updated: 0,
        unchanged: 0,
        deleted: 0,
        childRows: 0,
      });
      expect(
        await load(
          dest,
          'm',
          { ...p, runId: 2, fileId: 2 },
          rowsOf([
            [1, 'old', 4],
            [2, 'b', 5],
            [1, 'tie', 5],
          ]),
        ),
      ).toEqual({ inserted: 0, updated: 1, unchanged: 2, deleted: 0, childRows: 0 });
      expect(await dumpText(dest, 'm', 'k')).toEqual([
        ['1', 'tie', '5', '2'],
        ['2', 'b', '5', '1'],
      ]);
      const [prov] = await dest.query<{ f: number }>('SELECT _tributary_file_id AS f FROM m WHERE k = 1');
      expect(prov?.f).toBe(2); // the file that supplied the row moves with it
    });
  });

  describe('against the SQLite writer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pg-diff-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const cases = [
      { name: 'cursor', cursor: true, children: false, text: false, dups: true },
      { name: 'no cursor', cursor: false, children: false, text: false, dups: true },
      { name: 'cursor, distinct keys', cursor: true, children: false, text: false, dups: false },
      { name: 'cursor, text rows', cursor: true, children: false, text: true, dups: true },
      { name: 'cursor with children', cursor: true, children: true, text: false, dups: true },
      { name: 'no cursor with children', cursor: false, children: true, text: false, dups: true },
    ];

    it.each(cases)(
      'same stats and tables on random files: $name',
      async ({ name, cursor, children, text, dups }) => {
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
        try {
          await lite.applySchemaChanges(changes);
          await dest.applySchemaChanges(changes);
          const r = rng(name.length * 7919);
          for (let file = 1; file <= 12; file++) {
            const rows: RowNode[] = [];
            const n = 1 + r(40);
            const keys = [...Array(60).keys()].map((i) => i + 1);
            for (let i = 0; i < n; i++) {
              // Distinct keys: each key once per file, the one-statement upsert's case.
              const k = dups ? 1 + r(8) : (keys.splice(r(keys.length), 1)[0] as number);
              const node: RowNode = {
                values: [k, ['a', 'b', 'c', ''][r(4)] as string, r(5) === 0 ? null : 1 + r(4)],
              };
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
            const got = await load(dest, tableName, p, rows, 7, { text, between: text });
            expect(got, `file ${file}`).toEqual(expected);
          }
          expect(await dumpText(dest, tableName, 'k')).toEqual(await dumpText(lite, tableName, 'k'));
          if (children) {
            expect(await dumpText(dest, child, 'k, _tributary_idx')).toEqual(
              await dumpText(lite, child, 'k, _tributary_idx'),
            );
          }
        } finally {
          await lite.close();
        }
      },
    );

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
      const lite = new SqliteDestination(path.join(dir, 'order_k.db'));
      await lite.open();
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
      const en = await openPg(other.url);
      const lite = new SqliteDestination(path.join(dir, 'text_cursor.db'));
      await lite.open();
      try {
        const [order] = await en.query<{ before: boolean }>("SELECT 'a' < 'B' AS before");
        expect(order?.before).toBe(true); // the database's own order differs from code points
        const changes = [
          createTable(
            'tc',
            [
              { name: 'k', type: INT },
              { name: 'v', type: TEXT },
              { name: 'c', type: TEXT },
            ],
            ['k'],
          ),
        ];
        await lite.applySchemaChanges(changes);
        await en.applySchemaChanges(changes);
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
        const cursors = ['a', 'B', 'b', 'A', 'e', 'é', 'f', 'Z', 'ä', 'z', '😀', 'ｚ', 'a ', 'aB', 'ab'];
        const r = rng(4242);
        for (let file = 3; file <= 12; file++) {
          // Odd files: distinct keys (the one-statement upsert); even: keys repeated (the classification).
          const rows: RowNode[] = [];
          for (let i = 0; i < 40; i++) {
            const k = file % 2 ? i + 1 : 1 + r(6);
            rows.push({ values: [k, `v${file}.${i}`, cursors[r(cursors.length)] as string] });
          }
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

  describe('before-images, against the SQLite writer', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pg-images-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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

    async function pair(name: string, changes: SchemaChange[]): Promise<SqliteDestination> {
      const lite = new SqliteDestination(path.join(dir, `${name}.db`));
      await lite.open();
      await ensureStateTables(lite, lite.dialect);
      await ensureStateTables(dest, dest.dialect);
      await lite.applySchemaChanges(changes);
      await dest.applySchemaChanges(changes);
      return lite;
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
      const lite = await pair(tableName, [
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
          const p: Plan = {
            write: 'merge',
            primaryKey: ['k'],
            cursor: cursor ? 'c' : undefined,
            runId: Math.ceil(file / 3),
            children: children ? [child] : [],
            beforeImages,
          };
          expect(await load(dest, tableName, p, rows, 7), `file ${file}`).toEqual(
            await load(lite, tableName, p, rows),
          );
        }
        const expected = await images(lite, [tableName, child]);
        expect(expected.length).toBeGreaterThan(0);
        expect(await images(dest, [tableName, child])).toEqual(expected);
      } finally {
        await lite.close();
      }
    });

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
      ]);
      const beforeImages = new Map([
        ['im_ap', ['a', 'amt']],
        ['im_rp', ['a']],
      ]);
      try {
        for (const d of [lite, dest]) {
          const ap = (runId: number, fileId: number, rows: DbValue[][]) =>
            load(d, 'im_ap', { write: 'append', runId, fileId, beforeImages }, rowsOf(rows));
          await ap(1, 1, [
            [1, '1.50'],
            [2, '2.00'],
          ]);
          await ap(1, 2, [[3, '3.25']]);
          await ap(1, 2, [[4, '4.00']]);
          expect(await ap(2, 1, [[5, '5.00']])).toEqual({
            inserted: 1,
            updated: 0,
            unchanged: 0,
            deleted: 2,
            childRows: 0,
          });
          await load(d, 'im_rp', { write: 'replace', runId: 1, beforeImages }, rowsOf([[1], [2]]));
          expect(await load(d, 'im_rp', { write: 'replace', runId: 2, beforeImages }, rowsOf([[3]]))).toEqual(
            {
              inserted: 1,
              updated: 0,
              unchanged: 0,
              deleted: 2,
              childRows: 0,
            },
          );
        }
        const expected = await images(lite, ['im_ap', 'im_rp']);
        expect(expected).toEqual(['im_ap|2|a=1,amt=1.5', 'im_ap|2|a=2,amt=2', 'im_rp|1|∅', 'im_rp|2|∅']);
        expect(await images(dest, ['im_ap', 'im_rp'])).toEqual(expected);
        // The same rows (decimals as numbers: SQLite stores 4.00 as 4).
        const rows = async (d: Destination) =>
          (await dumpText(d, 'im_ap', 'a')).map(([a, amt, run]) => [a, Number(amt), run]);
        expect(await rows(dest)).toEqual(await rows(lite));
      } finally {
        await lite.close();
      }
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
      '\\.',
      'N',
      'NULL',
      '\\t not a tab',
      '\u001a ctrl-z',
      '😀 emoji',
      '𝄞 clef outside the BMP',
      '漢字かなカナ',
      'trailing backslash\\',
      '"quoted" \'single\'',
      'x'.repeat(70_000),
    ];

    it.each([false, true])(
      'text round-trips byte for byte through COPY and merge (text rows: %s)',
      async (text) => {
        const name = text ? 'txt_text' : 'txt_rows';
        await dest.applySchemaChanges([
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
        const stats = await load(
          dest,
          name,
          { write: 'merge', primaryKey: ['i'], runId: 1 },
          rowsOf(rows),
          5,
          { text },
        );
        expect(stats.inserted).toBe(texts.length);
        const back = await dest.query<{ s: string | null; k: string | null; hex: string }>(
          `SELECT s, k, encode(convert_to(s, 'UTF8'), 'hex') AS hex FROM ${name} ORDER BY i`,
        );
        expect(back.map((r) => r.s)).toEqual(texts);
        expect(back.map((r) => r.k)).toEqual(texts.map((s, i) => (i % 2 ? null : s)));
        expect(back.map((r) => r.hex)).toEqual(texts.map((s) => Buffer.from(s, 'utf8').toString('hex')));
        const again = await load(dest, name, { write: 'merge', primaryKey: ['i'], runId: 2 }, rowsOf(rows));
        expect(again).toEqual({ inserted: 0, updated: 0, unchanged: texts.length, deleted: 0, childRows: 0 });
      },
    );

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
      expect(await dest.query('SELECT big, dec, money, flag, doc, at, day FROM num ORDER BY i')).toEqual([
        {
          big: '9007199254740993',
          dec: '12345678901234567890123456789012345.123456789012345678901234567890',
          money: '0.10',
          flag: true,
          doc: '{"a":[1,2.50]}',
          at: '2024-02-29 23:59:59.5',
          day: '0001-01-01',
        },
        {
          big: '9223372036854775807',
          dec: '-0.000000000000000000000000000001',
          money: '0.20',
          flag: false,
          doc: '"😀"',
          at: '0999-12-31 00:00:00',
          day: '9999-12-31',
        },
        {
          big: '-9223372036854775808',
          dec: '0.000000000000000000000000000000',
          money: '0.70',
          flag: null,
          doc: '12345678901234567890',
          at: '2024-01-01 00:00:00.000001',
          day: null,
        },
        {
          big: 42,
          dec: null,
          money: '1000000000000000.01',
          flag: true,
          doc: null,
          at: null,
          day: '2024-06-30',
        },
      ]);
      expect(await dest.query('SELECT SUM(money) AS s, COUNT(*) AS n FROM num')).toEqual([
        { s: '1000000000000001.01', n: 4 },
      ]);
      // Exact beyond 2^64 in a key, too.
      await dest.applySchemaChanges([
        createTable('wide', [{ name: 'k', type: { kind: 'decimal', precision: 30, scale: 0 } }], ['k']),
      ]);
      const keys = ['18446744073709551613', '18446744073709551614', '18446744073709551615'];
      expect(
        (
          await load(
            dest,
            'wide',
            { write: 'merge', primaryKey: ['k'], runId: 1 },
            rowsOf(keys.map((k) => [k])),
          )
        ).inserted,
      ).toBe(3);
      expect((await dest.query<{ k: string }>('SELECT k FROM wide ORDER BY k')).map((r) => r.k)).toEqual(
        keys,
      );
    });

    it('fails the load, without the value, when the server refuses one', async () => {
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
      const err = await load(
        dest,
        'narrow',
        { write: 'merge', primaryKey: ['k'], runId: 1 },
        rowsOf([
          ['ok', 1],
          ['nul\0secret', 2],
        ]),
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TributaryError);
      expect((err as TributaryError).message).not.toContain('secret');
      expect(await dest.query('SELECT COUNT(*) AS n FROM narrow')).toEqual([{ n: 0 }]);
    });
  });

  describe('direct loads and transactions', () => {
    beforeAll(async () => {
      await dest.applySchemaChanges([
        createTable(
          'dl',
          [
            { name: 'id', type: INT },
            { name: 'v', type: TEXT },
          ],
          ['id'],
        ),
      ]);
    });

    it('copies straight into an empty table, and a key twice is DirectLoadConflict', async () => {
      const p: Plan = { write: 'merge', primaryKey: ['id'], runId: 1, direct: true };
      const err = await load(
        dest,
        'dl',
        p,
        rowsOf([
          [1, 'a'],
          [2, 'b'],
          [1, 'c'],
        ]),
        1,
        { between: true },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DirectLoadConflict);
      expect(await dest.query('SELECT COUNT(*) AS n FROM dl')).toEqual([{ n: 0 }]);
      expect(
        await load(
          dest,
          'dl',
          { ...p, direct: false },
          rowsOf([
            [1, 'a'],
            [2, 'b'],
            [1, 'c'],
          ]),
        ),
      ).toMatchObject({
        inserted: 2,
        updated: 1,
      });
      // A table with rows goes through staging whatever `direct` says.
      expect(
        await load(
          dest,
          'dl',
          p,
          rowsOf([
            [2, 'b'],
            [3, 'd'],
          ]),
          1,
          { text: true },
        ),
      ).toEqual({
        inserted: 1,
        updated: 0,
        unchanged: 1,
        deleted: 0,
        childRows: 0,
      });
    });

    it('rolls back a transaction that fails in the middle of a COPY, and the pool stays usable', async () => {
      const err = await dest
        .transaction(async (tx) => {
          const live = await table(dest, 'dl');
          const w = await tx.writer({
            table: live,
            write: 'append',
            primaryKey: [],
            cursor: undefined,
            runId: 9,
            fileId: 9,
            children: [],
          });
          await w.write(rowsOf([[100, 'x']]));
          throw new Error('the file changed');
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe('the file changed');
      expect(await dest.query('SELECT COUNT(*) AS n FROM dl WHERE id = 100')).toEqual([{ n: 0 }]);
      expect(await dest.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });

    it('stores a failure’s or a reject’s text with a NUL in it, the NUL as ␀ (U+2400)', async () => {
      await ensureStateTables(dest, dest.dialect);
      const { markFailed, readLedger } = await import('../../src/state/ledger.js');
      const { finishRun, listRuns, startRun } = await import('../../src/state/runs.js');
      const { insertRejects, listRejects } = await import('../../src/state/rejects.js');
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

    it('inserts state rows and gives back their ids', async () => {
      await ensureStateTables(dest, dest.dialect);
      const a = await dest.insertRow(
        "INSERT INTO _tributary_runs (pipeline, status, started_at) VALUES (?, 'running', ?)",
        ['p', 'now'],
      );
      const b = await dest.transaction((tx) =>
        tx.insertRow("INSERT INTO _tributary_runs (pipeline, status, started_at) VALUES (?, 'running', ?)", [
          'p',
          'now',
        ]),
      );
      expect(b).toBe(a + 1);
    });
  });

  describe('locks', () => {
    it('a second destination sees who holds the lock and since when, and gets it once released', async () => {
      const other = await openPg(db.url);
      try {
        expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
        expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
        expect(await other.tryLock('pipe', 'host-b:2')).toEqual({
          pipeline: 'pipe',
          holder: 'host-a:1',
          since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        });
        expect(await other.tryLock('other-pipe', 'host-b:2')).toBeUndefined();
        expect(await dest.holdsLock(dest, 'pipe')).toBe(true);
        expect(await other.holdsLock(other, 'pipe')).toBe(false);
        await dest.unlock('pipe');
        expect(await other.tryLock('pipe', 'host-b:2')).toBeUndefined();
        expect(await dest.tryLock('pipe', 'host-a:1')).toEqual(
          expect.objectContaining({ holder: 'host-b:2' }),
        );
      } finally {
        await other.close();
      }
      expect(await dest.tryLock('pipe', 'host-a:1')).toBeUndefined();
      await dest.unlock('pipe');
    });

    it('the server frees the lock when the holder session dies, and the holder notices', async () => {
      const other = await openPg(db.url);
      const admin = await postgresAdmin(db.name);
      try {
        expect(await other.tryLock('crash', 'dying:1')).toBeUndefined();
        const { rows } = await admin.query("SELECT pid FROM _tributary_locks WHERE pipeline = 'crash'");
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        expect(await dest.tryLock('crash', 'alive:2')).toBeUndefined();
        expect(await other.holdsLock(other, 'crash')).toBe(false);
        expect(other.lockLost('crash')).toBe(true);
        await dest.unlock('crash');
      } finally {
        await admin.end();
        await other.close();
      }
    });
  });

  describe('errors and secrets', () => {
    it('a terminated connection is a transient error and the pool recovers', async () => {
      const admin = await postgresAdmin();
      try {
        const err = (await dest
          .transaction(async (tx) => {
            const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
            await admin.query('SELECT pg_terminate_backend($1)', [me?.pid]);
            await tx.query('SELECT 1');
          })
          .catch((e: unknown) => e)) as TributaryError;
        expect(err).toBeInstanceOf(TributaryError);
        expect(err.transient).toBe(true);
        expect(await dest.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        await admin.end();
      }
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
      expect(String((failed[0]?.reason as Error | undefined)?.message)).toMatch(/40P01/);
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
      expect(dup.message).toMatch(/duplicate key/);
      expect(dup.message).not.toContain('secret-value-123');
      expect(String((dup.cause as Error).message)).not.toContain('secret-value-123');
    });

    it('a server error quoting a URL with a password never shows the password, in its message or cause', async () => {
      const secret = 'Xq9-secret-in-url';
      const url = `postgres://etl:${secret}@db.example/shop`;
      // The relation's name is kept in the message; in the second the SQL is cut at 300
      // characters with the password's first three inside.
      const head = "SELECT 1 FROM nowhere WHERE x = '";
      const pad = 'y'.repeat(297 - head.length - 'postgres://etl:'.length);
      for (const sql of [`SELECT * FROM "${url}"`, `${head}${pad}${url}'`]) {
        const err = (await dest.query(sql).catch((e: unknown) => e)) as TributaryError;
        expect(err).toBeInstanceOf(TributaryError);
        expect(err.message).toMatch(/PostgreSQL 42P01/);
        expect(err.message).not.toContain('Xq9');
        expect(String((err.cause as Error).message)).not.toContain('Xq9');
      }
    });

    it('a refused connection is a transient DEST_CONNECT error without the password', async () => {
      const d = new PostgresDestination(
        parseDestination('postgres://u:pw-not-shown@127.0.0.1:1/x', os.tmpdir(), {}) as never,
      );
      expect(d.description).toBe('postgres://u:***@127.0.0.1:1/x');
      const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
      expect(err).toMatchObject({ code: 'DEST_CONNECT', transient: true });
      expect(err.message).not.toContain('pw-not-shown');
    });

    it('takes the password from TRIBUTARY_DB_PASSWORD when the URL has none, and never shows it', async () => {
      const user = `trib_${Math.random().toString(36).slice(2, 10)}`;
      const password = 'Pa55-w0rd!with:@/chars';
      const admin = await postgresAdmin();
      try {
        await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
        const config = parseDestination(`postgres://${user}@127.0.0.1:5432/${db.name}_denied`, os.tmpdir(), {
          TRIBUTARY_DB_PASSWORD: password,
        });
        expect(config).toMatchObject({ password });
        const d = new PostgresDestination(config as never);
        expect(d.description).not.toContain(password);
        // Trust authentication lets the user in; it may not create a database.
        const err = (await d.open().catch((e: unknown) => e)) as TributaryError;
        expect(err).toBeInstanceOf(TributaryError);
        expect(err.message).toMatch(/could not be created.*42501|permission denied/);
        expect(err.message).not.toContain(password);
      } finally {
        await admin.query(`DROP ROLE IF EXISTS ${user}`);
        await admin.end();
      }
    });
  });
});

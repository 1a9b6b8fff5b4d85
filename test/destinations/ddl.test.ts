import { describe, expect, it } from 'vitest';
import type { LiveTable, SchemaChange } from '../../src/core/types.js';
import { mysqlChangeSql } from '../../src/destinations/mysql/ddl.js';
import { postgresChangeSql } from '../../src/destinations/postgres/ddl.js';
import { sqliteChangeSql } from '../../src/destinations/sqlite/ddl.js';

/**
 * Golden DDL: the statements each schema change renders to on each dialect, checked as
 * text (what `applySchemaChanges` runs and `run --dry-run` prints).
 */

const create: SchemaChange = {
  kind: 'create_table',
  table: {
    name: 'orders',
    columns: [
      { name: 'id', type: { kind: 'text' } },
      { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 2 } },
      { name: 'at', type: { kind: 'date' } },
      { name: 'doc', type: { kind: 'json' } },
    ],
    primaryKey: ['id'],
  },
  system: { fileId: true, idx: false },
};
const orders: LiveTable = {
  name: 'orders',
  columns: create.kind === 'create_table' ? create.table.columns : [],
  primaryKey: ['id'],
  systemColumns: ['_tributary_run_id', '_tributary_file_id'],
};
const events: SchemaChange = {
  kind: 'create_table',
  table: { name: 'events', columns: [{ name: 'n', type: { kind: 'integer' } }], primaryKey: [] },
  system: { fileId: true, idx: false },
};
const add: SchemaChange = {
  kind: 'add_column',
  table: 'orders',
  column: { name: 'note', type: { kind: 'text' } },
};
const widen: SchemaChange = {
  kind: 'widen_column',
  table: 'orders',
  column: 'at',
  from: { kind: 'date' },
  to: { kind: 'datetime' },
};

describe('golden DDL: SQLite', () => {
  it('create table: decimals without affinity, json as text, the system columns, the key', () => {
    expect(sqliteChangeSql(create, undefined)).toEqual([
      `CREATE TABLE IF NOT EXISTS "orders" (
  "id" TEXT NOT NULL,
  "amount" DECIMAL_BLOB(12,2),
  "at" DATE,
  "doc" JSON_TEXT,
  "_tributary_run_id" BIGINT,
  "_tributary_file_id" BIGINT,
  PRIMARY KEY ("id")
)`,
    ]);
    expect(sqliteChangeSql(events, undefined)).toEqual([
      `CREATE TABLE IF NOT EXISTS "events" (
  "n" BIGINT,
  "_tributary_run_id" BIGINT,
  "_tributary_file_id" BIGINT
)`,
    ]);
  });

  it('add column; nothing when the column is there', () => {
    expect(sqliteChangeSql(add, orders)).toEqual(['ALTER TABLE "orders" ADD COLUMN "note" TEXT']);
    const withNote = {
      ...orders,
      columns: [...orders.columns, { name: 'note', type: { kind: 'text' } } as const],
    };
    expect(sqliteChangeSql(add, withNote)).toEqual([]);
  });

  it('widen: copy into a new table (dates get midnight, decimals their exact storage), drop, rename (legacy: views are not checked)', () => {
    expect(sqliteChangeSql(widen, orders)).toEqual([
      'DROP TABLE IF EXISTS "orders__tributary_rebuild"',
      `CREATE TABLE IF NOT EXISTS "orders__tributary_rebuild" (
  "id" TEXT NOT NULL,
  "amount" DECIMAL_BLOB(12,2),
  "at" DATETIME,
  "doc" JSON_TEXT,
  "_tributary_run_id" BIGINT,
  "_tributary_file_id" BIGINT,
  PRIMARY KEY ("id")
)`,
      `INSERT INTO "orders__tributary_rebuild" ("id", "amount", "at", "doc", "_tributary_run_id", "_tributary_file_id") SELECT "id", CASE WHEN typeof("amount") = 'integer' THEN CASE WHEN length(ltrim(replace(replace(CAST("amount" AS TEXT), '-', ''), '.', ''), '0')) <= 15 THEN CAST(CAST("amount" AS TEXT) AS NUMERIC) ELSE CAST("amount" AS TEXT) END ELSE "amount" END, CASE WHEN length("at") = 10 THEN "at" || ' 00:00:00' ELSE "at" END, "doc", "_tributary_run_id", "_tributary_file_id" FROM "orders"`,
      'DROP TABLE "orders"',
      'PRAGMA legacy_alter_table = ON',
      'ALTER TABLE "orders__tributary_rebuild" RENAME TO "orders"',
      'PRAGMA legacy_alter_table = OFF',
    ]);
    expect(sqliteChangeSql({ ...widen, to: { kind: 'date' } }, orders)).toEqual([]);
  });
});

describe('golden DDL: MySQL/MariaDB', () => {
  it('create table: a key text column sized for the index, json checked, InnoDB with the binary collation', () => {
    expect(mysqlChangeSql(create, undefined, 'utf8mb4_bin')).toEqual([
      `CREATE TABLE IF NOT EXISTS \`orders\` (
  \`id\` VARCHAR(760) NOT NULL,
  \`amount\` DECIMAL(12,2),
  \`at\` DATE,
  \`doc\` JSON COMMENT 'tributary:json',
  \`_tributary_run_id\` BIGINT,
  \`_tributary_file_id\` BIGINT,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    ]);
  });

  it('a table without a key gets an index on the file id (a re-sent file deletes its rows by it)', () => {
    expect(mysqlChangeSql(events, undefined, 'utf8mb4_0900_bin')).toEqual([
      `CREATE TABLE IF NOT EXISTS \`events\` (
  \`n\` BIGINT,
  \`_tributary_run_id\` BIGINT,
  \`_tributary_file_id\` BIGINT,
  KEY \`_tributary_file_id\` (\`_tributary_file_id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_bin`,
    ]);
  });

  it('add column, widen in place; nothing when already there', () => {
    expect(mysqlChangeSql(add, orders, 'utf8mb4_bin')).toEqual([
      'ALTER TABLE `orders` ADD COLUMN `note` LONGTEXT',
    ]);
    expect(mysqlChangeSql(widen, orders, 'utf8mb4_bin')).toEqual([
      'ALTER TABLE `orders` MODIFY COLUMN `at` DATETIME(6)',
    ]);
    expect(mysqlChangeSql({ ...widen, to: { kind: 'date' } }, orders, 'utf8mb4_bin')).toEqual([]);
  });
});

describe('golden DDL: PostgreSQL', () => {
  it('create table: exact types, text keys of any length, the system columns, the key', () => {
    expect(postgresChangeSql(create, undefined)).toEqual([
      `CREATE TABLE IF NOT EXISTS "orders" (
  "id" TEXT NOT NULL,
  "amount" NUMERIC(12,2),
  "at" DATE,
  "doc" JSONB,
  "_tributary_run_id" BIGINT,
  "_tributary_file_id" BIGINT,
  PRIMARY KEY ("id")
)`,
    ]);
  });

  it('a table without a key gets an index on the file id (a re-sent file deletes its rows by it)', () => {
    expect(postgresChangeSql(events, undefined)).toEqual([
      `CREATE TABLE IF NOT EXISTS "events" (
  "n" BIGINT,
  "_tributary_run_id" BIGINT,
  "_tributary_file_id" BIGINT
)`,
      'CREATE INDEX IF NOT EXISTS "_tributary_file__events" ON "events" ("_tributary_file_id")',
    ]);
  });

  it('add column, widen in place converting the values; nothing when already there', () => {
    expect(postgresChangeSql(add, orders)).toEqual(['ALTER TABLE "orders" ADD COLUMN "note" TEXT']);
    expect(postgresChangeSql(widen, orders)).toEqual([
      `ALTER TABLE "orders" ALTER COLUMN "at" TYPE TIMESTAMPTZ USING "at"::timestamp AT TIME ZONE 'UTC'`,
    ]);
    const flags: LiveTable = {
      ...orders,
      columns: [...orders.columns, { name: 'ok', type: { kind: 'bool' } }],
    };
    expect(
      postgresChangeSql(
        {
          kind: 'widen_column',
          table: 'orders',
          column: 'ok',
          from: { kind: 'bool' },
          to: { kind: 'integer' },
        },
        flags,
      ),
    ).toEqual(['ALTER TABLE "orders" ALTER COLUMN "ok" TYPE BIGINT USING "ok"::integer::BIGINT']);
    expect(
      postgresChangeSql(
        {
          kind: 'widen_column',
          table: 'orders',
          column: 'amount',
          from: { kind: 'decimal', precision: 12, scale: 2 },
          to: { kind: 'decimal', precision: 20, scale: 4 },
        },
        orders,
      ),
    ).toEqual([
      'ALTER TABLE "orders" ALTER COLUMN "amount" TYPE NUMERIC(20,4) USING "amount"::NUMERIC(20,4)',
    ]);
    expect(postgresChangeSql({ ...widen, to: { kind: 'date' } }, orders)).toEqual([]);
  });

  it('a name over 63 bytes is stored shortened, its full name kept in a comment', () => {
    const long = `${'a'.repeat(55)}_0123abcd`;
    const sql = postgresChangeSql(
      { kind: 'add_column', table: 'orders', column: { name: long, type: { kind: 'integer' } } },
      orders,
    );
    expect(sql).toEqual([
      `ALTER TABLE "orders" ADD COLUMN "${'a'.repeat(54)}_a8c8af94" BIGINT`,
      `COMMENT ON COLUMN "orders"."${'a'.repeat(54)}_a8c8af94" IS 'tributary:name:${long}'`,
    ]);
  });
});

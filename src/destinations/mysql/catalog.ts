import { isSystemColumn } from '../sql.js';
import type { LiveTable, SqlClient } from '../types.js';
import { JSON_TAG, parseMysqlType } from './dialect.js';

interface ColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  column_type: string;
  numeric_precision: number | string | null;
  numeric_scale: number | string | null;
  column_comment: string;
  max_chars: number | string | null;
}

/**
 * MariaDB's JSON_VALID (the CHECK of a JSON column) refuses values nested 32 levels deep, and
 * a UTF-16 surrogate escape without its pair (`"\ud800"`).
 */
const JSON_DEPTH = 31;

interface KeyRow {
  table_name: string;
  column_name: string;
}

// `_` is a LIKE wildcard: escaped (with `!`, which no sql_mode treats specially), so a user
// table such as `xtributaryx_t` is not taken for a state table.
const NOT_STATE = `NOT LIKE '!_tributary!_%' ESCAPE '!'`;

/**
 * User tables and their columns, read from information_schema of the current database
 * (never from a cache): base tables only (no views, no temporary staging tables), state
 * tables (`_tributary_*`) excluded, columns in ordinal order, the primary key in index order.
 */
export async function readMysqlCatalog(db: SqlClient, table?: string): Promise<Map<string, LiveTable>> {
  const only = (alias: string) => (table === undefined ? '' : ` AND ${alias}.TABLE_NAME = ?`);
  const params = table === undefined ? [] : [table];
  // Two plain reads of information_schema, joined and sorted here: MariaDB 10.11 crashed
  // (signal 11 freeing an internal temporary table) on the join of COLUMNS and TABLES with
  // an ORDER BY, three times in one session of parallel test runs.
  const base = new Set(
    (
      await db.query<{ table_name: string }>(
        `SELECT t.TABLE_NAME AS table_name FROM information_schema.TABLES t
          WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' AND t.TABLE_NAME ${NOT_STATE}${only('t')}`,
        params,
      )
    ).map((r) => r.table_name),
  );
  const columns = (
    await db.query<ColumnRow & { ordinal: number | string }>(
      `SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type,
              c.COLUMN_TYPE AS column_type, c.NUMERIC_PRECISION AS numeric_precision,
              c.NUMERIC_SCALE AS numeric_scale, c.COLUMN_COMMENT AS column_comment,
              CASE WHEN c.DATA_TYPE = 'varchar' THEN c.CHARACTER_MAXIMUM_LENGTH END AS max_chars,
              c.ORDINAL_POSITION AS ordinal
         FROM information_schema.COLUMNS c
        WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME ${NOT_STATE}${only('c')}`,
      params,
    )
  )
    .filter((c) => base.has(c.table_name))
    .sort((a, b) =>
      a.table_name < b.table_name
        ? -1
        : a.table_name > b.table_name
          ? 1
          : Number(a.ordinal) - Number(b.ordinal),
    );
  const keys = (
    await db.query<KeyRow & { seq: number | string }>(
      `SELECT s.TABLE_NAME AS table_name, s.COLUMN_NAME AS column_name, s.SEQ_IN_INDEX AS seq
         FROM information_schema.STATISTICS s
        WHERE s.TABLE_SCHEMA = DATABASE() AND s.INDEX_NAME = 'PRIMARY' AND s.TABLE_NAME ${NOT_STATE}${only('s')}`,
      params,
    )
  ).sort((a, b) =>
    a.table_name < b.table_name ? -1 : a.table_name > b.table_name ? 1 : Number(a.seq) - Number(b.seq),
  );
  const out = new Map<string, LiveTable>();
  for (const c of columns) {
    let t = out.get(c.table_name);
    if (!t) {
      t = { name: c.table_name, columns: [], primaryKey: [], systemColumns: [] };
      out.set(c.table_name, t);
    }
    if (isSystemColumn(c.column_name)) {
      t.systemColumns.push(c.column_name);
      continue;
    }
    if (c.max_chars !== null && c.max_chars !== undefined) {
      t.limits = { ...t.limits, maxChars: { ...t.limits?.maxChars, [c.column_name]: Number(c.max_chars) } };
    }
    if (c.column_comment === JSON_TAG)
      t.limits = { ...t.limits, jsonDepth: JSON_DEPTH, noLoneSurrogates: true };
    t.columns.push({
      name: c.column_name,
      type: parseMysqlType({
        dataType: c.data_type,
        columnType: c.column_type,
        precision: c.numeric_precision === null ? null : Number(c.numeric_precision),
        scale: c.numeric_scale === null ? null : Number(c.numeric_scale),
        comment: c.column_comment,
      }),
    });
  }
  for (const k of keys) out.get(k.table_name)?.primaryKey.push(k.column_name);
  return out;
}

/** One user table from the live catalog, or undefined when it does not exist. */
export async function readMysqlTable(db: SqlClient, name: string): Promise<LiveTable | undefined> {
  return (await readMysqlCatalog(db, name)).get(name);
}

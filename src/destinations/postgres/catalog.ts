import { isSystemColumn } from '../sql.js';
import type { LiveTable, SqlClient, TableLimits } from '../types.js';
import { NAME_TAG, parsePostgresType, physicalName } from './dialect.js';

interface ColumnRow {
  table_name: string;
  table_comment: string | null;
  column_name: string;
  column_comment: string | null;
  type: string;
  key_pos: number | string | null;
}

/** The full name of a table or column whose stored name was shortened (dialect.ts physicalName). */
function logical(stored: string, comment: string | null): string {
  if (comment?.startsWith(NAME_TAG)) {
    const name = comment.slice(NAME_TAG.length);
    if (physicalName(name) === stored) return name;
  }
  return stored;
}

/**
 * User tables and their columns, read from pg_catalog for the destination's schema (never
 * from a cache): ordinary and partitioned tables only (no views, no temporary staging tables,
 * which live in a pg_temp schema), state tables (`_tributary_*`) excluded, columns in
 * ordinal order, the primary key in index order. `_` is a LIKE wildcard: escaped.
 */
export async function readPostgresCatalog(
  db: SqlClient,
  schema: string,
  table?: string,
): Promise<Map<string, LiveTable>> {
  const params: unknown[] = [schema];
  if (table !== undefined) params.push(physicalName(table));
  const rows = await db.query<ColumnRow>(
    `SELECT c.relname AS table_name, obj_description(c.oid, 'pg_class') AS table_comment,
            a.attname AS column_name, col_description(c.oid, a.attnum) AS column_comment,
            format_type(a.atttypid, a.atttypmod) AS type,
            array_position(i.indkey::int2[], a.attnum) AS key_pos
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
       LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
      WHERE n.nspname = ? AND c.relkind IN ('r', 'p')
        AND c.relname NOT LIKE '\\_tributary\\_%' ESCAPE '\\'${table === undefined ? '' : ' AND c.relname = ?'}
      ORDER BY c.relname, a.attnum`,
    params,
  );
  const out = new Map<string, LiveTable>();
  const keys = new Map<LiveTable, Array<{ name: string; pos: number }>>();
  for (const r of rows) {
    const name = logical(r.table_name, r.table_comment);
    let t = out.get(name);
    if (!t) {
      t = { name, columns: [], primaryKey: [], systemColumns: [] };
      out.set(name, t);
      keys.set(t, []);
    }
    const column = logical(r.column_name, r.column_comment);
    if (r.key_pos !== null) keys.get(t)?.push({ name: column, pos: Number(r.key_pos) });
    if (isSystemColumn(column)) t.systemColumns.push(column);
    else t.columns.push({ name: column, type: parsePostgresType(r.type) });
  }
  for (const [t, k] of keys) {
    t.primaryKey.push(...k.sort((a, b) => a.pos - b.pos).map((x) => x.name));
    t.limits = {
      noNul: true,
      ...(t.columns.some((c) => c.type.kind === 'json') ? JSONB_LIMITS : {}),
      ...(t.primaryKey.length > 0 ? { maxKeyBytes: keyBytes(t.primaryKey.length) } : {}),
    };
  }
  return out;
}

/**
 * What jsonb refuses of valid JSON text: a UTF-16 surrogate escape without its pair (it stores
 * strings as text, UTF-8), and a number its `numeric` cannot hold — at most 131,072 digits
 * before the point and 16,383 after it (`1e999999`: "value overflows numeric format").
 */
const JSONB_LIMITS: Pick<TableLimits, 'noLoneSurrogates' | 'jsonNumbers'> = {
  noLoneSurrogates: true,
  jsonNumbers: { integerDigits: 131_072, fractionDigits: 16_383 },
};

/** One user table from the live catalog, or undefined when it does not exist. */
export async function readPostgresTable(
  db: SqlClient,
  schema: string,
  name: string,
): Promise<LiveTable | undefined> {
  return (await readPostgresCatalog(db, schema, name)).get(name);
}

/**
 * What a primary key's values may take, in bytes, so that its B-tree entry fits: PostgreSQL
 * refuses an entry over 2,704 bytes ("index row size exceeds btree version 4 maximum"),
 * which holds an 8-byte header and, per column, a length header and alignment (8 bytes at
 * most). A longer key may fit when it compresses well; it is rejected all the same, so that
 * what loads does not depend on how well a value compresses.
 */
function keyBytes(columns: number): number {
  return 2_704 - 8 - 8 * columns;
}

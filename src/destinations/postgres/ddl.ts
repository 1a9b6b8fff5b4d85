import type { ColumnType, LiveTable, SchemaChange } from '../../core/types.js';
import { createTableSql } from '../sql.js';
import { SYS_FILE_ID } from '../types.js';
import { postgresDialect as d, lit, NAME_TAG, physicalName, q, typeSql } from './dialect.js';

/**
 * The statements one schema change runs as on PostgreSQL, given the table before it (`live`,
 * undefined when absent). Pure: `applySchemaChanges` runs them inside the file's transaction
 * (PostgreSQL's DDL is transactional, like SQLite's), `run --dry-run` prints them. None when
 * the change is already there.
 */
export function postgresChangeSql(change: SchemaChange, live: LiveTable | undefined): string[] {
  switch (change.kind) {
    case 'create_table': {
      const { name, columns, primaryKey } = change.table;
      const out = [createTableSql(d, { ...change.table, system: change.system })];
      // Only a table without a key deletes by it (a re-sent append file), as on MySQL.
      if (change.system.fileId && primaryKey.length === 0) {
        out.push(
          `CREATE INDEX IF NOT EXISTS ${q(`_tributary_file__${name}`)} ON ${q(name)} (${q(SYS_FILE_ID)})`,
        );
      }
      out.push(...nameTags(name, undefined), ...columns.flatMap((c) => nameTags(name, c.name)));
      return out;
    }
    case 'add_column':
      if (live?.columns.some((c) => c.name === change.column.name)) return [];
      return [
        `ALTER TABLE ${q(change.table)} ADD COLUMN ${q(change.column.name)} ${typeSql(change.column.type)}`,
        ...nameTags(change.table, change.column.name),
      ];
    case 'widen_column': {
      const from = live?.columns.find((c) => c.name === change.column);
      if (!live || !from || JSON.stringify(from.type) === JSON.stringify(change.to)) return [];
      // In place: ALTER … TYPE rewrites the table, converting each value with USING.
      return [
        `ALTER TABLE ${q(change.table)} ALTER COLUMN ${q(change.column)} TYPE ${typeSql(change.to)} USING ${convertSql(q(change.column), from.type, change.to)}`,
      ];
    }
  }
}

/** A stored value of type `from` as type `to` (the lossless widenings of src/schema/types.ts). */
function convertSql(col: string, from: ColumnType, to: ColumnType): string {
  // A date is midnight UTC, whatever the session's time zone.
  if (from.kind === 'date' && to.kind === 'datetime') return `${col}::timestamp AT TIME ZONE 'UTC'`;
  // boolean has a cast to integer only (true → 1).
  if (from.kind === 'bool') return `${col}::integer::${typeSql(to)}`;
  return `${col}::${typeSql(to)}`;
}

/**
 * The comment that keeps the full name of a table (column undefined) or column whose stored
 * name was shortened (dialect.ts physicalName); none when the name fits.
 */
function nameTags(table: string, column: string | undefined): string[] {
  const name = column ?? table;
  if (physicalName(name) === name) return [];
  const target = column === undefined ? `TABLE ${q(table)}` : `COLUMN ${q(table)}.${q(column)}`;
  return [`COMMENT ON ${target} IS ${lit(NAME_TAG + name)}`];
}

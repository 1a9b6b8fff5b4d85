import type { ColumnType } from '../core/types.js';
import { type SqlDialect, SYS_FILE_ID, SYS_IDX, SYS_RUN_ID, type SystemColumns } from './types.js';

/**
 * SQL text shared by the dialects: CREATE TABLE for a data table, column lists. Each
 * dialect supplies quoting and types through `SqlDialect`.
 */

export interface CreateTableInput {
  name: string;
  columns: ReadonlyArray<{ name: string; type: ColumnType }>;
  primaryKey: readonly string[];
  system: SystemColumns;
}

export function systemColumnNames(system: SystemColumns): string[] {
  return [SYS_RUN_ID, ...(system.fileId ? [SYS_FILE_ID] : [])];
}

export function createTableSql(d: SqlDialect, t: CreateTableInput, suffix = ''): string {
  const key = new Set(t.primaryKey);
  const defs = t.columns.map(
    (c) => `${d.quote(c.name)} ${d.typeSql(c.type, key.has(c.name))}${key.has(c.name) ? ' NOT NULL' : ''}`,
  );
  defs.push(`${d.quote(SYS_RUN_ID)} ${d.typeSql({ kind: 'integer' }, false)}`);
  if (t.system.fileId) defs.push(`${d.quote(SYS_FILE_ID)} ${d.typeSql({ kind: 'integer' }, true)}`);
  if (t.primaryKey.length > 0) defs.push(`PRIMARY KEY (${t.primaryKey.map((c) => d.quote(c)).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${d.quote(t.name)} (\n  ${defs.join(',\n  ')}\n)${suffix}`;
}

export function isSystemColumn(name: string): boolean {
  return name === SYS_RUN_ID || name === SYS_FILE_ID;
}

/** `_tributary_idx` is a key column of child tables, visible to users like any key. */
export const CHILD_IDX = SYS_IDX;

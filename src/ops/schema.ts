import type { ResolvedConfig } from '../config/resolve.js';
import type { Destination, LiveTable } from '../destinations/types.js';
import { formatType } from '../schema/hints.js';
import { listSchemaHistory, type SchemaHistoryEntry } from '../state/history.js';
import { ensureStateTables } from '../state/tables.js';

export type { SchemaHistoryEntry } from '../state/history.js';

/** A table's columns as `tributary schema` shows them, types written as in a type hint. */
export interface TableColumns {
  table: string;
  primaryKey: string[];
  columns: Array<{ name: string; type: string }>;
}

/** The columns of every table in the destination, or of table `name` (none: no such table). */
export async function tableColumns(dest: Destination, name?: string): Promise<TableColumns[]> {
  await ensureStateTables(dest, dest.dialect);
  const catalog = await dest.readCatalog();
  return [...catalog.values()].filter((t) => !name || t.name === name).map(describeTable);
}

/** A live table's columns and key, types written as in a type hint. */
export function describeTable(t: LiveTable): TableColumns {
  return {
    table: t.name,
    primaryKey: t.primaryKey,
    columns: t.columns.map((c) => ({ name: c.name, type: formatType(c.type) })),
  };
}

/** The schema changes recorded for the pipeline's tables (or one of them), oldest first. */
export async function schemaHistory(
  config: ResolvedConfig,
  dest: Destination,
  table?: string,
): Promise<SchemaHistoryEntry[]> {
  await ensureStateTables(dest, dest.dialect);
  return listSchemaHistory(dest, config.pipeline, table);
}

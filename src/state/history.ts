import type { SqlClient } from '../destinations/types.js';
import { now, T } from './tables.js';

export interface SchemaHistoryEntry {
  id: number;
  runId: number;
  table: string;
  /** `drop_table`: a reset dropped the table to make it again with another key (old and new key in the types). */
  change: 'create_table' | 'add_column' | 'widen_column' | 'drop_table';
  column: string | null;
  oldType: string | null;
  newType: string | null;
  file: string | null;
  at: string;
}

/**
 * Record a schema change, unless the latest entry for the same table and column already
 * records it: where DDL is not transactional the entry is written before the DDL runs, and
 * when that DDL failed or the process died the next attempt plans the same change again.
 */
export async function recordSchemaChange(
  db: SqlClient,
  pipeline: string,
  e: Omit<SchemaHistoryEntry, 'id' | 'at'>,
): Promise<void> {
  const [last] = await db.query<{ change_kind: string; new_type: string | null }>(
    `SELECT change_kind, new_type FROM ${T.history} WHERE pipeline = ? AND table_name = ? AND ${e.column === null ? 'column_name IS NULL' : 'column_name = ?'} ORDER BY id DESC LIMIT 1`,
    e.column === null ? [pipeline, e.table] : [pipeline, e.table, e.column],
  );
  if (last && last.change_kind === e.change && last.new_type === e.newType) return;
  await db.execute(
    `INSERT INTO ${T.history} (pipeline, run_id, table_name, change_kind, column_name, old_type, new_type, file_path, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [pipeline, e.runId, e.table, e.change, e.column, e.oldType, e.newType, e.file, now()],
  );
}

interface HistoryRow {
  id: number;
  run_id: number;
  table_name: string;
  change_kind: SchemaHistoryEntry['change'];
  column_name: string | null;
  old_type: string | null;
  new_type: string | null;
  file_path: string | null;
  changed_at: string;
}

export async function listSchemaHistory(
  db: SqlClient,
  pipeline: string,
  table?: string,
): Promise<SchemaHistoryEntry[]> {
  const rows = table
    ? await db.query<HistoryRow>(
        `SELECT * FROM ${T.history} WHERE pipeline = ? AND table_name = ? ORDER BY id`,
        [pipeline, table],
      )
    : await db.query<HistoryRow>(`SELECT * FROM ${T.history} WHERE pipeline = ? ORDER BY id`, [pipeline]);
  return rows.map(toEntry);
}

/** The schema changes run `runId` recorded, in order. */
export async function schemaChangesOfRun(
  db: SqlClient,
  pipeline: string,
  runId: number,
): Promise<SchemaHistoryEntry[]> {
  const rows = await db.query<HistoryRow>(
    `SELECT * FROM ${T.history} WHERE pipeline = ? AND run_id = ? ORDER BY id`,
    [pipeline, runId],
  );
  return rows.map(toEntry);
}

const toEntry = (r: HistoryRow): SchemaHistoryEntry => ({
  id: Number(r.id),
  runId: Number(r.run_id),
  table: r.table_name,
  change: r.change_kind,
  column: r.column_name,
  oldType: r.old_type,
  newType: r.new_type,
  file: r.file_path,
  at: r.changed_at,
});

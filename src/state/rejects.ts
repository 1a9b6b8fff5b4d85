import type { RejectCode } from '../core/types.js';
import type { SqlClient } from '../destinations/types.js';
import { T } from './tables.js';

export interface Reject {
  table: string;
  line: number;
  record: number;
  code: RejectCode;
  column: string | null;
  message: string;
  /** Raw record text (CSV/JSON line) or the parsed record as JSON, cut to 64 KiB. */
  raw: string;
}

export interface StoredReject extends Reject {
  id: number;
  runId: number;
  fileId: number;
  file: string;
  resolvedRunId: number | null;
}

const CHUNK = 200;

/** Drop a file's unresolved rejects before it is loaded again (inside the file's transaction). */
export async function clearRejects(db: SqlClient, fileId: number): Promise<void> {
  await db.execute(`DELETE FROM ${T.rejects} WHERE file_id = ? AND resolved_run_id IS NULL`, [fileId]);
}

/** Store rejects (inside the file's transaction, so they commit with its rows). */
export async function insertRejects(
  db: SqlClient,
  pipeline: string,
  file: { id: number; path: string },
  runId: number,
  rejects: readonly Reject[],
): Promise<void> {
  for (let i = 0; i < rejects.length; i += CHUNK) {
    const part = rejects.slice(i, i + CHUNK);
    const params: unknown[] = [];
    for (const r of part) {
      params.push(
        pipeline,
        runId,
        file.id,
        file.path,
        r.table,
        r.line,
        r.record,
        r.code,
        r.column,
        r.message,
        r.raw,
      );
    }
    await db.execute(
      `INSERT INTO ${T.rejects} (pipeline, run_id, file_id, file_path, table_name, line, record, code, column_name, message, raw) VALUES ${part
        .map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .join(', ')}`,
      params,
    );
  }
}

interface RejectRow {
  id: number;
  run_id: number;
  file_id: number;
  file_path: string;
  table_name: string;
  line: number | null;
  record: number | null;
  code: RejectCode;
  column_name: string | null;
  message: string;
  raw: string | null;
  resolved_run_id: number | null;
}

export async function listRejects(
  db: SqlClient,
  pipeline: string,
  filter: { table?: string; runId?: number; includeResolved?: boolean; limit?: number } = {},
): Promise<StoredReject[]> {
  const where = ['pipeline = ?'];
  const params: unknown[] = [pipeline];
  if (filter.table) {
    where.push('table_name = ?');
    params.push(filter.table);
  }
  if (filter.runId !== undefined) {
    where.push('run_id = ?');
    params.push(filter.runId);
  }
  if (!filter.includeResolved) where.push('resolved_run_id IS NULL');
  params.push(filter.limit ?? 1_000_000);
  const rows = await db.query<RejectRow>(
    `SELECT * FROM ${T.rejects} WHERE ${where.join(' AND ')} ORDER BY file_path, record, id LIMIT ?`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    runId: Number(r.run_id),
    fileId: Number(r.file_id),
    file: r.file_path,
    table: r.table_name,
    line: Number(r.line),
    record: Number(r.record),
    code: r.code,
    column: r.column_name,
    message: r.message,
    raw: r.raw ?? '',
    resolvedRunId: r.resolved_run_id === null ? null : Number(r.resolved_run_id),
  }));
}

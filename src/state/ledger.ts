import type { SqlClient } from '../destinations/types.js';
import { now, T } from './tables.js';

export type FileStatus = 'loading' | 'loaded' | 'failed';

export interface LedgerEntry {
  id: number;
  path: string;
  table: string;
  size: number;
  mtimeMs: number;
  hash: string | null;
  status: FileStatus;
  runId: number | null;
  rowsLoaded: number;
  rowsRejected: number;
  error: string | null;
  updatedAt: string;
}

interface LedgerRow {
  id: number;
  path: string;
  table_name: string;
  size: number;
  mtime_ms: number;
  hash: string | null;
  status: FileStatus;
  run_id: number | null;
  rows_loaded: number;
  rows_rejected: number;
  error: string | null;
  updated_at: string;
}

const toEntry = (r: LedgerRow): LedgerEntry => ({
  id: Number(r.id),
  path: r.path,
  table: r.table_name,
  size: Number(r.size),
  mtimeMs: Number(r.mtime_ms),
  hash: r.hash,
  status: r.status,
  runId: r.run_id === null ? null : Number(r.run_id),
  rowsLoaded: Number(r.rows_loaded),
  rowsRejected: Number(r.rows_rejected),
  error: r.error,
  updatedAt: r.updated_at,
});

export async function readLedger(db: SqlClient, pipeline: string): Promise<Map<string, LedgerEntry>> {
  const rows = await db.query<LedgerRow>(`SELECT * FROM ${T.files} WHERE pipeline = ? ORDER BY path`, [
    pipeline,
  ]);
  return new Map(rows.map((r) => [r.path, toEntry(r)]));
}

/** The file's ledger id, creating a `loading` row when it has none (call inside the file's transaction). */
export async function fileId(
  db: SqlClient,
  pipeline: string,
  file: { path: string; table: string; size: number; mtimeMs: number },
  runId: number,
): Promise<number> {
  const found = await db.query<{ id: number }>(`SELECT id FROM ${T.files} WHERE pipeline = ? AND path = ?`, [
    pipeline,
    file.path,
  ]);
  if (found[0]) return Number(found[0].id);
  const r = await db.execute(
    `INSERT INTO ${T.files} (pipeline, path, table_name, size, mtime_ms, hash, status, run_id, updated_at) VALUES (?, ?, ?, ?, ?, NULL, 'loading', ?, ?)`,
    [pipeline, file.path, file.table, file.size, file.mtimeMs, runId, now()],
  );
  return r.insertId;
}

export async function markLoaded(
  db: SqlClient,
  id: number,
  f: {
    table: string;
    size: number;
    mtimeMs: number;
    hash: string;
    runId: number;
    rows: number;
    rejects: number;
  },
): Promise<void> {
  await db.execute(
    `UPDATE ${T.files} SET table_name = ?, size = ?, mtime_ms = ?, hash = ?, status = 'loaded', run_id = ?, rows_loaded = ?, rows_rejected = ?, error = NULL, updated_at = ? WHERE id = ?`,
    [f.table, f.size, f.mtimeMs, f.hash, f.runId, f.rows, f.rejects, now(), id],
  );
}

/** A file whose content is unchanged but whose size/mtime moved: remember the new stat. */
export async function touch(db: SqlClient, id: number, size: number, mtimeMs: number): Promise<void> {
  await db.execute(`UPDATE ${T.files} SET size = ?, mtime_ms = ? WHERE id = ?`, [size, mtimeMs, id]);
}

/**
 * Record a failed file. A file that loaded before keeps its rows and hash (status moves to
 * `failed` so the next run tries it again); a new file gets a `failed` row.
 */
export async function markFailed(
  db: SqlClient,
  pipeline: string,
  file: { path: string; table: string; size: number; mtimeMs: number },
  runId: number,
  error: string,
): Promise<void> {
  const id = await fileId(db, pipeline, file, runId);
  await db.execute(
    `UPDATE ${T.files} SET status = 'failed', run_id = ?, error = ?, updated_at = ? WHERE id = ?`,
    [runId, error, now(), id],
  );
}

/** Forget files so the next run loads them again (reset / full refresh). */
export async function forgetFiles(db: SqlClient, pipeline: string, table?: string): Promise<number> {
  const r = table
    ? await db.execute(`DELETE FROM ${T.files} WHERE pipeline = ? AND table_name = ?`, [pipeline, table])
    : await db.execute(`DELETE FROM ${T.files} WHERE pipeline = ?`, [pipeline]);
  return r.affectedRows;
}

/**
 * A rejects retry loaded `resolved` more rows of a file (inside its transaction): the file's
 * counts move, and its run becomes the retry's, so what reads the ledger to know when a
 * table last changed (incremental models) sees the change.
 */
export async function recordRetry(db: SqlClient, id: number, runId: number, resolved: number): Promise<void> {
  await db.execute(
    `UPDATE ${T.files} SET run_id = ?, rows_loaded = rows_loaded + ?, rows_rejected = rows_rejected - ?, updated_at = ? WHERE id = ?`,
    [runId, resolved, resolved, now(), id],
  );
}

/** Whether run `runId` committed a file of `table` (src/runner/tentative.ts). */
export async function loadedInRun(db: SqlClient, table: string, runId: number): Promise<boolean> {
  const rows = await db.query(
    `SELECT 1 AS found FROM ${T.files} WHERE table_name = ? AND run_id = ? AND status = 'loaded' LIMIT 1`,
    [table, runId],
  );
  return rows.length > 0;
}

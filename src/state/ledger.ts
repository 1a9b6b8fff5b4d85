import type { SqlClient } from '../destinations/types.js';
import { now, pathKey, T } from './tables.js';
import { storableText } from './text.js';

/**
 * `stale`: the file loaded before, but its table is being rebuilt from its current files
 * (src/runner/reconcile.ts): its rows were taken out and it loads again, in path order.
 */
export type FileStatus = 'loading' | 'loaded' | 'failed' | 'stale';

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

/** The ledger row of one file of the pipeline, if it has one. */
export async function ledgerEntry(
  db: SqlClient,
  pipeline: string,
  path: string,
): Promise<LedgerEntry | undefined> {
  const [row] = await db.query<LedgerRow>(`SELECT * FROM ${T.files} WHERE pipeline = ? AND path_key = ?`, [
    pipeline,
    pathKey(path),
  ]);
  return row ? toEntry(row) : undefined;
}

/** The file's ledger id, creating a `loading` row when it has none (call inside the file's transaction). */
export async function fileId(
  db: SqlClient,
  pipeline: string,
  file: { path: string; table: string; size: number; mtimeMs: number },
  runId: number,
): Promise<number> {
  const key = pathKey(file.path);
  const found = await db.query<{ id: number }>(
    `SELECT id FROM ${T.files} WHERE pipeline = ? AND path_key = ?`,
    [pipeline, key],
  );
  if (found[0]) return Number(found[0].id);
  return db.insertRow(
    `INSERT INTO ${T.files} (pipeline, path, path_key, table_name, size, mtime_ms, hash, status, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 'loading', ?, ?)`,
    [pipeline, file.path, key, file.table, file.size, file.mtimeMs, runId, now()],
  );
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
 * `failed` so the next run tries it again); a new file, or a stale one (whose rows were taken
 * out), gets a `failed` row without hash.
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
    // A stale file's rows were taken out (src/runner/reconcile.ts): it no longer has a loaded hash.
    // A file without rows in its table keeps the size and mtime that failed (reconcile.ts: a
    // late file that fails again rebuilds nothing). Size and mtime first: MySQL assigns left
    // to right, each seeing the values already set.
    `UPDATE ${T.files} SET size = CASE WHEN hash IS NULL OR status = 'stale' THEN ? ELSE size END, mtime_ms = CASE WHEN hash IS NULL OR status = 'stale' THEN ? ELSE mtime_ms END, hash = CASE WHEN status = 'stale' THEN NULL ELSE hash END, status = 'failed', run_id = ?, error = ?, updated_at = ? WHERE id = ?`,
    [file.size, file.mtimeMs, runId, storableText(error), now(), id],
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

/**
 * Files whose rows were taken out of their table to be recomputed: they load again on this
 * run (or the next), in path order. Inside the transaction that deleted the rows.
 */
export async function markStale(db: SqlClient, ids: readonly number[]): Promise<void> {
  for (const id of ids) {
    await db.execute(`UPDATE ${T.files} SET status = 'stale', updated_at = ? WHERE id = ?`, [now(), id]);
  }
}

/** A file that failed or moved on disk but holds what it held when it loaded: loaded again, as it was. */
export async function markUnchanged(db: SqlClient, id: number, size: number, mtimeMs: number): Promise<void> {
  await db.execute(
    `UPDATE ${T.files} SET status = 'loaded', error = NULL, size = ?, mtime_ms = ?, updated_at = ? WHERE id = ?`,
    [size, mtimeMs, now(), id],
  );
}

/** A deleted file's ledger row and rejects, gone with its rows (`on_deleted_file: delete`). */
export async function forgetFile(db: SqlClient, id: number): Promise<void> {
  await db.execute(`DELETE FROM ${T.rejects} WHERE file_id = ?`, [id]);
  await db.execute(`DELETE FROM ${T.files} WHERE id = ?`, [id]);
}

/**
 * Reads for the dashboard (src/ui/), each bounded by `limit` and served by an index of
 * `ensureStateTables` (run, status, table), so a page stays fast with a large ledger.
 */

/** The ledger rows whose last change was made by run `runId`, in path order. */
export async function filesOfRun(
  db: SqlClient,
  pipeline: string,
  runId: number,
  limit: number,
): Promise<LedgerEntry[]> {
  const rows = await db.query<LedgerRow>(
    `SELECT * FROM ${T.files} WHERE run_id = ? AND pipeline = ? ORDER BY path LIMIT ?`,
    [runId, pipeline, limit],
  );
  return rows.map(toEntry);
}

/** The files of `table`, most recently changed first. */
export async function recentFiles(
  db: SqlClient,
  pipeline: string,
  table: string,
  limit: number,
): Promise<LedgerEntry[]> {
  const rows = await db.query<LedgerRow>(
    `SELECT * FROM ${T.files} WHERE table_name = ? AND pipeline = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
    [table, pipeline, limit],
  );
  return rows.map(toEntry);
}

/** Files whose last load failed (they are tried again on the next run), latest first. */
export async function failedFiles(db: SqlClient, pipeline: string, limit: number): Promise<LedgerEntry[]> {
  const rows = await db.query<LedgerRow>(
    `SELECT * FROM ${T.files} WHERE status = 'failed' AND pipeline = ? ORDER BY updated_at DESC, id DESC LIMIT ?`,
    [pipeline, limit],
  );
  return rows.map(toEntry);
}

/** Files that left rejects (by the ledger's count), in path order; `table` narrows. */
export async function filesWithRejects(
  db: SqlClient,
  pipeline: string,
  opts: { table?: string; limit: number },
): Promise<LedgerEntry[]> {
  const rows = opts.table
    ? await db.query<LedgerRow>(
        `SELECT * FROM ${T.files} WHERE table_name = ? AND pipeline = ? AND rows_rejected > 0 ORDER BY path LIMIT ?`,
        [opts.table, pipeline, opts.limit],
      )
    : await db.query<LedgerRow>(
        `SELECT * FROM ${T.files} WHERE pipeline = ? AND rows_rejected > 0 ORDER BY path LIMIT ?`,
        [pipeline, opts.limit],
      );
  return rows.map(toEntry);
}

/** Per table: how many files the ledger holds, how many failed, and the latest change. */
export async function ledgerByTable(
  db: SqlClient,
  pipeline: string,
): Promise<Array<{ table: string; files: number; failed: number; lastChange: string | null }>> {
  const rows = await db.query<{ table_name: string; n: number; failed: number; last_change: string | null }>(
    `SELECT table_name, COUNT(*) AS n, SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed, MAX(updated_at) AS last_change
     FROM ${T.files} WHERE pipeline = ? GROUP BY table_name ORDER BY table_name`,
    [pipeline],
  );
  return rows.map((r) => ({
    table: r.table_name,
    files: Number(r.n),
    failed: Number(r.failed ?? 0),
    lastChange: r.last_change,
  }));
}

/**
 * The modification times (ms) of `table`'s newest files, newest first: when its sources
 * delivered (what freshness compares).
 */
export async function deliveryTimes(
  db: SqlClient,
  pipeline: string,
  table: string,
  limit: number,
): Promise<number[]> {
  const rows = await db.query<{ mtime_ms: number }>(
    `SELECT mtime_ms FROM ${T.files} WHERE table_name = ? AND pipeline = ? ORDER BY mtime_ms DESC LIMIT ?`,
    [table, pipeline, limit],
  );
  return rows.map((r) => Number(r.mtime_ms));
}

/** The files run `runId` has committed so far, with their rows and rejects (a run in progress). */
export async function runFileTotals(
  db: SqlClient,
  pipeline: string,
  runId: number,
): Promise<{ files: number; rows: number; rejected: number }> {
  const [row] = await db.query<{ n: number; loaded: number | null; rejected: number | null }>(
    `SELECT COUNT(*) AS n, SUM(rows_loaded) AS loaded, SUM(rows_rejected) AS rejected FROM ${T.files} WHERE run_id = ? AND pipeline = ?`,
    [runId, pipeline],
  );
  return { files: Number(row?.n ?? 0), rows: Number(row?.loaded ?? 0), rejected: Number(row?.rejected ?? 0) };
}

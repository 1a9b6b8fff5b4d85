import type { SqlClient } from '../destinations/types.js';
import { now, T } from './tables.js';
import { storableOrNull } from './text.js';

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted' | 'crashed';

export interface RunCounts {
  filesLoaded: number;
  filesSkipped: number;
  filesFailed: number;
  rowsInserted: number;
  rowsUpdated: number;
  rowsUnchanged: number;
  rowsRejected: number;
}

export interface RunRecord extends RunCounts {
  id: number;
  pipeline: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  summary: unknown;
}

/** Runs left `running` by a process that died: we hold the lock, so none of them is alive. */
export async function closeCrashedRuns(db: SqlClient, pipeline: string): Promise<number> {
  const r = await db.execute(
    `UPDATE ${T.runs} SET status = 'crashed', finished_at = ? WHERE pipeline = ? AND status = 'running'`,
    [now(), pipeline],
  );
  return r.affectedRows;
}

/** How many runs of the pipeline were started after run `id`. */
export async function runsAfter(db: SqlClient, pipeline: string, id: number): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `SELECT COUNT(*) AS n FROM ${T.runs} WHERE pipeline = ? AND id > ?`,
    [pipeline, id],
  );
  return Number(row?.n ?? 0);
}

export async function startRun(db: SqlClient, pipeline: string): Promise<{ id: number; startedAt: string }> {
  const startedAt = now();
  const id = await db.insertRow(
    `INSERT INTO ${T.runs} (pipeline, status, started_at) VALUES (?, 'running', ?)`,
    [pipeline, startedAt],
  );
  return { id, startedAt };
}

export async function finishRun(
  db: SqlClient,
  id: number,
  status: RunStatus,
  counts: RunCounts,
  summary: unknown,
  error?: string,
): Promise<void> {
  await db.execute(
    `UPDATE ${T.runs} SET status = ?, finished_at = ?, files_loaded = ?, files_skipped = ?, files_failed = ?,
       rows_inserted = ?, rows_updated = ?, rows_unchanged = ?, rows_rejected = ?, error = ?, summary = ? WHERE id = ?`,
    [
      status,
      now(),
      counts.filesLoaded,
      counts.filesSkipped,
      counts.filesFailed,
      counts.rowsInserted,
      counts.rowsUpdated,
      counts.rowsUnchanged,
      counts.rowsRejected,
      storableOrNull(error),
      JSON.stringify(summary),
      id,
    ],
  );
}

/** A row of the runs table as the driver returns it. */
interface RunColumns {
  id: number;
  pipeline: string;
  status: RunStatus;
  started_at: string;
  finished_at: string | null;
  files_loaded: number;
  files_skipped: number;
  files_failed: number;
  rows_inserted: number;
  rows_updated: number;
  rows_unchanged: number;
  rows_rejected: number;
  error: string | null;
  summary?: string | null;
}

/** The counters of a run without its summary: what a list of many runs shows (the dashboard). */
export type RunRow = Omit<RunRecord, 'summary'>;

const toRunRow = (r: RunColumns): RunRow => ({
  id: Number(r.id),
  pipeline: r.pipeline,
  status: r.status,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  filesLoaded: Number(r.files_loaded),
  filesSkipped: Number(r.files_skipped),
  filesFailed: Number(r.files_failed),
  rowsInserted: Number(r.rows_inserted),
  rowsUpdated: Number(r.rows_updated),
  rowsUnchanged: Number(r.rows_unchanged),
  rowsRejected: Number(r.rows_rejected),
  error: r.error,
});

/** The pipeline's runs newest first (`limit`, default 20; `before`: only older than that id), or run `id`. */
export async function listRuns(
  db: SqlClient,
  pipeline: string,
  opts: { limit?: number; id?: number; before?: number } = {},
): Promise<RunRecord[]> {
  const rows =
    opts.id !== undefined
      ? await db.query<RunColumns>(`SELECT * FROM ${T.runs} WHERE pipeline = ? AND id = ?`, [
          pipeline,
          opts.id,
        ])
      : opts.before !== undefined
        ? await db.query<RunColumns>(
            `SELECT * FROM ${T.runs} WHERE pipeline = ? AND id < ? ORDER BY id DESC LIMIT ?`,
            [pipeline, opts.before, opts.limit ?? 20],
          )
        : await db.query<RunColumns>(`SELECT * FROM ${T.runs} WHERE pipeline = ? ORDER BY id DESC LIMIT ?`, [
            pipeline,
            opts.limit ?? 20,
          ]);
  return rows.map((r) => ({ ...toRunRow(r), summary: r.summary ? JSON.parse(r.summary) : null }));
}

const ROW_COLUMNS =
  'id, pipeline, status, started_at, finished_at, files_loaded, files_skipped, files_failed, rows_inserted, rows_updated, rows_unchanged, rows_rejected, error';

/**
 * A page of the pipeline's runs, newest first, without their summaries (which can be large):
 * `limit` runs with an id below `before` (none: from the newest). Keyset pagination on the
 * primary key, so a page costs the same at run 10 as at run 10,000.
 */
export async function pageRuns(
  db: SqlClient,
  pipeline: string,
  opts: { before?: number; limit: number },
): Promise<RunRow[]> {
  const rows =
    opts.before === undefined
      ? await db.query<RunColumns>(
          `SELECT ${ROW_COLUMNS} FROM ${T.runs} WHERE pipeline = ? ORDER BY id DESC LIMIT ?`,
          [pipeline, opts.limit],
        )
      : await db.query<RunColumns>(
          `SELECT ${ROW_COLUMNS} FROM ${T.runs} WHERE pipeline = ? AND id < ? ORDER BY id DESC LIMIT ?`,
          [pipeline, opts.before, opts.limit],
        );
  return rows.map(toRunRow);
}

/** How many runs the pipeline has, and the id of its newest (0 when none). */
export async function runTotals(db: SqlClient, pipeline: string): Promise<{ runs: number; newest: number }> {
  const [row] = await db.query<{ n: number; newest: number | null }>(
    `SELECT COUNT(*) AS n, MAX(id) AS newest FROM ${T.runs} WHERE pipeline = ?`,
    [pipeline],
  );
  return { runs: Number(row?.n ?? 0), newest: Number(row?.newest ?? 0) };
}

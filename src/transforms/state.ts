import { isInteger, parse } from 'lossless-json';
import { type SqlClient, type SqlDialect, TOMBSTONES } from '../destinations/types.js';
import type { Materialization } from './model.js';
import type { ModelState, TableChange } from './plan.js';

/**
 * Model state in the destination, beside the data: one row per model of a pipeline with
 * its definition hash and the run it reflects (`_tributary_models`). Written in the same
 * transaction as the model's data where DDL is transactional.
 */
export const MODELS = '_tributary_models';
const FILES = '_tributary_files';

export async function ensureModelTable(db: SqlClient, d: SqlDialect): Promise<void> {
  const int = d.typeSql({ kind: 'integer' }, false);
  await db.execute(
    `CREATE TABLE IF NOT EXISTS ${d.quote(MODELS)} (
      pipeline ${d.keyTextSql} NOT NULL,
      name ${d.keyTextSql} NOT NULL,
      materialized ${d.keyTextSql} NOT NULL,
      definition_hash ${d.keyTextSql},
      built_run_id ${int} NOT NULL,
      row_count ${int},
      built_at ${d.keyTextSql} NOT NULL,
      UNIQUE (pipeline, name)
    )`,
  );
}

interface StateRow {
  name: string;
  materialized: Materialization;
  definition_hash: string | null;
  built_run_id: number | string;
  row_count: number | string | null;
}

export async function readModelStates(db: SqlClient, pipeline: string): Promise<Map<string, ModelState>> {
  const rows = await db.query<StateRow>(
    `SELECT name, materialized, definition_hash, built_run_id, row_count FROM ${MODELS} WHERE pipeline = ?`,
    [pipeline],
  );
  return new Map(
    rows.map((r) => [
      r.name,
      {
        name: r.name,
        materialized: r.materialized,
        hash: r.definition_hash,
        builtRunId: Number(r.built_run_id),
        rows: r.row_count === null ? null : Number(r.row_count),
      },
    ]),
  );
}

/**
 * Whether the model state table exists, asked without creating it (a reader that must not
 * write, `tributary test`, looks before it reads: a database no run has used has none).
 * Not inside a transaction: on PostgreSQL a failed query would abort it.
 */
export async function modelTablePresent(db: SqlClient): Promise<boolean> {
  return db.query(`SELECT 1 AS x FROM ${MODELS} WHERE 1 = 0`).then(
    () => true,
    () => false,
  );
}

/** Replace a model's state row (delete + insert: portable, and inside the caller's transaction). */
export async function saveModelState(db: SqlClient, pipeline: string, s: ModelState): Promise<void> {
  await db.execute(`DELETE FROM ${MODELS} WHERE pipeline = ? AND name = ?`, [pipeline, s.name]);
  await db.execute(
    `INSERT INTO ${MODELS} (pipeline, name, materialized, definition_hash, built_run_id, row_count, built_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [pipeline, s.name, s.materialized, s.hash, s.builtRunId, s.rows, new Date().toISOString()],
  );
}

/**
 * Models no longer in the folder keep their row (so their table is known to be ours) but
 * lose their hash: if they come back, they are rebuilt from scratch, because the loads in
 * between did not record the before-images they need.
 */
export async function forgetModels(db: SqlClient, pipeline: string, keep: readonly string[]): Promise<void> {
  const states = await readModelStates(db, pipeline);
  for (const s of states.values()) {
    if (!keep.includes(s.name) && s.hash !== null) await saveModelState(db, pipeline, { ...s, hash: null });
  }
}

/**
 * Per loaded table, the last run that changed it (from the ledger and the tombstones) and
 * the last that replaced or reset it (a tombstone without image). A child table
 * (`orders__items`) changes with its root table.
 */
export async function tableChanges(db: SqlClient): Promise<(table: string) => TableChange> {
  const ledger = await db.query<{ t: string; r: number | string | null }>(
    `SELECT table_name AS t, MAX(run_id) AS r FROM ${FILES} GROUP BY table_name`,
  );
  const tomb = await db.query<{ t: string; r: number | string | null; reset: number | string | null }>(
    `SELECT table_name AS t, MAX(run_id) AS r, MAX(CASE WHEN image IS NULL THEN run_id END) AS reset FROM ${TOMBSTONES} GROUP BY table_name`,
  );
  const entries = [
    ...ledger.map((x) => ({ t: x.t, changed: Number(x.r ?? 0), reset: 0 })),
    ...tomb.map((x) => ({ t: x.t, changed: Number(x.r ?? 0), reset: Number(x.reset ?? 0) })),
  ];
  return (table) => {
    const mine = entries.filter((e) => e.t === table || table.startsWith(`${e.t}__`));
    return {
      changed: Math.max(0, ...mine.map((e) => e.changed)),
      reset: Math.max(0, ...mine.map((e) => e.reset)),
    };
  };
}

const PAGE = 2_000;

/**
 * Key values of the before-images of `table` recorded after run `since`, page by page.
 * Values keep their JSON type: integers as numbers (bigint beyond 2^53), decimals as numbers
 * (SQLite stores them as doubles, MySQL compares them exactly), text as text.
 */
export async function* tombstoneKeys(
  db: SqlClient,
  table: string,
  since: number,
  key: readonly string[],
): AsyncGenerator<unknown[][]> {
  let after = 0;
  for (;;) {
    const rows = await db.query<{ id: number | string; image: string }>(
      `SELECT id, image FROM ${TOMBSTONES} WHERE table_name = ? AND run_id > ? AND id > ? AND image IS NOT NULL ORDER BY id LIMIT ${PAGE}`,
      [table, since, after],
    );
    if (rows.length === 0) return;
    after = Number((rows[rows.length - 1] as { id: number | string }).id);
    yield rows.map((r) => {
      const image = parse(r.image, null, jsonNumber) as Record<string, unknown>;
      return key.map((c) => image[c] ?? null);
    });
    if (rows.length < PAGE) return;
  }
}

function jsonNumber(text: string): number | bigint {
  if (!isInteger(text)) return Number(text);
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/** Tombstones no incremental model needs any more: recorded at or before `upTo`. */
export async function pruneTombstones(db: SqlClient, upTo: number): Promise<void> {
  await db.execute(`DELETE FROM ${TOMBSTONES} WHERE run_id <= ?`, [upTo]);
}

/**
 * Record that `table` was emptied or replaced without before-images (`tributary reset`, a
 * full reload): incremental models reading it are rebuilt by their next refresh. Call it in
 * the transaction that deletes the rows. `runId`: the current run; outside a run, the next
 * run's id is used (any model built so far reflects an earlier run).
 */
export async function markTableReset(db: SqlClient, table: string, runId?: number): Promise<void> {
  const [next] =
    runId === undefined
      ? await db.query<{ n: number | string }>(`SELECT COALESCE(MAX(id), 0) + 1 AS n FROM _tributary_runs`)
      : [{ n: runId }];
  await db.execute(`INSERT INTO ${TOMBSTONES} (table_name, run_id, image) VALUES (?, ?, NULL)`, [
    table,
    Number(next?.n),
  ]);
}

/**
 * The before-images kept for `table` until the incremental models that
 * read it have caught up: how many, and the runs they span (the dashboard's table page).
 */
export async function tombstoneTotals(
  db: SqlClient,
  table: string,
): Promise<{ images: number; resets: number; firstRun: number | null; lastRun: number | null }> {
  const [row] = await db.query<{
    n: number | string;
    resets: number | string | null;
    first_run: number | string | null;
    last_run: number | string | null;
  }>(
    `SELECT COUNT(*) AS n, SUM(CASE WHEN image IS NULL THEN 1 ELSE 0 END) AS resets, MIN(run_id) AS first_run, MAX(run_id) AS last_run FROM ${TOMBSTONES} WHERE table_name = ?`,
    [table],
  );
  const n = (v: number | string | null | undefined) => (v === null || v === undefined ? null : Number(v));
  return {
    images: Number(row?.n ?? 0) - Number(row?.resets ?? 0),
    resets: Number(row?.resets ?? 0),
    firstRun: n(row?.first_run),
    lastRun: n(row?.last_run),
  };
}

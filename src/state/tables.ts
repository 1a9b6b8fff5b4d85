import { createHash } from 'node:crypto';
import { type Destination, type SqlClient, type SqlDialect, TOMBSTONES } from '../destinations/types.js';

/**
 * State lives in the destination, beside the data (ARCHITECTURE.md: "State lives in the
 * destination"): the ledger row of a file commits in the same transaction as its rows.
 */
export const T = {
  runs: '_tributary_runs',
  files: '_tributary_files',
  rejects: '_tributary_rejects',
  history: '_tributary_schema_history',
  /** Before-images of deleted or overwritten rows, for incremental models (docs/transformations.md). */
  tombstones: TOMBSTONES,
  /** Fences for loads done by workers on a queue: the pipeline's epoch and each file's claim (src/state/claims.ts). */
  claims: '_tributary_claims',
} as const;

export async function ensureStateTables(
  db: SqlClient & Partial<Pick<Destination, 'ensureIndex' | 'capabilities'>>,
  d: SqlDialect,
): Promise<void> {
  const q = d.quote;
  const key = d.keyTextSql;
  const long = d.longTextSql;
  const int = d.typeSql({ kind: 'integer' }, false);
  const stmts = [
    `CREATE TABLE IF NOT EXISTS ${q(T.runs)} (
      ${d.autoIdSql('id')},
      pipeline ${key} NOT NULL,
      status ${key} NOT NULL,
      started_at ${key} NOT NULL,
      finished_at ${key},
      files_loaded ${int} NOT NULL DEFAULT 0,
      files_skipped ${int} NOT NULL DEFAULT 0,
      files_failed ${int} NOT NULL DEFAULT 0,
      rows_inserted ${int} NOT NULL DEFAULT 0,
      rows_updated ${int} NOT NULL DEFAULT 0,
      rows_unchanged ${int} NOT NULL DEFAULT 0,
      rows_rejected ${int} NOT NULL DEFAULT 0,
      error ${long},
      summary ${long}
    )`,
    // `path` is any length a file system allows (MySQL's VARCHAR keys are not): the unique
    // key is on `path_key`, the SHA-256 of the path in hex (pathKey).
    `CREATE TABLE IF NOT EXISTS ${q(T.files)} (
      ${d.autoIdSql('id')},
      pipeline ${key} NOT NULL,
      path ${long} NOT NULL,
      path_key ${key} NOT NULL,
      table_name ${key} NOT NULL,
      size ${int} NOT NULL,
      mtime_ms ${int} NOT NULL,
      hash ${key},
      status ${key} NOT NULL,
      run_id ${int},
      rows_loaded ${int} NOT NULL DEFAULT 0,
      rows_rejected ${int} NOT NULL DEFAULT 0,
      error ${long},
      updated_at ${key} NOT NULL,
      UNIQUE (pipeline, path_key)
    )`,
    `CREATE TABLE IF NOT EXISTS ${q(T.rejects)} (
      ${d.autoIdSql('id')},
      pipeline ${key} NOT NULL,
      run_id ${int} NOT NULL,
      file_id ${int} NOT NULL,
      file_path ${long} NOT NULL,
      table_name ${key} NOT NULL,
      line ${int},
      record ${int},
      code ${key} NOT NULL,
      column_name ${long},
      message ${long} NOT NULL,
      raw ${long},
      resolved_run_id ${int}
    )`,
    `CREATE TABLE IF NOT EXISTS ${q(T.history)} (
      ${d.autoIdSql('id')},
      pipeline ${key} NOT NULL,
      run_id ${int} NOT NULL,
      table_name ${key} NOT NULL,
      change_kind ${key} NOT NULL,
      column_name ${long},
      old_type ${key},
      new_type ${key},
      file_path ${long},
      changed_at ${key} NOT NULL
    )`,
    `CREATE TABLE IF NOT EXISTS ${q(T.tombstones)} (
      ${d.autoIdSql('id')},
      table_name ${key} NOT NULL,
      run_id ${int} NOT NULL,
      image ${long},
      UNIQUE (table_name, run_id, id)
    )`,
    `CREATE TABLE IF NOT EXISTS ${q(T.claims)} (
      pipeline ${key} NOT NULL,
      path_key ${key} NOT NULL,
      run_id ${int} NOT NULL,
      token ${int} NOT NULL,
      holder ${key} NOT NULL,
      claimed_at ${key} NOT NULL,
      PRIMARY KEY (pipeline, path_key)
    )`,
  ];
  for (const sql of stmts) await db.execute(sql);
  await addPathKeys(db);
  // A file's transaction deletes its earlier rejects by file_id: with an index that locks
  // only those rows (InnoDB), not the whole table other files are inserting into.
  await db.ensureIndex?.(T.rejects, '_tributary_rejects_file', ['file_id']);
  // What the dashboard (src/ui/) reads, bounded, at any size of ledger and rejects: a run's
  // files, the failed files, a table's latest deliveries and changes, a reason's rejects.
  // Each index holds at most two key-text columns: MySQL's index key is at most 3,072 bytes,
  // and a key text is VARCHAR(384) in utf8mb4 (1,536 bytes).
  for (const [table, name, columns] of dashboardIndexes(db.capabilities?.longTextInIndex ?? false))
    await db.ensureIndex?.(table, name, columns);
}

/**
 * Indexes for the dashboard's reads (src/state/ledger.ts, rejects.ts): table, name, columns.
 * The rejects' grouping by table, reason and column (a million rejects) reads a covering
 * index where one can hold `column_name` (`longTextInIndex`): the index alone, in order,
 * instead of a lookup per row (on SQLite ~10× faster, docs/dashboard.md); elsewhere an index
 * on table and reason serves the filtered lists.
 */
export function dashboardIndexes(longTextInIndex: boolean): Array<[string, string, string[]]> {
  return [
    [T.files, '_tributary_files_run', ['run_id']],
    [T.files, '_tributary_files_status', ['status']],
    [T.files, '_tributary_files_delivered', ['table_name', 'mtime_ms']],
    [T.files, '_tributary_files_changed', ['table_name', 'updated_at']],
    longTextInIndex
      ? [
          T.rejects,
          '_tributary_rejects_groups',
          ['pipeline', 'table_name', 'code', 'column_name', 'resolved_run_id', 'file_id'],
        ]
      : [T.rejects, '_tributary_rejects_reason', ['table_name', 'code']],
  ];
}

/**
 * Which state tables exist, asked without creating any: a reader that must not write (the
 * dashboard, src/ui/) looks before it reads, since a database no run has used has none.
 */
export async function stateTablesPresent(db: SqlClient, names: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const name of names) {
    const ok = await db.query(`SELECT 1 AS x FROM ${name} WHERE 1 = 0`).then(
      () => true,
      () => false,
    );
    if (ok) found.add(name);
  }
  return found;
}

/** The ledger's key for a file path: SHA-256 of its UTF-8 bytes, in hex. */
export function pathKey(path: string): string {
  return createHash('sha256').update(path, 'utf8').digest('hex');
}

/**
 * A ledger made before `path_key` existed (its `path` was the key, up to 384 characters on
 * MySQL) gets the column, filled from each path, and an index on it; its old key stays, so
 * such a ledger on MySQL still takes paths of at most 384 characters (a new one: any).
 */
async function addPathKeys(db: SqlClient & Partial<Pick<Destination, 'ensureIndex'>>): Promise<void> {
  const has = await db.query(`SELECT path_key FROM ${T.files} WHERE 1 = 0`).then(
    () => true,
    () => false,
  );
  if (!has) await db.execute(`ALTER TABLE ${T.files} ADD COLUMN path_key VARCHAR(64)`);
  // Every start, not only the first: a process stopped half-way leaves rows without a key.
  const missing = await db.query<{ id: number; path: string }>(
    `SELECT id, path FROM ${T.files} WHERE path_key IS NULL`,
  );
  // The index first: a stop after it leaves keys to fill, which the next start finds.
  if (!has || missing.length > 0) {
    await db.ensureIndex?.(T.files, '_tributary_files_path_key', ['pipeline', 'path_key']);
  }
  for (const r of missing) {
    await db.execute(`UPDATE ${T.files} SET path_key = ? WHERE id = ?`, [pathKey(r.path), r.id]);
  }
}

export function now(): string {
  return new Date().toISOString();
}

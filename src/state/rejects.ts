import type { Reject, RejectCode } from '../core/types.js';

export type { Reject } from '../core/types.js';

import type { SqlClient } from '../destinations/types.js';
import { T } from './tables.js';
import { NUL_STORED_AS, storableOrNull, storableText } from './text.js';

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
  // Look before deleting: a DELETE that matches nothing still locks the index gap on
  // InnoDB, and another table's file transaction inserting its rejects there deadlocks
  // with this one (tables load side by side on MySQL). A plain SELECT takes no lock.
  const some = await db.query(
    `SELECT 1 AS x FROM ${T.rejects} WHERE file_id = ? AND resolved_run_id IS NULL LIMIT 1`,
    [fileId],
  );
  if (some.length === 0) return;
  await db.execute(`DELETE FROM ${T.rejects} WHERE file_id = ? AND resolved_run_id IS NULL`, [fileId]);
}

/**
 * A reject as stored: each NUL character of its raw record, message and column as ␀ (U+2400,
 * state/text.ts), the same on every destination; when the raw record had one, the message says
 * so, so that a ␀ of the input and a stored NUL can be told apart.
 */
function storable(r: Reject): Reject {
  const nuls = r.raw.split('\u0000').length - 1;
  if (nuls === 0 && !r.message.includes('\u0000') && !r.column?.includes('\u0000')) return r;
  const note =
    nuls === 0
      ? ''
      : ` [the raw record held ${nuls === 1 ? 'a NUL character' : `${nuls} NUL characters`} (U+0000), stored as ${NUL_STORED_AS} (U+2400)]`;
  return {
    ...r,
    raw: storableText(r.raw),
    message: storableText(r.message) + note,
    column: storableOrNull(r.column),
  };
}

/** Store rejects (inside the file's transaction, so they commit with its rows). */
/** The open rejects one file left, counted per table and code. */
export async function rejectCountsOfFile(
  db: SqlClient,
  fileId: number,
): Promise<Array<{ table: string; code: string; count: number }>> {
  const rows = await db.query<{ table_name: string; code: string; n: number }>(
    `SELECT table_name, code, COUNT(*) AS n FROM ${T.rejects} WHERE file_id = ? AND resolved_run_id IS NULL GROUP BY table_name, code ORDER BY table_name, code`,
    [fileId],
  );
  return rows.map((r) => ({ table: r.table_name, code: r.code, count: Number(r.n) }));
}

export async function insertRejects(
  db: SqlClient,
  pipeline: string,
  file: { id: number; path: string },
  runId: number,
  rejects: readonly Reject[],
): Promise<void> {
  for (let i = 0; i < rejects.length; i += CHUNK) {
    const part = rejects.slice(i, i + CHUNK).map(storable);
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

/** Which stored rejects a listing covers. Default: the unresolved ones of every table and run. */
export interface RejectFilter {
  table?: string;
  runId?: number;
  includeResolved?: boolean;
  /** Only this reason (`TYPE_MISMATCH`, …). */
  code?: string;
  /** Only this column; `null`: only rejects of no column (a whole record). */
  column?: string | null;
  /** Only the rejects of this ledger file. */
  fileId?: number;
}

function rejectWhere(pipeline: string, filter: RejectFilter): { where: string[]; params: unknown[] } {
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
  if (filter.code !== undefined) {
    where.push('code = ?');
    params.push(filter.code);
  }
  if (filter.column === null) where.push('column_name IS NULL');
  else if (filter.column !== undefined) {
    where.push('column_name = ?');
    params.push(filter.column);
  }
  if (filter.fileId !== undefined) {
    where.push('file_id = ?');
    params.push(filter.fileId);
  }
  if (!filter.includeResolved) where.push('resolved_run_id IS NULL');
  return { where, params };
}

export async function listRejects(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter & { limit?: number } = {},
): Promise<StoredReject[]> {
  const { where, params } = rejectWhere(pipeline, filter);
  params.push(filter.limit ?? 1_000_000);
  const rows = await db.query<RejectRow>(
    `SELECT * FROM ${T.rejects} WHERE ${where.join(' AND ')} ORDER BY file_path, record, id LIMIT ?`,
    params,
  );
  return rows.map(toStored);
}

const toStored = (r: RejectRow): StoredReject => ({
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
});

/** Rejects with the same table, reason and column: how many, and the first few as examples. */
export interface RejectGroup {
  table: string;
  code: RejectCode;
  column: string | null;
  count: number;
  files: number;
  examples: StoredReject[];
}

/** Rejects grouped by table, reason code and column (largest group first), with examples. */
export async function groupRejects(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter & { examples?: number } = {},
): Promise<RejectGroup[]> {
  const { where, params } = rejectWhere(pipeline, filter);
  const groups = await db.query<{
    table_name: string;
    code: RejectCode;
    column_name: string | null;
    n: number;
    files: number;
  }>(
    `SELECT table_name, code, column_name, count(*) AS n, count(DISTINCT file_id) AS files FROM ${T.rejects}
     WHERE ${where.join(' AND ')} GROUP BY table_name, code, column_name ORDER BY n DESC, table_name, code, column_name`,
    params,
  );
  const out: RejectGroup[] = [];
  for (const g of groups) {
    if (filter.examples === 0) {
      out.push({
        table: g.table_name,
        code: g.code,
        column: g.column_name,
        count: Number(g.n),
        files: Number(g.files),
        examples: [],
      });
      continue;
    }
    const column = g.column_name === null ? 'column_name IS NULL' : 'column_name = ?';
    const rows = await db.query<RejectRow>(
      `SELECT * FROM ${T.rejects} WHERE ${where.join(' AND ')} AND table_name = ? AND code = ? AND ${column}
       ORDER BY file_path, record, id LIMIT ?`,
      [
        ...params,
        g.table_name,
        g.code,
        ...(g.column_name === null ? [] : [g.column_name]),
        filter.examples ?? 3,
      ],
    );
    out.push({
      table: g.table_name,
      code: g.code,
      column: g.column_name,
      count: Number(g.n),
      files: Number(g.files),
      examples: rows.map(toStored),
    });
  }
  return out;
}

/** Every matching reject in id order, a page at a time (for exports of any size). */
export async function* rejectPages(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter = {},
  pageSize = 1_000,
): AsyncGenerator<StoredReject[]> {
  let after = 0;
  for (;;) {
    const page = await pageRejects(db, pipeline, filter, { after, limit: pageSize });
    if (page.length === 0) return;
    yield page;
    after = (page[page.length - 1] as StoredReject).id;
  }
}

/**
 * One page of the matching rejects in id order: `limit` of them after id `after` (keyset
 * pagination: a page costs the same wherever it is in a million rejects).
 */
export async function pageRejects(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter,
  page: { after?: number; limit: number },
): Promise<StoredReject[]> {
  const { where, params } = rejectWhere(pipeline, filter);
  if (page.after !== undefined) {
    where.push('id > ?');
    params.push(page.after);
  }
  const rows = await db.query<RejectRow>(
    `SELECT * FROM ${T.rejects} WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`,
    [...params, page.limit],
  );
  return rows.map(toStored);
}

/** One stored reject of the pipeline by its id. */
export async function rejectById(
  db: SqlClient,
  pipeline: string,
  id: number,
): Promise<StoredReject | undefined> {
  const [row] = await db.query<RejectRow>(`SELECT * FROM ${T.rejects} WHERE id = ? AND pipeline = ?`, [
    id,
    pipeline,
  ]);
  return row ? toStored(row) : undefined;
}

/** Mark rejects resolved by a run (a retry loaded their rows), in the caller's transaction. */
export async function resolveRejects(db: SqlClient, ids: readonly number[], runId: number): Promise<void> {
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    await db.execute(
      `UPDATE ${T.rejects} SET resolved_run_id = ? WHERE id IN (${part.map(() => '?').join(', ')})`,
      [runId, ...part],
    );
  }
}

/** A reject that still fails after a retry: keep it, with the reason it fails for now. */
export async function reviseReject(
  db: SqlClient,
  id: number,
  r: Pick<Reject, 'code' | 'column' | 'message'>,
): Promise<void> {
  await db.execute(`UPDATE ${T.rejects} SET code = ?, column_name = ?, message = ? WHERE id = ?`, [
    r.code,
    storableOrNull(r.column),
    storableText(r.message),
    id,
  ]);
}

/** Forget a table's rejects, resolved or not (reset: its files load again from scratch). */
export async function deleteTableRejects(db: SqlClient, pipeline: string, table: string): Promise<number> {
  const r = await db.execute(`DELETE FROM ${T.rejects} WHERE pipeline = ? AND table_name = ?`, [
    pipeline,
    table,
  ]);
  return r.affectedRows;
}

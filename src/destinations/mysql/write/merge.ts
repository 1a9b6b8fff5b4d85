/**
 * The statements that merge a staging table into its target: the reference upsert
 * (`mergeSql`, one `INSERT … SELECT … ON DUPLICATE KEY UPDATE` in file order) with its counts
 * (`countFromInfo`), and the keyed UPDATE plus INSERT that gives the same result for less work
 * when no key is staged twice (`mergeByUpdate`, tuned by `mergeTuning`).
 */
import { SYS_FILE_ID, SYS_RUN_ID, type TableWritePlan, type WriteStats } from '../../types.js';
import { q } from '../dialect.js';
import type { Session } from '../session.js';
import { recordMergeImages, type Same } from './images.js';

/**
 * When a staged merge without child tables uses the keyed UPDATE (`mergeByUpdate`) instead
 * of the row-by-row upsert. Exported for tests, which lower `minRows` to exercise it on small files.
 */
export const mergeTuning = {
  /** Fewer staged rows: the upsert (the UPDATE's extra statements cost more than they save). */
  minRows: 2000,
  /** The UPDATE scans the target over the staged keys' range: at most this many stored rows per staged row. */
  maxScanPerRow: 1.5,
};

/** Staged merges without child tables done each way, for tests. */
export const mergePaths = { update: 0, upsert: 0 };

/**
 * The merge: staged rows applied one by one in file order (`order`: `_seq`, or the key then
 * `_seq` — the same thing, since a row's outcome depends only on the rows of its own key
 * before it). In ON DUPLICATE KEY UPDATE the
 * assignments run left to right and each sees the values already assigned, so
 * `_tributary_run_id` goes first (its "did anything change" test must see the stored
 * values) and the cursor goes last (every other column's "is the cursor newer" test then
 * sees the stored cursor). A column is assigned whenever the cursor test passes: when the
 * row is identical that assigns equal values, which MySQL does not count as a change.
 */
export function mergeSql(
  plan: TableWritePlan,
  stage: string,
  children: boolean,
  order: readonly string[] = ['`_seq`'],
): string {
  const cols = plan.table.columns.map((c) => c.name);
  const key = new Set(plan.primaryKey);
  const cursor = plan.cursor;
  const rest = cols.filter((c) => !key.has(c) && c !== cursor);
  if (cursor && !key.has(cursor)) rest.push(cursor);
  const v = (c: string) => `VALUES(${q(c)})`;
  const ok = cursor ? `(${v(cursor)} >= ${q(cursor)} OR ${q(cursor)} IS NULL)` : 'TRUE';
  const differs = rest.length > 0 ? `NOT (${rest.map((c) => `${q(c)} <=> ${v(c)}`).join(' AND ')})` : 'FALSE';
  // With child rows a row identical to the stored one is still accepted (its children may
  // have changed), as in the SQLite writer.
  const accept = children ? ok : `${ok} AND ${differs}`;
  const file = fileIdOf(plan);
  // The file that supplied the row moves with it (provenance: src/runner/reconcile.ts);
  // before the other columns, so that its test sees the stored values, as the run id's does.
  const sets = [
    `${q(SYS_RUN_ID)} = IF(${accept}, ${v(SYS_RUN_ID)}, ${q(SYS_RUN_ID)})`,
    ...file.map(() => `${q(SYS_FILE_ID)} = IF(${accept}, ${v(SYS_FILE_ID)}, ${q(SYS_FILE_ID)})`),
    ...rest.map((c) => `${q(c)} = IF(${ok}, ${v(c)}, ${q(c)})`),
  ];
  const select = cols.map((_, i) => `s.c${i}`).join(', ');
  return (
    `INSERT INTO ${q(plan.table.name)} (${[...cols, SYS_RUN_ID, ...file.map(() => SYS_FILE_ID)].map(q).join(', ')}) ` +
    `SELECT ${select}, ${[plan.runId, ...file].join(', ')} FROM ${q(stage)} s ORDER BY ${order.map((c) => `s.${c}`).join(', ')} ` +
    `ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
  );
}

/**
 * Counts from the statement's OK packet. With CLIENT_FOUND_ROWS off, affected rows are 1
 * per insert and 2 per row that changed; the info text's "Duplicates" is the number of
 * rows that changed. Everything else changed nothing.
 */
export function countFromInfo(
  stats: WriteStats,
  h: { affectedRows: number; info: string },
  rows: number,
  table: string,
): void {
  const m = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(h.info);
  if (!m || Number(m[1]) !== rows) {
    throw new Error(`internal: merge into ${table} reported "${h.info}" for ${rows} staged rows`);
  }
  stats.updated = Number(m[2]);
  stats.inserted = h.affectedRows - 2 * stats.updated;
  stats.unchanged = rows - stats.inserted - stats.updated;
}

/**
 * The file id a merge writes into `_tributary_file_id` — none when the table has no such
 * column (a merge table made before provenance was kept). Checked to be an integer: it goes
 * into the SQL text.
 */
function fileIdOf(plan: TableWritePlan): number[] {
  if (!plan.table.systemColumns.includes(SYS_FILE_ID)) return [];
  if (!Number.isSafeInteger(plan.fileId)) throw new Error(`internal: bad file id ${plan.fileId}`);
  return [plan.fileId];
}

/**
 * `<=>` where it means "stores the same bytes", a byte comparison where it may not: JSON
 * (MySQL compares JSON values, 1 = 1.0; MariaDB's JSON is text in a PAD SPACE collation) and
 * text under a PAD SPACE collation ('a' = 'a '). The upsert assigns such a value (its record
 * changes, it counts as updated); the keyed UPDATE must then see it as changed as well.
 */
function exactEqual(plan: TableWritePlan, padSpace: boolean): Same {
  const bytes = new Set(
    plan.table.columns
      .filter((c) => c.type.kind === 'json' || (padSpace && c.type.kind === 'text'))
      .map((c) => c.name),
  );
  return (c, a, b) => (bytes.has(c) ? `CAST(${a} AS BINARY) <=> CAST(${b} AS BINARY)` : `${a} <=> ${b}`);
}

/**
 * The staged merge as a keyed UPDATE of the stored rows plus an INSERT of the new keys, when
 * it gives the upsert's result (`mergeSql`) for less work: the upsert first tries to insert
 * every row and takes the duplicate-key path for each stored one, which costs the server more
 * than the update itself. Returns false (nothing done) when it does not apply:
 *
 * - a key staged twice: the rows of one key must be applied one after the other (the upsert).
 * - fewer than `mergeTuning.minRows` rows: the extra statements are not worth it.
 * - the UPDATE would scan too much: MySQL updates a table "on the fly" only when it comes
 *   first in the join, so the UPDATE reads the target over the range of the staged keys'
 *   first column and looks each row up in the staging index; when the optimizer estimates
 *   that range at more than `maxScanPerRow` stored rows per staged row, the upsert's one
 *   lookup per staged row is cheaper.
 *
 * Same result, row by row, with distinct staged keys (each staged row meets only the stored
 * row, as in the upsert): a new key is inserted (the INSERT, after the UPDATE, which adds no
 * row); a stored row is overwritten with the staged values and the run id iff the cursor test
 * passes and some column differs — exactly when the upsert's IF()s change it (`exactEqual`
 * says "differs" exactly when the record's bytes would change); otherwise it is left alone,
 * as the upsert leaves it (assigning equal values changes nothing). Counts: the UPDATE's
 * changed rows are the updated, the INSERT's rows the inserted, the rest unchanged. The
 * before-images are those of the rows the UPDATE changes, recorded first as for the upsert.
 */
export async function mergeByUpdate(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  rows: number,
  padSpace: boolean,
  stats: WriteStats,
): Promise<boolean> {
  if (rows < mergeTuning.minRows) return false;
  const cols = plan.table.columns.map((c) => c.name);
  const pk = plan.primaryKey;
  const key = new Set(pk);
  const cursor = plan.cursor;
  const rest = cols.filter((c) => !key.has(c) && c !== cursor);
  if (cursor && !key.has(cursor)) rest.push(cursor);
  const s = (c: string) => `s.\`c${cols.indexOf(c)}\``;
  const o = (c: string) => `o.${q(c)}`;
  const st = q(stage);
  const t = q(plan.table.name);

  const [dup] = await session.query<{ d: number | string }>(
    `SELECT EXISTS (SELECT 1 FROM ${st} s GROUP BY ${pk.map(s).join(', ')} HAVING COUNT(*) > 1) AS d`,
  );
  if (Number(dup?.d) !== 0) return false;
  const first = pk[0] as string;
  // User variables are constants to the optimizer (a range on the key) and keep the column's
  // type and collation (bound parameters would turn a 64-bit key into a DOUBLE).
  await session.execute(
    `SET @_tributary_lo = (SELECT MIN(${s(first)}) FROM ${st} s), @_tributary_hi = (SELECT MAX(${s(first)}) FROM ${st} s), ` +
      `@_tributary_min = (SELECT MIN(${o(first)}) FROM ${t} o), @_tributary_max = (SELECT MAX(${o(first)}) FROM ${t} o)`,
  );
  const range = `${o(first)} BETWEEN @_tributary_lo AND @_tributary_hi`;
  const [plan0] = await session.query<{ rows: number | string | null }>(
    `EXPLAIN SELECT 1 FROM ${t} o WHERE ${range}`,
  );
  // No row count: the optimizer found the range empty ("Impossible WHERE").
  const scan = plan0 ? Number(plan0.rows ?? 0) : Number.POSITIVE_INFINITY;
  if (!(scan <= mergeTuning.maxScanPerRow * rows)) return false;

  const same = exactEqual(plan, padSpace);
  if (rest.length > 0) {
    await recordMergeImages(session, plan, stage, false, same);
    const ok = cursor ? `(${s(cursor)} >= ${o(cursor)} OR ${o(cursor)} IS NULL)` : 'TRUE';
    const differs = `NOT (${rest.map((c) => same(c, o(c), s(c))).join(' AND ')})`;
    const sets = [
      `${o(SYS_RUN_ID)} = ${plan.runId}`,
      ...fileIdOf(plan).map((id) => `${o(SYS_FILE_ID)} = ${id}`),
      ...rest.map((c) => `${o(c)} = ${s(c)}`),
    ];
    const r = await session.command(
      `UPDATE ${t} o STRAIGHT_JOIN ${st} s ON ${pk.map((k) => `${s(k)} = ${o(k)}`).join(' AND ')} ` +
        `SET ${sets.join(', ')} WHERE ${range} AND ${ok} AND ${differs}`,
    );
    const m = /Rows matched:\s*(\d+)\s+Changed:\s*(\d+)/.exec(r.info);
    if (!m || Number(m[1]) !== Number(m[2]) || Number(m[2]) > rows) {
      throw new Error(
        `internal: keyed merge into ${plan.table.name} reported "${r.info}" for ${rows} staged rows`,
      );
    }
    stats.updated = Number(m[2]);
  }
  // New keys: those outside the stored keys' range need no lookup (nor the copy MySQL makes of
  // an INSERT … SELECT that reads its own table); the others are looked up.
  const file = fileIdOf(plan);
  const insert =
    `INSERT INTO ${t} (${[...cols, SYS_RUN_ID, ...file.map(() => SYS_FILE_ID)].map(q).join(', ')}) ` +
    `SELECT ${cols.map((_, i) => `s.\`c${i}\``).join(', ')}, ${[plan.runId, ...file].join(', ')} FROM ${st} s WHERE `;
  const order = ` ORDER BY ${[...pk.map(s), 's.`_seq`'].join(', ')}`;
  if (stats.updated < rows) {
    stats.inserted += (
      await session.execute(
        `${insert}@_tributary_max IS NULL OR ${s(first)} < @_tributary_min OR ${s(first)} > @_tributary_max${order}`,
      )
    ).affectedRows;
  }
  if (stats.updated + stats.inserted < rows) {
    stats.inserted += (
      await session.execute(
        `${insert}${s(first)} BETWEEN @_tributary_min AND @_tributary_max AND NOT EXISTS ` +
          `(SELECT 1 FROM ${t} o WHERE ${pk.map((k) => `${o(k)} = ${s(k)}`).join(' AND ')})${order}`,
      )
    ).affectedRows;
  }
  stats.unchanged = rows - stats.inserted - stats.updated;
  if (stats.unchanged < 0)
    throw new Error(`internal: keyed merge into ${plan.table.name} counted more rows than staged`);
  return true;
}

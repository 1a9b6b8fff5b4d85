/**
 * Before-images for incremental models (`plan.beforeImages`): the rows a write is about to
 * delete or overwrite, recorded in TOMBSTONES by an `INSERT … SELECT` right before the
 * statement that does it (MySQL/MariaDB has no temporary triggers, which SQLite uses).
 */
import { type LiveTable, SYS_RUN_ID, type TableWritePlan, TOMBSTONES } from '../../types.js';
import { q } from '../dialect.js';
import type { Session } from '../session.js';

/** SQL that is true when column `c`'s stored value `a` and staged value `b` are the same. */
export type Same = (c: string, a: string, b: string) => string;

const nullSafeEqual: Same = (_c, a, b) => `${a} <=> ${b}`;

/** A string literal (sql_mode keeps backslash escapes on). */
const lit = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/**
 * Before-images (`plan.beforeImages`, for incremental models; docs/transformations.md) of
 * the rows of `from` (the table aliased `x`, with any joins) that match `where`, recorded in
 * TOMBSTONES before a statement deletes or overwrites them — only rows not yet written by this
 * run (the version before the run is the one a model has seen), as the SQLite writer's
 * triggers do. The image has the SQLite writer's keys (the requested columns the table has);
 * values are JSON_OBJECT's, except DECIMAL and JSON values, recorded as text: the transforms
 * read JSON numbers back as doubles, which would round a wide decimal key, and bind a nested
 * object as a JSON parameter, which MariaDB refuses; text converts back exactly. Those
 * casts name a collation so that they never clash with the table's text columns.
 */
export async function recordImages(
  session: Session,
  plan: TableWritePlan,
  table: LiveTable,
  from: string,
  where: string,
): Promise<void> {
  const want = plan.beforeImages?.get(table.name) ?? [];
  const cols = want.flatMap((name) => table.columns.filter((c) => c.name === name));
  if (cols.length === 0) return;
  const image = cols.map((c) => {
    const v = `x.${q(c.name)}`;
    const text = c.type.kind === 'decimal' || c.type.kind === 'json';
    return `${lit(c.name)}, ${text ? `CAST(${v} AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin` : v}`;
  });
  await session.execute(
    `INSERT INTO ${TOMBSTONES} (table_name, run_id, image) ` +
      `SELECT ?, ${plan.runId}, JSON_OBJECT(${image.join(', ')}) FROM ${from} ` +
      `WHERE (${where}) AND NOT (x.${q(SYS_RUN_ID)} <=> ${plan.runId})`,
    [table.name],
  );
}

/**
 * Before-images of the stored rows the merge of `stage` will really change, recorded before
 * it runs (it overwrites them): exactly the rows the SQLite writer's UPDATE trigger sees. A
 * stored row changes iff some staged row of its key passes `mergeSql`'s test against the
 * stored values — the cursor test, and (without child tables) differing from it: the rows
 * before the first such one were refused or identical, so they left the stored row as it was.
 */
export async function recordMergeImages(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  children: boolean,
  same: Same = nullSafeEqual,
): Promise<void> {
  if (!plan.beforeImages?.has(plan.table.name)) return;
  const cols = plan.table.columns.map((c) => c.name);
  const key = new Set(plan.primaryKey);
  const rest = cols.filter((c) => !key.has(c));
  if (rest.length === 0 && !children) return; // the merge never updates a stored row
  const s = (c: string) => `s.c${cols.indexOf(c)}`;
  const o = (c: string) => `o.${q(c)}`;
  const cursor = plan.cursor;
  const ok = cursor ? `(${s(cursor)} >= ${o(cursor)} OR ${o(cursor)} IS NULL)` : 'TRUE';
  const differs = `NOT (${rest.map((c) => same(c, o(c), s(c))).join(' AND ')})`;
  const accept = children ? ok : `${ok} AND ${differs}`;
  const t = q(plan.table.name);
  const pk = plan.primaryKey;
  const changed =
    `SELECT DISTINCT ${pk.map((k, i) => `${s(k)} AS k${i}`).join(', ')} FROM ${q(stage)} s ` +
    `JOIN ${t} o ON ${pk.map((k) => `${o(k)} = ${s(k)}`).join(' AND ')} ` +
    `WHERE NOT (o.${q(SYS_RUN_ID)} <=> ${plan.runId}) AND ${accept}`;
  const from = `${t} x JOIN (${changed}) k ON ${pk.map((k, i) => `x.${q(k)} = k.k${i}`).join(' AND ')}`;
  await recordImages(session, plan, plan.table, from, 'TRUE');
}

/**
 * Before-images for incremental models (`plan.beforeImages`): the rows a write is about to
 * delete or overwrite, recorded in TOMBSTONES by an `INSERT … SELECT` right before the
 * statement that does it, as the MySQL writer does (SQLite uses temporary triggers).
 */
import { type LiveTable, SYS_RUN_ID, type TableWritePlan, TOMBSTONES } from '../types.js';
import { lit, q } from './dialect.js';
import type { PgSession } from './session.js';

/**
 * A value as the image records it. Decimals and JSON as text (the transforms read JSON
 * numbers back as doubles, which would round a wide decimal), datetimes as the UTC text the
 * loads wrote; the rest as JSON's own values.
 */
function imageValue(c: LiveTable['columns'][number], v: string): string {
  switch (c.type.kind) {
    case 'decimal':
    case 'json':
      return `${v}::text`;
    case 'datetime':
      return `(${v} AT TIME ZONE 'UTC')::text`;
    default:
      return v;
  }
}

/**
 * Before-images of the rows of `from` (the table aliased `x`, with any joins) that match
 * `where`, recorded before a statement deletes or overwrites them — only rows not yet written
 * by this run (the version before the run is the one a model has seen), as the SQLite
 * writer's triggers do. The image has the SQLite writer's keys (the requested columns the
 * table has).
 */
export async function recordImages(
  session: PgSession,
  plan: TableWritePlan,
  table: LiveTable,
  from: string,
  where: string,
): Promise<void> {
  const want = plan.beforeImages?.get(table.name) ?? [];
  const cols = want.flatMap((name) => table.columns.filter((c) => c.name === name));
  if (cols.length === 0) return;
  const image = cols.map((c) => `${lit(c.name)}, ${imageValue(c, `x.${q(c.name)}`)}`);
  await session.execute(
    `INSERT INTO ${TOMBSTONES} (table_name, run_id, image) ` +
      `SELECT ?, ${plan.runId}, json_build_object(${image.join(', ')})::text FROM ${from} ` +
      `WHERE (${where}) AND x.${q(SYS_RUN_ID)} IS DISTINCT FROM ${plan.runId}`,
    [table.name],
  );
}

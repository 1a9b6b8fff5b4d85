import { type SqlClient, SYS_RUN_ID } from '../destinations/types.js';
import { type BuildContext, keysTableOf } from './materialize.js';
import type { Model } from './model.js';
import type { ModelState } from './plan.js';
import { keyIn, renderFiltered, selectAll } from './sql.js';
import { saveModelState, tombstoneKeys } from './state.js';

/** What an incremental refresh did. */
export interface IncrementalStats {
  /** Distinct unique-key values recomputed. */
  keys: number;
  deleted: number;
  inserted: number;
  /** Rows in the model's table afterwards. */
  rows: number;
}

const KEY_ROWS_PER_INSERT = 500;

/**
 * Recompute the keys touched since the model's last build, in one transaction:
 *
 * 1. the touched keys: the key columns of every row of a changed table written after the
 *    model's run (`_tributary_run_id > built_run_id`), and of every before-image recorded
 *    since (rows deleted or overwritten: `_tributary_tombstones`);
 * 2. delete the model's rows of those keys;
 * 3. insert the model's rows of those keys, computed over only the rows of those keys of
 *    every table it reads (sql.ts `renderFiltered`).
 *
 * Other rows of the model are not touched. Returns the counts.
 */
export async function refreshIncremental(
  ctx: BuildContext,
  model: Model,
  state: ModelState,
  changed: readonly string[],
): Promise<IncrementalStats> {
  const q = ctx.dest.dialect.quote;
  const key = model.uniqueKey;
  const cols = key.map(q).join(', ');
  const keys = keysTableOf(model.name);
  return ctx.dest.transaction(async (tx) => {
    await tx.execute(`DELETE FROM ${q(keys)}`);
    for (const table of changed) {
      await tx.execute(
        `INSERT INTO ${q(keys)} (${cols}) SELECT ${cols} FROM ${q(table)} WHERE ${q(SYS_RUN_ID)} > ?`,
        [state.builtRunId],
      );
      for await (const page of tombstoneKeys(tx, table, state.builtRunId, key)) {
        await insertKeys(tx, q(keys), cols, key.length, page);
      }
    }
    const [distinct] = await tx.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM (SELECT DISTINCT ${cols} FROM ${q(keys)}) AS k`,
    );
    const touched = Number(distinct?.n ?? 0);
    let deleted = 0;
    let inserted = 0;
    if (touched > 0) {
      deleted = (await tx.execute(`DELETE FROM ${q(model.name)} WHERE ${keyIn(q, key, keys)}`)).affectedRows;
      const sql = renderFiltered(ctx.graph, model.name, {
        quote: q,
        keysTable: keys,
        key,
        columnsOf: (t) => {
          const live = ctx.catalog.get(t);
          return live && [...live.columns.map((c) => c.name), ...live.systemColumns];
        },
      });
      const insert = `INSERT INTO ${q(model.name)} ${selectAll(sql, keyIn(q, key, keys, 'm'))}`;
      inserted = (await tx.execute(insert)).affectedRows;
      await tx.execute(`DELETE FROM ${q(keys)}`);
    }
    const rows = (state.rows ?? 0) - deleted + inserted;
    await saveModelState(tx, ctx.pipeline, { ...state, builtRunId: ctx.runId, rows });
    return { keys: touched, deleted, inserted, rows };
  });
}

async function insertKeys(
  db: SqlClient,
  table: string,
  cols: string,
  width: number,
  rows: unknown[][],
): Promise<void> {
  const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
  for (let i = 0; i < rows.length; i += KEY_ROWS_PER_INSERT) {
    const part = rows.slice(i, i + KEY_ROWS_PER_INSERT);
    await db.execute(
      `INSERT INTO ${table} (${cols}) VALUES ${part.map(() => tuple).join(', ')}`,
      part.flat(),
    );
  }
}

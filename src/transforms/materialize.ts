import { createHash } from 'node:crypto';
import { messageOf, TributaryError } from '../core/errors.js';
import { type Destination, type LiveTable, type SqlClient, SYS_RUN_ID } from '../destinations/types.js';
import type { ModelGraph } from './graph.js';
import type { Model } from './model.js';
import type { ModelState } from './plan.js';
import { renderModel, selectAll } from './sql.js';
import { saveModelState } from './state.js';

/** What a build needs from the run. */
export interface BuildContext {
  dest: Destination;
  pipeline: string;
  runId: number;
  graph: ModelGraph;
  /** Live tables at the start of the transform step. */
  catalog: ReadonlyMap<string, LiveTable>;
  states: ReadonlyMap<string, ModelState>;
}

/** `prefix + model`, cut to MySQL's 64 characters with a hash of the whole when longer. */
export function internalName(prefix: string, model: string, suffix = ''): string {
  const name = `${prefix}${model}${suffix}`;
  if (name.length <= 64) return name;
  const h = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 55)}_${h}`;
}

/** Scratch table of an incremental model: the key values a refresh recomputes, typed like its key. */
export const keysTableOf = (model: string) => internalName('_tributary_keys__', model);

/**
 * A helper index on `_tributary_run_id` of an incremental model's base tables, so that a
 * refresh finds the rows written since its last build without reading whole tables (run ids
 * only grow, so the index is cheap to keep). Not on the key columns: SQLite would then drive
 * full builds' GROUP BY through it, three times slower than a scan on 1M rows, for little gain
 * in the refresh (bench/transforms.ts). Only where the destination can (`ensureIndex`);
 * idempotent, so a table rebuilt by a schema change gets it back.
 */
export async function ensureBaseIndexes(
  dest: Destination,
  bases: readonly string[],
  columnsOf: (table: string) => readonly string[] | undefined,
): Promise<void> {
  if (!dest.ensureIndex) return;
  for (const table of bases) {
    if (!columnsOf(table)?.includes(SYS_RUN_ID)) continue;
    await dest.ensureIndex(table, internalName('_tributary_run__', table), [SYS_RUN_ID]);
  }
}

/**
 * Whether the model's name is a table now. A table no model built is never dropped: that
 * is a user's table in the way of the model.
 */
function isOwnTable(ctx: BuildContext, name: string): boolean {
  if (!ctx.catalog.has(name)) return false;
  if (ctx.states.has(name)) return true;
  throw new TributaryError(
    'TRANSFORM_FAILED',
    `a table named ${name} exists that no model built; drop or rename it, or rename the model file`,
  );
}

/**
 * `replace` — a DROP and CREATE of the model's relation inside `db` — keeping the views that
 * read it where the destination binds views to relations rather than names (PostgreSQL:
 * `keepDependentViews` drops them first and makes them again after, in the same transaction).
 * A view of another model whose saved definition no longer fits is made from that model's SQL
 * (its own build, later in the run, then records it). Elsewhere views read the new relation by
 * its name as they did the old one, and `replace` just runs.
 */
function keepingViews<T>(
  ctx: BuildContext,
  db: SqlClient,
  name: string,
  replace: () => Promise<T>,
): Promise<T> {
  const { dest } = ctx;
  if (!dest.keepDependentViews) return replace();
  return dest.keepDependentViews(db, name, replace, (view) => {
    const model = ctx.graph.models.get(view);
    return model && renderModel(model, dest.dialect.quote);
  });
}

/**
 * A view: recreated in one transaction where DDL is transactional (DROP + CREATE, the views
 * reading it kept: `keepingViews`), else with CREATE OR REPLACE VIEW, which is atomic on its own.
 */
export async function buildView(ctx: BuildContext, model: Model, hash: string): Promise<void> {
  const { dest } = ctx;
  const q = dest.dialect.quote;
  const sql = renderModel(model, q);
  const wasTable = isOwnTable(ctx, model.name);
  const state: ModelState = {
    name: model.name,
    materialized: 'view',
    hash,
    builtRunId: ctx.runId,
    rows: null,
  };
  if (dest.capabilities.transactionalDdl) {
    await dest.transaction(async (tx) => {
      await keepingViews(ctx, tx, model.name, async () => {
        if (wasTable) await tx.execute(`DROP TABLE ${q(model.name)}`);
        await tx.execute(`DROP TABLE IF EXISTS ${q(keysTableOf(model.name))}`);
        await tx.execute(`DROP VIEW IF EXISTS ${q(model.name)}`);
        await tx.execute(`CREATE VIEW ${q(model.name)} AS\n${sql}`);
      });
      await saveModelState(tx, ctx.pipeline, state);
    });
    return;
  }
  if (wasTable) await dest.execute(`DROP TABLE ${q(model.name)}`);
  await dest.execute(`DROP TABLE IF EXISTS ${q(keysTableOf(model.name))}`);
  await dest.execute(`CREATE OR REPLACE VIEW ${q(model.name)} AS\n${sql}`);
  await dest.transaction((tx) => saveModelState(tx, ctx.pipeline, state));
}

/**
 * A table (or an incremental model's first or full build), rebuilt so that readers never see
 * it half-built: where DDL is transactional, DROP + CREATE … AS SELECT in one transaction,
 * the views reading it kept (`keepingViews`);
 * elsewhere (MySQL) built under a scratch name, then swapped in by one atomic
 * `RENAME TABLE model TO old, new TO model`. Returns the row count.
 */
export async function buildTable(ctx: BuildContext, model: Model, hash: string): Promise<number> {
  const { dest } = ctx;
  const q = dest.dialect.quote;
  const select = selectAll(renderModel(model, q));
  const wasTable = isOwnTable(ctx, model.name);
  const state = (rows: number): ModelState => ({
    name: model.name,
    materialized: model.materialized,
    hash,
    builtRunId: ctx.runId,
    rows,
  });
  if (dest.capabilities.transactionalDdl) {
    return dest.transaction(async (tx) => {
      const rows = await keepingViews(ctx, tx, model.name, async () => {
        if (!wasTable) await tx.execute(`DROP VIEW IF EXISTS ${q(model.name)}`);
        await tx.execute(`DROP TABLE IF EXISTS ${q(model.name)}`);
        await tx.execute(`CREATE TABLE ${q(model.name)} AS ${select}`);
        return finishTable(tx, q, model, model.name);
      });
      await saveModelState(tx, ctx.pipeline, state(rows));
      return rows;
    });
  }
  const fresh = internalName('_tributary_new__', model.name);
  const old = internalName('_tributary_old__', model.name);
  await dest.execute(`DROP TABLE IF EXISTS ${q(fresh)}`);
  try {
    await dest.execute(`CREATE TABLE ${q(fresh)} AS ${select}`);
    const rows = await finishTable(dest, q, model, fresh);
    if (wasTable) {
      await dest.execute(`DROP TABLE IF EXISTS ${q(old)}`);
      await dest.execute(`RENAME TABLE ${q(model.name)} TO ${q(old)}, ${q(fresh)} TO ${q(model.name)}`);
      await dest.execute(`DROP TABLE ${q(old)}`);
    } else {
      await dest.execute(`DROP VIEW IF EXISTS ${q(model.name)}`);
      await dest.execute(`RENAME TABLE ${q(fresh)} TO ${q(model.name)}`);
    }
    await dest.transaction((tx) => saveModelState(tx, ctx.pipeline, state(rows)));
    return rows;
  } finally {
    await dest.execute(`DROP TABLE IF EXISTS ${q(fresh)}`).catch(() => undefined);
  }
}

/**
 * Checks and indexes of a freshly built table: key columns never NULL, a unique index on
 * the key (which also fails the build when the key is not unique), the keys table of an
 * incremental model. Returns the row count.
 */
async function finishTable(
  db: SqlClient,
  q: (id: string) => string,
  model: Model,
  table: string,
): Promise<number> {
  const key = model.uniqueKey;
  if (key.length > 0) {
    const cols = key.map(q).join(', ');
    try {
      const [nulls] = await db.query<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${key.map((c) => `${q(c)} IS NULL`).join(' OR ')}`,
      );
      if (Number(nulls?.n ?? 0) > 0)
        throw new Error(`${nulls?.n} row(s) have a NULL in it; filter or COALESCE them`);
      await db.execute(
        `CREATE UNIQUE INDEX ${q(internalName('', model.name, '__tributary_key'))} ON ${q(table)} (${cols})`,
      );
    } catch (err) {
      throw new TributaryError('TRANSFORM_FAILED', `unique_key (${key.join(', ')}): ${messageOf(err)}`, {
        cause: err,
      });
    }
    const keys = keysTableOf(model.name);
    await db.execute(`DROP TABLE IF EXISTS ${q(keys)}`);
    if (model.materialized === 'incremental') {
      await db.execute(`CREATE TABLE ${q(keys)} AS SELECT ${cols} FROM ${q(table)} WHERE 1 = 0`);
      // MariaDB runs `DELETE … WHERE (k) IN (SELECT k FROM keys)` as a dependent subquery,
      // once per model row: without this index that is a scan of the keys per row. Only an aid:
      // MySQL refuses it on long text keys (over 3,072 bytes), and the refresh works without.
      await db
        .execute(`CREATE INDEX ${q(internalName('', keys, '_ix'))} ON ${q(keys)} (${cols})`)
        .catch(() => undefined);
    }
  }
  const [count] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)}`);
  return Number(count?.n ?? 0);
}

import type { ResolvedConfig } from '../config/resolve.js';
import type { Destination, LiveTable, SqlClient } from '../destinations/types.js';
import { readLedger } from '../state/ledger.js';
import { listRuns, type RunRecord } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';
import { type SourceFreshness, sourceFreshness } from './freshness.js';

/** One data table in `tributary status`. */
export interface TableStatus {
  table: string;
  rows: number;
  columns: number;
  primaryKey: string[];
}

/** What `tributary status` shows (and prints as it is with `--json`). */
export interface StatusReport {
  pipeline: string;
  destination: string;
  tables: TableStatus[];
  lastRun: RunRecord | null;
  /** The sources with `expect_every`, late or not (./freshness.ts); empty when none has it. */
  freshness: SourceFreshness[];
  /** The time freshness was judged at (ISO). */
  now: string;
}

/** The rows of one table, read through `via` (default: the destination itself). */
export async function countRows(db: Destination, table: string, via: SqlClient = db): Promise<number> {
  const [row] = await via.query<{ n: number | string }>(
    `SELECT count(*) AS n FROM ${db.dialect.quote(table)}`,
  );
  return Number(row?.n ?? 0);
}

/** The tables of the destination with their row counts, in catalog order. */
export async function countTableRows(dest: Destination): Promise<Array<{ table: LiveTable; rows: number }>> {
  const out: Array<{ table: LiveTable; rows: number }> = [];
  for (const t of (await dest.readCatalog()).values())
    out.push({ table: t, rows: await countRows(dest, t.name) });
  return out;
}

/**
 * The pipeline's tables with their row counts, its last run, and the freshness of its sources
 * as of `now` (ms since the epoch; default: the clock).
 */
export async function pipelineStatus(
  config: ResolvedConfig,
  dest: Destination,
  now: number = Date.now(),
): Promise<StatusReport> {
  await ensureStateTables(dest, dest.dialect);
  const tables = (await countTableRows(dest)).map(({ table: t, rows }) => ({
    table: t.name,
    rows,
    columns: t.columns.length,
    primaryKey: t.primaryKey,
  }));
  const [last] = await listRuns(dest, config.pipeline, { limit: 1 });
  const watched = config.sources.some((s) => s.expectEvery !== undefined);
  const ledger = watched ? (await readLedger(dest, config.pipeline)).values() : [];
  return {
    pipeline: config.pipeline,
    destination: dest.description,
    tables,
    lastRun: last ?? null,
    freshness: sourceFreshness(config, ledger, now),
    now: new Date(now).toISOString(),
  };
}

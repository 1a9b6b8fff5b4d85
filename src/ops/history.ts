import type { ResolvedConfig } from '../config/resolve.js';
import type { Destination } from '../destinations/types.js';
import type { RunSummary } from '../runner/events.js';
import { listRuns, type RunRecord } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';

export type { RunRecord } from '../state/runs.js';

export interface HistoryOptions {
  /** How many runs to list (the shown ones: no-op runs hidden do not count). Default 20. */
  limit?: number;
  /** Only this run. */
  id?: number;
  /** Also the no-op runs ({@link isNoopRun}). Default: they are hidden and counted. */
  all?: boolean;
}

export interface History {
  /** Newest first. */
  runs: RunRecord[];
  /** No-op runs left out among those newer than the oldest listed (all of them when the list ends). */
  hidden: number;
}

/** Runs read at a time while looking for `limit` runs that did something. */
const PAGE = 200;

/** The pipeline's runs, newest first (`limit` of them, no-op runs hidden unless `all`), or only run `id`. */
export async function runHistory(
  config: ResolvedConfig,
  dest: Destination,
  options: HistoryOptions,
): Promise<History> {
  await ensureStateTables(dest, dest.dialect);
  const limit = options.limit ?? 20;
  if (options.id !== undefined || options.all) {
    return { runs: await listRuns(dest, config.pipeline, { limit, id: options.id }), hidden: 0 };
  }
  const runs: RunRecord[] = [];
  let hidden = 0;
  let before: number | undefined;
  while (runs.length < limit) {
    const page = await listRuns(dest, config.pipeline, { limit: PAGE, before });
    for (const r of page) {
      if (runs.length === limit) break;
      if (isNoopRun(r)) hidden++;
      else runs.push(r);
    }
    if (page.length < PAGE) break;
    before = page.at(-1)?.id;
  }
  return { runs, hidden };
}

/**
 * A run that loaded nothing and changed nothing: a plain `tributary run` (no full refresh,
 * retry or transform) that succeeded without a file loaded or failed, a row written or
 * rejected or deleted, a table reconciled, a schema change, a model built or a warning — the run a
 * schedule makes every few minutes when no file came. `history` hides them unless `--all`.
 */
export function isNoopRun(r: RunRecord): boolean {
  if (r.status !== 'succeeded') return false;
  if (r.filesLoaded + r.filesFailed + r.rowsInserted + r.rowsUpdated + r.rowsRejected > 0) return false;
  const s = r.summary as Partial<RunSummary> | null;
  // A run without a summary of its own cannot show it did nothing.
  if (!s || typeof s !== 'object') return false;
  return (
    !s.trigger &&
    (s.tables ?? []).every((t) => (t.deleted ?? 0) === 0) &&
    (s.reconciled ?? []).length === 0 &&
    (s.schemaChanges ?? []).length === 0 &&
    (s.models ?? []).every((m) => m.status === 'skipped') &&
    // A warning (a glob that matches nothing, a folder not mounted) is news: such a run must
    // not look like a quiet day (src/runner/plan.ts), so it is never hidden.
    (s.warnings ?? []).length === 0 &&
    !s.error
  );
}

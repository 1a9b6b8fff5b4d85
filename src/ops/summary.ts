import type { SchemaChange, WriteStats } from '../destinations/types.js';
import type { RunSummary } from '../runner/events.js';
import { addSchemaChanges, countReject, tableSummary } from '../runner/summary.js';

export { countsOf, newSummary } from '../runner/summary.js';

import type { Reject } from '../state/rejects.js';
import type { RetryFileResult } from './retry/index.js';

/** Count one retried file: its writes per table, its schema changes, what still fails. */
export function addFile(
  summary: RunSummary,
  result: RetryFileResult,
  stats: WriteStats,
  changes: readonly SchemaChange[],
  still: readonly Reject[],
): void {
  summary.files.loaded++;
  const t = tableSummary(summary, result.table);
  t.files++;
  t.inserted += stats.inserted;
  t.updated += stats.updated;
  t.unchanged += stats.unchanged;
  t.deleted += stats.deleted;
  t.childRows += stats.childRows;
  t.rejected += still.length + result.kept;
  addSchemaChanges(summary, changes, result.file);
  for (const r of still) countReject(summary, r.table, r.code, 1);
  if (result.kept > 0) countReject(summary, result.table, 'KEPT_NO_CURSOR', result.kept);
}

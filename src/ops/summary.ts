import type { SchemaChange, WriteStats } from '../destinations/types.js';
import type { RunSummary } from '../runner/events.js';
import { countReject, tableSummary } from '../runner/summary.js';

export { countsOf, newSummary } from '../runner/summary.js';

import { formatType } from '../schema/types.js';
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
  for (const c of changes) {
    summary.schemaChanges.push({
      table: c.kind === 'create_table' ? c.table.name : c.table,
      kind: c.kind,
      ...(c.kind === 'add_column' ? { column: c.column.name, to: formatType(c.column.type) } : {}),
      ...(c.kind === 'widen_column'
        ? { column: c.column, from: formatType(c.from), to: formatType(c.to) }
        : {}),
      file: result.file,
    });
  }
  for (const r of still) countReject(summary, r.table, r.code, 1);
  if (result.kept > 0) countReject(summary, result.table, 'KEPT_NO_CURSOR', result.kept);
}

import type { SchemaChange, WriteStats } from '../destinations/types.js';
import type { RunSummary, TableSummary } from '../runner/events.js';
import { formatType } from '../schema/types.js';
import type { Reject } from '../state/rejects.js';
import type { RunCounts } from '../state/runs.js';
import type { RetryFileResult } from './retry/index.js';

/** The report of a run that is not a plain load (a retry), in the run report's shape. */
export function newSummary(runId: number, pipeline: string, startedAt: string, trigger: string): RunSummary {
  return {
    runId,
    pipeline,
    status: 'succeeded',
    startedAt,
    durationMs: 0,
    files: { discovered: 0, loaded: 0, unchanged: 0, failed: 0 },
    tables: [],
    schemaChanges: [],
    failures: [],
    rejectsByReason: [],
    warnings: [],
    trigger,
  };
}

/** Count one retried file: its writes per table, its schema changes, what still fails. */
export function addFile(
  summary: RunSummary,
  result: RetryFileResult,
  stats: WriteStats,
  changes: readonly SchemaChange[],
  still: readonly Reject[],
): void {
  summary.files.loaded++;
  const t = tableOf(summary, result.table);
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

export function countsOf(s: RunSummary): RunCounts {
  const sum = (k: 'inserted' | 'updated' | 'unchanged' | 'rejected') =>
    s.tables.reduce((a, t) => a + t[k], 0);
  return {
    filesLoaded: s.files.loaded,
    filesSkipped: s.files.unchanged,
    filesFailed: s.files.failed,
    rowsInserted: sum('inserted'),
    rowsUpdated: sum('updated'),
    rowsUnchanged: sum('unchanged'),
    rowsRejected: sum('rejected'),
  };
}

function tableOf(summary: RunSummary, table: string): TableSummary {
  let t = summary.tables.find((x) => x.table === table);
  if (!t) {
    t = {
      table,
      files: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      rejected: 0,
      discardedRows: 0,
      discardedValues: 0,
      childRows: 0,
    };
    summary.tables.push(t);
  }
  return t;
}

function countReject(summary: RunSummary, table: string, code: string, n: number): void {
  const r = summary.rejectsByReason.find((x) => x.table === table && x.code === code);
  if (r) r.count += n;
  else summary.rejectsByReason.push({ table, code, count: n });
}

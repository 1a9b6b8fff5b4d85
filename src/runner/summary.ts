import type { SchemaChange } from '../core/types.js';
import { changedTable } from '../schema/diff.js';
import { formatType } from '../schema/hints.js';
import type { RunCounts } from '../state/runs.js';
import type { RunSummary, TableSummary } from './events.js';

/**
 * Building a run's report: shared by a plain run (runner/run.ts) and the runs that are not
 * plain loads (rejects retry, reset: src/ops).
 */
export function newSummary(runId: number, pipeline: string, startedAt: string, trigger?: string): RunSummary {
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
    ...(trigger ? { trigger } : {}),
  };
}

/** The table's line of the report, created on first use. */
export function tableSummary(summary: RunSummary, table: string): TableSummary {
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

export function countReject(summary: RunSummary, table: string, code: string, n = 1): void {
  const r = summary.rejectsByReason.find((x) => x.table === table && x.code === code);
  if (r) r.count += n;
  else summary.rejectsByReason.push({ table, code, count: n });
}

/** The run row's counters, from the report. */
export function countsOf(s: RunSummary): RunCounts {
  const sum = (k: keyof TableSummary) => s.tables.reduce((a, t) => a + (t[k] as number), 0);
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

/** The schema changes a file brought, as the summary lists them. */
export function addSchemaChanges(summary: RunSummary, changes: readonly SchemaChange[], file: string): void {
  for (const c of changes) {
    summary.schemaChanges.push({
      table: changedTable(c),
      kind: c.kind,
      ...(c.kind === 'add_column' ? { column: c.column.name, to: formatType(c.column.type) } : {}),
      ...(c.kind === 'widen_column'
        ? { column: c.column, from: formatType(c.from), to: formatType(c.to) }
        : {}),
      file,
    });
  }
}

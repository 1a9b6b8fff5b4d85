import type { SchemaChange } from '../core/types.js';
import type { WriteStats } from '../destinations/types.js';
import type { DataTestResult, ModelEvent, ModelRunResult } from '../transforms/result.js';

/** What a run reports while it goes. Library code never prints; the CLI renders these. */
export type RunEvent =
  | { type: 'run_started'; runId: number; pipeline: string; destination: string }
  /** `bytes`: the size of the files to read. */
  | { type: 'files_discovered'; total: number; toLoad: number; unchanged: number; bytes: number }
  | { type: 'file_started'; file: string; table: string; index: number; total: number; size: number }
  | { type: 'file_progress'; file: string; bytes: number; rows: number }
  | { type: 'schema_changed'; file: string; change: SchemaChange }
  | {
      type: 'file_loaded';
      file: string;
      table: string;
      rows: number;
      rejects: number;
      stats: WriteStats;
      ms: number;
      /** 1: read once (it fit its table as it was); 2: read once for the schema, once to write. */
      passes: 1 | 2;
      /** `host:pid` of the worker that loaded it, when a queue's workers load the run (src/queue/). */
      worker?: string;
    }
  | { type: 'file_unchanged'; file: string; table: string }
  | { type: 'file_failed'; file: string; table: string; code: string; message: string; willRetry: boolean }
  /** A transient database error rolled the file's transaction back; it is tried again after a backoff. */
  | {
      type: 'file_retry';
      file: string;
      table: string;
      /** The attempt that failed (1 = the first). */
      attempt: number;
      retriesLeft: number;
      code: string;
      message: string;
    }
  /**
   * Before loading, a table was put back in line with its current files (src/runner/reconcile.ts):
   * `rebuild` (a merge table's rows from current files taken out; they load again in path
   * order), `delete_file` (a deleted file's rows and ledger row removed), `empty` (a replace
   * table whose files are all gone).
   */
  | { type: 'table_reconciled'; table: string; action: 'rebuild' | 'delete_file' | 'empty'; reason: string }
  | { type: 'warning'; message: string }
  | { type: 'run_finished'; summary: RunSummary }
  | ModelEvent;

export interface TableSummary {
  table: string;
  files: number;
  inserted: number;
  updated: number;
  unchanged: number;
  deleted: number;
  rejected: number;
  /** Rows and values dropped by a `discard_row` / `discard_value` contract (counted, not stored). */
  discardedRows: number;
  discardedValues: number;
  childRows: number;
}

export interface RunSummary {
  runId: number;
  pipeline: string;
  status: 'succeeded' | 'partial' | 'failed' | 'interrupted';
  startedAt: string;
  durationMs: number;
  files: { discovered: number; loaded: number; unchanged: number; failed: number };
  tables: TableSummary[];
  schemaChanges: Array<{
    table: string;
    kind: string;
    column?: string;
    from?: string;
    to?: string;
    file: string;
  }>;
  failures: Array<{ file: string; code: string; message: string }>;
  rejectsByReason: Array<{ table: string; code: string; count: number }>;
  /** Tables put back in line with their current files before loading (the table_reconciled events). */
  reconciled?: Array<{ table: string; action: 'rebuild' | 'delete_file' | 'empty'; reason: string }>;
  /** Things worth a look that did not fail anything (e.g. a possible renamed header). */
  warnings: string[];
  /**
   * What the run did besides loading new files, when it was not a plain `tributary run`:
   * `full refresh of orders`, `rejects retry`. Shown in the report and in `history --run`.
   */
  trigger?: string;
  /**
   * Each file the run loaded or failed, in path order, at most {@link FILE_REPORTS_MAX}
   * (`fileReportsOmitted` counts the rest): what the dashboard's run page lists. Absent in
   * runs recorded before it existed.
   */
  fileReports?: RunFileReport[];
  fileReportsOmitted?: number;
  /**
   * A run limited to some sources (`run --table`, `run --source`): the new or changed files of
   * the other sources it left for a later run (absent: none, or not limited).
   */
  filesLeft?: number;
  /** Results of the SQL models run after the load (filled by the transform step). */
  models?: ModelResult[];
  /** `run --test`: the data tests run after the models (a failed one makes the exit code 1). */
  tests?: DataTestResult[];
  error?: string;
}

/** One file of a run, as its summary keeps it. */
export interface RunFileReport {
  file: string;
  table: string;
  status: 'loaded' | 'failed';
  /** Rows read into the table (loaded files). */
  rows?: number;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  rejected?: number;
  /** 1: read once; 2: read for the schema, then to write. */
  passes?: 1 | 2;
  /** Time from its start to its commit (or failure), in ms; absent when unknown. */
  ms?: number;
  /** A failed file's error code and message. */
  code?: string;
  message?: string;
}

/**
 * How many files a run's summary lists one by one: the summary is one row of the runs table,
 * and a run of many thousand files must not make it megabytes (MySQL's max_allowed_packet).
 */
export const FILE_REPORTS_MAX = 2_000;

/** One SQL model's outcome in a run's report (defined with the transform step). */
export type ModelResult = ModelRunResult;

export type EventSink = (event: RunEvent) => void;

import type { Materialization } from './model.js';

/** One model's outcome in a run (part of the run summary, so of `tributary history`). */
export interface ModelRunResult {
  name: string;
  materialized: Materialization;
  /** `skipped`: a table it reads is not loaded yet, or an upstream model failed or was skipped. */
  status: 'succeeded' | 'failed' | 'skipped';
  /** `full`: built from scratch; `incremental`: only the touched keys recomputed. */
  refresh?: 'full' | 'incremental';
  /** Why a full refresh, or why skipped. */
  reason?: string;
  /** Rows in the model's table afterwards (not for views). */
  rows?: number;
  /** Incremental: distinct key values recomputed, and the model rows deleted and inserted. */
  keys?: number;
  deleted?: number;
  inserted?: number;
  durationMs: number;
  error?: string;
}

/** What the transform step reports while it goes (rendered by the CLI like the run's events). */
export type ModelEvent =
  | { type: 'model_started'; name: string; materialized: Materialization; refresh: 'full' | 'incremental' }
  | { type: 'model_finished'; result: ModelRunResult };

/** A value of a data test's sample, as JSON has it (dates as text, big integers as text). */
export type SampleValue = string | number | boolean | null;

/** One data test's outcome (`tributary test`, and `summary.tests` of a `run --test`). */
export interface DataTestResult {
  /** `orders: unique(order_id)`. */
  name: string;
  /** The model or table tested. */
  node: string;
  nodeKind: 'model' | 'table';
  /** The test's canonical text: `unique(order_id)`. */
  test: string;
  /** Where it is written: `models/user_totals.sql:5`, `tributary.yaml: sources[2].tests[0]`. */
  origin: string;
  /**
   * `failed`: some rows break it; `error`: its query failed (a column it names does not exist…);
   * `skipped`: what it reads is not there yet (a table not loaded, a model not built, or one
   * that failed in this run).
   */
  status: 'passed' | 'failed' | 'error' | 'skipped';
  /** The rows that break it (0 when passed). */
  failures?: number;
  /** unique and accepted_values: the distinct offending values (duplicated keys, values not accepted). */
  values?: number;
  /**
   * Up to the sample size of offending rows (system columns left out, tested columns first) —
   * for unique and accepted_values, the offending values with their row count, most rows first.
   */
  sample?: { columns: string[]; rows: SampleValue[][] };
  /** Why skipped. */
  reason?: string;
  error?: string;
  durationMs: number;
}

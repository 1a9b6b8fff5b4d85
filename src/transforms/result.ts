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

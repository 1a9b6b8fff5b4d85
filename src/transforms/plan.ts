import { createHash } from 'node:crypto';
import { type LiveTable, SYS_RUN_ID } from '../destinations/types.js';
import { type ModelGraph, modelRefs, tableRefs } from './graph.js';
import type { Materialization, Model } from './model.js';

/** What the destination remembers of a model's last successful build (`_tributary_models`). */
export interface ModelState {
  name: string;
  materialized: Materialization;
  /** Definition hash at the build; null once the model left the folder (its next build is full). */
  hash: string | null;
  /** The run whose loads the model reflects: changes of later runs are not in it yet. */
  builtRunId: number;
  /** Rows of its table after the build; null for views. */
  rows: number | null;
}

/** The last run that changed a loaded table, and the last that replaced or reset it. 0: never. */
export interface TableChange {
  changed: number;
  reset: number;
}

/** What a model needs in this run. */
export type Refresh =
  | { kind: 'none' }
  | { kind: 'wait'; reason: string }
  | { kind: 'full'; reason: string }
  | { kind: 'incremental'; changed: readonly string[] };

export interface PlanInput {
  model: Model;
  hash: string;
  state: ModelState | undefined;
  /** `--full-refresh`. */
  fullRefresh: boolean;
  /** Loaded tables the model reads, directly or through models (graph.ts `baseTables`). */
  bases: readonly string[];
  /** Columns of a table (system columns included), undefined when it does not exist. */
  columnsOf(table: string): readonly string[] | undefined;
  changeOf(table: string): TableChange;
}

/**
 * The incremental rule (docs/transformations.md), as a pure decision. A view is recreated only
 * when its definition changes; a table is rebuilt when a table it reads changed; an
 * incremental model recomputes the keys its changed tables touched, unless a changed table
 * cannot say which keys it touched (it lacks a key column or `_tributary_run_id`, or it was
 * replaced or reset): then it is rebuilt.
 */
export function planRefresh(p: PlanInput): Refresh {
  const missing = p.bases.filter((t) => p.columnsOf(t) === undefined);
  if (missing.length > 0) return { kind: 'wait', reason: `waiting for ${missing.join(', ')} to be loaded` };
  if (p.fullRefresh) return { kind: 'full', reason: 'full refresh' };
  const s = p.state;
  if (!s) return { kind: 'full', reason: 'first build' };
  if (s.hash === null) return { kind: 'full', reason: 'model came back' };
  if (s.hash !== p.hash) return { kind: 'full', reason: 'definition or upstream schema changed' };
  if (p.model.materialized === 'view') return { kind: 'none' };
  const changed = p.bases.filter((t) => p.changeOf(t).changed > s.builtRunId);
  if (changed.length === 0) return { kind: 'none' };
  if (p.model.materialized === 'table') return { kind: 'full', reason: `${changed.join(', ')} changed` };
  for (const t of changed) {
    if (p.changeOf(t).reset > s.builtRunId) return { kind: 'full', reason: `${t} was replaced or reset` };
    const cols = p.columnsOf(t) ?? [];
    const lacking = [...p.model.uniqueKey, SYS_RUN_ID].find((c) => !cols.includes(c));
    if (lacking) return { kind: 'full', reason: `${t} changed and has no column ${lacking}` };
  }
  return { kind: 'incremental', changed };
}

/**
 * A hash per model of everything its result depends on besides data: its header (but its
 * `@test` lines, which do not change its rows) and SQL,
 * the hashes of the models it references, and the columns and types of the tables it
 * references. A change means the stored result is stale whatever the data did.
 */
export function definitionHashes(
  graph: ModelGraph,
  catalog: ReadonlyMap<string, LiveTable>,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of graph.order) {
    const m = graph.models.get(name) as Model;
    const tables = tableRefs(graph, name)
      .sort()
      .map((t) => [t, catalog.get(t)?.columns ?? null]);
    const models = modelRefs(graph, name)
      .sort()
      .map((r) => [r, out.get(r)]);
    const text = JSON.stringify({
      v: 1,
      mat: m.materialized,
      key: m.uniqueKey,
      sql: withoutTests(m),
      tables,
      models,
    });
    out.set(name, createHash('sha256').update(text).digest('hex'));
  }
  return out;
}

/** The model's SQL without its `-- @test` lines: adding or changing a test rebuilds nothing. */
function withoutTests(m: Model): string {
  if (m.tests.length === 0) return m.sql;
  const lines = new Set(m.tests.map((t) => t.line));
  return m.sql
    .split('\n')
    .filter((_, i) => !lines.has(i + 1))
    .join('\n');
}

import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import { closest } from '../core/suggest.js';
import type { Destination } from '../destinations/types.js';
import { loadProject, modelFiles, tableNames } from './discover.js';
import { baseTables, beforeImageColumns, type ModelGraph, modelRefs, withUpstream } from './graph.js';
import { refreshIncremental } from './incremental.js';
import { type BuildContext, buildTable, buildView, ensureBaseIndexes } from './materialize.js';
import type { Model } from './model.js';
import { definitionHashes, planRefresh, type Refresh } from './plan.js';
import type { ModelEvent, ModelRunResult } from './result.js';
import { parseSelectors, selectionGraph, selectNodes } from './select.js';
import { ensureModelTable, forgetModels, pruneTombstones, readModelStates, tableChanges } from './state.js';
import type { PlannedTest } from './test-plan.js';

export interface TransformOptions {
  /** Bring these models (and the models upstream of them) up to date. Default: every model. */
  select?: readonly string[];
  /**
   * `--select` values: graph selectors (`name`, `+name`, `name+`; select.ts), whose models run
   * besides those of `select`. Default: none.
   */
  selectors?: readonly string[];
  /** Rebuild from scratch the selected models (all models when none is selected). Default false. */
  fullRefresh?: boolean;
}

/** The checked models of a pipeline and what the run's loads must record for them. */
export interface PreparedModels {
  graph: ModelGraph;
  /** The pipeline's data tests (`run --test` runs them after the models). */
  tests: readonly PlannedTest[];
  /** Models to consider in this run, in dependency order. */
  run: readonly string[];
  /** Models to rebuild from scratch whatever changed. */
  fullRefresh: ReadonlySet<string>;
  /** Before-image columns per loaded table, for the writers (graph.ts `beforeImageColumns`). */
  beforeImages: ReadonlyMap<string, readonly string[]>;
}

/**
 * Read and check the models before anything is loaded: every problem (file, graph, unknown
 * selected name) is thrown together as CONFIG_INVALID.
 */
export async function prepareModels(
  config: ResolvedConfig,
  dest: Destination,
  options: TransformOptions = {},
): Promise<PreparedModels> {
  const any =
    modelFiles(config.models, config.baseDir).length > 0 ||
    config.sources.some((s) => (s.tests ?? []).length > 0);
  const { graph, tests } = loadProject(
    config,
    tableNames(config, any ? (await dest.readCatalog()).keys() : []),
  );
  const select = options.select ?? [];
  const unknown = select.filter((n) => !graph.models.has(n));
  if (unknown.length > 0) {
    const near = unknown.length === 1 ? closest(unknown[0] as string, graph.order) : undefined;
    const hint = near ? `did you mean ${near}?` : `the models are: ${graph.order.join(', ') || '(none)'}`;
    throw new TributaryError('CONFIG_INVALID', `no model named ${unknown.join(', ')}; ${hint}`);
  }
  const selectors = parseSelectors(options.selectors ?? []);
  const picked =
    selectors.length > 0
      ? selectNodes(
          selectionGraph(
            graph,
            config.sources.map((s) => s.table),
          ),
          selectors,
        )
      : new Set<string>();
  const chosen = [...withUpstream(graph, select), ...graph.order.filter((n) => picked.has(n))];
  const some = select.length > 0 || selectors.length > 0;
  const run = some ? graph.order.filter((n) => chosen.includes(n)) : graph.order;
  const full = options.fullRefresh
    ? some
      ? [...select, ...graph.order.filter((n) => picked.has(n))]
      : run
    : [];
  return { graph, tests, run, fullRefresh: new Set(full), beforeImages: beforeImageColumns(graph) };
}

export interface ModelRunContext {
  pipeline: string;
  runId: number;
  emit?: (event: ModelEvent) => void;
  /** Called with each result as soon as it is known (the run summary collects them). */
  onResult?: (result: ModelRunResult) => void;
  signal?: AbortSignal;
}

/**
 * The transform step: each model in dependency order, if its upstream changed (plan.ts),
 * each in its own transaction. A failing model stops the models downstream of it, not
 * its siblings; the loaded data is never touched. Models that left the folder are
 * forgotten, and before-images no incremental model needs any more are deleted.
 */
export async function runModels(
  dest: Destination,
  prepared: PreparedModels,
  ctx: ModelRunContext,
): Promise<ModelRunResult[]> {
  const { graph } = prepared;
  await ensureModelTable(dest, dest.dialect);
  const catalog = await dest.readCatalog();
  const states = await readModelStates(dest, ctx.pipeline);
  const changeOf = await tableChanges(dest);
  const hashes = definitionHashes(graph, catalog);
  const build: BuildContext = { dest, pipeline: ctx.pipeline, runId: ctx.runId, graph, catalog, states };
  const columnsOf = (t: string) => {
    const live = catalog.get(t);
    return live && [...live.columns.map((c) => c.name), ...live.systemColumns];
  };
  const blocked = new Map<string, string>();
  const results: ModelRunResult[] = [];
  for (const name of prepared.run) {
    if (ctx.signal?.aborted)
      throw new TributaryError('INTERRUPTED', 'interrupted; the remaining models run next time');
    crashPoint('transform');
    const model = graph.models.get(name) as Model;
    const hash = hashes.get(name) as string;
    const upstream = modelRefs(graph, name).find((r) => blocked.has(r));
    const bases = baseTables(graph, name);
    const refresh: Refresh = upstream
      ? { kind: 'wait', reason: `upstream model ${upstream} ${blocked.get(upstream)}` }
      : planRefresh({
          model,
          hash,
          state: states.get(name),
          fullRefresh: prepared.fullRefresh.has(name),
          bases,
          columnsOf,
          changeOf,
        });
    if (refresh.kind === 'none') continue;
    const result =
      refresh.kind === 'wait'
        ? {
            name,
            materialized: model.materialized,
            status: 'skipped' as const,
            reason: refresh.reason,
            durationMs: 0,
          }
        : await execute(build, model, hash, refresh, ctx, () => ensureBaseIndexes(dest, bases, columnsOf));
    if (result.status !== 'succeeded')
      blocked.set(name, result.status === 'failed' ? 'failed' : 'was skipped');
    results.push(result);
    ctx.onResult?.(result);
    ctx.emit?.({ type: 'model_finished', result });
  }
  await forgetModels(dest, ctx.pipeline, graph.order);
  await pruneTombstones(dest, await neededSince(dest, ctx, graph));
  return results;
}

async function execute(
  ctx: BuildContext,
  model: Model,
  hash: string,
  refresh: Exclude<Refresh, { kind: 'none' } | { kind: 'wait' }>,
  run: ModelRunContext,
  indexBases: () => Promise<void>,
): Promise<ModelRunResult> {
  const base = { name: model.name, materialized: model.materialized };
  const kind = refresh.kind;
  run.emit?.({ type: 'model_started', ...base, refresh: kind });
  const t0 = Date.now();
  try {
    if (model.materialized === 'incremental') await indexBases();
    if (refresh.kind === 'incremental') {
      const s = await refreshIncremental(ctx, model, ctx.states.get(model.name)!, refresh.changed);
      return { ...base, status: 'succeeded', refresh: kind, ...s, durationMs: Date.now() - t0 };
    }
    const reason = refresh.reason;
    if (model.materialized === 'view') {
      await buildView(ctx, model, hash);
      return { ...base, status: 'succeeded', refresh: kind, reason, durationMs: Date.now() - t0 };
    }
    const rows = await buildTable(ctx, model, hash);
    return { ...base, status: 'succeeded', refresh: kind, reason, rows, durationMs: Date.now() - t0 };
  } catch (err) {
    return { ...base, status: 'failed', refresh: kind, error: messageOf(err), durationMs: Date.now() - t0 };
  }
}

/** Tombstones of runs up to the oldest built incremental model's run are needed by no one. */
async function neededSince(dest: Destination, ctx: ModelRunContext, graph: ModelGraph): Promise<number> {
  const states = await readModelStates(dest, ctx.pipeline);
  const runs = [...states.values()]
    .filter((s) => s.materialized === 'incremental' && s.hash !== null && graph.models.has(s.name))
    .map((s) => s.builtRunId);
  return Math.min(ctx.runId, ...runs);
}

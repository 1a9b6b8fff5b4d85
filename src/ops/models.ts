import type { ResolvedConfig } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import { closest } from '../core/suggest.js';
import type { Destination } from '../destinations/types.js';
import { ensureStateTables } from '../state/tables.js';
import { testText } from '../transforms/data-test.js';
import { loadModels, tableNames } from '../transforms/discover.js';
import { baseTables, modelRefs, tableRefs } from '../transforms/graph.js';
import type { Materialization } from '../transforms/model.js';
import type { ModelState } from '../transforms/plan.js';
import { renderModel } from '../transforms/sql.js';
import { ensureModelTable, readModelStates } from '../transforms/state.js';

/** One SQL model as `tributary models` lists it (and prints as it is with `--json`). */
export interface ModelEntry {
  name: string;
  file: string | undefined;
  materialized: Materialization | undefined;
  uniqueKey: readonly string[] | undefined;
  dependsOn: { models: string[]; tables: string[] };
  baseTables: string[];
  /** Its data tests (`-- @test` lines), as canonical text. */
  tests: string[];
  /** The run that last built the model and its rows then; null: never built. */
  lastBuild: { runId: number; rows: number | null } | null;
}

/** The pipeline's models in dependency order, each with what it reads and its last build. */
export async function listModels(config: ResolvedConfig, dest: Destination): Promise<ModelEntry[]> {
  await ensureStateTables(dest, dest.dialect);
  await ensureModelTable(dest, dest.dialect);
  const catalog = (await dest.readCatalog()).keys();
  return describeModels(config, catalog, await readModelStates(dest, config.pipeline));
}

/**
 * The models of the config's models folder checked against the tables in `catalog`, in
 * dependency order, with their builds from `states` (read-only: the dashboard's models).
 * Throws CONFIG_INVALID listing every problem of the models.
 */
export function describeModels(
  config: ResolvedConfig,
  catalog: Iterable<string>,
  states: ReadonlyMap<string, ModelState>,
): ModelEntry[] {
  const graph = loadModels(config, tableNames(config, catalog));
  return graph.order.map((name) => {
    const m = graph.models.get(name);
    const s = states.get(name);
    return {
      name,
      file: m?.file,
      materialized: m?.materialized,
      uniqueKey: m?.uniqueKey,
      dependsOn: { models: modelRefs(graph, name), tables: tableRefs(graph, name) },
      baseTables: baseTables(graph, name),
      tests: (m?.tests ?? []).map((t) => testText(t.test)),
      lastBuild: s?.hash ? { runId: s.builtRunId, rows: s.rows } : null,
    };
  });
}

/**
 * `tributary models --sql NAME`: the model's SELECT as it runs on this destination, each
 * `{{ ref() }}` replaced by the quoted name in the destination's dialect. An unknown name is
 * CONFIG_INVALID (exit 2) naming the closest model.
 */
export async function modelSql(config: ResolvedConfig, dest: Destination, name: string): Promise<string> {
  const graph = loadModels(config, tableNames(config, (await dest.readCatalog()).keys()));
  const model = graph.models.get(name);
  if (!model) {
    const near = closest(name, graph.order);
    const hint = near ? `did you mean ${near}?` : `the models are: ${graph.order.join(', ') || '(none)'}`;
    throw new TributaryError('CONFIG_INVALID', `models --sql: no model named ${name}; ${hint}`);
  }
  return renderModel(model, dest.dialect.quote);
}

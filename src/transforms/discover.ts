import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import { buildGraph, type ModelGraph, type TableNames } from './graph.js';
import { type Model, parseModel } from './model.js';
import { type PlannedTest, planTests } from './test-plan.js';

/**
 * The `.sql` files under `dir` (subfolders included), as paths relative to `baseDir` with
 * `/`, sorted. A missing folder has no models.
 */
export function modelFiles(dir: string, baseDir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const entries = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });
  return entries
    .filter((e) => e.endsWith('.sql') && fs.statSync(path.join(dir, e)).isFile())
    .map((e) => path.relative(baseDir, path.join(dir, e)).split(path.sep).join('/'))
    .sort();
}

/** Read, parse and check the pipeline's models (`loadProject` without the data tests). */
export function loadModels(config: ResolvedConfig, tables: TableNames): ModelGraph {
  return loadProject(config, tables).graph;
}

/** The checked models of a pipeline, and its data tests: the models' and the sources'. */
export interface Project {
  graph: ModelGraph;
  tests: readonly PlannedTest[];
}

/**
 * Read, parse and check the pipeline's models and data tests. Every problem of every file
 * (and of the sources' `tests:`) is collected and thrown together as one CONFIG_INVALID
 * error naming the files.
 */
export function loadProject(config: ResolvedConfig, tables: TableNames): Project {
  const problems: string[] = [];
  const models: Model[] = [];
  for (const file of modelFiles(config.models, config.baseDir)) {
    const parsed = parseModel(file, fs.readFileSync(path.join(config.baseDir, file), 'utf8'));
    problems.push(...parsed.problems);
    if (parsed.model) models.push(parsed.model);
  }
  const { graph, problems: graphProblems } = buildGraph(models, tables);
  problems.push(...graphProblems);
  const sources = config.sources.map((s) => ({ table: s.table, index: s.index, tests: s.tests ?? [] }));
  const planned = planTests(graph.models, sources, tables, path.basename(config.file));
  problems.push(...planned.problems);
  if (problems.length > 0) {
    const n = problems.length;
    throw new TributaryError(
      'CONFIG_INVALID',
      `models in ${config.models}: ${n} problem${n === 1 ? '' : 's'}; nothing was run:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return { graph, tests: planned.tests };
}

/** Table names for `buildGraph`: the config's source tables, their child tables, the catalog's tables. */
export function tableNames(config: ResolvedConfig, catalog: Iterable<string>): TableNames {
  const sources = new Set(config.sources.map((s) => s.table));
  const live = new Set(catalog);
  return {
    sources,
    isTable: (name) =>
      sources.has(name) || live.has(name) || [...sources].some((s) => name.startsWith(`${s}__`)),
  };
}

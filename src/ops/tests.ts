import type { ResolvedConfig } from '../config/resolve.js';
import type { Destination } from '../destinations/types.js';
import { loadProject, tableNames } from '../transforms/discover.js';
import type { DataTestResult } from '../transforms/result.js';
import { selectTests } from '../transforms/select.js';
import { runDataTests } from '../transforms/test-run.js';

/**
 * `tributary test`: the data tests of the selected models and tables (all without `--select`),
 * with SELECTs only, outside any run and its lock, on a destination opened read-only (nothing
 * created: not the database, the SQLite file or a state table). Bad models, tests or selectors are CONFIG_INVALID (exit 2)
 * before any test runs.
 */
export async function runTests(
  config: ResolvedConfig,
  dest: Destination,
  options: { select?: readonly string[]; sampleSize?: number } = {},
): Promise<DataTestResult[]> {
  // Opened read-only (src/cli/commands/data-tests.ts): a destination no run has made yet is absent.
  const live = dest.absent ? [] : (await dest.readCatalog()).keys();
  const { graph, tests } = loadProject(config, tableNames(config, live));
  const tables = config.sources.map((s) => s.table);
  const chosen = selectTests(graph, tests, tables, options.select ?? []);
  return runDataTests(dest, chosen, {
    pipeline: config.pipeline,
    ...(options.sampleSize === undefined ? {} : { sampleSize: options.sampleSize }),
  });
}

import { normalizeTableName } from '../schema/naming.js';
import { type DataTest, mapColumns, parseDataTest, testText } from './data-test.js';
import type { TableNames } from './graph.js';
import type { Model } from './model.js';

/** A data test bound to what it tests: a model, or a table a source loads. */
export interface PlannedTest {
  /** `orders: unique(order_id)`: unique in a pipeline. */
  readonly name: string;
  /** The model or table whose rows it checks. */
  readonly node: string;
  readonly nodeKind: 'model' | 'table';
  readonly test: DataTest;
  /** Where it is written: `models/user_totals.sql:5`, `tributary.yaml: sources[2].tests[0]`. */
  readonly origin: string;
}

/** The `tests:` of one source (its table's tests), as written in the config. */
export interface SourceTests {
  readonly table: string;
  /** Position in `sources:`, for messages. */
  readonly index: number;
  readonly tests: readonly string[];
}

/**
 * Every data test of a pipeline: the models' `@test` lines, then the sources' `tests:`
 * (their column names normalized the way the loader names columns). Sources of one table
 * may split its tests between them; the same test given twice for a table runs once.
 * A relationships test must name a model or a loaded table: every one that does not is a
 * problem (with its file and line, or its config key). Tests are ordered by what they test.
 */
export function planTests(
  models: ReadonlyMap<string, Model>,
  sources: readonly SourceTests[],
  tables: TableNames,
  configName = 'config',
): { tests: PlannedTest[]; problems: string[] } {
  const problems: string[] = [];
  const tests: PlannedTest[] = [];
  const seen = new Set<string>();
  const add = (node: string, nodeKind: PlannedTest['nodeKind'], test: DataTest, origin: string) => {
    if (test.kind === 'relationships' && !models.has(test.to) && !tables.isTable(test.to)) {
      problems.push(`${origin}: ref('${test.to}') names no model and no loaded table`);
      return;
    }
    const name = `${node}: ${testText(test)}`;
    if (seen.has(name)) return;
    seen.add(name);
    tests.push({ name, node, nodeKind, test, origin });
  };
  for (const m of models.values()) {
    for (const t of m.tests) add(m.name, 'model', t.test, `${m.file}:${t.line}`);
  }
  for (const s of sources) {
    s.tests.forEach((text, i) => {
      const origin = `${configName}: sources[${s.index}].tests[${i}]`;
      const parsed = parseDataTest(text);
      // The config's validation parsed it already (ops/config.ts): this is for direct callers.
      if (parsed.error !== undefined) {
        problems.push(`${origin}: ${parsed.error}`);
        return;
      }
      add(s.table, 'table', sourceColumns(parsed.test, models), origin);
    });
  }
  tests.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { tests, problems };
}

/** A source test's columns are named as in the files: normalized like the loader (not a model's). */
function sourceColumns(test: DataTest, models: ReadonlyMap<string, Model>): DataTest {
  const mapped = mapColumns(test, normalizeTableName);
  if (test.kind !== 'relationships' || !models.has(test.to) || mapped.kind !== 'relationships') return mapped;
  return { ...mapped, toColumns: test.toColumns };
}

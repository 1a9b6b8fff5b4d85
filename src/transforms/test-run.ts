import { messageOf } from '../core/errors.js';
import { type Destination, SYS_FILE_ID, SYS_RUN_ID } from '../destinations/types.js';
import { testedColumns, testText } from './data-test.js';
import type { ModelState } from './plan.js';
import type { DataTestResult, SampleValue } from './result.js';
import { modelTablePresent, readModelStates } from './state.js';
import type { PlannedTest } from './test-plan.js';
import { ROWS_COLUMN, testSql } from './test-sql.js';

/** Offending rows shown per failed test. */
export const DEFAULT_SAMPLE_SIZE = 5;

export interface TestRunOptions {
  pipeline: string;
  /** Offending rows kept per failed test. Default DEFAULT_SAMPLE_SIZE (5). */
  sampleSize?: number;
  /** Models not to test, with why: those that failed or were skipped in this run. */
  unavailable?: ReadonlyMap<string, string>;
  signal?: AbortSignal;
}

/**
 * Run data tests, one query for the count of offending rows and, when there are any, one for a
 * sample of them: SELECTs only, each on its own; nothing is created (not even the model state
 * table), so `tributary test` can run on a destination opened read-only, or absent (then every
 * test is skipped). A test whose table or model is not
 * there (not loaded yet, never built) is skipped; one whose query fails (a column it names
 * does not exist) is an `error`. The order of `tests` is kept.
 */
export async function runDataTests(
  dest: Destination,
  tests: readonly PlannedTest[],
  options: TestRunOptions,
): Promise<DataTestResult[]> {
  if (tests.length === 0) return [];
  const catalog = dest.absent ? new Map() : await dest.readCatalog();
  const states =
    !dest.absent && (await modelTablePresent(dest))
      ? await readModelStates(dest, options.pipeline)
      : new Map<string, ModelState>();
  const models = new Set(tests.filter((t) => t.nodeKind === 'model').map((t) => t.node));
  // Views are not in the catalog: a model is there once a build of it succeeded.
  const missing = (name: string): string | undefined => {
    const why = options.unavailable?.get(name);
    if (why) return why;
    if (catalog.has(name) || states.get(name)?.hash) return undefined;
    return models.has(name) || states.has(name)
      ? `model ${name} is not built yet`
      : `table ${name} is not loaded yet`;
  };
  const out: DataTestResult[] = [];
  for (const t of tests) {
    if (options.signal?.aborted) break;
    const base = {
      name: t.name,
      node: t.node,
      nodeKind: t.nodeKind,
      test: testText(t.test),
      origin: t.origin,
    };
    const reason = missing(t.node) ?? (t.test.kind === 'relationships' ? missing(t.test.to) : undefined);
    if (reason) {
      out.push({ ...base, status: 'skipped', reason, durationMs: 0 });
      continue;
    }
    const t0 = Date.now();
    try {
      const sql = testSql(
        t.test,
        t.node,
        dest.dialect.quote,
        options.sampleSize ?? DEFAULT_SAMPLE_SIZE,
        dest.dialect.exactNumberSql,
      );
      const [count] = await dest.query<{ n: unknown; g?: unknown }>(sql.count, sql.params);
      const failures = Number(count?.n ?? 0);
      const values = sql.grouped ? { values: Number(count?.g ?? 0) } : {};
      if (failures === 0) {
        out.push({ ...base, status: 'passed', failures, ...values, durationMs: Date.now() - t0 });
        continue;
      }
      const rows = await dest.query<Record<string, unknown>>(sql.sample, sql.params);
      const sample = sampleOf(rows, testedColumns(t.test), sql.grouped);
      out.push({ ...base, status: 'failed', failures, ...values, sample, durationMs: Date.now() - t0 });
    } catch (err) {
      out.push({ ...base, status: 'error', error: messageOf(err), durationMs: Date.now() - t0 });
    }
  }
  return out;
}

/** Rows as arrays: tested columns first, then the others but the system ones; a grouped count as `rows`. */
function sampleOf(
  rows: readonly Record<string, unknown>[],
  tested: readonly string[],
  grouped: boolean,
): NonNullable<DataTestResult['sample']> {
  const all = Object.keys(rows[0] ?? {});
  const rest = all.filter(
    (c) => !tested.includes(c) && c !== SYS_RUN_ID && c !== SYS_FILE_ID && c !== ROWS_COLUMN,
  );
  const columns = grouped ? [...tested, ROWS_COLUMN] : [...tested.filter((c) => all.includes(c)), ...rest];
  return {
    columns: columns.map((c) => (c === ROWS_COLUMN ? 'rows' : c)),
    rows: rows.map((r) => columns.map((c) => (c === ROWS_COLUMN ? Number(r[c]) : sampleValue(r[c])))),
  };
}

function sampleValue(v: unknown): SampleValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  return JSON.stringify(v);
}

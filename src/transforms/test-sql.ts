import type { DbValue } from '../core/types.js';
import type { SqlDialect } from '../destinations/types.js';
import type { DataTest } from './data-test.js';

type Quote = (identifier: string) => string;
type ExactNumber = SqlDialect['exactNumberSql'];

/**
 * The SQL of one data test over `table`: every identifier through the dialect's `quote`, every
 * value a `?` parameter (the same `params` for both statements), so the same text runs on
 * SQLite, MySQL/MariaDB and PostgreSQL; a number of `accepted_values` as the dialect compares
 * it exactly (`exactNumber`, default: its text as one parameter). Pure: `tributary test` runs
 * it (test-run.ts).
 */
export interface TestSql {
  /** One row: `n`, the offending rows; for a grouped test also `g`, the offending values. */
  count: string;
  /** At most `limit` offending rows — for a grouped test, values with their row count (the last column). */
  sample: string;
  params: readonly DbValue[];
  /** The sample is values with a count (unique, accepted_values), not rows of the table. */
  grouped: boolean;
}

/** Name of the row-count column of a grouped test's sample (a system name: no user column has it). */
export const ROWS_COLUMN = '_tributary_rows';

export function testSql(
  test: DataTest,
  table: string,
  quote: Quote,
  limit: number,
  exactNumber: ExactNumber = (text) => ({ sql: '?', params: [text] }),
): TestSql {
  const max = Math.max(0, Math.trunc(limit)); // a number we inline, never text
  const t = quote(table);
  const n = quote('n');
  const rows = quote(ROWS_COLUMN);
  const list = (cols: readonly string[], alias = '') => cols.map((c) => `${alias}${quote(c)}`).join(', ');
  const notNull = (cols: readonly string[], alias = '') =>
    cols.map((c) => `${alias}${quote(c)} IS NOT NULL`).join(' AND ');
  // A grouped test: the offending values with how many rows have each.
  const grouped = (cols: readonly string[], where: string, having: string, params: DbValue[]) => {
    const core = `SELECT ${list(cols)}, COUNT(*) AS ${rows} FROM ${t} WHERE ${where} GROUP BY ${list(cols)}${having}`;
    return {
      count: `SELECT COUNT(*) AS ${quote('g')}, COALESCE(SUM(${rows}), 0) AS ${n} FROM (${core}) AS f`,
      sample: `${core} ORDER BY ${rows} DESC, ${list(cols)} LIMIT ${max}`,
      params,
      grouped: true,
    };
  };
  switch (test.kind) {
    case 'unique':
      // As dbt's: rows with a NULL in the key are not compared (not_null says whether they may exist).
      return grouped(test.columns, notNull(test.columns), ' HAVING COUNT(*) > 1', []);
    case 'accepted_values': {
      const c = quote(test.column);
      const members = test.values.map((v) =>
        typeof v === 'string' ? { sql: '?', params: [v] } : exactNumber(v.number),
      );
      const marks = members.map((m) => m.sql).join(', ');
      const params = members.flatMap((m) => m.params);
      return grouped([test.column], `${c} IS NOT NULL AND ${c} NOT IN (${marks})`, '', params);
    }
    case 'not_null': {
      const where = test.columns.map((c) => `${quote(c)} IS NULL`).join(' OR ');
      return {
        count: `SELECT COUNT(*) AS ${n} FROM ${t} WHERE ${where}`,
        sample: `SELECT * FROM ${t} WHERE ${where} LIMIT ${max}`,
        params: [],
        grouped: false,
      };
    }
    case 'relationships': {
      // Aliases c(hild) and p(arent): the table may reference itself (a user's referrer).
      const on = test.columns.map((c, i) => `p.${quote(test.toColumns[i] as string)} = c.${quote(c)}`);
      const where = `${notNull(test.columns, 'c.')} AND NOT EXISTS (SELECT 1 FROM ${quote(test.to)} AS p WHERE ${on.join(' AND ')})`;
      return {
        count: `SELECT COUNT(*) AS ${n} FROM ${t} AS c WHERE ${where}`,
        sample: `SELECT c.* FROM ${t} AS c WHERE ${where} LIMIT ${max}`,
        params: [],
        grouped: false,
      };
    }
  }
}

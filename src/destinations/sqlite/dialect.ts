import type { ColumnType, DbValue } from '../../core/types.js';
import type { SqlDialect } from '../types.js';

/**
 * SQLite physical types. SQLite keeps the declared type text verbatim, so the logical
 * type is read back from it (see catalog.ts).
 *
 * Exact values: a column's declared type gives it an affinity that converts what is stored
 * (https://sqlite.org/datatype3.html), and NUMERIC affinity (what `DECIMAL(p,s)` or `JSON`
 * would get) turns any numeric text into a 64-bit float, keeping 15 significant digits:
 * `18446744073709551613` and `…614` would become one REAL key. So:
 * - decimal(p,s) is declared `DECIMAL_BLOB(p,s)`: the `BLOB` in the name means no affinity,
 *   nothing is converted, and the writer decides per value ({@link decimalValueSql}): a
 *   value of at most 15 significant digits is stored as INTEGER or REAL (exact: every
 *   15-digit decimal survives a float round trip), so comparisons, ORDER BY and SUM work
 *   as on numbers; a longer one as its canonical text (no trailing fraction zeros), read
 *   back digit for digit, distinct from every other value. SQLite >= 3.43 sums REALs with
 *   Kahan-Babuska-Neumaier summation, so ROUND(SUM(x), s) is exact to the column's scale
 *   (test/destinations/decimal-sum.test.ts); `decimal_sum(x)` sums any of them exactly
 *   (registered on Tributary's connection, built into the sqlite3 shell).
 * - json is declared `JSON_TEXT`: TEXT affinity keeps `12345678901234567890123` or `1.50`
 *   as the JSON text it is.
 * Tables made before these declarations keep `DECIMAL(p,s)` / `JSON` (read the same way)
 * until a widening or a full refresh rebuilds them.
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  quote: (id) => `"${id.replaceAll('"', '""')}"`,
  typeSql: (t: ColumnType) => {
    switch (t.kind) {
      case 'bool':
        return 'BOOLEAN';
      case 'integer':
        return 'BIGINT';
      case 'decimal':
        return `DECIMAL_BLOB(${t.precision},${t.scale})`;
      case 'date':
        return 'DATE';
      case 'datetime':
        return 'DATETIME';
      case 'text':
        return 'TEXT';
      case 'json':
        return 'JSON_TEXT';
    }
  },
  autoIdSql: (name) => `"${name}" INTEGER PRIMARY KEY AUTOINCREMENT`,
  keyTextSql: 'TEXT',
  longTextSql: 'TEXT',
  shareLockSql: '',
  exactNumberSql: (text) => {
    // Two members: the number as a column of numbers holds it (INTEGER, or a REAL of at most
    // 15 digits: a DECIMAL_BLOB's own choice, decimalValue) and the canonical text a
    // DECIMAL_BLOB keeps a longer decimal as. An INTEGER-affinity column turns the text into
    // its exact integer too; a view's computed column, without affinity, needs the number.
    const exact = decimalValue(text);
    const params: DbValue[] = [];
    if (typeof exact !== 'string') params.push(exact);
    else if (!text.includes('.') && BigInt(text) >= INT64_MIN && BigInt(text) <= INT64_MAX)
      params.push(BigInt(text));
    params.push(text);
    return { sql: params.map(() => '?').join(', '), params };
  },
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Logical type of a declared SQLite type written by `typeSql`; unknown types read as text. */
export function parseSqliteType(declared: string): ColumnType {
  const t = declared.trim().toUpperCase();
  const dec = /^(?:DECIMAL_BLOB|DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (dec) return { kind: 'decimal', precision: Number(dec[1]), scale: Number(dec[2]) };
  if (t === 'BOOLEAN' || t === 'BOOL') return { kind: 'bool' };
  if (t === 'BIGINT' || t === 'INTEGER' || t === 'INT') return { kind: 'integer' };
  if (t === 'DATE') return { kind: 'date' };
  if (t === 'DATETIME' || t === 'TIMESTAMP') return { kind: 'datetime' };
  if (t === 'JSON_TEXT' || t === 'JSON') return { kind: 'json' };
  return { kind: 'text' };
}

/** Most significant digits a 64-bit float holds for every decimal value (DBL_DIG). */
export const FLOAT_DIGITS = 15;

/**
 * SQL storing the canonical decimal text `x` (what coercion makes: digits, one optional
 * `-` and `.`, no trailing fraction zero) exactly in a `DECIMAL_BLOB` column: as INTEGER or
 * REAL when it has at most {@link FLOAT_DIGITS} digits after leading zeros, else as text.
 * `x` is an SQL expression without side effects (it is evaluated up to three times).
 */
export function decimalValueSql(x: string): string {
  return `CASE WHEN length(ltrim(replace(replace(${x}, '-', ''), '.', ''), '0')) <= ${FLOAT_DIGITS} THEN CAST(${x} AS NUMERIC) ELSE ${x} END`;
}

/** {@link decimalValueSql} in JS, for bound values: a number (REAL), a bigint (INTEGER) or the text. */
export function decimalValue(x: string): number | bigint | string {
  let digits = 0;
  let leading = true;
  for (let i = 0; i < x.length; i++) {
    const c = x.charCodeAt(i);
    if (c === 48 && leading) continue;
    if (c >= 48 && c <= 57) {
      leading = false;
      digits++;
    }
  }
  if (digits > FLOAT_DIGITS) return x;
  return x.includes('.') ? Number(x) : BigInt(x);
}

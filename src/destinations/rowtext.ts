/**
 * Text row formats of the bulk paths, pure functions with no driver behind them, so that
 * worker threads can encode rows for a destination that advertises the format
 * (`Capabilities.rowFormat`) and the main thread only forwards text.
 */
import type { DbValue } from '../core/types.js';

/**
 * Batches and rows that went as the file's own CSV text (TableWriter.writeCsv, the fast
 * path), counted by the writers: for tests and benchmarks.
 */
export const csvLoads = { batches: 0, rows: 0 };

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPE_ALL = /[\\\t\n\r\0]/g;

/**
 * One value as a LOAD DATA field (`FIELDS TERMINATED BY '\t' ESCAPED BY '\\'`): `\N` is
 * NULL, so an empty string stays empty and the text `\N` is sent as `\\N`; backslash, tab,
 * newline, carriage return and NUL are escaped; booleans are 1/0; bigints their digits.
 */
export function tsvField(v: DbValue): string {
  if (v === null) return '\\N';
  switch (typeof v) {
    case 'string':
      return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPE_ALL, (c) => ESCAPES[c] as string) : v;
    case 'boolean':
      return v ? '1' : '0';
    default:
      return String(v);
  }
}

/** The fields of one row, tab-separated (no line end). */
export function tsvRow(values: readonly DbValue[]): string {
  let line = values.length > 0 ? tsvField(values[0] as DbValue) : '';
  for (let i = 1; i < values.length; i++) line += '\t' + tsvField(values[i] as DbValue);
  return line;
}

/**
 * Rows as one JSON array of arrays (`RowFormat` json): bigints as digit strings (SQLite's
 * INTEGER affinity stores them as exact integers), booleans as true/false (read back as 1/0).
 * The values are what coercion makes — strings, safe integers, bigints, booleans, null — so
 * no number loses precision on the way.
 */
export function jsonRows(rows: ReadonlyArray<readonly DbValue[]>): string {
  const out: unknown[] = [];
  for (const values of rows) {
    let row: readonly unknown[] = values;
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] === 'bigint') {
        row = values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
        break;
      }
    }
    out.push(row);
  }
  return JSON.stringify(out);
}

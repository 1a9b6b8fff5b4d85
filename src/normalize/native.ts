/**
 * The fast path's test (docs/performance.md "The fast path"): whether a batch of CSV records
 * can go to the server as the file's own text — for MySQL/MariaDB's `LOAD DATA … FIELDS
 * OPTIONALLY ENCLOSED BY '"'` or PostgreSQL's `COPY … (FORMAT csv)` to parse — instead of
 * being coerced and encoded again, and give exactly the rows the encoder would have written.
 * Pure: no I/O.
 *
 * A batch qualifies when its text is known (`CsvSpan`: one LF-ended line per record, no
 * header, no CR, no blank line) and every record is a row whose every value is in the one
 * form the server reads as Tributary stores it:
 *
 * - empty: NULL, as the encoder makes it; never in a key or cursor column (the encoder would
 *   reject the row);
 * - integer: `0` or `-?[1-9][0-9]*` within 64 bits (no `+`, no leading zero, no `-0`);
 * - decimal(p,s): the same integer part, then optionally `.` and at most `s` digits; at
 *   most `p − s` integer digits; no negative zero;
 * - date: `YYYY-MM-DD`, a valid date;
 * - datetime: `YYYY-MM-DD HH:MM:SS[.f…]` with no offset: the text the encoder would send
 *   but for trailing zeros of the fraction, which the server reads the same;
 * - text: any text without a line break or a quote, other than `NULL` (which an unquoted
 *   field would make SQL NULL) and `\.` (PostgreSQL's end of data, alone on a line), within
 *   the column's limits (a quote may stand unquoted in the file, `ab"c`: literal text to
 *   papaparse and to MariaDB, the start of a quoted part to PostgreSQL);
 * - bool and json never (the server would read `true` or `{…}` otherwise).
 *
 * The header's fields must be the table's columns, each once, all of them (no capture, no
 * column format, no column the table lacks, none of the table's missing: the server would
 * give a missing one its DEFAULT), and the delimiter one of `,` `;` tab `|`. Anything
 * else — one value is enough — sends the batch the usual way, so the fast path changes what
 * a load costs and never what it stores (test/e2e/fast-path.test.ts compares both paths
 * value by value on random files).
 */
import type { ColumnType, LiveTable, SourceItem } from '../core/types.js';
import { scanTemporal, VALID_DATE, VALID_DATETIME } from '../schema/scan.js';
import type { CsvSpan } from '../sources/csv.js';
import type { FlatLayout } from './shape.js';

/** A batch as the file's own CSV text, and how the server is to read it. */
export interface NativeCsv {
  /** The text, in pieces (`csvBytes` makes them one buffer). */
  texts: readonly string[];
  rows: number;
  /** The table's column of each field, in the file's order. */
  columns: string[];
  delimiter: string;
  /** Some field is empty (NULL): the writer's statement must read an empty field as NULL. */
  nulls: boolean;
}

/** Pieces of text as one UTF-8 buffer of its own (transferable to another thread). */
export function csvBytes(texts: readonly string[]): Buffer {
  let length = 0;
  for (const t of texts) length += Buffer.byteLength(t, 'utf8');
  const out = Buffer.allocUnsafeSlow(length);
  let at = 0;
  for (const t of texts) at += out.write(t, at, 'utf8');
  return out;
}

const DELIMITERS = new Set([',', ';', '\t', '|']);

/** What a batch needs that depends only on the layout and the table (computed once per layout). */
export interface NativePlan {
  /** Per field position, its column of the table. */
  columns: string[];
  /** Per field position: must not be empty (key, cursor). */
  required: boolean[];
  checks: Array<(v: string) => boolean>;
  /**
   * The destination's limit on a key's UTF-8 bytes (TableLimits.maxKeyBytes), counted as the
   * encoder counts it (8 for an integer) — on the file's text, which is never shorter than
   * the encoder's (a decimal loses trailing zeros), so a key within it here is within it there.
   */
  keyBytes?: { max: number; fields: number[]; text: boolean[] };
}

function isText(table: LiveTable, i: number): boolean {
  return table.columns[i]?.type.kind !== 'integer';
}

/**
 * The plan for records of `layout` into `table`, or undefined when no batch of it can take
 * the fast path (a capture, a column format, a field the table lacks, a bool or json column
 * in the file, a column with a limit other than text length).
 */
export function nativePlan(
  layout: FlatLayout,
  table: LiveTable,
  primaryKey: readonly string[],
  cursor: string | undefined,
): NativePlan | undefined {
  if (layout.readers) return undefined;
  const width = layout.header.length;
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const columnAt: number[] = new Array(width).fill(-1);
  // Every column of the table in the file: one it lacks would take its DEFAULT on the server
  // (NULL from the encoder), and a key or cursor it lacks makes every row a reject.
  if (layout.columns.length !== width || width !== table.columns.length) return undefined;
  for (let j = 0; j < layout.columns.length; j++) {
    const p = layout.positions[j] as number;
    const i = index.get(layout.columns[j] as string);
    if (p < 0 || i === undefined || columnAt[p] !== -1) return undefined;
    columnAt[p] = i;
  }
  // jsonDepth and jsonNumbers concern json columns, which take no fast path (valueCheck).
  const limits = table.limits ?? {};
  const checks: Array<(v: string) => boolean> = [];
  for (const i of columnAt) {
    const column = table.columns[i]!;
    const check = valueCheck(column.type, limits.maxChars?.[column.name], limits.noNul === true);
    if (!check) return undefined;
    checks.push(check);
  }
  const columns = columnAt.map((i) => table.columns[i]!.name);
  const required = columns.map((c) => primaryKey.includes(c) || c === cursor);
  const keyFields = columns.flatMap((c, p) => (primaryKey.includes(c) ? [p] : []));
  const maxKeyBytes = primaryKey.length > 0 ? limits.maxKeyBytes : undefined;
  return {
    columns,
    required,
    checks,
    ...(maxKeyBytes === undefined
      ? {}
      : {
          keyBytes: {
            max: maxKeyBytes,
            fields: keyFields,
            text: keyFields.map((p) => isText(table, columnAt[p]!)),
          },
        }),
  };
}

/**
 * A batch cut into runs, in order: records the server can read as they are, as their CSV
 * text (`csv`), and records `from` … `to - 1` that must be encoded. The unit is a piece of
 * the span (the records of one chunk of text): one value that must be encoded sends its
 * piece the usual way, not the batch.
 */
export function nativeParts(
  plan: NativePlan,
  items: readonly SourceItem[],
  span: CsvSpan,
): Array<{ from: number; to: number; csv?: NativeCsv }> {
  const parts: Array<{ from: number; to: number; csv?: NativeCsv }> = [];
  if (!DELIMITERS.has(span.delimiter)) return [{ from: 0, to: items.length }];
  let at = 0;
  for (let k = 0; k < span.texts.length; k++) {
    const to = at + (span.counts[k] as number);
    const nulls = nativePiece(plan, items, at, to);
    const last = parts[parts.length - 1];
    if (nulls === undefined) {
      if (last && !last.csv) last.to = to;
      else parts.push({ from: at, to });
    } else if (last?.csv) {
      (last.csv.texts as string[]).push(span.texts[k] as string);
      last.csv.rows += to - at;
      last.csv.nulls ||= nulls;
      last.to = to;
    } else {
      const csv: NativeCsv = {
        texts: [span.texts[k] as string],
        rows: to - at,
        columns: plan.columns,
        delimiter: span.delimiter,
        nulls,
      };
      parts.push({ from: at, to, csv });
    }
    at = to;
  }
  if (at !== items.length) throw new Error(`internal: a CSV span of ${at} records for ${items.length}`);
  return parts;
}

/** Whether items `from` … `to - 1` can go as their text: undefined if not, else whether a field is empty. */
function nativePiece(
  plan: NativePlan,
  items: readonly SourceItem[],
  from: number,
  to: number,
): boolean | undefined {
  const { checks, required } = plan;
  const width = checks.length;
  let nulls = false;
  for (let i = from; i < to; i++) {
    const item = items[i] as SourceItem;
    if (item.kind !== 'record') return undefined;
    const values = item.values;
    if (values === undefined || values.length !== width) return undefined;
    for (let p = 0; p < width; p++) {
      const v = values[p];
      if (v === null || v === undefined || v === '') {
        if (required[p]) return undefined;
        nulls = true;
        continue;
      }
      if (typeof v !== 'string' || !(checks[p] as (v: string) => boolean)(v)) return undefined;
    }
    const key = plan.keyBytes;
    if (key) {
      let bytes = 0;
      for (let k = 0; k < key.fields.length; k++) {
        const v = values[key.fields[k] as number];
        bytes += key.text[k] && typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 8;
      }
      if (bytes > key.max) return undefined;
    }
  }
  return nulls;
}

/** The check of one column's values, or undefined when the column takes no fast path. */
function valueCheck(
  type: ColumnType,
  maxChars: number | undefined,
  noNul: boolean,
): ((v: string) => boolean) | undefined {
  switch (type.kind) {
    case 'integer':
      return (v) => integerEnd(v) === v.length && inInt64(v);
    case 'decimal': {
      const intDigits = type.precision - type.scale;
      return (v) => decimalFits(v, intDigits, type.scale);
    }
    case 'date':
      return (v) => v.length === 10 && scanTemporal(v, 0, 10) === VALID_DATE;
    case 'datetime':
      return (v) => scanTemporal(v, 0, v.length) === VALID_DATETIME && plainDatetime(v);
    case 'text':
      return (v) => {
        // A quote: the file may hold it unquoted (`ab"c`, literal text to papaparse), which
        // PostgreSQL's CSV reader takes for the start of a quoted part.
        if (v === 'NULL' || v === '\\.' || v.includes('\n') || v.includes('\r') || v.includes('"'))
          return false;
        if (noNul && v.includes('\u0000')) return false;
        // Characters, not UTF-16 units, as the encoder counts them.
        if (maxChars !== undefined && v.length > maxChars && [...v].length > maxChars) return false;
        return true;
      };
    default:
      return undefined;
  }
}

/**
 * A valid datetime (scanTemporal) written `YYYY-MM-DD HH:MM:SS` then nothing or `.` and
 * digits: no `T`, no offset. Its text is the encoder's but for trailing zeros of the fraction
 * (`.120` → `.12`), which the server reads the same.
 */
function plainDatetime(v: string): boolean {
  if (v.length < 19 || v.charCodeAt(10) !== 32 || v.charCodeAt(16) !== 58) return false;
  if (v.length === 19) return true;
  if (v.charCodeAt(19) !== 46) return false;
  for (let i = 20; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Integer text (as `integerEnd` accepts it) within the signed 64-bit range. */
function inInt64(v: string): boolean {
  const negative = v.charCodeAt(0) === 45;
  const n = v.length - (negative ? 1 : 0);
  if (n < 19) return true;
  if (n > 19) return false;
  return (negative ? v.slice(1) : v) <= (negative ? '9223372036854775808' : '9223372036854775807');
}

/**
 * End of `0` or `-?[1-9][0-9]*` at the start of `v` (the sign included), or -1. `-0` is
 * refused: the encoder stores 0, and the server may keep the sign of a decimal zero.
 */
function integerEnd(v: string): number {
  let i = 0;
  const negative = v.charCodeAt(i) === 45;
  if (negative) i++;
  const first = v.charCodeAt(i);
  if (first === 48) return negative ? -1 : i + 1;
  if (first < 49 || first > 57) return -1;
  i++;
  while (i < v.length) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

function decimalFits(v: string, intDigits: number, scale: number): boolean {
  const negative = v.charCodeAt(0) === 45;
  let end = integerEnd(v);
  if (end === -1) {
    // `-0.5`: a negative number whose integer part is 0.
    if (!negative || v.charCodeAt(1) !== 48 || v.charCodeAt(2) !== 46) return false;
    end = 2;
  }
  const digits = end - (negative ? 1 : 0);
  if (digits > intDigits) return false;
  if (end === v.length) return true;
  if (v.charCodeAt(end) !== 46) return false;
  const fraction = v.length - end - 1;
  if (fraction < 1 || fraction > scale) return false;
  let nonZero = !(digits === 1 && v.charCodeAt(end - 1) === 48);
  for (let i = end + 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero || !negative; // no negative zero
}

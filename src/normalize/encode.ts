import type { ColumnType, Contract, DbValue, LiveTable, RejectCode, RowNode } from '../core/types.js';
import { coerceValue, MISFIT, misfitReason } from '../schema/coerce.js';
import { FormatMisfit } from '../schema/formats.js';
import { formatType } from '../schema/hints.js';
import type { FlatLayout, Shaped } from './shape.js';

/** What became of one record on its way to the table. */
export type Encoded =
  | { kind: 'row'; node: RowNode; discardedValues: number }
  | { kind: 'reject'; code: RejectCode; column: string | null; message: string }
  | { kind: 'discard'; reason: string };

type RowFailure = { ok: false; discard: boolean; code: RejectCode; column: string; message: string };
type RowResult = { ok: true; values: DbValue[]; discarded: number } | RowFailure;

const isEmpty = (v: unknown) => v === null || v === undefined || v === '';

/**
 * Per column, what the destination cannot store (LiveTable.limits): a function saying why a
 * coerced value is over the limit, or nothing.
 */
function limitChecks(table: LiveTable): Array<((v: DbValue) => string | undefined) | undefined> {
  const { maxChars, jsonDepth, noNul, noLoneSurrogates, jsonNumbers } = table.limits ?? {};
  return table.columns.map((c) => {
    const checks: Array<(v: DbValue) => string | undefined> = [];
    const max = maxChars?.[c.name];
    if (max !== undefined && c.type.kind === 'text') {
      checks.push((v) => {
        if (typeof v !== 'string' || v.length <= max) return undefined;
        const chars = [...v].length; // the column counts characters, not UTF-16 units
        return chars <= max
          ? undefined
          : `${chars} characters, longer than the ${max} the destination's key column holds (a key's text columns share the index's 3,072 bytes)`;
      });
    }
    if (jsonDepth !== undefined && c.type.kind === 'json') {
      checks.push((v) => {
        const depth = typeof v === 'string' ? nesting(v) : 0;
        return depth <= jsonDepth
          ? undefined
          : `JSON nested ${depth} levels deep; the destination stores at most ${jsonDepth} (MariaDB's JSON_VALID)`;
      });
    }
    if (noNul && c.type.kind === 'text') {
      checks.push((v) =>
        typeof v === 'string' && v.includes('\u0000')
          ? "a NUL character (U+0000), which the destination's text cannot hold"
          : undefined,
      );
    }
    if (noNul && c.type.kind === 'json') {
      checks.push((v) =>
        typeof v === 'string' && JSON_NUL.test(v)
          ? "a NUL character (\\u0000) in JSON, which the destination's JSON cannot hold"
          : undefined,
      );
    }
    if (noLoneSurrogates && c.type.kind === 'json') {
      checks.push((v) =>
        typeof v === 'string' && loneSurrogate(v)
          ? "a UTF-16 surrogate escape without its pair (such as \\ud800) in JSON, which the destination's JSON cannot hold"
          : undefined,
      );
    }
    if (jsonNumbers !== undefined && c.type.kind === 'json') {
      checks.push((v) => (typeof v === 'string' ? numberOver(v, jsonNumbers) : undefined));
    }
    if (checks.length === 0) return undefined;
    if (checks.length === 1) return checks[0];
    return (v) => {
      for (const check of checks) {
        const over = check(v);
        if (over !== undefined) return over;
      }
      return undefined;
    };
  });
}

/** `\u0000` as an escape in JSON text (not a backslash written as `\\` before `u0000`). */
const JSON_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

/**
 * The row's primary key over the destination's limit in UTF-8 bytes (LiveTable.limits
 * `maxKeyBytes`), or nothing; undefined when the destination has no such limit.
 */
function keyCheck(
  table: LiveTable,
  index: ReadonlyMap<string, number>,
): ((values: DbValue[]) => RowFailure | undefined) | undefined {
  const max = table.limits?.maxKeyBytes;
  if (max === undefined || table.primaryKey.length === 0) return undefined;
  const at = table.primaryKey.map((k) => index.get(k)).filter((i): i is number => i !== undefined);
  return (values) => {
    let bytes = 0;
    for (const i of at) {
      const v = values[i];
      bytes += typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 8;
    }
    if (bytes <= max) return undefined;
    const column = table.primaryKey.join(', ');
    return {
      ok: false,
      discard: false,
      code: 'DEST_LIMIT',
      column: table.primaryKey[0] as string,
      message: `${column}: a key of ${bytes} bytes, longer than the ${max} the destination's key index holds`,
    };
  };
}

/** Whether JSON text holds a `\uD800`–`\uDFFF` escape that is not half of a high-low pair. */
function loneSurrogate(json: string): boolean {
  if (!SURROGATE_ESCAPE.test(json)) return false;
  let high = false; // the escape just before was a high surrogate, waiting for its low half
  for (let i = 0; i < json.length; i++) {
    if (json.charCodeAt(i) !== 0x5c) {
      if (high) return true;
      continue;
    }
    const next = json[i + 1];
    if (next !== 'u') {
      if (high) return true;
      i++; // an escaped character: `\\` or `\"` is never the start of an escape
      continue;
    }
    const unit = Number.parseInt(json.slice(i + 2, i + 6), 16);
    i += 5;
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      if (!high) return true;
      high = false;
    } else if (high) return true;
    else high = unit >= 0xd800 && unit <= 0xdbff;
  }
  return high;
}

/** `\u` followed by d8–df: what every surrogate escape starts with (a quick first look). */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** A JSON number at the start of the match: sign, integer digits, fraction digits, exponent. */
const JSON_NUMBER = /-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?/y;

/**
 * Why a number of JSON text does not fit a decimal of `limit`'s size (TableLimits.jsonNumbers),
 * or undefined. Only numbers outside strings are read; text without an exponent that is
 * shorter than both limits has none too large.
 */
function numberOver(
  json: string,
  limit: { integerDigits: number; fractionDigits: number },
): string | undefined {
  if (json.length <= Math.min(limit.integerDigits, limit.fractionDigits) && !/[eE]/.test(json))
    return undefined;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < json.length && json.charCodeAt(i) !== 0x22; i++) if (json.charCodeAt(i) === 0x5c) i++;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    JSON_NUMBER.lastIndex = i;
    const m = JSON_NUMBER.exec(json);
    if (!m) continue;
    i += m[0].length - 1;
    const whole = m[1] as string;
    const fraction = m[2] ?? '';
    const exponent = Number(m[3] ?? 0); // a long exponent is Infinity: over either way
    const digits = whole + fraction;
    const first = digits.search(/[1-9]/); // -1: the number is zero
    const before = first < 0 ? 0 : whole.length - first + exponent;
    const after = Math.max(0, fraction.length - exponent);
    if (
      before > limit.integerDigits ||
      after > limit.fractionDigits ||
      Math.abs(exponent) > limit.integerDigits + limit.fractionDigits
    ) {
      const shown = m[0].length > 40 ? `${m[0].slice(0, 40)}…` : m[0];
      return `the JSON number ${shown} does not fit the destination's exact JSON numbers (at most ${limit.integerDigits.toLocaleString('en-US')} digits before the point and ${limit.fractionDigits.toLocaleString('en-US')} after it)`;
    }
  }
  return undefined;
}

/** How deep arrays and objects nest in JSON text (strings skipped). */
function nesting(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Encodes one row: its values as a Map, or a flat record's values through its layout. */
export type RowEncoder = ((row: ReadonlyMap<string, unknown>) => RowResult) & {
  flat(layout: FlatLayout, values: readonly unknown[]): RowResult;
};

/**
 * Values of a shaped row in the table's column order, each coerced to its column's type,
 * with the table's contract deciding what happens to a value that does not fit and to a
 * value in a column the table does not have (docs/schema-evolution.md).
 */
export function rowEncoder(table: LiveTable, contract: Contract, onUnknown?: () => void): RowEncoder {
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const types = table.columns.map((c) => c.type);
  const width = table.columns.length;
  const limit = limitChecks(table);
  const overKey = keyCheck(table, index);
  /** Puts `v` of `col` (table column `i`) into `values`: 0 done, 1 discarded, or why not. */
  /** What the contract makes of a value that does not fit its column (`type`: the column's, if it has one). */
  const misfitOf = (col: string, reason: string, type: ColumnType | undefined): 1 | RowFailure => {
    switch (contract.dataType) {
      case 'discard_value':
        return 1;
      case 'discard_row':
        return {
          ok: false,
          discard: true,
          code: 'TYPE_MISMATCH',
          column: col,
          message: `${col}: ${reason}`,
        };
      case 'freeze':
        return {
          ok: false,
          discard: false,
          code: 'CONTRACT_FROZEN',
          column: col,
          message: `${col}: ${reason}${type ? ` (the contract freezes its type, ${formatType(type)})` : ''}`,
        };
      default:
        return {
          ok: false,
          discard: false,
          code: 'TYPE_MISMATCH',
          column: col,
          message: `${col}: ${reason}`,
        };
    }
  };
  /** Puts `v` of `col` (table column `i`) into `values`: 0 done, 1 discarded, or why not. */
  const put = (values: DbValue[], i: number | undefined, col: string, v: unknown): 0 | 1 | RowFailure => {
    // Not written in its column's format: a misfit whether or not the column exists yet (a
    // column whose every value is one is never created, as a column of NULLs is not).
    if (typeof v === 'object' && v instanceof FormatMisfit) {
      return misfitOf(col, v.reason, i === undefined ? undefined : types[i]);
    }
    if (i === undefined) {
      // Not in the table: NULL-only so far (never created), or kept out by the contract.
      if (isEmpty(v)) {
        onUnknown?.();
        return 0;
      }
      switch (contract.columns) {
        case 'discard_value':
          return 1;
        case 'discard_row':
          return {
            ok: false,
            discard: true,
            code: 'CONTRACT_FROZEN',
            column: col,
            message: `new column ${col}`,
          };
        default:
          return {
            ok: false,
            discard: false,
            code: 'CONTRACT_FROZEN',
            column: col,
            message: `${col}: the table has no such column and its contract freezes columns`,
          };
      }
    }
    const type = types[i] as ColumnType;
    const coerced = coerceValue(v, type);
    if (coerced !== MISFIT) {
      const over = limit[i]?.(coerced);
      if (over !== undefined)
        return { ok: false, discard: false, code: 'DEST_LIMIT', column: col, message: `${col}: ${over}` };
      values[i] = coerced;
      return 0;
    }
    return misfitOf(col, misfitReason(), type);
  };
  const encode = (row: ReadonlyMap<string, unknown>): RowResult => {
    const values: DbValue[] = new Array(width).fill(null);
    let discarded = 0;
    for (const [col, v] of row) {
      const r = put(values, index.get(col), col, v);
      if (r === 0) continue;
      if (r === 1) discarded++;
      else return r;
    }
    return overKey?.(values) ?? { ok: true, values, discarded };
  };
  // The table column of each layout column, for the layout last seen (one per file).
  let layout: FlatLayout | undefined;
  let target: (number | undefined)[] = [];
  const flat = (l: FlatLayout, source: readonly unknown[]): RowResult => {
    if (l !== layout) {
      layout = l;
      target = l.columns.map((c) => index.get(c));
    }
    const { columns, positions, constants, readers } = l;
    const values: DbValue[] = new Array(width).fill(null);
    let discarded = 0;
    // The same columns in the same order, and the same values, as `encode(shape(data).root)`.
    for (let j = 0; j < columns.length; j++) {
      const p = positions[j] as number;
      let v = p >= 0 ? source[p] : constants[j];
      const read = readers?.[j];
      if (read !== undefined) v = read(v);
      const r = put(values, target[j], columns[j] as string, v);
      if (r === 0) continue;
      if (r === 1) discarded++;
      else return r;
    }
    return overKey?.(values) ?? { ok: true, values, discarded };
  };
  return Object.assign(encode, { flat });
}

export interface RecordEncoderInput {
  table: LiveTable;
  childTables: readonly LiveTable[];
  primaryKey: readonly string[];
  cursor: string | undefined;
  contract: Contract;
  /** Called for each empty value of a column the table does not have (a one-pass load must know: runner/load/one-pass.ts). */
  onUnknown?: () => void;
}

/** Encodes records: shaped ones, and flat ones by their layout (see `Shaper.layout`). */
export type RecordEncoder = ((shaped: Shaped) => Encoded) & {
  /** `encode(shape(record.data))` for a flat record, without building `data` or its Map. */
  flat(layout: FlatLayout, values: readonly unknown[]): Encoded;
};

/**
 * Shaped record → a row for the writer, a reject with its reason, or a discard. The one
 * path every loaded row takes (the runner, and re-tried rejects).
 */
export function recordEncoder(input: RecordEncoderInput): RecordEncoder {
  const { table, primaryKey, cursor, contract } = input;
  const root = rowEncoder(table, contract, input.onUnknown);
  const children = new Map(input.childTables.map((t) => [t.name, rowEncoder(t, contract, input.onUnknown)]));
  const keyIdx = primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
  const cursorIdx = cursor ? table.columns.findIndex((c) => c.name === cursor) : -1;
  const finish = (r: RowResult, shapedChildren: Shaped['children']): Encoded => {
    if (!r.ok) {
      return r.discard
        ? { kind: 'discard', reason: r.message }
        : { kind: 'reject', code: r.code, column: r.column, message: r.message };
    }
    for (let k = 0; k < keyIdx.length; k++) {
      const v = r.values[keyIdx[k] as number];
      if (v === null || v === '') {
        const col = primaryKey[k] as string;
        return {
          kind: 'reject',
          code: 'MISSING_PRIMARY_KEY',
          column: col,
          message: `primary key column ${col} is empty`,
        };
      }
    }
    if (cursorIdx >= 0 && r.values[cursorIdx] === null) {
      return {
        kind: 'reject',
        code: 'MISSING_CURSOR',
        column: cursor ?? null,
        message: `cursor column ${cursor} is empty`,
      };
    }
    const node: RowNode = { values: r.values };
    let discardedValues = r.discarded;
    if (shapedChildren) {
      node.children = new Map();
      const key = keyIdx.map((i) => r.values[i] as DbValue);
      for (const [name, rows] of shapedChildren) {
        const enc = children.get(name);
        if (!enc) {
          discardedValues += rows.length; // the child table is kept out by the contract
          continue;
        }
        const out: DbValue[][] = [];
        for (const row of rows) {
          const c = enc(row);
          if (!c.ok) {
            const message = `${name}: ${c.message}`;
            return c.discard
              ? { kind: 'discard', reason: message }
              : { kind: 'reject', code: c.code, column: `${name}.${c.column}`, message };
          }
          discardedValues += c.discarded;
          for (let k = 0; k < key.length; k++) c.values[k] = key[k] as DbValue;
          out.push(c.values);
        }
        node.children.set(name, out);
      }
    }
    return { kind: 'row', node, discardedValues };
  };
  const encode = (shaped: Shaped): Encoded => finish(root(shaped.root), shaped.children);
  // A flat record has no child rows.
  const flat = (layout: FlatLayout, values: readonly unknown[]): Encoded =>
    finish(root.flat(layout, values), undefined);
  return Object.assign(encode, { flat });
}

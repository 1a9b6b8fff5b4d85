import type { ColumnType, Contract, DbValue, RejectCode } from '../core/types.js';
import type { LiveTable, RowNode } from '../destinations/types.js';
import { coerce, formatType } from '../schema/types.js';
import type { Shaped } from './shape.js';

/** What became of one record on its way to the table. */
export type Encoded =
  | { kind: 'row'; node: RowNode; discardedValues: number }
  | { kind: 'reject'; code: RejectCode; column: string | null; message: string }
  | { kind: 'discard'; reason: string };

type RowResult =
  | { ok: true; values: DbValue[]; discarded: number }
  | { ok: false; discard: boolean; code: RejectCode; column: string; message: string };

const isEmpty = (v: unknown) => v === null || v === undefined || v === '';

/**
 * Values of a shaped row in the table's column order, each coerced to its column's type,
 * with the table's contract deciding what happens to a value that does not fit and to a
 * value in a column the table does not have (docs/schema-evolution.md).
 */
export function rowEncoder(
  table: LiveTable,
  contract: Contract,
): (row: ReadonlyMap<string, unknown>) => RowResult {
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const types = table.columns.map((c) => c.type);
  const width = table.columns.length;
  return (row) => {
    const values: DbValue[] = new Array(width).fill(null);
    let discarded = 0;
    for (const [col, v] of row) {
      const i = index.get(col);
      if (i === undefined) {
        // Not in the table: NULL-only so far (never created), or kept out by the contract.
        if (isEmpty(v)) continue;
        switch (contract.columns) {
          case 'discard_value':
            discarded++;
            continue;
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
      const r = coerce(v, type);
      if (r.ok) {
        values[i] = r.value;
        continue;
      }
      switch (contract.dataType) {
        case 'discard_value':
          discarded++;
          continue;
        case 'discard_row':
          return {
            ok: false,
            discard: true,
            code: 'TYPE_MISMATCH',
            column: col,
            message: `${col}: ${r.reason}`,
          };
        case 'freeze':
          return {
            ok: false,
            discard: false,
            code: 'CONTRACT_FROZEN',
            column: col,
            message: `${col}: ${r.reason} (the contract freezes its type, ${formatType(type)})`,
          };
        default:
          return {
            ok: false,
            discard: false,
            code: 'TYPE_MISMATCH',
            column: col,
            message: `${col}: ${r.reason}`,
          };
      }
    }
    return { ok: true, values, discarded };
  };
}

export interface RecordEncoderInput {
  table: LiveTable;
  childTables: readonly LiveTable[];
  primaryKey: readonly string[];
  cursor: string | undefined;
  contract: Contract;
}

/**
 * Shaped record → a row for the writer, a reject with its reason, or a discard. The one
 * path every loaded row takes (the runner, and re-tried rejects).
 */
export function recordEncoder(input: RecordEncoderInput): (shaped: Shaped) => Encoded {
  const { table, primaryKey, cursor, contract } = input;
  const root = rowEncoder(table, contract);
  const children = new Map(input.childTables.map((t) => [t.name, rowEncoder(t, contract)]));
  const keyIdx = primaryKey.map((k) => table.columns.findIndex((c) => c.name === k));
  const cursorIdx = cursor ? table.columns.findIndex((c) => c.name === cursor) : -1;
  return (shaped) => {
    const r = root(shaped.root);
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
    if (shaped.children) {
      node.children = new Map();
      const key = keyIdx.map((i) => r.values[i] as DbValue);
      for (const [name, rows] of shaped.children) {
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
}

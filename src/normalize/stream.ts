import type { ResolvedSource } from '../config/resolve.js';
import type { DbValue, LiveTable, Reject, RowNode, SourceItem } from '../core/types.js';
import { csvSpan } from '../sources/csv.js';
import { type Encoded, recordEncoder } from './encode.js';
import { type NativeCsv, type NativePlan, nativeParts, nativePlan } from './native.js';
import { type FlatLayout, type FlatRecord, makeShaper, rawOf } from './shape.js';

/** What the second pass needs: the source and the live tables its rows go to. */
export interface EncodeInput {
  source: ResolvedSource;
  captures: Readonly<Record<string, string>>;
  children: boolean;
  table: LiveTable;
  childTables: readonly LiveTable[];
  /**
   * Batches whose CSV text the server can read as it is come as that text (`EncodedBatch.csv`,
   * src/normalize/native.ts): for a writer that takes it (TableWriter.writeCsv).
   */
  native?: boolean;
}

/** Rows ready for the writer, with the rejects and discards of the same source batch. */
export interface EncodedBatch {
  rows: RowNode[];
  rejects: Reject[];
  discardedRows: number;
  discardedValues: number;
  /** Empty values of columns the table does not have (nothing to load; a one-pass load must know). */
  unknownColumns?: number;
  /** The batch as the file's own CSV text (with `rows` empty), for the server to read. */
  csv?: NativeCsv;
}

/**
 * The second pass over a stream of items (a whole file or a part of it): shape, coerce,
 * reject or discard each record. Pure apart from consuming the stream; runs on the main
 * thread or in a worker.
 */
export async function* encodeBatches(
  batches: AsyncIterable<SourceItem[]>,
  input: EncodeInput,
): AsyncGenerator<EncodedBatch> {
  const { source } = input;
  let unknown = 0;
  const encode = recordEncoder({
    onUnknown: () => {
      unknown++;
    },
    table: input.table,
    childTables: input.childTables,
    primaryKey: source.primaryKey,
    cursor: source.cursor,
    contract: source.contract,
  });
  const shape = makeShaper(source, input.captures, input.children);
  let layout: FlatLayout | undefined; // of flat (CSV) records: the file's header
  let plan: { layout: FlatLayout; plan: NativePlan | undefined } | undefined;
  /** Items `from` … `to - 1` of `batch`, coerced, rejected or discarded one by one. */
  const encodeItems = (batch: readonly SourceItem[], from: number, to: number): EncodedBatch => {
    const out: EncodedBatch = { rows: [], rejects: [], discardedRows: 0, discardedValues: 0 };
    unknown = 0;
    for (let i = from; i < to; i++) {
      const item = batch[i] as SourceItem;
      if (item.kind === 'problem') {
        const { line, record, code, message, raw } = item;
        out.rejects.push({ table: source.table, line, record, code, column: null, message, raw });
        continue;
      }
      const values = item.values;
      let e: Encoded;
      if (values !== undefined && item.header !== undefined) {
        if (layout?.header !== item.header) layout = shape.layout(item as FlatRecord);
        e = encode.flat(layout, values);
      } else {
        e = encode(shape(item.data));
      }
      if (e.kind === 'row') {
        out.discardedValues += e.discardedValues;
        out.rows.push(e.node);
      } else if (e.kind === 'discard') {
        out.discardedRows++;
      } else {
        out.rejects.push({
          table: source.table,
          line: item.line,
          record: item.record,
          code: e.code,
          column: e.column,
          message: e.message,
          raw: rawOf(item.data),
        });
      }
    }
    if (unknown > 0) out.unknownColumns = unknown;
    return out;
  };
  for await (const batch of batches) {
    const first = batch[0];
    const span = input.native ? csvSpan(batch) : undefined;
    if (span && first?.kind === 'record' && first.values !== undefined && first.header !== undefined) {
      if (layout?.header !== first.header) layout = shape.layout(first as FlatRecord);
      if (plan?.layout !== layout) {
        plan = { layout, plan: nativePlan(layout, input.table, source.primaryKey, source.cursor) };
      }
      if (plan.plan) {
        // Piece by piece (a piece: the records of one chunk of text), in order: runs of
        // pieces the server can read as they are go as their text, the others are encoded.
        for (const part of nativeParts(plan.plan, batch, span)) {
          yield part.csv
            ? { rows: [], rejects: [], discardedRows: 0, discardedValues: 0, csv: part.csv }
            : encodeItems(batch, part.from, part.to);
        }
        continue;
      }
    }
    yield encodeItems(batch, 0, batch.length);
  }
}

/**
 * An encoded batch as it crosses from a worker to the writer: the row values as one JSON
 * text. JSON.parse of a flat array is ~4x faster than structured clone of row objects here
 * (0.36 vs 1.5 ms per 2,000 rows), and the main thread is the writer's.
 */
export interface WireBatch {
  width: number;
  /** JSON of all rows' values, row after row; bigints as digit strings (the writers bind those exactly). */
  values: string;
  /** JSON of `[rowIndex, childTable, rows][]`, when rows have child rows. */
  children?: string;
  rejects: Reject[];
  discardedRows: number;
  discardedValues: number;
  unknownColumns?: number;
}

export function toWire(batch: EncodedBatch, width: number): WireBatch {
  const flat: unknown[] = [];
  const children: Array<[number, string, unknown[][]]> = [];
  for (const [i, row] of batch.rows.entries()) {
    for (const v of row.values) flat.push(typeof v === 'bigint' ? v.toString() : v);
    if (row.children) for (const [t, rows] of row.children) children.push([i, t, rows.map(wireRow)]);
  }
  return {
    width,
    values: JSON.stringify(flat),
    ...(children.length > 0 ? { children: JSON.stringify(children) } : {}),
    rejects: batch.rejects,
    discardedRows: batch.discardedRows,
    discardedValues: batch.discardedValues,
    ...(batch.unknownColumns ? { unknownColumns: batch.unknownColumns } : {}),
  };
}

function wireRow(values: readonly unknown[]): unknown[] {
  return values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
}

export function fromWire(wire: WireBatch): EncodedBatch {
  const flat = JSON.parse(wire.values) as DbValue[];
  const rows: RowNode[] = [];
  for (let i = 0; i < flat.length; i += wire.width) rows.push({ values: flat.slice(i, i + wire.width) });
  if (wire.children) {
    for (const [i, table, childRows] of JSON.parse(wire.children) as Array<[number, string, DbValue[][]]>) {
      const row = rows[i] as RowNode;
      row.children ??= new Map();
      row.children.set(table, childRows);
    }
  }
  return {
    rows,
    rejects: wire.rejects,
    discardedRows: wire.discardedRows,
    discardedValues: wire.discardedValues,
    ...(wire.unknownColumns ? { unknownColumns: wire.unknownColumns } : {}),
  };
}

import type { ResolvedSource } from '../config/resolve.js';
import type { SourceRecord } from '../core/types.js';
import { type ChildRow, flattenRecord, INDEX_COLUMN } from '../schema/flatten.js';
import { columnReaders, type ValueReader } from '../schema/formats.js';
import { mapperRegistry, normalizeName } from '../schema/naming.js';

/** A record as rows: its root-table row and, per child table, its child rows. */
export interface Shaped {
  root: Map<string, unknown>;
  children: Map<string, Array<Map<string, unknown>>> | undefined;
}

/**
 * Where the root columns of a flat record (one with `values` and `header`, as the CSV
 * reader yields) come from: the columns of `shape(record.data).root`, in the same order,
 * each taken from `values` by position or, for a captured path segment, a constant.
 */
export interface FlatLayout {
  readonly header: readonly string[];
  /** Root column names, in `shape(data).root` order. */
  readonly columns: readonly string[];
  /** Per column, the index of its value in `record.values`, or -1 for a constant. */
  readonly positions: readonly number[];
  /** Per column, its value when its position is -1. */
  readonly constants: readonly unknown[];
  /**
   * Per column, the reader of its format (a source's column options), which a value goes
   * through before anything else, as in `shape`; undefined when no column has a format.
   */
  readonly readers?: readonly (ValueReader | undefined)[];
}

/** A record whose values come by position (see `SourceRecord.values`). */
export type FlatRecord = SourceRecord & Required<Pick<SourceRecord, 'values' | 'header'>>;

/**
 * Shapes records; `orderSensitive()` says whether a column name depended on first-seen
 * order; `layout(record)` is the {@link FlatLayout} of a flat record's header (the same
 * object for every record of a file), for the passes to take values by position instead
 * of building `data` and its root Map for each record: it names the columns exactly as
 * shaping the first such record would.
 */
export type Shaper = ((data: Record<string, unknown>) => Shaped) & {
  orderSensitive(): boolean;
  layout(record: FlatRecord): FlatLayout;
};

/**
 * Record → rows for one file of one source. Captured path segments become columns (they
 * win over a file column of the same name, which becomes `name_2`). A root column with a
 * format (`columns: { amount: { decimal_separator: "," } }`) holds its value as the format
 * reads it (`1234.50`, or a FormatMisfit), so both passes see the same. Child tables go one
 * level deep and only under a keyed (merge) table, whose key links them: arrays nested
 * inside child rows, and every array of objects of an unkeyed table, are kept as JSON.
 */
export function makeShaper(
  source: ResolvedSource,
  captures: Readonly<Record<string, string>>,
  childTables: boolean,
): Shaper {
  const table = source.table;
  const captured = Object.entries(captures).map(([k, v]) => [normalizeName(k), v] as const);
  const namers = mapperRegistry((t) =>
    t === table
      ? { reserved: captured.map(([k]) => k), renames: source.rename }
      : { reserved: [...source.primaryKey, INDEX_COLUMN] },
  );
  const readers = columnReaders(source.formats);
  const shape = (data: Record<string, unknown>): Shaped => {
    const flat = flattenRecord(data, table, namers);
    const root = flat.row;
    for (const [k, v] of captured) root.set(k, v);
    for (const [column, read] of readers) if (root.has(column)) root.set(column, read(root.get(column)));
    if (flat.children.length === 0) return { root, children: undefined };
    return { root, children: foldChildren(table, root, flat.children, childTables) };
  };
  let last: FlatLayout | undefined;
  const layout = (record: FlatRecord): FlatLayout => {
    if (last?.header === record.header) return last;
    // The columns of shape(record.data).root, in its order (for-in order, which puts
    // integer-like keys first, then captures), with the same calls to the namer.
    const namer = namers(table);
    const position = new Map(record.header.map((name, i) => [name, i]));
    const from = new Map<string, number | { constant: unknown }>();
    const data = record.data;
    namer.prepare(data);
    for (const key in data) {
      if (data[key] === undefined) continue;
      // A key outside the header is inherited (for-in walks the prototype): the same every record.
      from.set(namer.columnFor(key), position.get(key) ?? { constant: data[key] });
    }
    for (const [k, v] of captured) from.set(k, { constant: v });
    const sources = [...from.values()];
    const columns = [...from.keys()];
    last = {
      header: record.header,
      columns,
      positions: sources.map((f) => (typeof f === 'number' ? f : -1)),
      constants: sources.map((f) => (typeof f === 'number' ? undefined : f.constant)),
      ...(readers.size > 0 ? { readers: columns.map((c) => readers.get(c)) } : {}),
    };
    return last;
  };
  return Object.assign(shape, {
    orderSensitive: () => [...namers.mappers.values()].some((m) => m.orderSensitive),
    layout,
  });
}

function foldChildren(
  table: string,
  root: Map<string, unknown>,
  rows: readonly ChildRow[],
  childTables: boolean,
): Shaped['children'] {
  const byPosition = new Map<string, ChildRow>();
  for (const r of rows) byPosition.set(`${r.table}|${r.position.join(',')}`, r);
  const out = new Map<string, Array<Map<string, unknown>>>();
  // Deepest rows first (reverse document order): a row is folded only once it holds its own.
  for (let i = rows.length - 1; i >= 0; i--) {
    const r = rows[i] as ChildRow;
    const topLevel = r.parentTable === table;
    if (topLevel && childTables) continue;
    const parent = topLevel
      ? undefined
      : byPosition.get(`${r.parentTable}|${r.position.slice(0, -1).join(',')}`);
    const target = parent?.values ?? root;
    const column = r.table.slice(r.parentTable.length + 2);
    const element: Record<string, unknown> = {};
    for (const [k, v] of r.values) if (k !== INDEX_COLUMN) element[k] = v;
    let list = target.get(column) as unknown[] | undefined;
    if (!Array.isArray(list)) {
      list = [];
      target.set(column, list);
    }
    list.unshift(element);
  }
  if (!childTables) return undefined;
  for (const r of rows) {
    if (r.parentTable !== table) continue;
    let list = out.get(r.table);
    if (!list) {
      list = [];
      out.set(r.table, list);
    }
    list.push(r.values);
  }
  return out.size > 0 ? out : undefined;
}

const RAW_LIMIT = 64 * 1024;

/** A record as stored in the rejects table: JSON of the parsed fields, exact numbers kept. */
export function rawOf(data: Record<string, unknown>): string {
  const text = JSON.stringify(data, (_k, v) =>
    v && typeof v === 'object' && (v as { isLosslessNumber?: boolean }).isLosslessNumber
      ? (v as { value: string }).value // exact digits, as a string
      : typeof v === 'bigint'
        ? v.toString()
        : v,
  );
  return text.length > RAW_LIMIT ? text.slice(0, RAW_LIMIT) : text;
}

import type { ResolvedSource } from '../config/resolve.js';
import type { ColumnType, SourceItem } from '../core/types.js';
import { type ColumnSlot, type Observation, TableObserver } from '../schema/observe.js';
import { type FlatLayout, type FlatRecord, makeShaper } from './shape.js';

/** What the first pass needs to know: the source and the live types of the tables it feeds. */
export interface ScanInput {
  source: ResolvedSource;
  captures: Readonly<Record<string, string>>;
  /** Arrays of objects become child tables (keyed merge tables). */
  children: boolean;
  /** Live column types per table (established columns). */
  established: ReadonlyMap<string, ReadonlyMap<string, ColumnType>>;
  /** Hinted columns of the root table: their type is fixed. */
  fixed: ReadonlySet<string>;
}

export interface ScanResult {
  observations: Map<string, Observation>;
  /** Records parsed (problems excluded). */
  records: number;
  /** Items read: records and problems (record numbers run over both). */
  items: number;
  /** A column name depended on first-seen order: the file must not be read in parts. */
  orderSensitive: boolean;
}

/**
 * The first pass over a stream of items (a whole file or one part of it): fold every value
 * into the types each table needs. Pure apart from consuming the stream; runs on the main
 * thread or in a worker.
 */
export async function scanItems(
  batches: AsyncIterable<SourceItem[]>,
  input: ScanInput,
  onBatch: () => void = () => {},
): Promise<ScanResult> {
  const observers = new Map<string, TableObserver>();
  const observer = (table: string) => {
    let o = observers.get(table);
    if (!o) {
      const established = input.established.get(table) ?? new Map();
      o = new TableObserver(established, table === input.source.table ? input.fixed : new Set());
      observers.set(table, o);
    }
    return o;
  };
  const shape = makeShaper(input.source, input.captures, input.children);
  const root = observer(input.source.table);
  // Flat records (CSV): the root's column slots by layout position, for the file's header.
  let layout: FlatLayout | undefined;
  let slots: ColumnSlot[] = [];
  let records = 0;
  let items = 0;
  for await (const batch of batches) {
    onBatch();
    items += batch.length;
    for (const item of batch) {
      if (item.kind !== 'record') continue;
      records++;
      const values = item.values;
      if (values !== undefined && item.header !== undefined) {
        if (layout?.header !== item.header) {
          layout = shape.layout(item as FlatRecord);
          slots = layout.columns.map((c) => root.slot(c));
        }
        // The same observations, in the same order, as through shape(item.data).root.
        const { positions, constants } = layout;
        for (let j = 0; j < slots.length; j++) {
          const p = positions[j]!;
          root.observeSlot(slots[j]!, p >= 0 ? values[p] : constants[j]);
        }
        continue;
      }
      const shaped = shape(item.data);
      for (const [col, v] of shaped.root) root.observe(col, v);
      if (shaped.children) {
        for (const [table, rows] of shaped.children) {
          const o = observer(table);
          for (const row of rows) for (const [col, v] of row) o.observe(col, v);
        }
      }
    }
  }
  const observations = new Map<string, Observation>();
  for (const [table, o] of observers)
    observations.set(table, { types: o.types, incompatible: o.incompatible });
  return { observations, records, items, orderSensitive: shape.orderSensitive() };
}

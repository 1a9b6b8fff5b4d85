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
  const scanner = new Scanner(input);
  for await (const batch of batches) {
    onBatch();
    scanner.add(batch);
  }
  return scanner.result();
}

/**
 * Items as they pass, observed by `scanner` (a one-pass load of a new table scans what it
 * writes, to check the types it guessed: src/runner/load/one-pass.ts).
 */
export async function* observing(
  batches: AsyncIterable<SourceItem[]>,
  scanner: Scanner,
): AsyncGenerator<SourceItem[]> {
  for await (const batch of batches) {
    scanner.add(batch);
    yield batch;
  }
}

/** The first pass's state, fed batch by batch. */
export class Scanner {
  readonly #input: ScanInput;
  readonly #observers = new Map<string, TableObserver>();
  readonly #shape: ReturnType<typeof makeShaper>;
  readonly #root: TableObserver;
  // Flat records (CSV): the root's column slots by layout position, for the file's header.
  #layout: FlatLayout | undefined;
  #slots: ColumnSlot[] = [];
  #records = 0;
  #items = 0;

  constructor(input: ScanInput) {
    this.#input = input;
    this.#shape = makeShaper(input.source, input.captures, input.children);
    this.#root = this.#observer(input.source.table);
  }

  #observer(table: string): TableObserver {
    let o = this.#observers.get(table);
    if (!o) {
      const established = this.#input.established.get(table) ?? new Map();
      o = new TableObserver(established, table === this.#input.source.table ? this.#input.fixed : new Set());
      this.#observers.set(table, o);
    }
    return o;
  }

  add(batch: readonly SourceItem[]): void {
    const root = this.#root;
    this.#items += batch.length;
    for (const item of batch) {
      if (item.kind !== 'record') continue;
      this.#records++;
      const values = item.values;
      if (values !== undefined && item.header !== undefined) {
        if (this.#layout?.header !== item.header) {
          this.#layout = this.#shape.layout(item as FlatRecord);
          this.#slots = this.#layout.columns.map((c) => root.slot(c));
        }
        // The same observations, in the same order, as through shape(item.data).root.
        const { positions, constants, readers } = this.#layout;
        const slots = this.#slots;
        for (let j = 0; j < slots.length; j++) {
          const p = positions[j]!;
          let v = p >= 0 ? values[p] : constants[j];
          const read = readers?.[j];
          if (read !== undefined) v = read(v);
          root.observeSlot(slots[j]!, v);
        }
        continue;
      }
      const shaped = this.#shape(item.data);
      for (const [col, v] of shaped.root) root.observe(col, v);
      if (shaped.children) {
        for (const [table, rows] of shaped.children) {
          const o = this.#observer(table);
          for (const row of rows) for (const [col, v] of row) o.observe(col, v);
        }
      }
    }
  }

  /** Records added so far. */
  get records(): number {
    return this.#records;
  }

  result(): ScanResult {
    const observations = new Map<string, Observation>();
    for (const [table, o] of this.#observers)
      observations.set(table, { types: o.types, incompatible: o.incompatible });
    return {
      observations,
      records: this.#records,
      items: this.#items,
      orderSensitive: this.#shape.orderSensitive(),
    };
  }
}

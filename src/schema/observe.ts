import type { ColumnType } from '../core/types.js';
import { classify, coerce, joinTypes, widen } from './types.js';

/**
 * What one file says about one table's columns, folded value by value in the first pass.
 * A column the table already has (`established`) only widens where that loses nothing: a
 * value that would need more (e.g. `N/A` in a decimal column) is left for the second pass
 * to reject. A new column takes the join of all its values. A hinted column is fixed.
 */
export class TableObserver {
  /** Column → type seen so far (null: only NULLs so far). Insertion order = first sight. */
  readonly types = new Map<string, ColumnType | null>();
  /** Established columns with a value no lossless widening can hold (e.g. `N/A` in a decimal). */
  readonly incompatible = new Set<string>();
  readonly #established: ReadonlyMap<string, ColumnType>;
  readonly #fixed: ReadonlySet<string>;

  constructor(established: ReadonlyMap<string, ColumnType>, fixed: ReadonlySet<string>) {
    this.#established = established;
    this.#fixed = fixed;
  }

  observe(column: string, value: unknown): void {
    const current = this.types.get(column);
    const t = classify(value);
    if (current === undefined) {
      const base = this.#established.get(column) ?? null;
      this.types.set(column, base);
      if (t !== null && !this.#fixed.has(column)) this.#fold(column, base, t, value);
      return;
    }
    if (t === null || this.#fixed.has(column)) return;
    if (current !== null && covers(current, t)) return; // hot path: nothing new
    this.#fold(column, current, t, value);
  }

  #fold(column: string, current: ColumnType | null, t: ColumnType, value: unknown): void {
    if (this.#established.has(column) && current !== null) {
      // `5` fits decimal(12,2) although not every integer does: ask the value, not its type.
      if (coerce(value, current).ok) return;
      const w = widen(current, t);
      if (w) this.types.set(column, w);
      else this.incompatible.add(column);
      return;
    }
    this.types.set(column, joinTypes(current, t));
  }
}

/** What a TableObserver learned, as plain data (it crosses worker threads). */
export interface Observation {
  types: Map<string, ColumnType | null>;
  incompatible: Set<string>;
}

/**
 * Fold what another part of the same file showed into `into` (parts in file order): the
 * result equals observing both parts one after the other.
 */
export function mergeObservation(
  into: TableObserver,
  part: Observation,
  established: ReadonlyMap<string, ColumnType>,
): void {
  for (const [col, t] of part.types) {
    const cur = into.types.get(col);
    if (cur === undefined || cur === null) {
      into.types.set(col, cur === undefined ? t : (t ?? null));
      continue;
    }
    if (t === null || covers(cur, t)) continue;
    if (established.has(col)) {
      const w = widen(cur, t);
      if (w) into.types.set(col, w);
      else into.incompatible.add(col);
    } else {
      into.types.set(col, joinTypes(cur, t));
    }
  }
  for (const col of part.incompatible) into.incompatible.add(col);
}

/** `a` holds every value of type `b` as it is. */
export function covers(a: ColumnType, b: ColumnType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'decimal' && b.kind === 'decimal')
    return a.precision >= b.precision && a.scale >= b.scale && a.precision - a.scale >= b.precision - b.scale;
  return true;
}

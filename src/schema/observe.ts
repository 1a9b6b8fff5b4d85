import type { ColumnType } from '../core/types.js';
import { classify, coversText } from './classify.js';
import { coerceValue, MISFIT } from './coerce.js';
import { joinTypes, widen } from './lattice.js';

/**
 * One column of a {@link TableObserver}: what `observe` needs per value, found with one
 * lookup (or none, through `slot`).
 */
export interface ColumnSlot {
  readonly name: string;
  /** Type so far (null: only NULLs so far); undefined until the column is first observed. */
  readonly type: ColumnType | null | undefined;
  /** The table's live type of the column, if it has it. */
  readonly established: ColumnType | undefined;
  /** Hinted: its type is fixed. */
  readonly fixed: boolean;
}

type Slot = { -readonly [K in keyof ColumnSlot]: ColumnSlot[K] };

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
  /** Per column, what `types` holds for it and more; `types` changes only through `#set`. */
  readonly #slots = new Map<string, Slot>();

  constructor(established: ReadonlyMap<string, ColumnType>, fixed: ReadonlySet<string>) {
    this.#established = established;
    this.#fixed = fixed;
  }

  observe(column: string, value: unknown): void {
    this.#observe(this.#slot(column), value);
  }

  /**
   * The slot of `column`, for callers that observe the same columns row after row (a CSV
   * file's): `observeSlot(slot(c), v)` is `observe(c, v)`. Getting a slot observes nothing.
   */
  slot(column: string): ColumnSlot {
    return this.#slot(column);
  }

  #slot(column: string): Slot {
    let s = this.#slots.get(column);
    if (s === undefined) {
      s = {
        name: column,
        type: undefined,
        established: this.#established.get(column),
        fixed: this.#fixed.has(column),
      };
      this.#slots.set(column, s);
    }
    return s;
  }

  /** `observe(slot.name, value)`, for a slot of this observer. */
  observeSlot(slot: ColumnSlot, value: unknown): void {
    this.#observe(slot as Slot, value);
  }

  #observe(slot: Slot, value: unknown): void {
    const current = slot.type;
    if (current === undefined) {
      const base = slot.established ?? null;
      this.#set(slot, base);
      if (slot.fixed) return;
      const t = classify(value);
      if (t !== null) this.#fold(slot, base, t, value);
      return;
    }
    if (slot.fixed) return;
    // Hot path: a value that tells nothing new, found without classifying it in full. No
    // string classifies as json, and a text or json column takes any other type as it is
    // (it joins into itself, and every string coerces to it).
    if (current !== null && typeof value === 'string') {
      const kind = current.kind;
      if (kind === 'text' || kind === 'json' || coversText(current, value)) return;
    }
    const t = classify(value);
    if (t === null) return;
    if (current !== null && covers(current, t)) return;
    this.#fold(slot, current, t, value);
  }

  /**
   * Folds what another part of the same file showed (see {@link mergeObservation}).
   * @internal
   */
  merge(part: Observation, established: ReadonlyMap<string, ColumnType>): void {
    for (const [col, t] of part.types) {
      const slot = this.#slot(col);
      const cur = slot.type;
      if (cur === undefined || cur === null) {
        this.#set(slot, cur === undefined ? t : (t ?? null));
        continue;
      }
      if (t === null || covers(cur, t)) continue;
      if (established.has(col)) {
        const w = widen(cur, t);
        if (w) this.#set(slot, w);
        else this.incompatible.add(col);
      } else {
        this.#set(slot, joinTypes(cur, t));
      }
    }
    for (const col of part.incompatible) this.incompatible.add(col);
  }

  #set(slot: Slot, type: ColumnType | null): void {
    slot.type = type;
    this.types.set(slot.name, type);
  }

  #fold(slot: Slot, current: ColumnType | null, t: ColumnType, value: unknown): void {
    if (slot.established !== undefined && current !== null) {
      // `5` fits decimal(12,2) although not every integer does: ask the value, not its type.
      if (coerceValue(value, current) !== MISFIT) return;
      const w = widen(current, t);
      if (w) this.#set(slot, w);
      else this.incompatible.add(slot.name);
      return;
    }
    this.#set(slot, joinTypes(current, t));
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
  into.merge(part, established);
}

/** `a` holds every value of type `b` as it is. */
export function covers(a: ColumnType, b: ColumnType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'decimal' && b.kind === 'decimal')
    return a.precision >= b.precision && a.scale >= b.scale && a.precision - a.scale >= b.precision - b.scale;
  return true;
}

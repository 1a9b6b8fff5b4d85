/**
 * Safe, stable identifiers from untrusted headers and keys. Pure: no I/O.
 *
 * A normalized name matches `[a-z0-9]+(_[a-z0-9]+)*`, so it never starts with `_` and never
 * contains `__`: system columns (`_tributary_*`) and flattened paths (`address__city`)
 * cannot collide with a user's own header.
 */

/** MySQL's identifier limit; SQLite has none, we keep one rule for both. */
export const MAX_NAME_LENGTH = 64;
/** Long names keep this many characters, then `_` and an 8-hex-digit hash. */
const KEPT_PREFIX = 55;
/** Joins the segments of a flattened path and a child table to its parent. */
export const PATH_SEPARATOR = '__';
/** User names may not start with this; system columns do. */
export const SYSTEM_PREFIX = '_tributary';

const MARKS = /\p{M}/gu;
const NOT_ALNUM = /[^a-z0-9]+/g;

/**
 * `Order ID` → `order_id`, `Größe` → `gro_e`, `é` → `e`. NFKD, combining marks dropped,
 * lower-cased, each run of characters outside `[a-z0-9]` becomes one `_` (so `_` itself
 * collapses too), no leading/trailing `_`. May return `''`. Longer than 64 → see {@link fitName}.
 */
export function normalizeName(raw: string): string {
  if (isNormalized(raw)) return raw;
  // Lower-case between NFKD and mark removal: 'İ'.toLowerCase() adds a combining dot, and
  // NFKD can produce upper case ('℃' → '°C').
  const name = raw.normalize('NFKD').toLowerCase().replace(MARKS, '').replace(NOT_ALNUM, '_');
  const start = name.charCodeAt(0) === 95 ? 1 : 0;
  const end = name.length > start && name.charCodeAt(name.length - 1) === 95 ? name.length - 1 : name.length;
  return fitName(start === 0 && end === name.length ? name : name.slice(start, end));
}

/** `normalizeName`, but never empty: `''` becomes `table`. */
export function normalizeTableName(raw: string): string {
  return normalizeName(raw) || 'table';
}

/**
 * Cuts a name longer than 64 characters to its first 55 (trailing `_` dropped) + `_` + the
 * FNV-1a hash of the whole name as 8 hex digits: stable across runs, and two long names
 * sharing a prefix stay distinct.
 */
export function fitName(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  return trimTrailingUnderscores(name.slice(0, KEPT_PREFIX)) + '_' + fnv1a(name);
}

/** FNV-1a 32-bit over UTF-16 code units, as 8 lower-case hex digits. */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface NameMapperOptions {
  /** Column names taken up front (system columns); used as given, not normalized. */
  reserved?: Iterable<string>;
  /**
   * Raw header → wanted column name (normalized). Applies to top-level keys only. The
   * target is held for its raw key even if another key that normalizes to it comes first.
   */
  renames?: Readonly<Record<string, string>>;
}

interface PathNode {
  name: string | undefined;
  next: Map<string, PathNode> | undefined;
}

/**
 * Raw keys → unique column names for one table within one file, deterministic in
 * first-seen order. Collisions get `_2`, `_3`, …; an empty name becomes `col_N` (N = 1-based
 * order of first sight of the key in this mapper). Results are cached: `columnFor` is one
 * Map lookup after the first call for a key.
 */
export class NameMapper {
  private readonly byKey = new Map<string, string>();
  private readonly byPath = new Map<string, PathNode>();
  private readonly taken = new Set<string>();
  private readonly renames = new Map<string, string>();
  /** Rename target → the raw key it is held for. */
  private readonly held = new Map<string, string>();
  private seen = 0;
  /**
   * True once a name depended on the order keys were first seen (a `_2` suffix or a
   * `col_N`): then reading a file in parts could name columns differently than reading it
   * whole, so the caller reads it whole.
   */
  orderSensitive = false;

  constructor(options: NameMapperOptions = {}) {
    for (const name of options.reserved ?? []) this.taken.add(name);
    const renames = options.renames ?? {};
    for (const raw of Object.keys(renames)) {
      const target = normalizeName(renames[raw]!);
      this.renames.set(raw, target);
      if (target !== '' && !this.taken.has(target)) {
        this.taken.add(target);
        this.held.set(target, raw);
      }
    }
  }

  /** Column name for a top-level key. */
  columnFor(rawKey: string): string {
    return this.byKey.get(rawKey) ?? this.assignKey(rawKey, ++this.seen);
  }

  /**
   * Names the keys of `record` that have no name yet (those whose value is `named`: the
   * others are paths, not columns of their own), in an order that
   * does not depend on the record's key order, so that headers differing only by case or
   * width (`Amount`, `amount`, `ａｍｏｕｎｔ`) land in the same columns whatever order a file
   * has them in: a key already spelled as its name first (`amount` keeps `amount`), then
   * the others by code points (`Amount` → `amount_2`, `ａｍｏｕｎｔ` → `amount_3`). Empty
   * names still count their position in the record (`col_N`). One Map lookup per key when
   * every key has its name.
   */
  prepare(record: Readonly<Record<string, unknown>>, named: (value: unknown) => boolean = () => true): void {
    let fresh: Array<{ key: string; seen: number }> | undefined;
    for (const key in record) {
      const value = record[key];
      if (value === undefined || !named(value) || this.byKey.has(key)) continue;
      fresh ??= [];
      fresh.push({ key, seen: ++this.seen });
    }
    if (fresh === undefined) return;
    if (fresh.length > 1) fresh.sort(spellingOrder);
    for (const { key, seen } of fresh) this.assignKey(key, seen);
  }

  /**
   * Column name for a nested key path (`['address', 'city']` → `address__city`): each segment
   * normalized (an empty one becomes `col_N`), joined with `__`, then cut and de-duplicated
   * like a single name. A one-segment path is `columnFor(path[0])`.
   */
  columnForPath(path: readonly string[]): string {
    if (path.length === 1) return this.columnFor(path[0]!);
    if (path.length === 0) throw new Error('columnForPath: empty path');
    let level = this.byPath;
    let node: PathNode | undefined;
    for (let i = 0; i < path.length; i++) {
      if (node !== undefined) level = node.next ??= new Map();
      const segment = path[i]!;
      node = level.get(segment);
      if (node === undefined) {
        node = { name: undefined, next: undefined };
        level.set(segment, node);
      }
    }
    const leaf = node!;
    if (leaf.name === undefined) {
      this.seen++;
      let joined = '';
      for (let i = 0; i < path.length; i++) {
        let part = normalizeName(path[i]!);
        if (part === '') {
          part = `col_${this.seen}`;
          this.orderSensitive = true;
        }
        joined = i === 0 ? part : joined + PATH_SEPARATOR + part;
      }
      leaf.name = this.claim(fitName(joined));
    }
    return leaf.name;
  }

  private assignKey(rawKey: string, seen: number): string {
    const target = this.renames.get(rawKey);
    let name: string;
    if (target !== undefined && this.held.get(target) === rawKey) {
      name = target; // already in `taken`, held for this key
    } else {
      let wanted = normalizeName(target ?? rawKey);
      if (wanted === '') {
        wanted = `col_${seen}`;
        this.orderSensitive = true;
      }
      name = this.claim(wanted);
    }
    this.byKey.set(rawKey, name);
    return name;
  }

  private claim(wanted: string): string {
    // Unreachable through normalizeName (no leading `_`); kept so a future change to the
    // normalization cannot let user data shadow a system column.
    let name = wanted.startsWith(SYSTEM_PREFIX) ? fitName('x' + wanted) : wanted;
    if (this.taken.has(name)) {
      this.orderSensitive = true;
      const base = name;
      for (let n = 2; ; n++) {
        const suffix = '_' + n;
        name =
          base.length + suffix.length <= MAX_NAME_LENGTH
            ? base + suffix
            : trimTrailingUnderscores(base.slice(0, MAX_NAME_LENGTH - suffix.length)) + suffix;
        if (!this.taken.has(name)) break;
      }
    }
    this.taken.add(name);
    return name;
  }
}

/**
 * One `NameMapper` per table, created on first use: the lookup `flattenRecord` takes.
 * `optionsFor` gives a table its reserved names and renames.
 */
export function mapperRegistry(
  optionsFor: (table: string) => NameMapperOptions | undefined = () => undefined,
): ((table: string) => NameMapper) & { mappers: ReadonlyMap<string, NameMapper> } {
  const mappers = new Map<string, NameMapper>();
  const registry = (table: string) => {
    let mapper = mappers.get(table);
    if (mapper === undefined) {
      mapper = new NameMapper(optionsFor(table));
      mappers.set(table, mapper);
    }
    return mapper;
  };
  return Object.assign(registry, { mappers: mappers as ReadonlyMap<string, NameMapper> });
}

/** A key spelled as its own normalized name first, then code-point order. */
function spellingOrder(a: { key: string }, b: { key: string }): number {
  const na = isNormalized(a.key) ? 0 : 1;
  const nb = isNormalized(b.key) ? 0 : 1;
  if (na !== nb) return na - nb;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** True when `name` is already `[a-z0-9]+(_[a-z0-9]+)*` and at most 64 long. */
function isNormalized(name: string): boolean {
  const n = name.length;
  if (n === 0 || n > MAX_NAME_LENGTH) return false;
  let prevUnderscore = true; // forbids a leading `_`
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c === 95) {
      if (prevUnderscore) return false;
      prevUnderscore = true;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
      prevUnderscore = false;
    } else {
      return false;
    }
  }
  return !prevUnderscore;
}

function trimTrailingUnderscores(name: string): string {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 95) end--;
  return end === name.length ? name : name.slice(0, end);
}

/**
 * Nested records → one row plus child-table rows. Pure: no I/O.
 *
 * - A nested plain object becomes columns `parent__child` (each segment normalized by the
 *   table's namer).
 * - An array holding at least one plain object and otherwise only `null` becomes rows of the
 *   child table `<table>__<column>`, one per element, each with its 0-based position in
 *   `_tributary_idx` (a `null` element gives a row with only that column, so the array's
 *   length survives). Elements are flattened the same way; their arrays become grandchildren.
 * - Depth counts keys from the record root, across child tables: a key path is at most
 *   `maxDepth` (4) long. An object or array at depth 4 is kept whole, as a JSON value.
 * - An empty array or empty object produces nothing. Arrays of scalars and mixed arrays
 *   are kept whole (JSON). `null` is kept as `null`; `undefined` (absent) is skipped.
 * - Lossless numbers (`{ isLosslessNumber: true, value }`) are scalars.
 */
import { fitName, PATH_SEPARATOR } from './naming.js';
import { isLosslessNumber } from './numbers.js';

/** What `flattenRecord` needs from a table's namer; `NameMapper` implements it. */
export interface ColumnNamer {
  columnFor(rawKey: string): string;
  columnForPath(path: readonly string[]): string;
  /** Names a record's new keys in an order independent of the record's (NameMapper.prepare). */
  prepare?(record: Readonly<Record<string, unknown>>, named?: (value: unknown) => boolean): void;
}

/** Column holding a child row's position in its parent array. */
export const INDEX_COLUMN = '_tributary_idx';
/** Default for `maxDepth`. */
export const MAX_DEPTH = 4;

export interface ChildRow {
  /** `<parentTable>__<column>`, cut to 64 characters like any name. */
  table: string;
  parentTable: string;
  /**
   * Array positions from the record down to this row: `[2]` is element 2 of a child
   * array, `[2, 0]` element 0 of an array inside it. `(table, position)` identifies the row
   * within its record; the parent is `(parentTable, position.slice(0, -1))`, the record
   * itself when that is empty. The last entry equals `values.get('_tributary_idx')`.
   */
  position: readonly number[];
  /** Column → raw value, `_tributary_idx` first. */
  values: Map<string, unknown>;
}

export interface FlatRecord {
  /** Column → raw (uncoerced) value; values kept whole are the original objects/arrays. */
  row: Map<string, unknown>;
  /** Child rows in document order, a parent row before its own children. */
  children: readonly ChildRow[];
}

const NO_CHILDREN: readonly ChildRow[] = Object.freeze([]);

/**
 * Flattens one record of `table`. `namerFor` returns the (cached) namer of a table, e.g.
 * from `mapperRegistry()`; it is called once per record and once per child array.
 */
export function flattenRecord(
  data: Record<string, unknown>,
  table: string,
  namerFor: (table: string) => ColumnNamer,
  maxDepth: number = MAX_DEPTH,
): FlatRecord {
  const namer = namerFor(table);
  namer.prepare?.(data, isNamed);
  const row = new Map<string, unknown>();
  let ctx: Context | undefined;
  // Fast path: flat records (every CSV record) allocate nothing but the row.
  for (const key in data) {
    const value = data[key];
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object') {
      row.set(namer.columnFor(key), value);
      continue;
    }
    ctx ??= { namerFor, maxDepth, children: [] };
    nested(ctx, value, key, [], 1, table, namer, row, ROOT);
  }
  return { row, children: ctx === undefined || ctx.children.length === 0 ? NO_CHILDREN : ctx.children };
}

interface Context {
  namerFor: (table: string) => ColumnNamer;
  maxDepth: number;
  children: ChildRow[];
}

const ROOT: readonly number[] = Object.freeze([]);

/** Places `value` (found under `key`, at key depth `depth`) into `values` or child rows. */
function nested(
  ctx: Context,
  value: object,
  key: string,
  prefix: string[],
  depth: number,
  table: string,
  namer: ColumnNamer,
  values: Map<string, unknown>,
  position: readonly number[],
): void {
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    if (depth < ctx.maxDepth && isObjectArray(value)) {
      const childTable = fitName(table + PATH_SEPARATOR + columnName(namer, prefix, key));
      const childNamer = ctx.namerFor(childTable);
      for (let i = 0; i < value.length; i++) {
        const childValues = new Map<string, unknown>([[INDEX_COLUMN, i]]);
        const childPosition = [...position, i];
        ctx.children.push({
          table: childTable,
          parentTable: table,
          position: childPosition,
          values: childValues,
        });
        const element = value[i] as Record<string, unknown> | null;
        if (element !== null) childNamer.prepare?.(element, isNamed);
        if (element !== null)
          flattenInto(ctx, element, [], depth + 1, childTable, childNamer, childValues, childPosition);
      }
      return;
    }
  } else if (depth < ctx.maxDepth && isPlainObject(value)) {
    prefix.push(key);
    flattenInto(ctx, value as Record<string, unknown>, prefix, depth + 1, table, namer, values, position);
    prefix.pop();
    return;
  }
  values.set(columnName(namer, prefix, key), value);
}

function flattenInto(
  ctx: Context,
  data: Record<string, unknown>,
  prefix: string[],
  depth: number,
  table: string,
  namer: ColumnNamer,
  values: Map<string, unknown>,
  position: readonly number[],
): void {
  for (const key in data) {
    const value = data[key];
    if (value === undefined) continue;
    if (value === null || typeof value !== 'object') {
      values.set(columnName(namer, prefix, key), value);
    } else {
      nested(ctx, value, key, prefix, depth, table, namer, values, position);
    }
  }
}

function columnName(namer: ColumnNamer, prefix: string[], key: string): string {
  if (prefix.length === 0) return namer.columnFor(key);
  prefix.push(key);
  const name = namer.columnForPath(prefix);
  prefix.pop();
  return name;
}

/** A value named by its key alone: anything but a plain object, whose keys become paths. */
function isNamed(value: unknown): boolean {
  return value === null || typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !isLosslessNumber(value);
}

/** At least one plain object, the rest plain objects or `null`. */
function isObjectArray(array: readonly unknown[]): boolean {
  let objects = 0;
  for (const element of array) {
    if (element === null) continue;
    if (typeof element !== 'object' || Array.isArray(element) || !isPlainObject(element)) return false;
    objects++;
  }
  return objects > 0;
}

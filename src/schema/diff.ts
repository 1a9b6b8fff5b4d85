import type {
  ColumnSchema,
  ColumnType,
  Contract,
  SchemaChange,
  SystemColumns,
  TableSchema,
} from '../core/types.js';
import { formatType } from './hints.js';
import { isLosslessWidening } from './lattice.js';
import { covers } from './observe.js';

export interface TablePlanInput {
  name: string;
  /** The table as it is now, or undefined when it does not exist yet. */
  live: TableSchema | undefined;
  /** Column types the file showed (null: only NULLs), in first-seen order. */
  observed: ReadonlyMap<string, ColumnType | null>;
  /** Columns whose type the config fixes. */
  hints: ReadonlyMap<string, ColumnType>;
  primaryKey: readonly string[];
  /** Columns that lead the table (child tables: parent key + position), with their types. */
  leading?: readonly ColumnSchema[];
  system: SystemColumns;
  /** Default: evolve everything. */
  contract?: Contract;
  /** Established columns holding a value no lossless widening fits (see TableObserver). */
  incompatible?: ReadonlySet<string>;
}

export class SchemaConflict extends Error {}

/**
 * A table's key as the config now gives it differs from the table's: what to say, or
 * undefined when they agree — or when the config gives no key (append and replace load
 * into a keyed table as they always did, e.g. one the user made). The table is never
 * rebuilt to another key behind the user's back.
 */
export function keyConflict(
  table: string,
  live: readonly string[],
  config: readonly string[],
): string | undefined {
  if (config.length === 0 || live.join('\u0000') === config.join('\u0000')) return undefined;
  const show = (k: readonly string[]) => (k.length === 0 ? 'no key' : `primary key (${k.join(', ')})`);
  return `table ${table} has ${show(live)} but the config says ${show(config)}; to rebuild it with the new key from its files: \`tributary run --full-refresh --table ${table} --yes\` (or \`tributary reset ${table}\` then run), else put the key back in the config`;
}

/**
 * Diff what a file needs with the live table: create it, add nullable columns, widen types
 * without loss. Pure. Columns seen only as NULL are not created until a value shows their
 * type; nothing is ever dropped or narrowed.
 */
export function planTable(input: TablePlanInput): SchemaChange[] {
  const { name, live, observed, hints, primaryKey } = input;
  if (!live) {
    const columns: ColumnSchema[] = [...(input.leading ?? [])];
    const seen = new Set(columns.map((c) => c.name));
    const add = (col: string, type: ColumnType | null | undefined) => {
      if (seen.has(col) || !type) return;
      seen.add(col);
      columns.push({ name: col, type });
    };
    for (const k of primaryKey) add(k, hints.get(k) ?? observed.get(k) ?? { kind: 'text' });
    for (const [col, t] of observed) add(col, hints.get(col) ?? t);
    for (const [col, t] of hints) add(col, t);
    return [
      { kind: 'create_table', table: { name, columns, primaryKey: [...primaryKey] }, system: input.system },
    ];
  }
  const conflict = keyConflict(name, live.primaryKey, primaryKey);
  if (conflict) throw new SchemaConflict(conflict);
  const changes: SchemaChange[] = [];
  const contract = input.contract ?? { tables: 'evolve', columns: 'evolve', dataType: 'evolve' };
  const addColumns = contract.columns === 'evolve';
  const widenTypes = contract.dataType === 'evolve' || contract.dataType === 'text';
  const liveTypes = new Map(live.columns.map((c) => [c.name, c.type]));
  for (const [col, hint] of hints) {
    const current = liveTypes.get(col);
    if (current && !covers(current, hint) && !isLosslessWidening(current, hint)) {
      throw new SchemaConflict(
        `columns.${col}: the hint ${formatType(hint)} conflicts with ${name}.${col}, which is ${formatType(current)} and cannot change to it without loss`,
      );
    }
  }
  const wanted = new Map<string, ColumnType | null>(observed);
  for (const [col, t] of hints) wanted.set(col, t);
  for (const [col, t] of wanted) {
    if (!t) continue;
    const current = liveTypes.get(col);
    if (!current) {
      if (addColumns || hints.has(col))
        changes.push({ kind: 'add_column', table: name, column: { name: col, type: t } });
    } else if (
      contract.dataType === 'text' &&
      input.incompatible?.has(col) &&
      !hints.has(col) &&
      current.kind !== 'text'
    ) {
      changes.push({ kind: 'widen_column', table: name, column: col, from: current, to: { kind: 'text' } });
    } else if ((widenTypes || hints.has(col)) && !covers(current, t) && isLosslessWidening(current, t)) {
      changes.push({ kind: 'widen_column', table: name, column: col, from: current, to: t });
    }
  }
  return changes;
}

/** The table a schema change is about. */
export function changedTable(c: SchemaChange): string {
  return c.kind === 'create_table' ? c.table.name : c.table;
}

/** Apply changes to a schema in memory (what the catalog will say after the DDL). */
export function applyChanges(
  live: TableSchema | undefined,
  changes: readonly SchemaChange[],
): TableSchema | undefined {
  let t = live;
  for (const c of changes) {
    if (c.kind === 'create_table') t = t ?? c.table;
    else if (t && c.kind === 'add_column' && !t.columns.some((x) => x.name === c.column.name)) {
      t = { ...t, columns: [...t.columns, c.column] };
    } else if (t && c.kind === 'widen_column') {
      t = { ...t, columns: t.columns.map((x) => (x.name === c.column ? { name: x.name, type: c.to } : x)) };
    }
  }
  return t;
}

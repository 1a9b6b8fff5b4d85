/**
 * Tables made by an earlier version of Tributary, brought to the current layout before a
 * run loads into them (a one-time cost per table, then nothing).
 */
import type { ResolvedSource } from '../config/resolve.js';
import { type Destination, type LiveTable, SYS_FILE_ID } from '../destinations/types.js';

/**
 * Brings the tables a run loads to the current layout: merge tables made before rows carried
 * the file that supplied them get the column (NULL for the rows already there), and tables
 * with outdated column declarations are rebuilt. Returns whether any changed (the caller
 * reads its catalog again).
 */
export async function upgradeTables(
  dest: Destination,
  catalog: ReadonlyMap<string, LiveTable>,
  sources: readonly ResolvedSource[],
): Promise<boolean> {
  let changed = false;
  for (const table of new Set(sources.filter((s) => s.write === 'merge').map((s) => s.table))) {
    const live = catalog.get(table);
    if (!live || live.systemColumns.includes(SYS_FILE_ID)) continue;
    await dest.applySchemaChanges([
      { kind: 'add_column', table, column: { name: SYS_FILE_ID, type: { kind: 'integer' } } },
    ]);
    changed = true;
  }
  // A table whose declarations are outdated (LiveTable.outdated) is rebuilt with current ones
  // before anything loads into it: one widen to the same type redeclares every column.
  const loaded = new Set(sources.map((s) => s.table));
  for (const live of catalog.values()) {
    const column = live.outdated?.[0];
    if (
      column === undefined ||
      !(loaded.has(live.name) || [...loaded].some((t) => live.name.startsWith(`${t}__`)))
    )
      continue;
    const type = live.columns.find((c) => c.name === column)?.type;
    if (!type) continue;
    // In a transaction: the rebuild is a copy, a drop and a rename (SQLite's DDL is transactional).
    await dest.transaction(() =>
      dest.applySchemaChanges([{ kind: 'widen_column', table: live.name, column, from: type, to: type }]),
    );
    changed = true;
  }
  return changed;
}

import type { LiveTable, SchemaChange } from '../../core/types.js';
import { createTableSql, systemColumnNames } from '../sql.js';
import { sqliteDialect as d, decimalValueSql } from './dialect.js';

/**
 * The statements one schema change runs as on SQLite, given the table before it (`live`,
 * undefined when absent). Pure: `applySchemaChanges` runs them in the caller's transaction,
 * `run --dry-run` prints them. None when the change is already there (an add of a column the
 * table has, a widen to the type it has).
 */
export function sqliteChangeSql(change: SchemaChange, live: LiveTable | undefined): string[] {
  switch (change.kind) {
    case 'create_table':
      return [createTableSql(d, { ...change.table, system: change.system })];
    case 'add_column':
      if (live?.columns.some((c) => c.name === change.column.name)) return [];
      return [
        `ALTER TABLE ${d.quote(change.table)} ADD COLUMN ${d.quote(change.column.name)} ${d.typeSql(change.column.type, false)}`,
      ];
    case 'widen_column':
      return rebuildSql(live, change.table, change.column, change.to);
  }
}

/**
 * SQLite cannot change a declared type in place: copy into a new table, drop the old one,
 * rename. Also for a column whose type is unchanged but whose declaration is outdated
 * (`LiveTable.outdated`): the copy declares every column anew.
 */
function rebuildSql(
  live: LiveTable | undefined,
  table: string,
  column: string,
  to: LiveTable['columns'][number]['type'],
): string[] {
  const from = live?.columns.find((c) => c.name === column);
  if (!live || !from) return [];
  if (JSON.stringify(from.type) === JSON.stringify(to) && !live.outdated?.includes(column)) return [];
  const tmp = `${table}__tributary_rebuild`;
  const columns = live.columns.map((c) => (c.name === column ? { name: c.name, type: to } : c));
  const system = { fileId: live.systemColumns.includes('_tributary_file_id'), idx: false };
  const select = [
    ...columns.map(({ name, type }) => {
      const q = d.quote(name);
      if (name === column && from.type.kind === 'date' && to.kind === 'datetime')
        return `CASE WHEN length(${q}) = 10 THEN ${q} || ' 00:00:00' ELSE ${q} END`;
      // An integer (from a bool or integer column, or stored by NUMERIC affinity of old) is
      // stored as a decimal value is: past 15 digits as text (dialect.ts decimalValueSql).
      if (type.kind === 'decimal')
        return `CASE WHEN typeof(${q}) = 'integer' THEN ${decimalValueSql(`CAST(${q} AS TEXT)`)} ELSE ${q} END`;
      return q;
    }),
    ...systemColumnNames(system).map(d.quote),
  ];
  const all = [...columns.map((c) => c.name), ...systemColumnNames(system)];
  return [
    `DROP TABLE IF EXISTS ${d.quote(tmp)}`,
    createTableSql(d, { name: tmp, columns, primaryKey: live.primaryKey, system }),
    `INSERT INTO ${d.quote(tmp)} (${all.map(d.quote).join(', ')}) SELECT ${select.join(', ')} FROM ${d.quote(table)}`,
    `DROP TABLE ${d.quote(table)}`,
    // Since SQLite 3.26 a RENAME checks every view and trigger of the schema first, and a view
    // reading `table` (a model's) fails it — "error in view v: no such table: main.t" — while
    // `table` is dropped, though the rename makes it again. The legacy rename skips that check
    // (and the rewrite of references to the old name, of which there are none): the views read
    // the new table by its name. https://sqlite.org/lang_altertable.html#alter_table_rename
    'PRAGMA legacy_alter_table = ON',
    `ALTER TABLE ${d.quote(tmp)} RENAME TO ${d.quote(table)}`,
    'PRAGMA legacy_alter_table = OFF',
  ];
}

import type { LiveTable, SchemaChange } from '../../core/types.js';
import { columnDefSql, createTableDdl, keyTextChars, mysqlDialect } from './dialect.js';

/**
 * The statement one schema change runs as on MySQL/MariaDB, given the table before it
 * (`live`, undefined when absent) and the database's collation. Pure: the destination's
 * `applySchemaChanges` runs it (each commits on its own), `run --dry-run` prints it. None
 * when the change is already there (a column the table has, a type it has).
 */
export function mysqlChangeSql(
  change: SchemaChange,
  live: LiveTable | undefined,
  collation: string,
): string[] {
  const q = mysqlDialect(collation).quote;
  switch (change.kind) {
    case 'create_table':
      return [createTableDdl({ ...change.table, system: change.system }, collation)];
    case 'add_column':
      if (live?.columns.some((c) => c.name === change.column.name)) return [];
      return [
        `ALTER TABLE ${q(change.table)} ADD COLUMN ${columnDefSql(change.column.name, change.column.type, false)}`,
      ];
    case 'widen_column': {
      const from = live?.columns.find((c) => c.name === change.column);
      if (!live || !from || JSON.stringify(from.type) === JSON.stringify(change.to)) return [];
      const key = live.primaryKey.includes(change.column);
      const columns = live.columns.map((c) =>
        c.name === change.column ? { name: c.name, type: change.to } : c,
      );
      // MODIFY converts the stored values (DATE → DATETIME gets 00:00:00) in one statement.
      return [
        `ALTER TABLE ${q(change.table)} MODIFY COLUMN ${columnDefSql(change.column, change.to, key, keyTextChars(columns, live.primaryKey))}`,
      ];
    }
  }
}

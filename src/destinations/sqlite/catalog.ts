import type Database from 'better-sqlite3';
import { isSystemColumn } from '../sql.js';
import type { LiveTable } from '../types.js';
import { parseSqliteType } from './dialect.js';

interface PragmaColumn {
  name: string;
  type: string;
  pk: number;
}

/** User tables and their columns, read from the live catalog (never from a cache). */
export function readSqliteCatalog(db: Database.Database): Map<string, LiveTable> {
  const names = db
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_tributary\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .pluck()
    .all() as string[];
  const out = new Map<string, LiveTable>();
  for (const name of names) {
    const table = readSqliteTable(db, name);
    if (table) out.set(name, table);
  }
  return out;
}

export function readSqliteTable(db: Database.Database, name: string): LiveTable | undefined {
  const cols = db
    .prepare('SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid')
    .all(name) as PragmaColumn[];
  if (cols.length === 0) return undefined;
  // Decimal and json columns declared before their types had no affinity / TEXT affinity
  // (dialect.ts): values loaded into them now would lose digits, so they are rebuilt.
  const outdated = cols
    .filter((c) => !isSystemColumn(c.name) && /^\s*(?:DECIMAL|NUMERIC)\s*\(|^\s*JSON\s*$/i.test(c.type))
    .map((c) => c.name);
  return {
    ...(outdated.length > 0 ? { outdated } : {}),
    name,
    columns: cols
      .filter((c) => !isSystemColumn(c.name))
      .map((c) => ({ name: c.name, type: parseSqliteType(c.type) })),
    primaryKey: cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name),
    systemColumns: cols.filter((c) => isSystemColumn(c.name)).map((c) => c.name),
  };
}

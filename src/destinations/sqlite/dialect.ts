import type { ColumnType } from '../../core/types.js';
import type { SqlDialect } from '../types.js';

/**
 * SQLite physical types. SQLite keeps the declared type text verbatim, so the logical
 * type is read back from it (see catalog.ts). Decimals are declared DECIMAL(p,s): NUMERIC
 * affinity stores them as REAL when 15 significant digits hold them exactly and as TEXT
 * otherwise; SQLite >= 3.43 sums REALs with Kahan-Babuska-Neumaier summation, so
 * ROUND(SUM(x), s) is exact to the column's scale (test/destinations/decimal-sum.test.ts).
 */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  quote: (id) => `"${id.replaceAll('"', '""')}"`,
  typeSql: (t: ColumnType) => {
    switch (t.kind) {
      case 'bool':
        return 'BOOLEAN';
      case 'integer':
        return 'BIGINT';
      case 'decimal':
        return `DECIMAL(${t.precision},${t.scale})`;
      case 'date':
        return 'DATE';
      case 'datetime':
        return 'DATETIME';
      case 'text':
        return 'TEXT';
      case 'json':
        return 'JSON';
    }
  },
  autoIdSql: (name) => `"${name}" INTEGER PRIMARY KEY AUTOINCREMENT`,
  keyTextSql: 'TEXT',
  longTextSql: 'TEXT',
};

/** Logical type of a declared SQLite type written by `typeSql`; unknown types read as text. */
export function parseSqliteType(declared: string): ColumnType {
  const t = declared.trim().toUpperCase();
  const dec = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (dec) return { kind: 'decimal', precision: Number(dec[1]), scale: Number(dec[2]) };
  if (t === 'BOOLEAN' || t === 'BOOL') return { kind: 'bool' };
  if (t === 'BIGINT' || t === 'INTEGER' || t === 'INT') return { kind: 'integer' };
  if (t === 'DATE') return { kind: 'date' };
  if (t === 'DATETIME' || t === 'TIMESTAMP') return { kind: 'datetime' };
  if (t === 'JSON') return { kind: 'json' };
  return { kind: 'text' };
}

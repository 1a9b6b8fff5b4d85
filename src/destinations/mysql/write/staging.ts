/**
 * Temporary tables of the write path: their names, the staging tables rows are loaded into
 * before a merge, and their removal.
 */
import type { LiveTable } from '../../types.js';
import { q } from '../dialect.js';
import type { Session } from '../session.js';

let staging = 0;

/** A temporary table's name, unique in this process: `_tributary_<kind>_<pid>_<n>`. */
export function tempName(kind: string): string {
  return `_tributary_${kind}_${process.pid}_${++staging}`;
}

/**
 * A per-writer temporary table: `_seq` (file order) as defined by `seq`, the given extra
 * columns and indexes, and the table's columns as `c0…`.
 */
export async function createStaging(
  session: Session,
  table: LiveTable,
  seq: string,
  extra: string,
  engines: readonly string[] = ['InnoDB'],
): Promise<string> {
  const name = tempName('stage');
  const select = table.columns.map((c, i) => `t.${q(c.name)} AS c${i}`).join(', ');
  // CREATE TEMPORARY TABLE (even … SELECT) does not commit the open transaction, unlike
  // ALTER/TRUNCATE/CREATE INDEX on a temporary table. Copying the columns from the target
  // keeps their exact types, lengths, nullability and collation (so keys compare alike).
  for (const [i, engine] of engines.entries()) {
    try {
      await session.execute(
        `CREATE TEMPORARY TABLE ${q(name)} (\`_seq\` ${seq}${extra}) ENGINE=${engine} SELECT ${select} FROM ${q(table.name)} t WHERE FALSE`,
      );
      break;
    } catch (err) {
      const tooLong = (err as { cause?: { errno?: number } }).cause?.errno === ER_TOO_LONG_KEY;
      if (!tooLong || i === engines.length - 1) throw err;
    }
  }
  session.temps.add(name);
  return name;
}

const ER_TOO_LONG_KEY = 1071;

export async function dropTemp(session: Session, name: string): Promise<void> {
  await session.execute(`DROP TEMPORARY TABLE IF EXISTS ${q(name)}`);
  session.temps.delete(name);
}

import type { SchemaChange, SqlClient, TentativeMark, TentativeTables } from '../types.js';
import { createTableDdl, mysqlDialect } from './dialect.js';

/**
 * Tentative tables on MySQL/MariaDB (Destination.tentative): the mark is the table's
 * COMMENT, `tributary:tentative:<run id>:<source table in hex>` — hex, so that a name from
 * the data never needs quoting inside it. Each statement commits on its own.
 */
const PREFIX = 'tributary:tentative:';

export function mysqlTentative(
  session: <T>(fn: (db: SqlClient) => Promise<T>) => Promise<T>,
  collation: () => string,
): TentativeTables {
  const q = (id: string) => mysqlDialect(collation()).quote(id);
  const marked = async (db: SqlClient, table: string) =>
    (
      await db.query<{ c: string }>(
        'SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?',
        [table],
      )
    )[0]?.c.startsWith(PREFIX) ?? false;
  return {
    create: (changes: readonly SchemaChange[], mark: TentativeMark) =>
      session(async (db) => {
        const comment = `${PREFIX}${mark.runId}:${Buffer.from(mark.root, 'utf8').toString('hex')}`;
        for (const change of changes) {
          if (change.kind !== 'create_table')
            throw new Error(`internal: ${change.kind} is not a tentative table`);
          await db.execute(
            `${createTableDdl({ ...change.table, system: change.system }, collation())} COMMENT='${comment}'`,
          );
        }
      }),
    list: () =>
      session(async (db) => {
        const rows = await db.query<{ t: string; c: string }>(
          `SELECT TABLE_NAME AS t, TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_COMMENT LIKE 'tributary:tentative:%'`,
        );
        return rows.flatMap(({ t, c }) => {
          const m = /^tributary:tentative:(\d+):([0-9a-f]*)$/.exec(c);
          return m
            ? [
                {
                  table: t,
                  mark: { runId: Number(m[1]), root: Buffer.from(m[2] as string, 'hex').toString('utf8') },
                },
              ]
            : [];
        });
      }),
    confirm: (table: string) =>
      session(async (db) => {
        if (await marked(db, table)) await db.execute(`ALTER TABLE ${q(table)} COMMENT=''`);
      }),
    drop: (table: string) =>
      session(async (db) => {
        if (await marked(db, table)) await db.execute(`DROP TABLE ${q(table)}`);
      }),
  };
}

/**
 * The merge of a table with child tables: which staged parent rows the row-at-a-time upsert
 * accepts (`acceptSql`, window functions), the parent merge, then the children of each key's
 * last accepted row written in place of the stored ones (`mergeWithChildren`).
 */
import { type LiveTable, SYS_RUN_ID, type TableWritePlan, type WriteStats } from '../../types.js';
import { q } from '../dialect.js';
import type { Session } from '../session.js';
import { recordImages, recordMergeImages } from './images.js';
import { mergeSql } from './merge.js';
import { dropTemp, tempName } from './staging.js';

export interface ChildStage {
  table: LiveTable;
  stage: string;
}

/** Accepted parent rows (see mysqlWriter in index.ts), the merge, then each child table's rows replaced. */
export async function mergeWithChildren(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  children: readonly ChildStage[],
  rows: number,
  stats: WriteStats,
): Promise<void> {
  const acc = tempName('accept');
  await session.execute(
    `CREATE TEMPORARY TABLE ${q(acc)} (\`_seq\` BIGINT NOT NULL PRIMARY KEY, \`_new\` TINYINT NOT NULL, \`_win\` TINYINT NOT NULL) ENGINE=InnoDB`,
  );
  session.temps.add(acc);
  await session.execute(acceptSql(plan, stage, acc));
  const [counts] = await session.query<{ accepted: number | string; inserted: number | string | null }>(
    `SELECT COUNT(*) AS accepted, SUM(\`_new\`) AS inserted FROM ${q(acc)}`,
  );
  const accepted = Number(counts?.accepted ?? 0);
  stats.inserted = Number(counts?.inserted ?? 0);
  stats.updated = accepted - stats.inserted;
  stats.unchanged = rows - accepted;
  await recordMergeImages(session, plan, stage, true);
  await session.execute(mergeSql(plan, stage, true));

  const cols = plan.table.columns.map((c) => c.name);
  const keyCol = (k: string) => `s.c${cols.indexOf(k)}`;
  for (const child of children) {
    const c = q(child.table.name);
    const on = plan.primaryKey.map((k) => `x.${q(k)} = ${keyCol(k)}`).join(' AND ');
    const replaced = `${c} x JOIN ${q(stage)} s ON ${on} JOIN ${q(acc)} a ON a.\`_seq\` = s.\`_seq\` AND a.\`_win\` = 1`;
    await recordImages(session, plan, child.table, replaced, 'TRUE');
    await session.execute(`DELETE x FROM ${replaced}`);
    const ccols = child.table.columns.map((col) => col.name);
    await session.execute(
      `INSERT INTO ${c} (${[...ccols, SYS_RUN_ID].map(q).join(', ')}) ` +
        `SELECT ${ccols.map((_, i) => `x.c${i}`).join(', ')}, ${plan.runId} FROM ${q(child.stage)} x ` +
        `JOIN ${q(acc)} a ON a.\`_seq\` = x.\`_pseq\` AND a.\`_win\` = 1 ORDER BY x.\`_seq\``,
    );
    // The SQLite writer inserts the children of every accepted row, a later accepted row of
    // the same key replacing them: count them all.
    const [n] = await session.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM ${q(child.stage)} x JOIN ${q(acc)} a ON a.\`_seq\` = x.\`_pseq\``,
    );
    stats.childRows += Number(n?.n ?? 0);
  }
  await dropTemp(session, acc);
}

/**
 * Staged rows the row-at-a-time upsert accepts. Row i of a key is accepted when its cursor
 * is ≥ the cursor of the row as it stands before it — the greatest of the stored cursor and
 * the cursors of the key's earlier staged rows (an accepted row never lowers it, a refused
 * one is below it) — or that cursor is NULL; without a cursor every row is accepted. `_new`
 * marks the first row of a key not yet stored (the insert); `_win` the last accepted row.
 */
function acceptSql(plan: TableWritePlan, stage: string, acc: string): string {
  const cols = plan.table.columns.map((c) => c.name);
  const keys = plan.primaryKey.map((k) => `s.c${cols.indexOf(k)}`);
  const part = `PARTITION BY ${keys.join(', ')} ORDER BY s.\`_seq\``;
  const first = q(plan.primaryKey[0] as string);
  const on = plan.primaryKey.map((k) => `t.${q(k)} = r.c${cols.indexOf(k)}`).join(' AND ');
  const cursor = plan.cursor;
  const cur = cursor ? `s.c${cols.indexOf(cursor)}` : 'NULL';
  const stored = cursor ? `t.${q(cursor)}` : 'NULL';
  const standing = `CASE WHEN t.${first} IS NULL OR ${stored} IS NULL THEN r.\`_prev\` WHEN r.\`_prev\` IS NULL THEN ${stored} ELSE GREATEST(${stored}, r.\`_prev\`) END`;
  const accepted = cursor ? `(${standing}) IS NULL OR r.\`_cur\` >= ${standing}` : 'TRUE';
  const winPart = `PARTITION BY ${plan.primaryKey.map((k) => `a.c${cols.indexOf(k)}`).join(', ')} ORDER BY a.\`_seq\` DESC`;
  return (
    `INSERT INTO ${q(acc)} (\`_seq\`, \`_new\`, \`_win\`) ` +
    `SELECT a.\`_seq\`, a.\`_new\`, ROW_NUMBER() OVER (${winPart}) = 1 FROM (` +
    `SELECT r.*, (t.${first} IS NULL AND r.\`_rn\` = 1) AS \`_new\` FROM (` +
    `SELECT s.\`_seq\`, ${keys.map((k, i) => `${k} AS c${cols.indexOf(plan.primaryKey[i] as string)}`).join(', ')}, ${cur} AS \`_cur\`, ` +
    `ROW_NUMBER() OVER (${part}) AS \`_rn\`, ` +
    `MAX(${cur}) OVER (${part} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS \`_prev\` ` +
    `FROM ${q(stage)} s) r LEFT JOIN ${q(plan.table.name)} t ON ${on} WHERE ${accepted}) a`
  );
}

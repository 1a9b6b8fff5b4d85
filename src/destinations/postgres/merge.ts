/**
 * The merge of a staging table into its target, with the SQLite writer's row-at-a-time
 * semantics (the reference, src/destinations/sqlite/writer.ts): staged rows apply in file
 * order, each against the row as it stands — the greatest cursor wins, ties go to the later
 * row, no cursor means the later row wins, a row identical to the stored one changes nothing
 * (and keeps its `_tributary_run_id`); with child tables an identical row is still accepted
 * (its children may have changed).
 *
 * - `upsertOnce`: one `INSERT … SELECT … ORDER BY _seq ON CONFLICT DO UPDATE … WHERE cursor
 *   rule AND row differs`, the rule of the SQLite writer's statement, applied in file order.
 *   PostgreSQL refuses to touch one row twice in a statement (SQLSTATE 21000), so it only
 *   serves when no key that gets written is staged twice; it runs under a savepoint, and a
 *   refusal falls back to:
 * - `mergeStaged`: which staged rows the row-at-a-time upsert accepts, and which of those
 *   change the row, computed with window functions; then each changed key's last accepted
 *   row written once, and its child rows in place of the stored ones.
 */
import { SYS_FILE_ID, SYS_RUN_ID, type TableWritePlan, type WriteStats } from '../types.js';
import { q } from './dialect.js';
import { recordImages } from './images.js';
import type { PgSession } from './session.js';

/** The staging tables of one merge: the parent's (`_seq` in file order) and each child table's (`_pseq`: its parent's `_seq`). */
export interface Staged {
  stage: string;
  children: ReadonlyArray<{ table: TableWritePlan['children'][number]; stage: string }>;
}

/** Which statement did the last staged merges, for tests. */
export const mergePaths = { upsert: 0, staged: 0 };

interface Parts {
  t: string;
  cols: string[];
  pk: readonly string[];
  rest: string[];
  /** The system columns written with each row, and their values. */
  sysCols: string[];
  sysVals: number[];
}

function parts(plan: TableWritePlan): Parts {
  const cols = plan.table.columns.map((c) => c.name);
  const key = new Set(plan.primaryKey);
  const withFile = plan.table.systemColumns.includes(SYS_FILE_ID);
  for (const id of [plan.runId, plan.fileId]) {
    if (!Number.isSafeInteger(id)) throw new Error(`internal: bad id ${id}`); // they go into the SQL text
  }
  return {
    t: q(plan.table.name),
    cols,
    pk: plan.primaryKey,
    rest: cols.filter((c) => !key.has(c)),
    sysCols: [SYS_RUN_ID, ...(withFile ? [SYS_FILE_ID] : [])],
    sysVals: [plan.runId, ...(withFile ? [plan.fileId] : [])],
  };
}

/**
 * SQL true when stored or standing value `a` and staged value `b` of column `c` differ as the
 * stored bytes would: JSONB compared as its text (jsonb equality says `1.0` = `1`, but the
 * upsert stores the new text, as SQLite does).
 */
function differs(plan: TableWritePlan, c: string, a: string, b: string): string {
  const json = plan.table.columns.find((x) => x.name === c)?.type.kind === 'json';
  return json ? `${a}::text IS DISTINCT FROM ${b}::text` : `${a} IS DISTINCT FROM ${b}`;
}

/**
 * A cursor value as compared. Text compares in code point order (`COLLATE "C"`: PostgreSQL then
 * compares the UTF-8 bytes, which order as the code points do) whatever the column's or the
 * database's collation (`en_US` puts `a` before `B`, `C` after): SQLite (BINARY) and MySQL
 * (Tributary's binary collations) compare cursors so, and "the greatest cursor wins" must pick
 * the same row on every destination. The other types have one order.
 */
function cursorValue(plan: TableWritePlan, expr: string): string {
  const kind = plan.table.columns.find((c) => c.name === plan.cursor)?.type.kind;
  return kind === 'text' ? `(${expr} COLLATE "C")` : expr;
}

/**
 * The greatest of cursor values, over a window: MAX, except for booleans, which PostgreSQL
 * orders (false < true, as 0 < 1 on the other destinations) but has no MAX of — `bool_or` is
 * their maximum.
 */
function greatestCursor(plan: TableWritePlan, expr: string): string {
  const kind = plan.table.columns.find((c) => c.name === plan.cursor)?.type.kind;
  return kind === 'bool' ? `bool_or(${expr})` : `MAX(${expr})`;
}

/**
 * `INSERT INTO target (…) SELECT … FROM <from> … ON CONFLICT (key)`, with the run and file ids;
 * `order`: an ORDER BY for the SELECT, the order the statement applies the rows in.
 */
function insertHead(p: Parts, from: string, order = ''): string {
  return (
    `INSERT INTO ${p.t} (${[...p.cols, ...p.sysCols].map(q).join(', ')}) ` +
    `SELECT ${[...p.cols.map((c) => `s.${q(c)}`), ...p.sysVals].join(', ')} FROM ${from}${order} ` +
    `ON CONFLICT (${p.pk.map(q).join(', ')})`
  );
}

function setAll(p: Parts): string {
  return [...p.rest, ...p.sysCols].map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ');
}

/**
 * The one-statement merge without child tables, under a savepoint: true when it applied
 * (stats filled), false when a written key is staged twice (nothing done, the savepoint rolled
 * back). Inserted and updated rows are told apart by `xmax = 0` in RETURNING: a row the
 * statement inserted has no deleting transaction, a row it updated has (ours).
 */
export async function upsertOnce(
  session: PgSession,
  plan: TableWritePlan,
  stage: string,
  rows: number,
  stats: WriteStats,
): Promise<boolean> {
  const p = parts(plan);
  const cursor = plan.cursor;
  const o = (c: string) => `${p.t}.${q(c)}`;
  const x = (c: string) => `EXCLUDED.${q(c)}`;
  const conds: string[] = [];
  const cur = (e: string) => cursorValue(plan, e);
  if (cursor) conds.push(`(${cur(x(cursor))} >= ${cur(o(cursor))} OR ${o(cursor)} IS NULL)`);
  if (p.rest.length > 0) conds.push(`(${p.rest.map((c) => differs(plan, c, o(c), x(c))).join(' OR ')})`);
  const action =
    p.rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${setAll(p)} WHERE ${conds.join(' AND ')}`;
  await session.execute('SAVEPOINT tributary_merge');
  try {
    if (p.rest.length > 0 && plan.beforeImages?.has(plan.table.name)) {
      const s = (c: string) => `s.${q(c)}`;
      const xo = (c: string) => `x.${q(c)}`;
      const ok = cursor ? `(${cur(s(cursor))} >= ${cur(xo(cursor))} OR ${xo(cursor)} IS NULL)` : 'TRUE';
      await recordImages(
        session,
        plan,
        plan.table,
        `${p.t} x JOIN ${q(stage)} s ON ${p.pk.map((k) => `${xo(k)} = ${s(k)}`).join(' AND ')}`,
        `${ok} AND (${p.rest.map((c) => differs(plan, c, xo(c), s(c))).join(' OR ')})`,
      );
    }
    // In file order, explicitly: a key staged twice whose first row changes nothing (identical
    // to the stored row, or older by cursor) lets the second one through, so the statement's
    // result depends on which it applies first — never left to the order of a table scan.
    const [r] = await session.query<{ inserted: number; updated: number }>(
      `WITH m AS (${insertHead(p, `${q(stage)} s`, ' ORDER BY s._seq')} ${action} RETURNING (xmax = 0) AS ins) ` +
        'SELECT count(*) FILTER (WHERE ins) AS inserted, count(*) FILTER (WHERE NOT ins) AS updated FROM m',
    );
    await session.execute('RELEASE SAVEPOINT tributary_merge');
    stats.inserted = Number(r?.inserted ?? 0);
    stats.updated = Number(r?.updated ?? 0);
    stats.unchanged = rows - stats.inserted - stats.updated;
    return true;
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== '21000') throw err;
    await session.execute('ROLLBACK TO SAVEPOINT tributary_merge');
    return false;
  }
}

/**
 * The staged merge by classification. Row i of a key is accepted when its cursor is ≥ the
 * cursor of the row as it stands before it — the greatest of the stored cursor and the cursors
 * of the key's earlier staged rows (an accepted row never lowers it, a refused one is below
 * it) — or that cursor is NULL; without a cursor every row is accepted. An accepted row
 * changes the row when it is the key's first row and the key is not stored (an insert), or
 * (without child tables) when it differs from the row as it stands: the key's previous
 * accepted row, or the stored one; with child tables every accepted row counts as a change.
 * Each key with a change gets its last accepted row written once.
 */
export async function mergeStaged(
  session: PgSession,
  plan: TableWritePlan,
  staged: Staged,
  rows: number,
  stats: WriteStats,
): Promise<void> {
  const p = parts(plan);
  const withChildren = staged.children.length > 0;
  const st = q(staged.stage);
  const cursor = plan.cursor;
  const keysOf = (alias: string) => p.pk.map((k) => `${alias}.${q(k)}`).join(', ');
  const on = (a: string, b: string) => p.pk.map((k) => `${a}.${q(k)} = ${b}.${q(k)}`).join(' AND ');
  const first = q(p.pk[0] as string);
  // The staged cursor, the greatest before it and the stored one, all compared as cursorValue says.
  const cur = cursor ? cursorValue(plan, `s.${q(cursor)}`) : 'NULL';
  const stored = cursor ? cursorValue(plan, `t.${q(cursor)}`) : 'NULL';
  const standing = `CASE WHEN t.${first} IS NULL OR ${stored} IS NULL THEN r._prev WHEN r._prev IS NULL THEN ${stored} ELSE GREATEST(${stored}, r._prev) END`;
  const accepted = cursor ? `(${standing}) IS NULL OR r._cur >= ${standing}` : 'TRUE';
  const cls = `_tributary_cls_${staged.stage}`;
  const change = withChildren
    ? 'TRUE'
    : p.rest.length === 0
      ? 'FALSE'
      : p.rest
          .map((c) =>
            differs(plan, c, `s.${q(c)}`, `CASE WHEN a._before IS NULL THEN t.${q(c)} ELSE b.${q(c)} END`),
          )
          .join(' OR ');
  // r: each staged row with its cursor and the greatest cursor of the key's rows before it;
  // a: the accepted ones, with whether the key is stored and the previous accepted row.
  await session.execute(
    `CREATE TEMPORARY TABLE ${q(cls)} ON COMMIT DROP AS ` +
      `WITH r AS (SELECT s._seq, ${keysOf('s')}, ${cur} AS _cur, ` +
      `${cursor ? greatestCursor(plan, cur) : 'MAX(NULL::int)'} OVER (PARTITION BY ${keysOf('s')} ORDER BY s._seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS _prev ` +
      `FROM ${st} s), ` +
      `a AS (SELECT r._seq, ${keysOf('r')}, t.${first} IS NULL AS _absent, ` +
      `LAG(r._seq) OVER (PARTITION BY ${keysOf('r')} ORDER BY r._seq) AS _before ` +
      `FROM r LEFT JOIN ${p.t} t ON ${on('t', 'r')} WHERE ${accepted}), ` +
      `c AS (SELECT a._seq, ${keysOf('a')}, a._absent AND a._before IS NULL AS _new, ` +
      `(a._absent AND a._before IS NULL) OR ${change} AS _chg, ` +
      `ROW_NUMBER() OVER (PARTITION BY ${keysOf('a')} ORDER BY a._seq DESC) = 1 AS _win ` +
      `FROM a JOIN ${st} s ON s._seq = a._seq LEFT JOIN ${st} b ON b._seq = a._before LEFT JOIN ${p.t} t ON ${on('t', 'a')}) ` +
      `SELECT c._seq, c._new, c._chg, c._win, bool_or(c._chg) OVER (PARTITION BY ${keysOf('c')}) AS _any FROM c`,
  );
  const [n] = await session.query<{ inserted: number; updated: number }>(
    `SELECT count(*) FILTER (WHERE _new) AS inserted, count(*) FILTER (WHERE _chg AND NOT _new) AS updated FROM ${q(cls)}`,
  );
  stats.inserted = Number(n?.inserted ?? 0);
  stats.updated = Number(n?.updated ?? 0);
  stats.unchanged = rows - stats.inserted - stats.updated;

  // The keys written: the last accepted row of each key with a change.
  const winners = `${st} s JOIN ${q(cls)} w ON w._seq = s._seq AND w._win AND w._any`;
  await recordImages(session, plan, plan.table, `${p.t} x JOIN ${winners} ON ${on('x', 's')}`, 'TRUE');
  const action = p.rest.length === 0 && !withChildren ? 'DO NOTHING' : `DO UPDATE SET ${setAll(p)}`;
  await session.execute(`${insertHead(p, winners)} ${action}`);

  for (const child of staged.children) {
    const c = q(child.table.name);
    const replaced = `${c} x JOIN ${winners} ON ${on('x', 's')}`;
    await recordImages(session, plan, child.table, replaced, 'TRUE');
    await session.execute(`DELETE FROM ${c} x USING ${winners} WHERE ${on('x', 's')}`);
    const ccols = child.table.columns.map((col) => q(col.name));
    await session.execute(
      `INSERT INTO ${c} (${[...ccols, q(SYS_RUN_ID)].join(', ')}) ` +
        `SELECT ${ccols.map((col) => `x.${col}`).join(', ')}, ${plan.runId} FROM ${q(child.stage)} x ` +
        `JOIN ${q(cls)} w ON w._seq = x._pseq AND w._win ORDER BY x._seq`,
    );
    // The SQLite writer inserts the children of every accepted row, a later accepted row of
    // the same key replacing them: count them all.
    const [k] = await session.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${q(child.stage)} x JOIN ${q(cls)} w ON w._seq = x._pseq`,
    );
    stats.childRows += Number(k?.n ?? 0);
  }
}

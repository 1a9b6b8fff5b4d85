import type { DbValue } from '../../core/types.js';
import {
  type LiveTable,
  type RowNode,
  SYS_FILE_ID,
  SYS_RUN_ID,
  type TableWritePlan,
  type TableWriter,
  TOMBSTONES,
  type WriteStats,
} from '../types.js';
import type { LoadTarget, Session } from './session.js';

const q = (id: string) => `\`${id.replaceAll('`', '``')}\``;

/** TSV text handed to LOAD DATA per call (UTF-16 units; at most ~1 MiB of UTF-8). */
const CHUNK = 256 * 1024;
/** Child TSV buffered before it is loaded (each switch ends the parent's LOAD DATA). */
const CHILD_BUFFER = 4 << 20;
/** Rows per multi-row INSERT when LOAD DATA is not available (≤ 65,535 placeholders). */
const INSERT_ROWS = 1000;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPE_ALL = /[\\\t\n\r\0]/g;

/**
 * One value as a LOAD DATA field (`FIELDS TERMINATED BY '\t' ESCAPED BY '\\'`): `\N` is
 * NULL, so an empty string stays empty and the text `\N` is sent as `\\N`; backslash, tab,
 * newline, carriage return and NUL are escaped; booleans are 1/0; bigints their digits.
 */
export function tsvField(v: DbValue): string {
  if (v === null) return '\\N';
  switch (typeof v) {
    case 'string':
      return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPE_ALL, (c) => ESCAPES[c] as string) : v;
    case 'boolean':
      return v ? '1' : '0';
    default:
      return String(v);
  }
}

/** The fields of one row, tab-separated (no line end). */
export function tsvRow(values: readonly DbValue[]): string {
  let line = values.length > 0 ? tsvField(values[0] as DbValue) : '';
  for (let i = 1; i < values.length; i++) line += '\t' + tsvField(values[i] as DbValue);
  return line;
}

function bind(v: DbValue): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

let staging = 0;
const NO_LEAD: readonly number[] = [];

/**
 * A table rows are written to: streamed through LOAD DATA, or multi-row prepared INSERTs.
 * `add` only buffers (no promise per row) and says when `send` is due.
 */
interface RowSink {
  /** Buffer one row: its leading values (sequence numbers) and its column values. */
  add(lead: readonly number[], values: readonly DbValue[]): boolean;
  /** Send what is buffered (a LOAD DATA stays open for the next rows). */
  send(): Promise<void>;
  /** Send what is buffered and end the statement. */
  flush(): Promise<void>;
  /** Rows the server stored. */
  stored(): number;
}

/** LOAD DATA LOCAL INFILE into `table`, fed across `send` calls (the bulk path). */
class LoadSink implements RowSink {
  readonly #session: Session;
  readonly #target: LoadTarget;
  readonly #limit: number;
  #text = '';
  #rows = 0;

  constructor(session: Session, into: SinkSpec, limit: number) {
    this.#session = session;
    this.#limit = limit;
    const set = into.constants.length
      ? ` SET ${into.constants.map(([c, v]) => `${q(c)} = ${v}`).join(', ')}`
      : '';
    this.#target = {
      label: into.label,
      sql:
        `LOAD DATA LOCAL INFILE 'tributary.tsv' INTO TABLE ${q(into.table)} CHARACTER SET utf8mb4 ` +
        `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
        `(${into.columns.map(q).join(', ')})${set}`,
      rename: new Map(into.columns.map((c, i) => [c, into.names[i] ?? c])),
      loaded: 0,
      sent: 0,
    };
  }

  add(lead: readonly number[], values: readonly DbValue[]): boolean {
    let line = '';
    for (const n of lead) line += n + '\t';
    this.#text += line + tsvRow(values) + '\n';
    this.#rows++;
    return this.#text.length >= this.#limit;
  }

  async send(): Promise<void> {
    if (this.#rows === 0) return;
    const text = this.#text;
    const rows = this.#rows;
    this.#text = '';
    this.#rows = 0;
    await this.#session.load(this.#target, text, rows);
  }

  async flush(): Promise<void> {
    await this.send();
    await this.#session.flush();
  }

  stored(): number {
    return this.#target.loaded;
  }
}

/** Multi-row prepared INSERTs into `table`: the path when `local_infile` is OFF. */
class InsertSink implements RowSink {
  readonly #session: Session;
  readonly #head: string;
  readonly #tuple: string;
  readonly #batch: number;
  #params: unknown[] = [];
  #rows = 0;
  #stored = 0;

  constructor(session: Session, into: SinkSpec) {
    this.#session = session;
    const columns = [...into.columns, ...into.constants.map(([c]) => c)];
    this.#head = `INSERT INTO ${q(into.table)} (${columns.map(q).join(', ')}) VALUES `;
    const width = into.columns.length;
    const slots = [...into.columns.map(() => '?'), ...into.constants.map(([, v]) => String(v))];
    this.#tuple = `(${slots.join(', ')})`;
    this.#batch = Math.max(1, Math.min(INSERT_ROWS, Math.floor(60_000 / Math.max(1, width))));
  }

  add(lead: readonly number[], values: readonly DbValue[]): boolean {
    for (const n of lead) this.#params.push(n);
    for (const v of values) this.#params.push(bind(v));
    return ++this.#rows >= this.#batch;
  }

  async send(): Promise<void> {
    if (this.#rows === 0) return;
    const sql = this.#head + Array.from({ length: this.#rows }, () => this.#tuple).join(', ');
    const params = this.#params;
    this.#params = [];
    this.#rows = 0;
    this.#stored += (await this.#session.execute(sql, params)).affectedRows;
  }

  async flush(): Promise<void> {
    await this.send();
  }

  stored(): number {
    return this.#stored;
  }
}

interface SinkSpec {
  table: string;
  /** The user's table, for messages. */
  label: string;
  /** Columns the rows fill, in order (leading sequence columns first). */
  columns: readonly string[];
  /** Names for messages, parallel to `columns`. */
  names: readonly string[];
  /** Columns set to the same integer in every row (run id, file id). */
  constants: ReadonlyArray<readonly [string, number]>;
}

function sink(session: Session, bulk: boolean, into: SinkSpec, limit = CHUNK): RowSink {
  for (const [, v] of into.constants) if (!Number.isSafeInteger(v)) throw new Error(`internal: bad id ${v}`);
  return bulk ? new LoadSink(session, into, limit) : new InsertSink(session, into);
}

/** A per-writer temporary table with `_seq` (file order), the given leading columns, and the table's columns as `c0…`. */
async function createStaging(session: Session, table: LiveTable, extra: string): Promise<string> {
  const name = `_tributary_stage_${process.pid}_${++staging}`;
  const select = table.columns.map((c, i) => `t.${q(c.name)} AS c${i}`).join(', ');
  // CREATE TEMPORARY TABLE (even … SELECT) does not commit the open transaction, unlike
  // ALTER/TRUNCATE/CREATE INDEX on a temporary table. Copying the columns from the target
  // keeps their exact types, lengths, nullability and collation (so keys compare alike).
  await session.execute(
    `CREATE TEMPORARY TABLE ${q(name)} (\`_seq\` BIGINT NOT NULL DEFAULT 0 PRIMARY KEY${extra}) ENGINE=InnoDB SELECT ${select} FROM ${q(table.name)} t WHERE FALSE`,
  );
  session.temps.add(name);
  return name;
}

async function dropTemp(session: Session, name: string): Promise<void> {
  await session.execute(`DROP TEMPORARY TABLE IF EXISTS ${q(name)}`);
  session.temps.delete(name);
}

/**
 * Row writer for one table inside an open MySQL transaction, with the SQLite writer's
 * semantics and counts (one suite tests both):
 *
 * - append / replace: rows go straight into the table (a re-sent append file's rows, or the
 *   whole table, deleted first).
 * - merge: rows are staged in a temporary table in file order (`_seq`), then merged by ONE
 *   `INSERT … SELECT … ORDER BY _seq ON DUPLICATE KEY UPDATE`. The server applies the rows one
 *   by one in file order, each against the row as it stands (stored, or written by an earlier
 *   row of the same batch), which is exactly the SQLite writer's row-at-a-time upsert: the
 *   greatest cursor wins, ties go to the later row, no cursor means the later row wins, a row
 *   identical to the stored one changes nothing. Affected-rows semantics (1 insert, 2 changed,
 *   0 unchanged; CLIENT_FOUND_ROWS off) plus the statement's "Duplicates" count give inserted
 *   and updated without another pass.
 * - children: which parent rows are accepted is computed first with window functions (a row
 *   is accepted when its cursor is ≥ the greatest cursor before it, stored or earlier in the
 *   batch); the last accepted row of each key gets its children written, the others' children
 *   are counted as the SQLite writer counts them (inserted, then replaced).
 * - before-images (`plan.beforeImages`): the same tombstones as the SQLite writer's triggers,
 *   recorded by an `INSERT … SELECT` right before each statement that deletes or overwrites
 *   rows (`recordImages`, `recordMergeImages`); a replace records one NULL image.
 *
 * Rows reach the server through one streaming LOAD DATA LOCAL INFILE (or multi-row prepared
 * INSERTs when the server has `local_infile` OFF); `write` resolves when its rows are handed
 * to the socket, so memory stays bounded by one batch.
 */
export async function mysqlWriter(
  session: Session,
  plan: TableWritePlan,
  bulk: boolean,
): Promise<TableWriter> {
  const { table, runId, fileId } = plan;
  const t = q(table.name);
  const cols = table.columns.map((c) => c.name);
  const withFile = table.systemColumns.includes(SYS_FILE_ID);
  const stats: WriteStats = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 };
  const merge = plan.write === 'merge';
  if (merge && plan.primaryKey.length === 0)
    throw new Error(`internal: merge into ${table.name} without a primary key`);
  if (plan.children.length > 0 && !merge)
    throw new Error(`internal: child tables need a merge table (${table.name})`);
  if (!Number.isSafeInteger(runId)) throw new Error(`internal: bad run id ${runId}`);
  const positional = cols.map((_, i) => `c${i}`);

  if (plan.write === 'replace') {
    if (plan.beforeImages?.has(table.name)) {
      await session.execute(
        `INSERT INTO ${TOMBSTONES} (table_name, run_id, image) VALUES (?, ${runId}, NULL)`,
        [table.name],
      );
    }
    stats.deleted = (await session.execute(`DELETE FROM ${t}`)).affectedRows;
  }
  if (plan.write === 'append' && withFile) {
    // The id inline (a checked integer), not a DOUBLE parameter, so the index is used as such.
    if (!Number.isSafeInteger(fileId)) throw new Error(`internal: bad file id ${fileId}`);
    await recordImages(session, plan, table, `${t} x`, `x.${q(SYS_FILE_ID)} = ${fileId}`);
    stats.deleted = (
      await session.execute(`DELETE FROM ${t} WHERE ${q(SYS_FILE_ID)} = ${fileId}`)
    ).affectedRows;
  }

  if (!merge) {
    const constants: Array<readonly [string, number]> = [[SYS_RUN_ID, runId]];
    if (withFile) constants.push([SYS_FILE_ID, fileId]);
    const out = sink(session, bulk, {
      table: table.name,
      label: table.name,
      columns: cols,
      names: cols,
      constants,
    });
    let rows = 0;
    return {
      async write(batch: readonly RowNode[]) {
        for (const row of batch) if (out.add(NO_LEAD, row.values)) await out.send();
        rows += batch.length;
        await out.send();
      },
      async finish() {
        await out.flush();
        stats.inserted = out.stored();
        stats.unchanged = rows - stats.inserted;
        return stats;
      },
    };
  }

  const stage = await createStaging(session, table, '');
  const parent = sink(session, bulk, {
    table: stage,
    label: table.name,
    columns: ['_seq', ...positional],
    names: ['_seq', ...cols],
    constants: [],
  });
  const children: Array<ChildStage & { out: RowSink }> = [];
  for (const child of plan.children) {
    const name = await createStaging(session, child, ', `_pseq` BIGINT NOT NULL DEFAULT 0');
    const ccols = child.columns.map((c) => c.name);
    const positionalChild = ccols.map((_, i) => `c${i}`);
    children.push({
      table: child,
      stage: name,
      out: sink(
        session,
        bulk,
        {
          table: name,
          label: child.name,
          columns: ['_seq', '_pseq', ...positionalChild],
          names: ['_seq', '_pseq', ...ccols],
          constants: [],
        },
        CHILD_BUFFER,
      ),
    });
  }
  let seq = 0;
  let childSeq = 0;

  return {
    async write(batch: readonly RowNode[]) {
      for (const row of batch) {
        const s = ++seq;
        if (parent.add([s], row.values)) await parent.send();
        for (const c of children) {
          for (const crow of row.children?.get(c.table.name) ?? []) {
            if (c.out.add([++childSeq, s], crow)) await c.out.send();
          }
        }
      }
      await parent.send();
    },
    async finish() {
      await parent.flush();
      for (const c of children) await c.out.flush();
      if (parent.stored() !== seq) {
        throw new Error(`internal: ${seq} rows written for ${table.name}, ${parent.stored()} staged`);
      }
      if (seq > 0) {
        if (children.length === 0) {
          await recordMergeImages(session, plan, stage, false);
          const r = await session.command(mergeSql(plan, stage, false));
          countFromInfo(stats, r, seq, table.name);
        } else {
          await mergeWithChildren(session, plan, stage, children, seq, stats);
        }
      }
      for (const c of children) await dropTemp(session, c.stage);
      await dropTemp(session, stage);
      return stats;
    },
  };
}

/**
 * The merge: staged rows applied one by one in file order. In ON DUPLICATE KEY UPDATE the
 * assignments run left to right and each sees the values already assigned, so
 * `_tributary_run_id` goes first (its "did anything change" test must see the stored
 * values) and the cursor goes last (every other column's "is the cursor newer" test then
 * sees the stored cursor). A column is assigned whenever the cursor test passes: when the
 * row is identical that assigns equal values, which MySQL does not count as a change.
 */
export function mergeSql(plan: TableWritePlan, stage: string, children: boolean): string {
  const cols = plan.table.columns.map((c) => c.name);
  const key = new Set(plan.primaryKey);
  const cursor = plan.cursor;
  const rest = cols.filter((c) => !key.has(c) && c !== cursor);
  if (cursor && !key.has(cursor)) rest.push(cursor);
  const v = (c: string) => `VALUES(${q(c)})`;
  const ok = cursor ? `(${v(cursor)} >= ${q(cursor)} OR ${q(cursor)} IS NULL)` : 'TRUE';
  const differs = rest.length > 0 ? `NOT (${rest.map((c) => `${q(c)} <=> ${v(c)}`).join(' AND ')})` : 'FALSE';
  // With child rows a row identical to the stored one is still accepted (its children may
  // have changed), as in the SQLite writer.
  const accept = children ? ok : `${ok} AND ${differs}`;
  const sets = [
    `${q(SYS_RUN_ID)} = IF(${accept}, ${v(SYS_RUN_ID)}, ${q(SYS_RUN_ID)})`,
    ...rest.map((c) => `${q(c)} = IF(${ok}, ${v(c)}, ${q(c)})`),
  ];
  const select = cols.map((_, i) => `s.c${i}`).join(', ');
  return (
    `INSERT INTO ${q(plan.table.name)} (${[...cols, SYS_RUN_ID].map(q).join(', ')}) ` +
    `SELECT ${select}, ${plan.runId} FROM ${q(stage)} s ORDER BY s.\`_seq\` ` +
    `ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
  );
}

/**
 * Counts from the statement's OK packet. With CLIENT_FOUND_ROWS off, affected rows are 1
 * per insert and 2 per row that changed; the info text's "Duplicates" is the number of
 * rows that changed. Everything else changed nothing.
 */
function countFromInfo(
  stats: WriteStats,
  h: { affectedRows: number; info: string },
  rows: number,
  table: string,
): void {
  const m = /Records:\s*(\d+)\s+Duplicates:\s*(\d+)/.exec(h.info);
  if (!m || Number(m[1]) !== rows) {
    throw new Error(`internal: merge into ${table} reported "${h.info}" for ${rows} staged rows`);
  }
  stats.updated = Number(m[2]);
  stats.inserted = h.affectedRows - 2 * stats.updated;
  stats.unchanged = rows - stats.inserted - stats.updated;
}

/** A string literal (sql_mode keeps backslash escapes on). */
const lit = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;

/**
 * Before-images (`plan.beforeImages`, for incremental models; docs/transformations.md) of
 * the rows of `from` (the table aliased `x`, with any joins) that match `where`, recorded in
 * TOMBSTONES before a statement deletes or overwrites them — only rows not yet written by this
 * run (the version before the run is the one a model has seen), as the SQLite writer's
 * triggers do. The image has the SQLite writer's keys (the requested columns the table has);
 * values are JSON_OBJECT's, except DECIMAL and JSON values, recorded as text: the transforms
 * read JSON numbers back as doubles, which would round a wide decimal key, and bind a nested
 * object as a JSON parameter, which MariaDB refuses; text converts back exactly. Those
 * casts name a collation so that they never clash with the table's text columns.
 */
async function recordImages(
  session: Session,
  plan: TableWritePlan,
  table: LiveTable,
  from: string,
  where: string,
): Promise<void> {
  const want = plan.beforeImages?.get(table.name) ?? [];
  const cols = want.flatMap((name) => table.columns.filter((c) => c.name === name));
  if (cols.length === 0) return;
  const image = cols.map((c) => {
    const v = `x.${q(c.name)}`;
    const text = c.type.kind === 'decimal' || c.type.kind === 'json';
    return `${lit(c.name)}, ${text ? `CAST(${v} AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin` : v}`;
  });
  await session.execute(
    `INSERT INTO ${TOMBSTONES} (table_name, run_id, image) ` +
      `SELECT ?, ${plan.runId}, JSON_OBJECT(${image.join(', ')}) FROM ${from} ` +
      `WHERE (${where}) AND NOT (x.${q(SYS_RUN_ID)} <=> ${plan.runId})`,
    [table.name],
  );
}

/**
 * Before-images of the stored rows the merge of `stage` will really change, recorded before
 * it runs (it overwrites them): exactly the rows the SQLite writer's UPDATE trigger sees. A
 * stored row changes iff some staged row of its key passes `mergeSql`'s test against the
 * stored values — the cursor test, and (without child tables) differing from it: the rows
 * before the first such one were refused or identical, so they left the stored row as it was.
 */
async function recordMergeImages(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  children: boolean,
): Promise<void> {
  if (!plan.beforeImages?.has(plan.table.name)) return;
  const cols = plan.table.columns.map((c) => c.name);
  const key = new Set(plan.primaryKey);
  const rest = cols.filter((c) => !key.has(c));
  if (rest.length === 0 && !children) return; // the merge never updates a stored row
  const s = (c: string) => `s.c${cols.indexOf(c)}`;
  const o = (c: string) => `o.${q(c)}`;
  const cursor = plan.cursor;
  const ok = cursor ? `(${s(cursor)} >= ${o(cursor)} OR ${o(cursor)} IS NULL)` : 'TRUE';
  const differs = `NOT (${rest.map((c) => `${o(c)} <=> ${s(c)}`).join(' AND ')})`;
  const accept = children ? ok : `${ok} AND ${differs}`;
  const t = q(plan.table.name);
  const pk = plan.primaryKey;
  const changed =
    `SELECT DISTINCT ${pk.map((k, i) => `${s(k)} AS k${i}`).join(', ')} FROM ${q(stage)} s ` +
    `JOIN ${t} o ON ${pk.map((k) => `${o(k)} = ${s(k)}`).join(' AND ')} ` +
    `WHERE NOT (o.${q(SYS_RUN_ID)} <=> ${plan.runId}) AND ${accept}`;
  const from = `${t} x JOIN (${changed}) k ON ${pk.map((k, i) => `x.${q(k)} = k.k${i}`).join(' AND ')}`;
  await recordImages(session, plan, plan.table, from, 'TRUE');
}

interface ChildStage {
  table: LiveTable;
  stage: string;
}

/** Accepted parent rows (see mysqlWriter), the merge, then each child table's rows replaced. */
async function mergeWithChildren(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  children: readonly ChildStage[],
  rows: number,
  stats: WriteStats,
): Promise<void> {
  const acc = `_tributary_accept_${process.pid}_${++staging}`;
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

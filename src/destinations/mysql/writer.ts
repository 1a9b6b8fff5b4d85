import type { DbValue } from '../../core/types.js';
import { tsvRow } from '../rowtext.js';
import {
  DirectLoadConflict,
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

export { tsvField, tsvRow } from '../rowtext.js';

const q = (id: string) => `\`${id.replaceAll('`', '``')}\``;

/** TSV text handed to LOAD DATA per call (UTF-16 units; at most ~1 MiB of UTF-8). */
const CHUNK = 256 * 1024;
/** Child TSV buffered before it is loaded (each switch ends the parent's LOAD DATA). */
const CHILD_BUFFER = 4 << 20;
/** Rows per multi-row INSERT when LOAD DATA is not available (≤ 65,535 placeholders). */
const INSERT_ROWS = 1000;

/**
 * When a staged merge without child tables uses the keyed UPDATE (`mergeByUpdate`) instead
 * of the row-by-row upsert. Exported for tests, which lower `minRows` to exercise it on small files.
 */
export const mergeTuning = {
  /** Fewer staged rows: the upsert (the UPDATE's extra statements cost more than they save). */
  minRows: 2000,
  /** The UPDATE scans the target over the staged keys' range: at most this many stored rows per staged row. */
  maxScanPerRow: 1.5,
};

/** Staged merges without child tables done each way, for tests. */
export const mergePaths = { update: 0, upsert: 0 };

/** How the destination's writers behave (fixed when it opens). */
export interface WriterOptions {
  /** LOAD DATA LOCAL INFILE is available; otherwise rows go in by multi-row INSERTs. */
  bulk: boolean;
  /**
   * The text collation pads with spaces (`utf8mb4_bin`): `<=>` then says 'a' equals 'a ', so
   * the keyed UPDATE compares text as bytes to see what the upsert would change.
   */
  padSpace: boolean;
  /**
   * Engines for staging tables, best first; the next one when a table's key is too long for
   * one (ER_TOO_LONG_KEY). MariaDB's Aria keeps staged rows out of InnoDB's buffer pool, which
   * the merge needs for the target's rows and undo: about a fifth less time for a million
   * updates with the default 128 MiB pool.
   */
  stagingEngines: readonly string[];
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
  readonly #limit: number;
  readonly target: LoadTarget;
  #text = '';
  #rows = 0;

  constructor(session: Session, into: SinkSpec, limit: number) {
    this.#session = session;
    this.#limit = limit;
    const set = into.constants.length
      ? ` SET ${into.constants.map(([c, v]) => `${q(c)} = ${v}`).join(', ')}`
      : '';
    this.target = {
      label: into.label,
      sql:
        `LOAD DATA LOCAL INFILE 'tributary.tsv' INTO TABLE ${q(into.table)} CHARACTER SET utf8mb4 ` +
        `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
        `(${into.columns.map(q).join(', ')})${set}`,
      rename: new Map(into.columns.map((c, i) => [c, into.names[i] ?? c])),
      loaded: 0,
      sent: 0,
      ...(into.skips ? { skipped: 0 } : {}),
    };
  }

  add(lead: readonly number[], values: readonly DbValue[]): boolean {
    let line = '';
    for (const n of lead) line += n + '\t';
    this.#text += line + tsvRow(values) + '\n';
    this.#rows++;
    return this.#text.length >= this.#limit;
  }

  /** Rows already encoded as TSV lines (no leading columns): handed to the statement as they are. */
  async sendText(text: string, rows: number): Promise<void> {
    await this.send();
    if (rows > 0) await this.#session.load(this.target, text, rows);
  }

  async send(): Promise<void> {
    if (this.#rows === 0) return;
    const text = this.#text;
    const rows = this.#rows;
    this.#text = '';
    this.#rows = 0;
    await this.#session.load(this.target, text, rows);
  }

  async flush(): Promise<void> {
    await this.send();
    await this.#session.flush();
  }

  stored(): number {
    return this.target.loaded;
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
  /** LOAD DATA: count rows skipped for a duplicate key instead of failing (LoadTarget.skipped). */
  skips?: boolean;
}

function sink(session: Session, bulk: boolean, into: SinkSpec, limit = CHUNK): RowSink {
  for (const [, v] of into.constants) if (!Number.isSafeInteger(v)) throw new Error(`internal: bad id ${v}`);
  return bulk ? new LoadSink(session, into, limit) : new InsertSink(session, into);
}

/**
 * A per-writer temporary table: `_seq` (file order) as defined by `seq`, the given extra
 * columns and indexes, and the table's columns as `c0…`.
 */
async function createStaging(
  session: Session,
  table: LiveTable,
  seq: string,
  extra: string,
  engines: readonly string[] = ['InnoDB'],
): Promise<string> {
  const name = `_tributary_stage_${process.pid}_${++staging}`;
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
 * - merge, direct (`plan.direct`, no child tables, LOAD DATA available, and the table empty
 *   as the transaction sees it when the writer is made): rows go straight into the table as
 *   well — merging rows with distinct keys into an empty table inserts each of them. A key
 *   that occurs twice is skipped by LOAD DATA LOCAL (IGNORE semantics); `finish` then throws
 *   DirectLoadConflict and the caller loads the file again through staging.
 * - merge: rows are staged in a temporary table in file order (`_seq`), then merged. The
 *   reference is ONE `INSERT … SELECT … ORDER BY _seq ON DUPLICATE KEY UPDATE` (`mergeSql`):
 *   the server applies the rows one by one in file order, each against the row as it stands
 *   (stored, or written by an earlier row of the same batch), which is exactly the SQLite
 *   writer's row-at-a-time upsert: the greatest cursor wins, ties go to the later row, no
 *   cursor means the later row wins, a row identical to the stored one changes nothing.
 *   Affected-rows semantics (1 insert, 2 changed, 0 unchanged; CLIENT_FOUND_ROWS off) plus the
 *   statement's "Duplicates" count give inserted and updated without another pass. Without
 *   child tables, when no key is staged twice and the target's rows over the staged keys'
 *   range are few enough, a keyed UPDATE plus an INSERT of the new keys gives the same result
 *   with less work for the server (`mergeByUpdate`).
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
 * to the socket, so memory stays bounded by one batch. With LOAD DATA and no child tables the
 * writer also takes rows already encoded as TSV (`writeText`, Capabilities.rowFormat), which
 * go to the statement as they are.
 */
export async function mysqlWriter(
  session: Session,
  plan: TableWritePlan,
  options: WriterOptions,
): Promise<TableWriter> {
  const { bulk } = options;
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
      ...textInput(out, (n) => {
        rows += n;
      }),
      async finish() {
        await out.flush();
        stats.inserted = out.stored();
        stats.unchanged = rows - stats.inserted;
        return stats;
      },
    };
  }

  if (plan.children.length === 0) {
    if (plan.direct && bulk && (await isEmpty(session, t))) return directWriter(session, plan, stats);
    return flatMergeWriter(session, plan, options, stats);
  }

  const stage = await createStaging(session, table, 'BIGINT NOT NULL DEFAULT 0 PRIMARY KEY', '');
  const parent = sink(session, bulk, {
    table: stage,
    label: table.name,
    columns: ['_seq', ...positional],
    names: ['_seq', ...cols],
    constants: [],
  });
  const children: Array<ChildStage & { out: RowSink }> = [];
  for (const child of plan.children) {
    const name = await createStaging(
      session,
      child,
      'BIGINT NOT NULL DEFAULT 0 PRIMARY KEY',
      ', `_pseq` BIGINT NOT NULL DEFAULT 0',
    );
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
      if (seq > 0) await mergeWithChildren(session, plan, stage, children, seq, stats);
      for (const c of children) await dropTemp(session, c.stage);
      await dropTemp(session, stage);
      return stats;
    },
  };
}

/** `writeText` for a sink that is a LOAD DATA (none for multi-row INSERTs: no row format then). */
function textInput(out: RowSink, count: (rows: number) => void): Pick<TableWriter, 'writeText'> {
  if (!(out instanceof LoadSink)) return {};
  return {
    async writeText(text: string, rows: number) {
      count(rows);
      await out.sendText(text, rows);
    },
  };
}

async function isEmpty(session: Session, t: string): Promise<boolean> {
  return (await session.query(`SELECT 1 AS found FROM ${t} LIMIT 1`)).length === 0;
}

/**
 * A merge into a table found empty, loaded straight into it: each row is inserted with the
 * run id, exactly as the staged merge would insert it. LOAD DATA LOCAL skips a row whose key
 * is already there (a key twice in the file, or a row another transaction committed meanwhile):
 * the skipped rows are counted, and `finish` throws DirectLoadConflict so that the caller rolls
 * the transaction back and loads the file through staging.
 */
function directWriter(session: Session, plan: TableWritePlan, stats: WriteStats): TableWriter {
  const { table } = plan;
  const cols = table.columns.map((c) => c.name);
  const out = new LoadSink(
    session,
    {
      table: table.name,
      label: table.name,
      columns: cols,
      names: cols,
      constants: [
        [SYS_RUN_ID, plan.runId],
        ...(table.systemColumns.includes(SYS_FILE_ID) ? [[SYS_FILE_ID, plan.fileId] as const] : []),
      ],
      skips: true,
    },
    CHUNK,
  );
  let rows = 0;
  return {
    async write(batch: readonly RowNode[]) {
      for (const row of batch) if (out.add(NO_LEAD, row.values)) await out.send();
      rows += batch.length;
      await out.send();
    },
    async writeText(text: string, n: number) {
      rows += n;
      await out.sendText(text, n);
    },
    async finish() {
      await out.flush();
      if ((out.target.skipped ?? 0) > 0) throw new DirectLoadConflict(table.name);
      if (out.stored() !== rows) {
        throw new Error(`internal: ${rows} rows written for ${table.name}, ${out.stored()} loaded`);
      }
      stats.inserted = rows;
      return stats;
    },
  };
}

/**
 * A merge without child tables, through staging. `_seq` is AUTO_INCREMENT and left out of
 * the rows: LOAD DATA (and a multi-row INSERT) inserts its rows one after the other in the
 * order they come, and each gets the next value of the counter, which only grows — the
 * table is temporary, no other session inserts into it — so `_seq` follows file order across
 * statements too (a reject insert between two batches ends one LOAD DATA and the next
 * batch starts another). The staging table is clustered by key then `_seq` (InnoDB wants the
 * AUTO_INCREMENT column first in some index: `_order`): the duplicate check reads it in
 * order, the keyed UPDATE of `mergeByUpdate` finds a key with one lookup, and the upsert
 * reads it in key order, which visits the target's pages in order too.
 */
async function flatMergeWriter(
  session: Session,
  plan: TableWritePlan,
  options: WriterOptions,
  stats: WriteStats,
): Promise<TableWriter> {
  const { table } = plan;
  const cols = table.columns.map((c) => c.name);
  const positional = cols.map((_, i) => `c${i}`);
  const keyOrder = [...plan.primaryKey.map((k) => `\`c${cols.indexOf(k)}\``), '`_seq`'];
  const stage = await createStaging(
    session,
    table,
    'BIGINT NOT NULL AUTO_INCREMENT',
    `, PRIMARY KEY (${keyOrder.join(', ')}), KEY \`_order\` (\`_seq\`)`,
    options.stagingEngines,
  );
  const out = sink(session, options.bulk, {
    table: stage,
    label: table.name,
    columns: positional,
    names: cols,
    constants: [],
  });
  let rows = 0;
  return {
    async write(batch: readonly RowNode[]) {
      for (const row of batch) if (out.add(NO_LEAD, row.values)) await out.send();
      rows += batch.length;
      await out.send();
    },
    ...textInput(out, (n) => {
      rows += n;
    }),
    async finish() {
      await out.flush();
      if (out.stored() !== rows) {
        throw new Error(`internal: ${rows} rows written for ${table.name}, ${out.stored()} staged`);
      }
      if (rows > 0) {
        if (await mergeByUpdate(session, plan, stage, rows, options, stats)) mergePaths.update++;
        else {
          mergePaths.upsert++;
          await recordMergeImages(session, plan, stage, false);
          const r = await session.command(mergeSql(plan, stage, false, keyOrder));
          countFromInfo(stats, r, rows, table.name);
        }
      }
      await dropTemp(session, stage);
      return stats;
    },
  };
}

/**
 * The file id a merge writes into `_tributary_file_id` — none when the table has no such
 * column (a merge table made before provenance was kept). Checked to be an integer: it goes
 * into the SQL text.
 */
function fileIdOf(plan: TableWritePlan): number[] {
  if (!plan.table.systemColumns.includes(SYS_FILE_ID)) return [];
  if (!Number.isSafeInteger(plan.fileId)) throw new Error(`internal: bad file id ${plan.fileId}`);
  return [plan.fileId];
}

/** SQL that is true when column `c`'s stored value `a` and staged value `b` are the same. */
type Same = (c: string, a: string, b: string) => string;

const nullSafeEqual: Same = (_c, a, b) => `${a} <=> ${b}`;

/**
 * `<=>` where it means "stores the same bytes", a byte comparison where it may not: JSON
 * (MySQL compares JSON values, 1 = 1.0; MariaDB's JSON is text in a PAD SPACE collation) and
 * text under a PAD SPACE collation ('a' = 'a '). The upsert assigns such a value (its record
 * changes, it counts as updated); the keyed UPDATE must then see it as changed as well.
 */
function exactEqual(plan: TableWritePlan, padSpace: boolean): Same {
  const bytes = new Set(
    plan.table.columns
      .filter((c) => c.type.kind === 'json' || (padSpace && c.type.kind === 'text'))
      .map((c) => c.name),
  );
  return (c, a, b) => (bytes.has(c) ? `CAST(${a} AS BINARY) <=> CAST(${b} AS BINARY)` : `${a} <=> ${b}`);
}

/**
 * The staged merge as a keyed UPDATE of the stored rows plus an INSERT of the new keys, when
 * it gives the upsert's result (`mergeSql`) for less work: the upsert first tries to insert
 * every row and takes the duplicate-key path for each stored one, which costs the server more
 * than the update itself. Returns false (nothing done) when it does not apply:
 *
 * - a key staged twice: the rows of one key must be applied one after the other (the upsert).
 * - fewer than `mergeTuning.minRows` rows: the extra statements are not worth it.
 * - the UPDATE would scan too much: MySQL updates a table "on the fly" only when it comes
 *   first in the join, so the UPDATE reads the target over the range of the staged keys'
 *   first column and looks each row up in the staging index; when the optimizer estimates
 *   that range at more than `maxScanPerRow` stored rows per staged row, the upsert's one
 *   lookup per staged row is cheaper.
 *
 * Same result, row by row, with distinct staged keys (each staged row meets only the stored
 * row, as in the upsert): a new key is inserted (the INSERT, after the UPDATE, which adds no
 * row); a stored row is overwritten with the staged values and the run id iff the cursor test
 * passes and some column differs — exactly when the upsert's IF()s change it (`exactEqual`
 * says "differs" exactly when the record's bytes would change); otherwise it is left alone,
 * as the upsert leaves it (assigning equal values changes nothing). Counts: the UPDATE's
 * changed rows are the updated, the INSERT's rows the inserted, the rest unchanged. The
 * before-images are those of the rows the UPDATE changes, recorded first as for the upsert.
 */
async function mergeByUpdate(
  session: Session,
  plan: TableWritePlan,
  stage: string,
  rows: number,
  options: WriterOptions,
  stats: WriteStats,
): Promise<boolean> {
  if (rows < mergeTuning.minRows) return false;
  const cols = plan.table.columns.map((c) => c.name);
  const pk = plan.primaryKey;
  const key = new Set(pk);
  const cursor = plan.cursor;
  const rest = cols.filter((c) => !key.has(c) && c !== cursor);
  if (cursor && !key.has(cursor)) rest.push(cursor);
  const s = (c: string) => `s.\`c${cols.indexOf(c)}\``;
  const o = (c: string) => `o.${q(c)}`;
  const st = q(stage);
  const t = q(plan.table.name);

  const [dup] = await session.query<{ d: number | string }>(
    `SELECT EXISTS (SELECT 1 FROM ${st} s GROUP BY ${pk.map(s).join(', ')} HAVING COUNT(*) > 1) AS d`,
  );
  if (Number(dup?.d) !== 0) return false;
  const first = pk[0] as string;
  // User variables are constants to the optimizer (a range on the key) and keep the column's
  // type and collation (bound parameters would turn a 64-bit key into a DOUBLE).
  await session.execute(
    `SET @_tributary_lo = (SELECT MIN(${s(first)}) FROM ${st} s), @_tributary_hi = (SELECT MAX(${s(first)}) FROM ${st} s), ` +
      `@_tributary_min = (SELECT MIN(${o(first)}) FROM ${t} o), @_tributary_max = (SELECT MAX(${o(first)}) FROM ${t} o)`,
  );
  const range = `${o(first)} BETWEEN @_tributary_lo AND @_tributary_hi`;
  const [plan0] = await session.query<{ rows: number | string | null }>(
    `EXPLAIN SELECT 1 FROM ${t} o WHERE ${range}`,
  );
  // No row count: the optimizer found the range empty ("Impossible WHERE").
  const scan = plan0 ? Number(plan0.rows ?? 0) : Number.POSITIVE_INFINITY;
  if (!(scan <= mergeTuning.maxScanPerRow * rows)) return false;

  const same = exactEqual(plan, options.padSpace);
  if (rest.length > 0) {
    await recordMergeImages(session, plan, stage, false, same);
    const ok = cursor ? `(${s(cursor)} >= ${o(cursor)} OR ${o(cursor)} IS NULL)` : 'TRUE';
    const differs = `NOT (${rest.map((c) => same(c, o(c), s(c))).join(' AND ')})`;
    const sets = [
      `${o(SYS_RUN_ID)} = ${plan.runId}`,
      ...fileIdOf(plan).map((id) => `${o(SYS_FILE_ID)} = ${id}`),
      ...rest.map((c) => `${o(c)} = ${s(c)}`),
    ];
    const r = await session.command(
      `UPDATE ${t} o STRAIGHT_JOIN ${st} s ON ${pk.map((k) => `${s(k)} = ${o(k)}`).join(' AND ')} ` +
        `SET ${sets.join(', ')} WHERE ${range} AND ${ok} AND ${differs}`,
    );
    const m = /Rows matched:\s*(\d+)\s+Changed:\s*(\d+)/.exec(r.info);
    if (!m || Number(m[1]) !== Number(m[2]) || Number(m[2]) > rows) {
      throw new Error(
        `internal: keyed merge into ${plan.table.name} reported "${r.info}" for ${rows} staged rows`,
      );
    }
    stats.updated = Number(m[2]);
  }
  // New keys: those outside the stored keys' range need no lookup (nor the copy MySQL makes of
  // an INSERT … SELECT that reads its own table); the others are looked up.
  const file = fileIdOf(plan);
  const insert =
    `INSERT INTO ${t} (${[...cols, SYS_RUN_ID, ...file.map(() => SYS_FILE_ID)].map(q).join(', ')}) ` +
    `SELECT ${cols.map((_, i) => `s.\`c${i}\``).join(', ')}, ${[plan.runId, ...file].join(', ')} FROM ${st} s WHERE `;
  const order = ` ORDER BY ${[...pk.map(s), 's.`_seq`'].join(', ')}`;
  if (stats.updated < rows) {
    stats.inserted += (
      await session.execute(
        `${insert}@_tributary_max IS NULL OR ${s(first)} < @_tributary_min OR ${s(first)} > @_tributary_max${order}`,
      )
    ).affectedRows;
  }
  if (stats.updated + stats.inserted < rows) {
    stats.inserted += (
      await session.execute(
        `${insert}${s(first)} BETWEEN @_tributary_min AND @_tributary_max AND NOT EXISTS ` +
          `(SELECT 1 FROM ${t} o WHERE ${pk.map((k) => `${o(k)} = ${s(k)}`).join(' AND ')})${order}`,
      )
    ).affectedRows;
  }
  stats.unchanged = rows - stats.inserted - stats.updated;
  if (stats.unchanged < 0)
    throw new Error(`internal: keyed merge into ${plan.table.name} counted more rows than staged`);
  return true;
}

/**
 * The merge: staged rows applied one by one in file order (`order`: `_seq`, or the key then
 * `_seq` — the same thing, since a row's outcome depends only on the rows of its own key
 * before it). In ON DUPLICATE KEY UPDATE the
 * assignments run left to right and each sees the values already assigned, so
 * `_tributary_run_id` goes first (its "did anything change" test must see the stored
 * values) and the cursor goes last (every other column's "is the cursor newer" test then
 * sees the stored cursor). A column is assigned whenever the cursor test passes: when the
 * row is identical that assigns equal values, which MySQL does not count as a change.
 */
export function mergeSql(
  plan: TableWritePlan,
  stage: string,
  children: boolean,
  order: readonly string[] = ['`_seq`'],
): string {
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
  const file = fileIdOf(plan);
  // The file that supplied the row moves with it (provenance: src/runner/reconcile.ts);
  // before the other columns, so that its test sees the stored values, as the run id's does.
  const sets = [
    `${q(SYS_RUN_ID)} = IF(${accept}, ${v(SYS_RUN_ID)}, ${q(SYS_RUN_ID)})`,
    ...file.map(() => `${q(SYS_FILE_ID)} = IF(${accept}, ${v(SYS_FILE_ID)}, ${q(SYS_FILE_ID)})`),
    ...rest.map((c) => `${q(c)} = IF(${ok}, ${v(c)}, ${q(c)})`),
  ];
  const select = cols.map((_, i) => `s.c${i}`).join(', ');
  return (
    `INSERT INTO ${q(plan.table.name)} (${[...cols, SYS_RUN_ID, ...file.map(() => SYS_FILE_ID)].map(q).join(', ')}) ` +
    `SELECT ${select}, ${[plan.runId, ...file].join(', ')} FROM ${q(stage)} s ORDER BY ${order.map((c) => `s.${c}`).join(', ')} ` +
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
  same: Same = nullSafeEqual,
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
  const differs = `NOT (${rest.map((c) => same(c, o(c), s(c))).join(' AND ')})`;
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

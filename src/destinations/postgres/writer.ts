import type { DbValue } from '../../core/types.js';
import { csvLoads, tsvRow } from '../rowtext.js';
import {
  type CsvShape,
  checkWritePlan,
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
import { q } from './dialect.js';
import { recordImages } from './images.js';
import { mergePaths, mergeStaged, type Staged, upsertOnce } from './merge.js';
import type { CopyTarget, PgSession } from './session.js';

/** Text handed to COPY per call (UTF-16 units). */
const CHUNK = 256 * 1024;

let staging = 0;

/** A temporary table's name, unique in this process: `_tributary_<kind>_<pid>_<n>`. */
function tempName(kind: string): string {
  return `_tributary_${kind}_${process.pid}_${++staging}`;
}

/**
 * Row writer for one table inside an open PostgreSQL transaction, with the SQLite writer's
 * semantics and counts (one suite tests all three):
 *
 * - append / replace: rows are copied straight into the table (a re-sent append file's rows,
 *   or the whole table, deleted first).
 * - merge, direct (`plan.direct`, no child tables, the table empty as the transaction sees it
 *   when the writer is made): rows are copied straight into the table — merging rows with
 *   distinct keys into an empty table inserts each of them. A key that occurs twice violates
 *   the primary key (23505) and fails the COPY, which then surfaces as DirectLoadConflict from
 *   whichever statement ends it: the caller rolls back and loads the file through staging.
 * - merge: rows are copied into a temporary staging table in file order (`_seq`, an identity
 *   column the COPY leaves out, or set by the writer when child rows refer to it), then merged
 *   (merge.ts). The staging tables are `ON COMMIT DROP`: gone with the transaction, whatever
 *   its outcome.
 * - before-images (`plan.beforeImages`): recorded by an `INSERT … SELECT` right before each
 *   statement that deletes or overwrites rows, as on MySQL; a replace records one NULL image.
 *
 * Rows go in through `COPY … FROM STDIN` in PostgreSQL's text format, not CSV: its encoding is
 * exactly the tab-separated text MySQL's LOAD DATA reads (`\N` is NULL, so an empty string
 * stays one; backslash, tab, newline and carriage return escaped; booleans 1/0), so the worker
 * threads encode rows for both with one function (`tsvRow`, `Capabilities.rowFormat` 'tsv') and
 * the main thread only forwards text. CSV would need its own quoting and gives NULL and the
 * empty string apart only by quotes. The one value the text format cannot carry is NUL, which
 * PostgreSQL's text type cannot store either. The exception is the fast path (`writeCsv`,
 * src/normalize/native.ts): a file's own CSV text whose values PostgreSQL reads as the
 * encoder would write them goes to a `COPY … (FORMAT csv)` of its own (CsvCopies).
 */
export async function postgresWriter(session: PgSession, plan: TableWritePlan): Promise<TableWriter> {
  const { table, runId, fileId } = plan;
  const t = q(table.name);
  const cols = table.columns.map((c) => c.name);
  const withFile = table.systemColumns.includes(SYS_FILE_ID);
  const stats: WriteStats = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 };
  const merge = plan.write === 'merge';
  checkWritePlan(plan);
  // The run id (and file id) ends every row of a COPY into the table itself.
  const sysCols = [SYS_RUN_ID, ...(withFile ? [SYS_FILE_ID] : [])];
  const tail = `\t${runId}${withFile ? `\t${fileId}` : ''}`;

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
    await recordImages(session, plan, table, `${t} x`, `x.${q(SYS_FILE_ID)} = ${fileId}`);
    stats.deleted = (
      await session.execute(`DELETE FROM ${t} WHERE ${q(SYS_FILE_ID)} = ${fileId}`)
    ).affectedRows;
  }

  const direct =
    merge &&
    plan.direct === true &&
    plan.children.length === 0 &&
    (await session.query(`SELECT 1 AS found FROM ${t} LIMIT 1`)).length === 0;
  if (!merge || direct) {
    const target = copyTarget(table.name, t, [...cols, ...sysCols], direct);
    const out = new CopyBuffer(session, target, tail);
    const csv = new CsvCopies(
      session,
      table.name,
      t,
      sysCols,
      [runId, ...(withFile ? [fileId] : [])],
      direct,
    );
    let rows = 0;
    return {
      async write(batch: readonly RowNode[]) {
        for (const row of batch) if (out.add(row.values)) await out.send();
        rows += batch.length;
        await out.send();
      },
      async writeText(text: string, n: number) {
        rows += n;
        await out.sendText(text);
      },
      async writeCsv(text: Uint8Array, n: number, shape: CsvShape) {
        rows += n;
        await out.send();
        await csv.send(text, n, shape);
      },
      async finish() {
        await out.flush();
        if (target.loaded + csv.loaded() !== rows) {
          throw new Error(
            `internal: ${rows} rows written for ${table.name}, ${target.loaded + csv.loaded()} copied`,
          );
        }
        stats.inserted = rows;
        return stats;
      },
    };
  }

  const children = plan.children;
  const stage = await createStaging(session, table);
  const staged: Staged = {
    stage,
    children: await Promise.all(
      children.map(async (child) => ({ table: child, stage: await createStaging(session, child, true) })),
    ),
  };
  let rows = 0;
  if (children.length === 0) {
    // `_seq` left to its identity: COPY numbers the rows in the order they come, across statements.
    const target = copyTarget(table.name, q(stage), cols, false);
    const out = new CopyBuffer(session, target, '');
    const csv = new CsvCopies(session, table.name, q(stage), [], [], false);
    return {
      async write(batch: readonly RowNode[]) {
        for (const row of batch) if (out.add(row.values)) await out.send();
        rows += batch.length;
        await out.send();
      },
      async writeText(text: string, n: number) {
        rows += n;
        await out.sendText(text);
      },
      async writeCsv(text: Uint8Array, n: number, shape: CsvShape) {
        rows += n;
        await out.send();
        await csv.send(text, n, shape);
      },
      async finish() {
        await out.flush();
        if (target.loaded + csv.loaded() !== rows) {
          throw new Error(
            `internal: ${rows} rows written for ${table.name}, ${target.loaded + csv.loaded()} staged`,
          );
        }
        if (rows > 0) {
          if (await upsertOnce(session, plan, stage, rows, stats)) mergePaths.upsert++;
          else {
            mergePaths.staged++;
            await mergeStaged(session, plan, staged, rows, stats);
          }
        }
        return stats;
      },
    };
  }

  // Child rows refer to their parent's `_seq`, so the writer numbers the parent rows. Each
  // batch goes to the parent's COPY, then to each child's (one statement per target per batch).
  const parentTarget = copyTarget(table.name, q(stage), ['_seq', ...cols], false);
  const parent = new CopyBuffer(session, parentTarget, '');
  const outs = staged.children.map((c) => {
    const target = copyTarget(
      c.table.name,
      q(c.stage),
      ['_pseq', ...c.table.columns.map((x) => x.name)],
      false,
    );
    return { name: c.table.name, target, out: new CopyBuffer(session, target, '', Number.POSITIVE_INFINITY) };
  });
  return {
    async write(batch: readonly RowNode[]) {
      for (const row of batch) {
        const s = ++rows;
        parent.add(row.values, s);
        for (const c of outs) for (const crow of row.children?.get(c.name) ?? []) c.out.add(crow, s);
      }
      await parent.send();
      for (const c of outs) await c.out.send();
    },
    async finish() {
      await parent.flush();
      for (const c of outs) await c.out.flush();
      if (parentTarget.loaded !== rows) {
        throw new Error(`internal: ${rows} rows written for ${table.name}, ${parentTarget.loaded} staged`);
      }
      mergePaths.staged++;
      if (rows > 0) await mergeStaged(session, plan, staged, rows, stats);
      return stats;
    },
  };
}

/**
 * `COPY table (columns) FROM STDIN` in text format, or with `options` (`WITH (…)`); a direct
 * load's key conflict becomes DirectLoadConflict.
 */
function copyTarget(
  label: string,
  table: string,
  columns: readonly string[],
  direct: boolean,
  options = '',
): CopyTarget {
  return {
    label,
    sql: `COPY ${table} (${columns.map(q).join(', ')}) FROM STDIN${options}`,
    loaded: 0,
    ...(direct
      ? {
          mapError: (err: unknown) =>
            (err as { code?: string }).code === '23505' ? new DirectLoadConflict(label) : undefined,
        }
      : {}),
  };
}

/**
 * A temporary staging table with the target's columns — their exact types, copied from the
 * table — plus `_seq`, the file order (an identity column: COPY fills it in the order rows
 * come when they leave it out), and for a child table `_pseq`, the parent row's `_seq`.
 */
async function createStaging(session: PgSession, table: LiveTable, child = false): Promise<string> {
  const name = tempName('stage');
  const select = table.columns.map((c) => q(c.name)).join(', ');
  await session.execute(
    `CREATE TEMPORARY TABLE ${q(name)} ON COMMIT DROP AS SELECT ${select} FROM ${q(table.name)} WITH NO DATA`,
  );
  await session.execute(
    `ALTER TABLE ${q(name)} ADD COLUMN _seq BIGINT GENERATED BY DEFAULT AS IDENTITY${child ? ', ADD COLUMN _pseq BIGINT' : ''}`,
  );
  return name;
}

/**
 * The COPYs of the file's own CSV text (TableWriter.writeCsv, the fast path), one per shape:
 * `FORMAT csv` with `"` quoting, every field `FORCE_NULL` so that an empty field is NULL
 * quoted or not, as the encoder makes it (`NULL ''` compares text exactly: `' '` stays). COPY
 * has no SET: constant columns (the run and file ids) are appended to every line — each line
 * feed ends a row, since no value of the fast path holds one.
 */
class CsvCopies {
  /** Per shape: its COPY, and what ends each of its lines before the line feed. */
  readonly #targets = new Map<string, { target: CopyTarget; tail: Buffer }>();
  readonly #constants: readonly number[];

  constructor(
    private readonly session: PgSession,
    private readonly label: string,
    private readonly table: string,
    private readonly constColumns: readonly string[],
    constants: readonly number[],
    private readonly direct: boolean,
  ) {
    for (const v of constants) if (!Number.isSafeInteger(v)) throw new Error(`internal: bad id ${v}`);
    this.#constants = constants;
  }

  async send(text: Uint8Array, rows: number, shape: CsvShape): Promise<void> {
    if (rows === 0) return;
    const key = `${shape.delimiter}\u0000${shape.columns.join('\u0000')}`;
    let copy = this.#targets.get(key);
    if (!copy) {
      if (!/^[,;|\t]$/.test(shape.delimiter)) throw new Error('internal: unexpected CSV delimiter');
      const delimiter = shape.delimiter === '\t' ? "E'\\t'" : `'${shape.delimiter}'`;
      const options = ` WITH (FORMAT csv, DELIMITER ${delimiter}, QUOTE '"', ESCAPE '"', NULL '', FORCE_NULL (${shape.columns.map(q).join(', ')}))`;
      copy = {
        target: copyTarget(
          this.label,
          this.table,
          [...shape.columns, ...this.constColumns],
          this.direct,
          options,
        ),
        // The constants follow the last field, each after the delimiter.
        tail: Buffer.from(this.#constants.map((v) => `${shape.delimiter}${v}`).join('')),
      };
      this.#targets.set(key, copy);
    }
    await this.session.copy(copy.target, copy.tail.length > 0 ? withTail(text, copy.tail) : text);
    csvLoads.batches++;
    csvLoads.rows += rows;
  }

  loaded(): number {
    let n = 0;
    for (const c of this.#targets.values()) n += c.target.loaded;
    return n;
  }
}

/** `text` with `tail` before every line feed. */
function withTail(text: Uint8Array, tail: Buffer): Buffer {
  const src = Buffer.from(text.buffer, text.byteOffset, text.byteLength);
  let lines = 0;
  for (let i = src.indexOf(0x0a); i !== -1; i = src.indexOf(0x0a, i + 1)) lines++;
  const out = Buffer.allocUnsafe(src.length + lines * tail.length);
  let from = 0;
  let at = 0;
  for (let i = src.indexOf(0x0a); i !== -1; i = src.indexOf(0x0a, i + 1)) {
    at += src.copy(out, at, from, i);
    at += tail.copy(out, at);
    out[at++] = 0x0a;
    from = i + 1;
  }
  at += src.copy(out, at, from);
  return out.subarray(0, at);
}

/** COPY text rows buffered up to a chunk, sent with `send`. */
class CopyBuffer {
  #text = '';

  constructor(
    private readonly session: PgSession,
    private readonly target: CopyTarget,
    /** Appended to every row (the run and file ids). */
    private readonly tail: string,
    private readonly limit = CHUNK,
  ) {}

  /** Buffer one row (after `lead`, a sequence number, when given); true when a send is due. */
  add(values: readonly DbValue[], lead?: number): boolean {
    this.#text += (lead === undefined ? '' : `${lead}\t`) + tsvRow(values) + this.tail + '\n';
    return this.#text.length >= this.limit;
  }

  /** Rows already encoded as text lines (Capabilities.rowFormat 'tsv'), sent after what is buffered. */
  async sendText(text: string): Promise<void> {
    await this.send();
    // Every line feed ends a row (one inside a value is escaped): the tail goes before each.
    if (text.length > 0)
      await this.session.copy(this.target, this.tail ? text.replaceAll('\n', `${this.tail}\n`) : text);
  }

  async send(): Promise<void> {
    if (this.#text.length === 0) return;
    const text = this.#text;
    this.#text = '';
    await this.session.copy(this.target, text);
  }

  async flush(): Promise<void> {
    await this.send();
    await this.session.flush();
  }
}

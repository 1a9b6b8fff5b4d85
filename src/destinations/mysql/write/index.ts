/**
 * The MySQL/MariaDB table writer (src/destinations/mysql/write/): `mysqlWriter` is the entry
 * point, and the writers of each strategy below it take the rows.
 *
 * - sinks.ts     the transports: LOAD DATA LOCAL INFILE, or multi-row INSERTs
 * - staging.ts   temporary tables: the staging table a merge loads into, and their names
 * - merge.ts     the staged merge: the upsert, its counts, and the keyed UPDATE instead
 * - children.ts  the merge of a table with child tables (accepted rows, children replaced)
 * - images.ts    before-images for incremental models, recorded before rows change
 */
import {
  type CsvShape,
  checkWritePlan,
  DirectLoadConflict,
  type RowNode,
  SYS_FILE_ID,
  SYS_RUN_ID,
  type TableWritePlan,
  type TableWriter,
  TOMBSTONES,
  type WriteStats,
} from '../../types.js';
import { q } from '../dialect.js';
import type { Session } from '../session.js';
import { type ChildStage, mergeWithChildren } from './children.js';
import { recordImages, recordMergeImages } from './images.js';
import { countFromInfo, mergeByUpdate, mergePaths, mergeSql } from './merge.js';
import { CHILD_BUFFER, CHUNK, LoadSink, NO_LEAD, type RowSink, sink, textInput } from './sinks.js';
import { createStaging, dropTemp } from './staging.js';

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
  /**
   * Number a merge's staged rows with a session variable in the loading statement
   * (SinkSpec.counter) instead of AUTO_INCREMENT: MariaDB. MySQL 8 warns that a variable set
   * inside an expression is deprecated (1287), and a warning fails a LOAD DATA.
   */
  sessionCounter: boolean;
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
  checkWritePlan(plan);
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
    async writeCsv(text: Uint8Array, n: number, shape: CsvShape) {
      rows += n;
      await out.sendCsv(text, n, shape);
    },
    async finish() {
      await out.flush();
      if (out.skipped() > 0) throw new DirectLoadConflict(table.name);
      if (out.stored() !== rows) {
        throw new Error(`internal: ${rows} rows written for ${table.name}, ${out.stored()} loaded`);
      }
      stats.inserted = rows;
      return stats;
    },
  };
}

/**
 * A merge without child tables, through staging. `_seq` is left out of the rows (the file's
 * own CSV text has no such column) and numbered by the server: LOAD DATA (and a multi-row
 * INSERT) stores its rows one after the other in the order they come, and each takes the
 * next value of a session variable set to 0 when the table is made (SinkSpec.counter, on
 * MariaDB) or of the table's AUTO_INCREMENT counter (MySQL: WriterOptions.sessionCounter),
 * which only grows — the table is temporary, no other session inserts into it — so `_seq`
 * follows file order across statements too (a reject insert between two batches ends one
 * LOAD DATA and the next batch starts another). AUTO_INCREMENT needs an index of its own
 * (`_order`: InnoDB wants the column first in some index), which made staging a million
 * rows cost a third more (2.73 s against 2.05 s on MariaDB, Aria and InnoDB alike:
 * docs/performance.md). The staging table is clustered by key then `_seq`: the duplicate
 * check reads it in order, the keyed UPDATE of `mergeByUpdate` finds a key with one lookup,
 * and the upsert reads it in key order, which visits the target's pages in order too.
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
  const counter = options.sessionCounter;
  const stage = await createStaging(
    session,
    table,
    counter ? 'BIGINT NOT NULL DEFAULT 0' : 'BIGINT NOT NULL AUTO_INCREMENT',
    `, PRIMARY KEY (${keyOrder.join(', ')})${counter ? '' : ', KEY `_order` (`_seq`)'}`,
    options.stagingEngines,
  );
  // One name for every staging table: a connection holds one merge writer at a time, and
  // a long-lived pool connection does not collect a variable per file.
  const variable = '_tributary_seq';
  if (counter) await session.execute(`SET @${variable} = 0`);
  const out = sink(session, options.bulk, {
    table: stage,
    label: table.name,
    columns: positional,
    names: cols,
    constants: [],
    ...(counter ? { counter: { column: '_seq', variable } } : {}),
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
        if (await mergeByUpdate(session, plan, stage, rows, options.padSpace, stats)) mergePaths.update++;
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

import { createHash } from 'node:crypto';
import { crashPoint, delayPoint } from '../../core/faults.js';
import {
  childTablesOf,
  type TableWriter,
  type Transaction,
  type WriteStats,
} from '../../destinations/types.js';
import { csvBytes } from '../../normalize/native.js';
import { observing, type ScanInput, Scanner, type ScanResult } from '../../normalize/scan.js';
import { type EncodeInput, encodeBatches } from '../../normalize/stream.js';
import { insertRejects, type Reject } from '../../state/rejects.js';
import { overLimit, tooManyRejects } from '../max-rejects.js';
import { encodeInPool, type StreamBatch } from '../parallel.js';
import { checkAbort, type FileJob, KEEP_REJECTS, OnePassMiss } from './job.js';
import { reader, target } from './scan.js';

/** Pass 2 on the main thread: encoded batches, the hash of the bytes read, and with `observe` their scan. */
function localStream(job: FileJob, input: EncodeInput, observe?: ScanInput) {
  const hash = createHash('sha256');
  const scanner = observe ? new Scanner(observe) : undefined;
  let bytes = 0;
  async function* batches() {
    const read = reader(
      job,
      (chunk) => {
        hash.update(chunk);
        bytes += chunk.length;
      },
      input.native === true,
    );
    const items = scanner ? observing(read, scanner) : read;
    for await (const batch of encodeBatches(items, input)) yield { batch, bytes };
  }
  return { batches: batches(), hash: () => hash.digest('hex'), scan: () => scanner?.result() };
}

export interface WriteResult {
  hash: string;
  rows: number;
  rejects: Reject[];
  rejectCount: number;
  stats: WriteStats;
  discardedRows: number;
  discardedValues: number;
  /** What the first pass would have observed, when asked for (`observe`). */
  scan?: ScanResult;
}

/** Pass 2: coerce each record to the live types, reject what does not fit, write the rest. */
export async function writeRows(
  job: FileJob,
  tx: Transaction,
  id: number,
  children: boolean,
  how: {
    /** Load straight into the table where the destination can (TableWritePlan.direct). */
    direct?: boolean;
    /**
     * Stop with OnePassMiss at the first batch that may need a schema change: of a table as
     * it was (`live`), or of one just created from a sample (`new`, whose columns with only
     * empty values so far are checked at the end, with the whole file's scan).
     */
    onePass?: 'live' | 'new';
    /** Also scan the records, as the first pass would (WriteResult.scan). */
    observe?: ScanInput;
  } = {},
): Promise<WriteResult> {
  const { direct = false, onePass, observe } = how;
  const { source, catalog, file } = job;
  const table = catalog.get(source.table);
  if (!table) throw new Error(`internal: table ${source.table} missing after DDL`);
  const childTables = children ? childTablesOf(catalog, source.table) : [];
  const writer = job.shadowed
    ? shadowWriter()
    : await tx.writer({
        table,
        write: source.write,
        primaryKey: source.primaryKey,
        cursor: source.cursor,
        runId: job.runId,
        fileId: id,
        children: childTables,
        beforeImages: job.beforeImages,
        direct,
      });
  // Rows as text made by the workers, when the destination takes a text format: the main
  // thread then only forwards it (for MySQL, to LOAD DATA).
  const rowFormat =
    job.dest.capabilities.rowFormat && writer.writeText && childTables.length === 0
      ? job.dest.capabilities.rowFormat
      : undefined;
  // The fast path: batches of a CSV whose values the server reads as they are go as the
  // file's own text (src/normalize/native.ts). TRIBUTARY_FAST_PATH=off turns it off.
  const native = rowFormat !== undefined && writer.writeCsv !== undefined && fastPath();
  const input: EncodeInput = {
    source,
    captures: file.captures,
    children,
    table,
    childTables,
    ...(native ? { native } : {}),
  };
  const stream: {
    batches: AsyncIterable<{ batch: StreamBatch; bytes: number }>;
    hash(): Promise<string> | string;
    scan(): ScanResult | undefined;
  } =
    job.pool && job.parts && !job.retry
      ? encodeInPool(job.pool, target(job), job.parts, input, rowFormat, observe)
      : localStream(job, input, observe);
  const rejects: Reject[] = [];
  let pending: Reject[] = [];
  let rejectCount = 0;
  let rows = 0;
  let bytes = 0;
  let discardedRows = 0;
  let discardedValues = 0;
  const reject = async (r: Reject) => {
    rejectCount++;
    if (rejects.length < KEEP_REJECTS) rejects.push(r);
    if (overLimit(source.maxRejects, rejectCount)) {
      throw tooManyRejects(file.path, source.maxRejects!, rejectCount, undefined, rejects);
    }
    if (job.retry) return job.retry.onReject(r);
    pending.push(r);
    if (pending.length >= 500) {
      await insertRejects(tx, job.pipeline, { id, path: file.path }, job.runId, pending);
      pending = [];
    }
  };

  for await (const { batch, bytes: read } of stream.batches) {
    checkAbort(job);
    if (onePass && mayNeedSchemaChange(batch, onePass)) throw new OnePassMiss();
    for (const r of batch.rejects) await reject(r);
    discardedRows += batch.discardedRows;
    discardedValues += batch.discardedValues;
    if (batch.csv) {
      // From the main thread's own reading (a small file, or no worker threads).
      await writer.writeCsv!(csvBytes(batch.csv.texts), batch.csv.rows, batch.csv);
      rows += batch.csv.rows;
    } else if (batch.text && 'csv' in batch.text) {
      await writer.writeCsv!(batch.text.text, batch.text.rows, batch.text.csv);
      rows += batch.text.rows;
    } else if (batch.text) {
      if (batch.text.rows > 0) await writer.writeText!(batch.text.text, batch.text.rows);
      rows += batch.text.rows;
    } else {
      if (batch.rows.length > 0) await writer.write(batch.rows);
      rows += batch.rows.length;
    }
    crashPoint('load');
    const delay = delayPoint('load');
    if (delay) await delay;
    bytes = read;
    job.emit({ type: 'file_progress', file: file.path, bytes, rows });
  }
  const records = rows + rejectCount + discardedRows;
  if (overLimit(source.maxRejects, rejectCount, records)) {
    throw tooManyRejects(file.path, source.maxRejects!, rejectCount, records, rejects);
  }
  if (pending.length > 0) await insertRejects(tx, job.pipeline, { id, path: file.path }, job.runId, pending);
  const stats = await writer.finish();
  const scan = stream.scan();
  return {
    hash: await stream.hash(),
    rows,
    rejects,
    rejectCount,
    stats,
    discardedRows,
    discardedValues,
    ...(scan ? { scan } : {}),
  };
}

/** Whether the fast path is on: by default; `TRIBUTARY_FAST_PATH=off` (a diagnostic) turns it off. */
export function fastPath(): boolean {
  return process.env.TRIBUTARY_FAST_PATH !== 'off';
}

/** The writer of a shadowed file (FileJob.shadowed): takes rows and writes none. */
function shadowWriter(): TableWriter {
  let rows = 0;
  return {
    async write(batch) {
      rows += batch.length;
    },
    async writeText(_text, n) {
      rows += n;
    },
    async writeCsv(_text, n) {
      rows += n;
    },
    async finish() {
      return { inserted: 0, updated: 0, unchanged: rows, deleted: 0, childRows: 0 };
    },
  };
}

/** A batch the first pass could have planned a schema change for (see loadInOnePass). */
function mayNeedSchemaChange(batch: StreamBatch, table: 'live' | 'new'): boolean {
  // A column the table lacks, even empty, is seen by the first pass (it may word a warning).
  if (batch.discardedRows > 0 || batch.discardedValues > 0) return true;
  if (batch.unknownColumns && table === 'live') return true;
  return batch.rejects.some((r) => r.code === 'TYPE_MISMATCH' || r.code === 'CONTRACT_FROZEN');
}

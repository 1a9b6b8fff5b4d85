import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ResolvedSource } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import { crashPoint, delayPoint } from '../core/faults.js';
import type { ColumnSchema, ColumnType, SchemaChange, SourceItem, TableSchema } from '../core/types.js';
import {
  childTablesOf,
  type Destination,
  DirectLoadConflict,
  type LiveTable,
  SYS_IDX,
  type TableWriter,
  type Transaction,
  type WriteStats,
} from '../destinations/types.js';
import { observing, type ScanInput, Scanner, type ScanResult, scanItems } from '../normalize/scan.js';
import { type EncodeInput, encodeBatches } from '../normalize/stream.js';
import { applyChanges, changedTable, keyConflict, planTable, SchemaConflict } from '../schema/diff.js';
import type { Observation } from '../schema/observe.js';
import { formatType } from '../schema/types.js';
import type { DiscoveredFile } from '../sources/discover.js';
import { readFile } from '../sources/open.js';
import { recordSchemaChange } from '../state/history.js';
import { fileId, markLoaded } from '../state/ledger.js';
import { clearRejects, insertRejects, type Reject } from '../state/rejects.js';
import type { EventSink } from './events.js';
import { overLimit, tooManyRejects } from './max-rejects.js';
import {
  encodeInPool,
  type FileParts,
  partsOf,
  type ReadTarget,
  type StreamBatch,
  scanInPool,
  type WorkerPool,
} from './parallel.js';
import { settleTentative } from './tentative.js';

/** Everything a file load needs from the run. */
export interface FileJob {
  dest: Destination;
  pipeline: string;
  runId: number;
  source: ResolvedSource;
  hints: ReadonlyMap<string, ColumnType>;
  file: DiscoveredFile;
  /** Live tables; updated in place after this file's DDL. */
  catalog: Map<string, LiveTable>;
  /** Hash stored in the ledger when the file loaded before (skip when equal). */
  knownHash: string | null;
  emit: EventSink;
  signal?: AbortSignal;
  /**
   * Records to load instead of reading `file.abs`: `tributary rejects retry` sends stored
   * rejects through the same scan → evolve → encode → write path this way.
   */
  items?: () => AsyncIterable<SourceItem[]>;
  /** Where rejects go instead of the rejects store (a retry revises the stored ones). */
  onReject?: (r: Reject) => Promise<void>;
  /** Before-images the writer records for incremental models (TableWritePlan.beforeImages). Default none. */
  beforeImages?: ReadonlyMap<string, readonly string[]>;
  /** Worker threads for parsing; without it, both passes run on the main thread. */
  pool?: WorkerPool;
  /** How the first pass split the file (set by it, read by the second pass). */
  parts?: FileParts;
  /**
   * A later current file of a replace table holds the table (src/runner/reconcile.ts): the
   * file is read for its schema changes and rejects, and its rows are not written.
   */
  shadowed?: boolean;
  /** Try one pass first (loadInOnePass, loadNewInOnePass). Default true. */
  onePass?: boolean;
}

export type FileOutcome =
  | { kind: 'unchanged'; hash: string }
  | {
      kind: 'loaded';
      hash: string;
      rows: number;
      rejects: Reject[];
      rejectCount: number;
      stats: WriteStats;
      changes: SchemaChange[];
      discardedRows: number;
      discardedValues: number;
      warnings: string[];
      /** How often the file was read: 1 when it fit its table as it was (loadInOnePass) or was discarded, else 2. */
      passes: 1 | 2;
    };

const BATCH = 2_000;
const KEEP_REJECTS = 1_000; // rejects kept in memory for the run summary; all are stored

/**
 * Load one file: a first pass learns the schema it needs and its content hash, the DDL is
 * applied, then a second pass coerces and writes its rows, rejects and ledger row in one
 * transaction. Reading twice keeps memory bounded whatever the file size and decides types
 * from every value, not a sample.
 *
 * A file for a table that exists is first loaded in one pass, on the bet that it fits the
 * table as it is (the usual day of an incremental pipeline): see {@link loadInOnePass}.
 */
export async function loadFile(job: FileJob): Promise<FileOutcome> {
  const { dest, source, file } = job;
  const children = source.write === 'merge' && source.primaryKey.length > 0;
  const live = job.catalog.get(source.table);
  const conflict = live && keyConflict(source.table, live.primaryKey, source.primaryKey);
  if (conflict) {
    throw new TributaryError('SCHEMA_CONFLICT', conflict, {
      context: { file: file.path, table: source.table },
    });
  }
  if (job.knownHash === null && !job.items && job.onePass !== false) {
    const outcome = job.catalog.has(source.table)
      ? await loadInOnePass(job, children)
      : await loadNewInOnePass(job, children);
    if (outcome) return outcome;
  }
  const scan = await scanFile(job, children);
  if (job.knownHash !== null && scan.hash === job.knownHash) return { kind: 'unchanged', hash: scan.hash };

  const current = job.catalog.get(source.table);
  if (!current && source.contract.tables === 'freeze') {
    throw new TributaryError(
      'SCHEMA_CONFLICT',
      `table ${source.table} does not exist and its contract freezes tables; create it or set contract.tables: evolve`,
      { context: { file: file.path, table: source.table } },
    );
  }
  if (!current && source.contract.tables !== 'evolve') return discardFile(job, scan);
  const changes = planFile(job, scan.observed);
  const warnings = renameHints(job, scan.observed);
  const ddlOutside = !dest.capabilities.transactionalDdl;
  // DDL outside the transaction outlives this run: only while the lock is ours (a run that
  // lost it in a server restart must not change the schema under the run that took it).
  if (ddlOutside && changes.length > 0) {
    await confirmLock(job, dest);
    await applyDdl(job, dest, changes);
  }
  if (changes.length > 0) crashPoint('after_ddl');

  return commitFile(job, children, {
    passes: 2,
    changes,
    warnings,
    before: async (tx) => {
      if (!ddlOutside && changes.length > 0) await applyDdl(job, tx, changes);
    },
    // The second read must find the bytes the first one planned for.
    check: async (result) => {
      if (result.hash !== scan.hash) throw sourceChanged(file.path);
    },
  });
}

/** The one-pass load met something the first pass would have planned a schema change for. */
class OnePassMiss extends Error {}

/**
 * One pass instead of two, for a file whose table exists: its rows are coerced to the live
 * types and written straight away. This is exact — the same rows, rejects and counts as the
 * two passes — as long as the first pass would have planned no schema change, and that
 * holds when every value fits its column and no record brings a column or child table the
 * table lacks: the first pass widens an existing column only for a value that does not fit
 * it, and adds only columns it sees. So at the first reject for a type (`TYPE_MISMATCH`,
 * `CONTRACT_FROZEN`) or the first value or row kept out by the contract, the transaction is
 * rolled back and the file loads in two passes; undefined is returned then. So it is at
 * the first column the table lacks, even one with only empty values (which creates nothing
 * but may word a rename warning). Rejects of other kinds (a malformed line, an empty key)
 * do not depend on the schema and do not stop it.
 */
async function loadInOnePass(job: FileJob, children: boolean): Promise<FileOutcome | undefined> {
  const { file } = job;
  if (job.pool && file.size >= job.pool.minFileBytes) job.parts = await partsOf(job.pool, target(job));
  try {
    return await commitFile(job, children, {
      passes: 1,
      changes: [],
      warnings: [],
      onePass: 'live',
      check: () => checkUnchanged(job),
    });
  } catch (err) {
    if (err instanceof OnePassMiss) {
      job.parts = undefined;
      return undefined;
    }
    throw err;
  }
}

/** Records a new table's types are guessed from before its file is loaded in one pass. */
const SAMPLE_RECORDS = 10_000;

/**
 * One pass for a file whose table does not exist yet: the table is created with the types
 * a sample of the file's first records needs, and the file is loaded into it while every
 * record is also scanned, as the first pass would scan it. At the end the schema planned
 * from that full scan must be the one planned from the sample — then the table, the rows
 * and the rejects are exactly what two passes make, since two passes would have created the
 * same table and coerced to the same types. Otherwise (or at the first batch that needs a
 * wider type, see {@link loadInOnePass}) the file is rolled back, its new tables with it,
 * and it loads in two passes; undefined is returned then.
 *
 * Where DDL is transactional (SQLite) the tables are created in the file's transaction.
 * Where it commits by itself (MySQL) they are created just before, marked tentative
 * (Destination.tentative), their schema history is written in the file's transaction, and
 * the mark is cleared after the commit; a guess that failed drops them. A crash in between
 * leaves a marked table that the next run drops, or keeps when the ledger says the file
 * committed (src/runner/tentative.ts) — the same state as if the file had loaded in two
 * passes, or not yet.
 */
async function loadNewInOnePass(job: FileJob, children: boolean): Promise<FileOutcome | undefined> {
  const { dest, source, file } = job;
  const inTx = dest.capabilities.transactionalDdl;
  if ((!inTx && !dest.tentative) || source.contract.tables !== 'evolve') return undefined;
  const input = scanInput(job, children);
  const sample = new Scanner(input);
  for await (const batch of reader(job, () => {})) {
    checkAbort(job);
    crashPoint('scan');
    sample.add(batch);
    if (sample.records >= SAMPLE_RECORDS) break;
  }
  let changes: SchemaChange[];
  try {
    changes = planFile(job, sample.result().observations);
  } catch {
    return undefined; // two passes will say what is wrong with the whole file
  }
  if (changes.length === 0) return undefined;
  // Only new tables: a change to a table that exists would outlive a wrong guess on MySQL.
  if (!inTx && changes.some((c) => c.kind !== 'create_table' || job.catalog.has(c.table.name)))
    return undefined;
  const before = new Map(job.catalog);
  const touched = changes.map(changedTable);
  if (job.pool && file.size >= job.pool.minFileBytes) job.parts = await partsOf(job.pool, target(job));
  const tentative = inTx ? undefined : dest.tentative;
  try {
    if (tentative) {
      await confirmLock(job, dest); // as for any DDL outside the transaction (loadFile)
      await tentative.create(changes, { root: source.table, runId: job.runId });
      await adoptTables(job, touched);
      crashPoint('after_ddl');
    }
    const outcome = await commitFile(job, children, {
      passes: 1,
      changes,
      warnings: [],
      onePass: 'new',
      observe: input,
      before: async (tx) => {
        if (tentative) {
          await recordChanges(job, tx, changes);
          return;
        }
        await applyDdl(job, tx, changes, false);
        crashPoint('after_ddl');
      },
      check: async (result) => {
        await checkUnchanged(job);
        const scan = result.scan;
        if (!scan || (job.parts?.split && scan.orderSensitive)) throw new OnePassMiss();
        const planned = planFile({ ...job, catalog: before }, scan.observations);
        if (JSON.stringify(planned) !== JSON.stringify(changes)) throw new OnePassMiss();
      },
    });
    // Committed: the tables are ordinary ones now. Should clearing a mark fail, the next
    // run clears it (the ledger says the file loaded).
    if (tentative) for (const t of touched) await tentative.confirm(t).catch(() => {});
    for (const change of changes) job.emit({ type: 'schema_changed', file: file.path, change });
    return outcome;
  } catch (err) {
    // The DDL was rolled back with the file (SQLite), or its tables are settled (MySQL):
    // dropped — unless the ledger says the file committed after all (a COMMIT whose reply
    // was lost). Should that fail too, the file's next attempt or the next run settles them.
    for (const t of touched) {
      const live = before.get(t);
      if (live) job.catalog.set(t, live);
      else job.catalog.delete(t);
    }
    if (tentative) {
      const settled = settleTentative(dest, (t) => touched.includes(t));
      if (!(err instanceof OnePassMiss)) await settled.catch(() => {});
      else await settled; // two passes create them again: they must be gone
    }
    if (err instanceof OnePassMiss) {
      job.parts = undefined;
      return undefined;
    }
    throw err;
  }
}

/**
 * The run lock must still be ours when a file commits: a database restart frees MySQL's
 * lock with its connection, and another run may have taken it before this process noticed.
 */
async function confirmLock(job: FileJob, db: Transaction | Destination): Promise<void> {
  if (!job.dest.holdsLock || (await job.dest.holdsLock(db, job.pipeline))) return;
  // Lost, not necessarily taken by another run: transient, so the file is rolled back and
  // retried, and keepLock (src/runner/run.ts) before the retry takes the lock again or stops.
  throw new TributaryError(
    'LOCK_LOST',
    `the run lock of pipeline ${job.pipeline} was lost when its database connection closed; ${job.file.path} was rolled back, and with no retry left this run stops here: the files it loaded are kept, the others load on the next run`,
    { transient: true },
  );
}

/** A file read once must not have changed meanwhile (two passes compare their hashes instead). */
async function checkUnchanged(job: FileJob): Promise<void> {
  const now = await stat(job.file.abs).catch(() => undefined);
  if (!now || now.size !== job.file.size || Math.trunc(now.mtimeMs) !== job.file.mtimeMs) {
    throw sourceChanged(job.file.path);
  }
}

function sourceChanged(path: string): TributaryError {
  return new TributaryError(
    'SOURCE_CHANGED',
    `${path} changed while it was being loaded; it will be loaded again next run`,
    { context: { file: path } },
  );
}

/**
 * The file's transaction, for both ways of loading it: `before` (the DDL where it is
 * transactional), its ledger id, its earlier rejects cleared, its rows written, `check` on
 * what was read, the run lock confirmed, the ledger row marked loaded. Tried first with
 * `direct` on; a direct load that met a key twice is rolled back and done through staging.
 */
async function commitFile(
  job: FileJob,
  children: boolean,
  how: {
    passes: 1 | 2;
    changes: SchemaChange[];
    warnings: string[];
    onePass?: 'live' | 'new';
    observe?: ScanInput;
    before?: (tx: Transaction) => Promise<void>;
    check: (result: WriteResult) => Promise<void>;
  },
): Promise<FileOutcome> {
  const { source, file } = job;
  const load = (direct: boolean) =>
    job.dest.transaction(async (tx): Promise<FileOutcome> => {
      await how.before?.(tx);
      const id = await fileId(tx, job.pipeline, { ...file, table: source.table }, job.runId);
      await clearRejects(tx, id);
      const result = await writeRows(job, tx, id, children, {
        direct,
        onePass: how.onePass,
        observe: how.observe,
      });
      await how.check(result);
      await confirmLock(job, tx);
      await markLoaded(tx, id, {
        table: source.table,
        size: file.size,
        mtimeMs: file.mtimeMs,
        hash: result.hash,
        runId: job.runId,
        rows: result.rows,
        rejects: result.rejectCount,
      });
      return { kind: 'loaded', ...result, changes: how.changes, warnings: how.warnings, passes: how.passes };
    });
  try {
    return await load(true);
  } catch (err) {
    if (err instanceof DirectLoadConflict) return load(false);
    throw err;
  }
}

/** A file for a table that does not exist, under a `discard_*` tables contract: count, load nothing. */
async function discardFile(job: FileJob, scan: Scan): Promise<FileOutcome> {
  return job.dest.transaction(async (tx) => {
    const id = await fileId(tx, job.pipeline, { ...job.file, table: job.source.table }, job.runId);
    await markLoaded(tx, id, {
      table: job.source.table,
      size: job.file.size,
      mtimeMs: job.file.mtimeMs,
      hash: scan.hash,
      runId: job.runId,
      rows: 0,
      rejects: 0,
    });
    return {
      kind: 'loaded',
      hash: scan.hash,
      rows: 0,
      rejects: [],
      rejectCount: 0,
      stats: { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 },
      changes: [],
      discardedRows: scan.records,
      discardedValues: 0,
      warnings: [
        `${job.file.path}: table ${job.source.table} does not exist; its ${scan.records} row(s) were discarded by contract`,
      ],
      passes: 1,
    };
  });
}

/**
 * A file that brings new columns while established ones go missing may have renamed them:
 * say so, with the fix. Only for tables that exist and columns that are not keys.
 */
export function renameHints(job: FileJob, observed: Map<string, Observation>): string[] {
  const live = job.catalog.get(job.source.table);
  const seen = observed.get(job.source.table)?.types;
  if (!live || !seen) return [];
  const added = [...seen.keys()].filter((c) => !live.columns.some((x) => x.name === c));
  const missing = live.columns
    .map((c) => c.name)
    .filter((c) => !seen.has(c) && !job.source.primaryKey.includes(c) && c !== SYS_IDX);
  if (added.length === 0 || missing.length === 0) return [];
  return [
    `${job.file.path}: new column(s) ${added.join(', ')} while ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing — a renamed header? If so, add \`rename: { "<header>": ${missing[0]} }\` to the source`,
  ];
}

export interface Scan {
  hash: string;
  observed: Map<string, Observation>;
  records: number;
}

function reader(job: FileJob, onRawChunk: (chunk: Buffer) => void): AsyncIterable<SourceItem[]> {
  if (job.items) return job.items();
  return readFile(job.file.abs, {
    format: job.source.format,
    delimiter: job.source.delimiter,
    ...(job.source.records === undefined ? {} : { records: job.source.records }),
    batchSize: BATCH,
    onRawChunk,
  });
}

/** Pass 1: fold every value into the types each table needs; hash the bytes on the way. */
export async function scanFile(job: FileJob, children: boolean): Promise<Scan> {
  const input = scanInput(job, children);
  if (job.pool && !job.items && job.file.size >= job.pool.minFileBytes) {
    const pending = scanInPool(job.pool, target(job), input);
    pending.catch(() => {});
    crashPoint('scan');
    const { hash, scan, parts } = await pending;
    checkAbort(job);
    job.parts = parts;
    return { hash, observed: scan.observations, records: scan.records };
  }
  const hash = createHash('sha256');
  const scan = await scanItems(
    reader(job, (chunk) => hash.update(chunk)),
    input,
    () => {
      checkAbort(job);
      crashPoint('scan');
    },
  );
  return { hash: hash.digest('hex'), observed: scan.observations, records: scan.records };
}

/** What the first pass needs: the source, and the types of the tables as they are now. */
function scanInput(job: FileJob, children: boolean): ScanInput {
  return {
    source: job.source,
    captures: job.file.captures,
    children,
    established: new Map(
      [...job.catalog].map(([t, live]) => [t, new Map(live.columns.map((c) => [c.name, c.type]))]),
    ),
    fixed: new Set(job.hints.keys()),
  };
}

function target(job: FileJob): ReadTarget {
  return {
    abs: job.file.abs,
    format: job.source.format,
    delimiter: job.source.delimiter,
    ...(job.source.records === undefined ? {} : { records: job.source.records }),
  };
}

/** Pass 2 on the main thread: encoded batches, the hash of the bytes read, and with `observe` their scan. */
function localStream(job: FileJob, input: EncodeInput, observe?: ScanInput) {
  const hash = createHash('sha256');
  const scanner = observe ? new Scanner(observe) : undefined;
  let bytes = 0;
  async function* batches() {
    const read = reader(job, (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    });
    const items = scanner ? observing(read, scanner) : read;
    for await (const batch of encodeBatches(items, input)) yield { batch, bytes };
  }
  return { batches: batches(), hash: () => hash.digest('hex'), scan: () => scanner?.result() };
}

/** The schema changes this file needs, root table first, then its child tables. */
export function planFile(job: FileJob, observed: Map<string, Observation>): SchemaChange[] {
  const { source, catalog } = job;
  const changes: SchemaChange[] = [];
  try {
    const rootChanges = planTable({
      name: source.table,
      live: catalog.get(source.table),
      observed: observed.get(source.table)?.types ?? new Map(),
      hints: job.hints,
      primaryKey: source.primaryKey,
      // Merge rows carry the file that supplied them too: what an edited or deleted file
      // changes is recomputed from that (src/runner/reconcile.ts).
      system: { fileId: source.write !== 'replace', idx: false },
      contract: source.contract,
      incompatible: observed.get(source.table)?.incompatible,
    });
    changes.push(...rootChanges);
    const root = applyChanges(catalog.get(source.table), rootChanges) as TableSchema;
    const keyCols: ColumnSchema[] = source.primaryKey.map(
      (k) => root.columns.find((c) => c.name === k) as ColumnSchema,
    );
    for (const [table, obs] of observed) {
      if (table === source.table) continue;
      const hasValues = [...obs.types.values()].some((t) => t !== null);
      if (!catalog.has(table) && !hasValues) continue;
      changes.push(
        ...planTable({
          name: table,
          live: catalog.get(table),
          observed: obs.types,
          hints: new Map(),
          primaryKey: [...source.primaryKey, SYS_IDX],
          leading: [...keyCols, { name: SYS_IDX, type: { kind: 'integer' } }],
          system: { fileId: false, idx: true },
          contract: catalog.has(table) ? source.contract : { ...source.contract, columns: 'evolve' },
          incompatible: obs.incompatible,
        }),
      );
    }
  } catch (err) {
    if (err instanceof SchemaConflict) {
      throw new TributaryError('SCHEMA_CONFLICT', err.message, {
        context: { file: job.file.path, table: source.table },
      });
    }
    throw err;
  }
  return changes;
}

export async function applyDdl(
  job: FileJob,
  db: Transaction | Destination,
  changes: SchemaChange[],
  emit = true,
): Promise<void> {
  // Where DDL commits on its own (MySQL) the history rows go first: an error or a crash
  // between a DDL statement and its row would lose the row for good, since the next run
  // finds the change made and plans nothing (test/faults/restart.test.ts). A retry of the
  // same change does not record it twice (state/history.ts).
  const ahead = !job.dest.capabilities.transactionalDdl;
  if (ahead) await recordChanges(job, db, changes);
  await job.dest.applySchemaChanges(changes, 'writer' in db ? (db as Transaction) : undefined);
  await adoptTables(job, changes.map(changedTable));
  if (!ahead) await recordChanges(job, db, changes);
  if (emit) for (const change of changes) job.emit({ type: 'schema_changed', file: job.file.path, change });
}

/** The live definitions of `tables`, read back after DDL, into the job's catalog. */
async function adoptTables(job: FileJob, tables: readonly string[]): Promise<void> {
  const fresh = await job.dest.readCatalog();
  for (const t of new Set(tables)) {
    const live = fresh.get(t);
    if (live) job.catalog.set(t, live);
  }
}

async function recordChanges(
  job: FileJob,
  db: Transaction | Destination,
  changes: SchemaChange[],
): Promise<void> {
  for (const change of changes) {
    await recordSchemaChange(db, job.pipeline, {
      runId: job.runId,
      table: changedTable(change),
      change: change.kind,
      column:
        change.kind === 'add_column'
          ? change.column.name
          : change.kind === 'widen_column'
            ? change.column
            : null,
      oldType: change.kind === 'widen_column' ? formatType(change.from) : null,
      newType:
        change.kind === 'add_column'
          ? formatType(change.column.type)
          : change.kind === 'widen_column'
            ? formatType(change.to)
            : null,
      file: job.file.path,
    });
  }
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
  const input: EncodeInput = { source, captures: file.captures, children, table, childTables };
  // Rows as text made by the workers, when the destination takes a text format: the main
  // thread then only forwards it (for MySQL, to LOAD DATA).
  const rowFormat =
    job.dest.capabilities.rowFormat && writer.writeText && childTables.length === 0
      ? job.dest.capabilities.rowFormat
      : undefined;
  const stream: {
    batches: AsyncIterable<{ batch: StreamBatch; bytes: number }>;
    hash(): Promise<string> | string;
    scan(): ScanResult | undefined;
  } =
    job.pool && job.parts && !job.items
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
    if (job.onReject) return job.onReject(r);
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
    if (batch.text) {
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

function checkAbort(job: FileJob): void {
  if (job.signal?.aborted) {
    throw new TributaryError(
      'INTERRUPTED',
      `interrupted while loading ${job.file.path}; it will be loaded next run`,
    );
  }
}

export { messageOf };

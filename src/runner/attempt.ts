/**
 * One file of a run, from start to summary: {@link loadFile} with retries after transient
 * database errors, the run lock checked before each attempt, the catalog read again after a
 * failed one, and a file that still fails recorded in the ledger as failed. What it returns
 * is applied to the run's summary in path order (src/runner/run.ts).
 */
import pRetry from 'p-retry';
import type { ResolvedConfig } from '../config/resolve.js';
import { isTransient, messageOf, TributaryError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import type { ColumnType, SchemaChange } from '../core/types.js';
import type { Destination, LiveTable, Transaction, WriteStats } from '../destinations/types.js';
import { fileId, markFailed, markStale, touch } from '../state/ledger.js';
import { type EventSink, FILE_REPORTS_MAX, type RunFileReport, type RunSummary } from './events.js';
import { type FileOutcome, loadFile } from './load/index.js';
import type { WorkerPool } from './parallel.js';
import type { PlannedFile, Reconciliation } from './reconcile.js';
import { addSchemaChanges, countReject, tableSummary } from './summary.js';
import { settleTentative } from './tentative.js';

/** Default retries of a file after a transient error: with the backoff below, about 6–11 s in all. */
export const DEFAULT_RETRIES = 5;

/**
 * Exponential backoff with jitter between attempts of a file (p-retry): 200 ms, doubling,
 * each delay multiplied by a random factor in [1, 2), and capped at 5 s.
 */
export const RETRY_BACKOFF = { minTimeout: 200, factor: 2, maxTimeout: 5_000, randomize: true } as const;

/** What the files of one run share. */
export interface RunFiles {
  config: ResolvedConfig;
  dest: Destination;
  runId: number;
  /** Live tables, shared by the lanes; each file updates its own table's entries. */
  catalog: Map<string, LiveTable>;
  /** Type hints per source index. */
  hints: ReadonlyMap<number, ReadonlyMap<string, ColumnType>>;
  /** What reconciling decided: shadowed files, files retried after later ones loaded. */
  fix: Pick<Reconciliation, 'shadowed' | 'retried'>;
  beforeImages: ReadonlyMap<string, readonly string[]>;
  pool?: WorkerPool;
  retries: number;
  onePass: boolean;
  signal?: AbortSignal;
  emit: EventSink;
  /** Before each attempt and before a failure is recorded: the run lock must still be ours. */
  lockCheck: () => Promise<void>;
  /** A worker on a queue: its claim, asked instead of the run lock (FileJob.fence). */
  fence?: (db: Transaction | Destination) => Promise<void>;
}

/**
 * What one file adds to the run's summary, as plain data: a worker on a queue sends it to the
 * coordinator (src/queue/), so it holds counts and names, never row data.
 */
export type FileReport =
  | { kind: 'unchanged'; file: string; table: string }
  | { kind: 'loaded'; file: string; table: string; loaded: LoadedReport }
  | { kind: 'failed'; file: string; table: string; code: string; message: string; ms?: number };

export interface LoadedReport {
  rows: number;
  stats: WriteStats;
  rejectCount: number;
  /** Rejects per table and code (a child table's rejects are counted under it). */
  rejectCounts: Array<{ table: string; code: string; count: number }>;
  changes: SchemaChange[];
  discardedRows: number;
  discardedValues: number;
  warnings: string[];
  passes: 1 | 2;
  /** Time from the file's start to its commit, in ms (absent: unknown, e.g. read back from the ledger). */
  ms?: number;
}

export interface FileResult {
  report: FileReport;
  /** It failed on a database error: the table's later files wait for it (next run). */
  holdsTable: boolean;
}

/**
 * Loads a run's files in other processes instead of this one (workers on a queue:
 * src/queue/). The run calls it in the lanes' order, as it would call loadPlannedFile: one
 * file of a table at a time, in path order.
 */
export interface RemoteLoader {
  /** Files of how many tables may load at once. */
  width: number;
  load(run: RunFiles, planned: PlannedFile, index: number, total: number): Promise<FileResult>;
}

/**
 * Load one planned file of the run. Throws only what must stop the run (interrupted, the
 * lock lost, the ledger unwritable); any other failure is the file's own, recorded.
 */
export async function loadPlannedFile(
  run: RunFiles,
  planned: PlannedFile,
  index: number,
  total: number,
): Promise<FileResult> {
  const { dest, config, runId, emit } = run;
  const { file, source, ledger } = planned;
  emit({ type: 'file_started', file: file.path, table: source.table, index, total, size: file.size });
  const t0 = Date.now();
  // Where DDL commits on its own, an attempt that failed after it still changed the schema
  // (and the retry plans nothing): the file's changes are those seen in all its attempts.
  const applied: SchemaChange[] = [];
  const fileEmit: EventSink = (e) => {
    if (e.type === 'schema_changed') applied.push(e.change);
    emit(e);
  };
  try {
    const loaded = await pRetry(
      async (attempt) => {
        // The lock first: refreshCatalog settles this table's tentative tables, which only
        // the lock holder may do — after a restart another run may hold the lock and be
        // loading into a table it just made (dropping it would lose that run's rows).
        await run.lockCheck();
        // A rolled-back attempt may leave the catalog ahead of the database (SQLite DDL is
        // in the transaction): read it again. Here rather than in onFailedAttempt, whose
        // error (the server still down) would end the retries instead of being one.
        if (attempt > 1) await refreshCatalog(dest, run.catalog, source.table);
        return loadFile({
          dest,
          pipeline: config.pipeline,
          runId,
          source,
          hints: run.hints.get(source.index) as Map<string, ColumnType>,
          file,
          catalog: run.catalog,
          knownHash: ledger?.status === 'loaded' ? ledger.hash : null,
          shadowed: run.fix.shadowed.has(file.path),
          emit: fileEmit,
          signal: run.signal,
          beforeImages: run.beforeImages,
          pool: run.pool,
          onePass: run.onePass,
          ...(run.fence ? { fence: run.fence } : {}),
        });
      },
      {
        ...RETRY_BACKOFF,
        retries: run.retries,
        shouldRetry: ({ error }) => isTransient(error),
        onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
          if (!isTransient(error) || retriesLeft === 0) return;
          emit({
            type: 'file_retry',
            file: file.path,
            table: source.table,
            attempt: attemptNumber,
            retriesLeft,
            code: error instanceof TributaryError ? error.code : 'LOAD_FAILED',
            message: messageOf(error),
          });
        },
      },
    );
    const outcome =
      loaded.kind === 'loaded' && !dest.capabilities.transactionalDdl
        ? { ...loaded, changes: applied }
        : loaded;
    crashPoint('after_commit');
    if (outcome.kind === 'unchanged') {
      if (ledger) await touch(dest, ledger.id, file.size, file.mtimeMs);
      emit({ type: 'file_unchanged', file: file.path, table: source.table });
      return { report: { kind: 'unchanged', file: file.path, table: source.table }, holdsTable: false };
    }
    for (const message of outcome.warnings) emit({ type: 'warning', message });
    const ms = Date.now() - t0;
    emit({
      type: 'file_loaded',
      file: file.path,
      table: source.table,
      rows: outcome.rows,
      rejects: outcome.rejectCount,
      stats: outcome.stats,
      ms,
      passes: outcome.passes,
    });
    if (run.fix.retried.has(file.path)) {
      // It failed before and loads now (a config fixed?), after files that sort after it:
      // its table is rebuilt in path order on the next run.
      const id = await fileId(dest, config.pipeline, { ...file, table: source.table }, runId);
      await markStale(dest, [id]);
      const message = `${file.path} loaded after later files of ${source.table} (it had failed before): the table is rebuilt in path order on the next run`;
      emit({ type: 'warning', message });
      outcome.warnings.push(message);
    }
    return {
      report: {
        kind: 'loaded',
        file: file.path,
        table: source.table,
        loaded: { ...loadedReport(outcome), ms },
      },
      holdsTable: false,
    };
  } catch (err) {
    if (err instanceof TributaryError && (err.code === 'INTERRUPTED' || err.code === 'LOCK_LOST')) throw err;
    // Only the lock holder writes the ledger and settles tables: a run that lost its lock in
    // a restart must not mark failed a file another run has loaded meanwhile (the next run
    // would load it again out of path order), nor drop the table that run is loading into.
    await run.lockCheck();
    await refreshCatalog(dest, run.catalog, source.table);
    const code = err instanceof TributaryError ? err.code : 'LOAD_FAILED';
    const message = messageOf(err);
    await markFailed(dest, config.pipeline, { ...file, table: source.table }, runId, `${code}: ${message}`);
    emit({ type: 'file_failed', file: file.path, table: source.table, code, message, willRetry: true });
    return {
      report: { kind: 'failed', file: file.path, table: source.table, code, message, ms: Date.now() - t0 },
      // The database failed, not the file: it will most likely load next run. The table's
      // later files wait for it, so that they load after it in path order (the invariant; a
      // late file would cost a rebuild). A file that cannot load (unreadable, malformed)
      // holds nothing back: a full refresh would not load it either.
      holdsTable: isTransient(err),
    };
  }
}

function loadedReport(outcome: Extract<FileOutcome, { kind: 'loaded' }>): LoadedReport {
  const counts = new Map<string, { table: string; code: string; count: number }>();
  const count = (table: string, code: string, n: number) => {
    const key = JSON.stringify([table, code]);
    const c = counts.get(key) ?? { table, code, count: 0 };
    c.count += n;
    counts.set(key, c);
  };
  for (const r of outcome.rejects) count(r.table, r.code, 1);
  if (outcome.rejectCount > outcome.rejects.length)
    count('', 'MORE', outcome.rejectCount - outcome.rejects.length);
  return {
    rows: outcome.rows,
    stats: outcome.stats,
    rejectCount: outcome.rejectCount,
    rejectCounts: [...counts.values()],
    changes: outcome.changes,
    discardedRows: outcome.discardedRows,
    discardedValues: outcome.discardedValues,
    warnings: outcome.warnings,
    passes: outcome.passes,
  };
}

/** Add one file's report to the run's summary (in path order, whatever order files ended in). */
export function applyReport(summary: RunSummary, report: FileReport): void {
  if (report.kind === 'unchanged') {
    summary.files.unchanged++;
    return;
  }
  if (report.kind === 'failed') {
    summary.files.failed++;
    summary.failures.push({ file: report.file, code: report.code, message: report.message });
    addFileReport(summary, {
      file: report.file,
      table: report.table,
      status: 'failed',
      code: report.code,
      message: report.message,
      ...(report.ms === undefined ? {} : { ms: report.ms }),
    });
    return;
  }
  const { loaded, table } = report;
  summary.files.loaded++;
  addFileReport(summary, {
    file: report.file,
    table,
    status: 'loaded',
    rows: loaded.rows,
    inserted: loaded.stats.inserted,
    updated: loaded.stats.updated,
    unchanged: loaded.stats.unchanged,
    rejected: loaded.rejectCount,
    passes: loaded.passes,
    ...(loaded.ms === undefined ? {} : { ms: loaded.ms }),
  });
  const t = tableSummary(summary, table);
  t.files++;
  t.inserted += loaded.stats.inserted;
  t.updated += loaded.stats.updated;
  t.unchanged += loaded.stats.unchanged;
  t.deleted += loaded.stats.deleted;
  t.childRows += loaded.stats.childRows;
  t.rejected += loaded.rejectCount;
  t.discardedRows += loaded.discardedRows;
  t.discardedValues += loaded.discardedValues;
  summary.warnings.push(...loaded.warnings);
  for (const r of loaded.rejectCounts)
    countReject(summary, r.table === '' ? table : r.table, r.code, r.count);
  addSchemaChanges(summary, loaded.changes, report.file);
}

/** A file's line in the summary's `fileReports`, up to FILE_REPORTS_MAX; the rest counted. */
function addFileReport(summary: RunSummary, line: RunFileReport): void {
  summary.fileReports ??= [];
  if (summary.fileReports.length < FILE_REPORTS_MAX) summary.fileReports.push(line);
  else summary.fileReportsOmitted = (summary.fileReportsOmitted ?? 0) + 1;
}

/**
 * Read the live definition of `table` and its child tables again (after a failed or retried
 * file), leaving the other tables' entries to the lanes loading them.
 */
export async function refreshCatalog(
  dest: Destination,
  catalog: Map<string, LiveTable>,
  table: string,
): Promise<void> {
  const mine = (t: string) => t === table || t.startsWith(`${table}__`);
  await settleTentative(dest, mine); // a failed one-pass attempt's tables, if it could not drop them
  const fresh = await dest.readCatalog();
  for (const t of [...catalog.keys()]) if (mine(t) && !fresh.has(t)) catalog.delete(t);
  for (const [t, live] of fresh) if (mine(t)) catalog.set(t, live);
}

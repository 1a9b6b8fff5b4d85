import os from 'node:os';
import pRetry from 'p-retry';
import type { ResolvedConfig } from '../config/resolve.js';
import { isTransient, messageOf, TributaryError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import type { ColumnType, SchemaChange } from '../core/types.js';
import type { Destination, LiveTable } from '../destinations/types.js';
import { covers } from '../schema/observe.js';
import { formatType, isLosslessWidening } from '../schema/types.js';
import { hashFile } from '../sources/hash.js';
import { fileId, markFailed, markStale, readLedger, touch } from '../state/ledger.js';
import { runsAfter } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';
import { type PreparedModels, prepareModels, runModels, type TransformOptions } from '../transforms/run.js';
import { recordRun, withPipeline } from './envelope.js';
import type { EventSink, ModelResult, RunSummary } from './events.js';
import { type FileOutcome, loadFile } from './load/index.js';
import { WorkerPool } from './parallel.js';
import { parseHints, planFiles } from './plan.js';
import {
  applyReconciliation,
  ensureProvenance,
  filesToHash,
  type PlannedFile,
  planReconcile,
  unchangedByStat,
} from './reconcile.js';
import { addSchemaChanges, countReject, tableSummary } from './summary.js';
import { settleTentative } from './tentative.js';

export interface RunOptions {
  /** Seconds to wait for another run of the pipeline to finish. Default 0: fail at once. */
  waitSeconds?: number;
  /**
   * Retries of a file's whole transaction after a transient database error (connection
   * lost, server restarted, deadlock, lock wait timeout), with {@link RETRY_BACKOFF}.
   * Default {@link DEFAULT_RETRIES}.
   */
  retries?: number;
  signal?: AbortSignal;
  emit?: EventSink;
  /** Worker threads that parse files beside the writer. Default: the cores (os.availableParallelism()); 0: none. */
  workers?: number;
  /** Smallest part a big CSV/NDJSON file is split into for parallel parsing. Default 8 MiB. */
  minPartBytes?: number;
  /** Smallest file parsed on the worker threads. Default 1 MiB (tests lower it). */
  minPoolBytes?: number;
  /**
   * Worker threads owned by the caller, kept across runs (their start-up paid once): used
   * instead of `workers`, `minPartBytes` and `minPoolBytes`, and not closed by the run.
   */
  pool?: WorkerPool;
  /**
   * Try loading a new file in one pass (src/runner/load/one-pass.ts). Default true; false reads
   * every file twice — the reference the one-pass tests compare with.
   */
  onePass?: boolean;
  /**
   * Runs under the run lock, after the run is recorded and before files are discovered
   * (`run --full-refresh` resets its tables here); an error fails the run.
   */
  prepare?: (dest: Destination, runId: number) => Promise<void>;
  /** Shown in the report when the run is more than a plain load, e.g. `full refresh of orders`. */
  trigger?: string;
  /** Load new and changed files. Default true; `tributary transform` only runs the models. */
  load?: boolean;
  /** Which SQL models run after the loads (docs/transformations.md). Default: each whose upstream changed. */
  transform?: TransformOptions;
}

/** Default retries of a file after a transient error: with the backoff below, about 6–11 s in all. */
export const DEFAULT_RETRIES = 5;

/**
 * Exponential backoff with jitter between attempts of a file (p-retry): 200 ms, doubling,
 * each delay multiplied by a random factor in [1, 2), and capped at 5 s.
 */
export const RETRY_BACKOFF = { minTimeout: 200, factor: 2, maxTimeout: 5_000, randomize: true } as const;

/**
 * One run: discover, then per file (in path order) read → normalize → evolve → load, and
 * record the run. A file that fails is recorded and retried next run; the others go on.
 */
export async function runPipeline(
  config: ResolvedConfig,
  dest: Destination,
  options: RunOptions = {},
): Promise<RunSummary> {
  const emit = options.emit ?? (() => {});
  await ensureStateTables(dest, dest.dialect);
  const models = await prepareModels(config, dest, options.transform); // bad models: nothing is touched
  const lock = { waitSeconds: options.waitSeconds ?? 0, signal: options.signal };
  const { summary, error } = await withPipeline(dest, config.pipeline, lock, () =>
    recordRun(dest, config.pipeline, options.trigger, async (runId, summary) => {
      emit({ type: 'run_started', runId, pipeline: config.pipeline, destination: dest.description });
      try {
        await options.prepare?.(dest, runId);
        if (options.load !== false)
          await loadAll(config, dest, runId, summary, options, emit, models.beforeImages);
        const onResult = (r: ModelResult) => {
          summary.models = [...(summary.models ?? []), r];
        };
        await runModels(dest, models, {
          pipeline: config.pipeline,
          runId,
          emit,
          onResult,
          signal: options.signal,
        });
        if (summary.models?.some((m) => m.status === 'failed')) summary.status = 'partial';
      } finally {
        for (const message of dest.warnings ?? []) {
          summary.warnings.push(message);
          emit({ type: 'warning', message });
        }
        crashPoint('before_finish');
      }
    }),
  );
  // A config error is recorded as a failed run, then thrown: the CLI exits 2 with its message.
  if (error instanceof TributaryError && error.code === 'CONFIG_INVALID') throw error;
  emit({ type: 'run_finished', summary });
  return summary;
}

/**
 * Load every new or changed file. Files of one table load one after the other in path order
 * (a later file wins, and a file sees the schema its predecessors left); files of different
 * tables load at the same time where the destination allows several transactions
 * (`maxConcurrentLoads`: MySQL's pool, 1 on SQLite, whose one writer is fed by the workers).
 * Each free lane takes the first file in path order whose table is not being loaded, so with
 * one lane the order is the path order. The summary is assembled in path order, so it reads
 * the same however the loads interleaved.
 */
async function loadAll(
  config: ResolvedConfig,
  dest: Destination,
  runId: number,
  summary: RunSummary,
  options: RunOptions,
  emit: EventSink,
  beforeImages: PreparedModels['beforeImages'],
): Promise<void> {
  const hints = new Map(config.sources.map((s) => [s.index, parseHints(s)]));
  const ledger = await readLedger(dest, config.pipeline);
  const { planned, silent } = await planFiles(config, ledger);
  const warn = (message: string) => {
    summary.warnings.push(message);
    emit({ type: 'warning', message });
  };
  for (const message of silent) warn(message);
  // Edited, late and deleted files: put the tables back in line first (src/runner/reconcile.ts).
  const hashes = new Map<string, string>();
  for (const p of filesToHash(config.sources, planned)) {
    // A file that cannot be read now rebuilds nothing: its load fails on its own.
    const h = await hashFile(p.file.abs).catch(() => undefined);
    if (h !== undefined) hashes.set(p.file.path, h);
  }
  const fix = planReconcile(config.sources, planned, ledger.values(), hashes);
  const fixes =
    fix.rebuild.length + fix.deleted.length + fix.empty.length + fix.reload.length + fix.unchanged.length;
  if (fixes > 0) {
    let before = await dest.readCatalog();
    if (await ensureProvenance(dest, before, config.sources)) before = await dest.readCatalog();
    await applyReconciliation(dest, fix, runId, before);
    const now = await readLedger(dest, config.pipeline);
    for (const p of planned) {
      const entry = now.get(p.file.path);
      p.ledger = entry?.table === p.source.table ? entry : undefined; // as plan() pairs them
    }
    const report = (table: string, action: 'rebuild' | 'delete_file' | 'empty', reason: string) => {
      summary.reconciled = [...(summary.reconciled ?? []), { table, action, reason }];
      emit({ type: 'table_reconciled', table, action, reason });
    };
    for (const r of fix.rebuild) report(r.table, 'rebuild', r.reasons.join('; '));
    for (const d of fix.deleted) report(d.table, 'delete_file', `${d.entry.path} was deleted`);
    for (const t of fix.empty) report(t, 'empty', 'every file of the table was deleted');
  }
  for (const message of fix.warnings) warn(message);
  const toLoad = planned.filter((p) => !unchangedByStat(p));
  summary.files.discovered = planned.length;
  summary.files.unchanged = planned.length - toLoad.length;
  emit({
    type: 'files_discovered',
    total: planned.length,
    toLoad: toLoad.length,
    unchanged: summary.files.unchanged,
    bytes: toLoad.reduce((n, p) => n + p.file.size, 0),
  });
  if (toLoad.length === 0) return;
  const workers = options.workers ?? os.availableParallelism();
  // A pool the caller owns (a long-lived process running many loads) is used and left open.
  const own = options.pool === undefined;
  const pool =
    options.pool ??
    (workers > 0 ? new WorkerPool(workers, options.minPartBytes, options.minPoolBytes) : undefined);
  const closePool = async () => {
    if (own) await pool?.close();
  };
  if (pool && toLoad.some((p) => p.file.size >= pool.minFileBytes)) pool.warm();
  let catalog: Map<string, LiveTable>;
  try {
    catalog = await dest.readCatalog();
    if (await ensureProvenance(dest, catalog, config.sources)) catalog = await dest.readCatalog();
    checkHints(config, hints, catalog);
  } catch (err) {
    await closePool(); // warm threads would keep the process alive
    throw err;
  }

  // Files not started yet, in path order; tables with a file in progress.
  const pending = toLoad.map((_, i) => i);
  const busy = new Set<string>();
  const waiting: Array<() => void> = [];
  const wakeAll = () => {
    for (const w of waiting.splice(0)) w();
  };
  const results: Array<(s: RunSummary) => void> = [];
  let started = 0;
  let fatal: unknown;
  const waitFor = new Map<string, string>();
  const deferred: string[] = [];
  const lockCheck = serialized(() => keepLock(dest, config.pipeline, runId));

  async function loadOne(i: number): Promise<(s: RunSummary) => void> {
    const { file, source, ledger } = toLoad[i] as PlannedFile;
    emit({
      type: 'file_started',
      file: file.path,
      table: source.table,
      index: started++,
      total: toLoad.length,
      size: file.size,
    });
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
          await lockCheck();
          // A rolled-back attempt may leave the catalog ahead of the database (SQLite DDL is
          // in the transaction): read it again. Here rather than in onFailedAttempt, whose
          // error (the server still down) would end the retries instead of being one.
          if (attempt > 1) await refreshCatalog(dest, catalog, source.table);
          return loadFile({
            dest,
            pipeline: config.pipeline,
            runId,
            source,
            hints: hints.get(source.index) as Map<string, ColumnType>,
            file,
            catalog,
            knownHash: ledger?.status === 'loaded' ? ledger.hash : null,
            shadowed: fix.shadowed.has(file.path),
            emit: fileEmit,
            signal: options.signal,
            beforeImages,
            pool,
            onePass: options.onePass ?? true,
          });
        },
        {
          ...RETRY_BACKOFF,
          retries: options.retries ?? DEFAULT_RETRIES,
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
        return (s) => {
          s.files.unchanged++;
        };
      }
      for (const message of outcome.warnings) emit({ type: 'warning', message });
      emit({
        type: 'file_loaded',
        file: file.path,
        table: source.table,
        rows: outcome.rows,
        rejects: outcome.rejectCount,
        stats: outcome.stats,
        ms: Date.now() - t0,
        passes: outcome.passes,
      });
      if (fix.retried.has(file.path) && outcome.kind === 'loaded') {
        // It failed before and loads now (a config fixed?), after files that sort after it:
        // its table is rebuilt in path order on the next run.
        const id = await fileId(dest, config.pipeline, { ...file, table: source.table }, runId);
        await markStale(dest, [id]);
        const message = `${file.path} loaded after later files of ${source.table} (it had failed before): the table is rebuilt in path order on the next run`;
        emit({ type: 'warning', message });
        outcome.warnings.push(message);
      }
      return (s) => addLoaded(s, file.path, source.table, outcome);
    } catch (err) {
      if (err instanceof TributaryError && (err.code === 'INTERRUPTED' || err.code === 'LOCK_LOST'))
        throw err;
      // Only the lock holder writes the ledger and settles tables: a run that lost its lock in
      // a restart must not mark failed a file another run has loaded meanwhile (the next run
      // would load it again out of path order), nor drop the table that run is loading into.
      await lockCheck();
      await refreshCatalog(dest, catalog, source.table);
      const code = err instanceof TributaryError ? err.code : 'LOAD_FAILED';
      const message = messageOf(err);
      await markFailed(dest, config.pipeline, { ...file, table: source.table }, runId, `${code}: ${message}`);
      emit({ type: 'file_failed', file: file.path, table: source.table, code, message, willRetry: true });
      // The database failed, not the file: it will most likely load next run. The table's later
      // files wait for it, so that they load after it in path order (the invariant; a late
      // file would cost a rebuild). A file that cannot load (unreadable, malformed) holds
      // nothing back: a full refresh would not load it either.
      if (isTransient(err)) waitFor.set(source.table, file.path);
      return (s) => {
        s.files.failed++;
        s.failures.push({ file: file.path, code, message });
      };
    }
  }

  /**
   * The first file in path order whose table has no file in progress. Files of a table whose
   * earlier file failed on a database error are left for the next run (`waitFor`).
   */
  function take(): number | undefined {
    for (let k = waitFor.size === 0 ? -1 : pending.length - 1; k >= 0; k--) {
      const p = toLoad[pending[k] as number] as PlannedFile;
      const first = waitFor.get(p.source.table);
      if (first === undefined) continue;
      pending.splice(k, 1);
      const message = `${p.file.path} waits for ${first} (table ${p.source.table}), which failed on a database error: it loads after it, in path order, on the next run`;
      emit({ type: 'warning', message });
      deferred.push(message);
    }
    const k = pending.findIndex((i) => !busy.has((toLoad[i] as PlannedFile).source.table));
    if (k === -1) return undefined;
    const [i] = pending.splice(k, 1) as [number];
    busy.add((toLoad[i] as PlannedFile).source.table);
    return i;
  }

  async function lane(): Promise<void> {
    while (pending.length > 0) {
      if (fatal !== undefined) return;
      if (options.signal?.aborted) {
        fatal = new TributaryError('INTERRUPTED', 'interrupted; the remaining files load next run');
        return;
      }
      const i = take();
      if (i === undefined) {
        await new Promise<void>((resolve) => waiting.push(resolve)); // until a table is free
        continue;
      }
      try {
        results[i] = await loadOne(i);
      } catch (err) {
        fatal ??= err; // the other lanes stop after their current file
      } finally {
        busy.delete((toLoad[i] as PlannedFile).source.table);
        wakeAll();
      }
    }
  }

  try {
    const width = Math.max(
      1,
      Math.min(dest.capabilities.maxConcurrentLoads, new Set(toLoad.map((p) => p.source.table)).size),
    );
    await Promise.all(Array.from({ length: width }, lane));
  } finally {
    await closePool();
    for (const apply of results) apply?.(summary);
    summary.warnings.push(...deferred.sort());
  }
  if (fatal !== undefined) throw fatal;
}

/** What a loaded file adds to the run's summary. */
function addLoaded(
  summary: RunSummary,
  path: string,
  table: string,
  outcome: Extract<FileOutcome, { kind: 'loaded' }>,
): void {
  summary.files.loaded++;
  const t = tableSummary(summary, table);
  t.files++;
  t.inserted += outcome.stats.inserted;
  t.updated += outcome.stats.updated;
  t.unchanged += outcome.stats.unchanged;
  t.deleted += outcome.stats.deleted;
  t.childRows += outcome.stats.childRows;
  t.rejected += outcome.rejectCount;
  t.discardedRows += outcome.discardedRows;
  t.discardedValues += outcome.discardedValues;
  summary.warnings.push(...outcome.warnings);
  for (const r of outcome.rejects) countReject(summary, r.table, r.code);
  if (outcome.rejectCount > outcome.rejects.length) {
    countReject(summary, table, 'MORE', outcome.rejectCount - outcome.rejects.length);
  }
  addSchemaChanges(summary, outcome.changes, path);
}

/**
 * Read the live definition of `table` and its child tables again (after a failed or retried
 * file), leaving the other tables' entries to the lanes loading them.
 */
async function refreshCatalog(
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

/** `fn` never runs twice at once: concurrent callers wait for the call in progress, then call again. */
function serialized(fn: () => Promise<void>): () => Promise<void> {
  let last: Promise<void> = Promise.resolve();
  return () => {
    const next = last.then(fn, fn);
    last = next.catch(() => {});
    return next;
  };
}

/**
 * A type hint the live table cannot take without loss is a config error, found before any
 * file is touched (all of them at once).
 */
function checkHints(
  config: ResolvedConfig,
  hints: Map<number, Map<string, ColumnType>>,
  catalog: Map<string, LiveTable>,
) {
  const problems: string[] = [];
  for (const source of config.sources) {
    const live = catalog.get(source.table);
    if (!live) continue;
    for (const [col, hint] of hints.get(source.index) ?? []) {
      const current = live.columns.find((c) => c.name === col)?.type;
      if (current && !covers(current, hint) && !isLosslessWidening(current, hint)) {
        problems.push(
          `sources[${source.index}].columns.${col}: got "${formatType(hint)}", but ${source.table}.${col} is ${formatType(current)} and cannot become ${formatType(hint)} without loss; change the hint or migrate the column`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `${config.file}: ${problems.length} problem(s); nothing was loaded:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * Before each attempt of a file: the run lock must still be ours. A database restart closes
 * the connection holding MySQL's GET_LOCK, which frees it; take it again, unless another
 * run holds it or ran meanwhile — then this run stops (test/faults/restart.test.ts).
 */
async function keepLock(dest: Destination, pipeline: string, runId: number): Promise<void> {
  // The lock's connection may have died without this process noticing yet (its keepalive
  // runs every few seconds): ask the server whether the lock is still ours.
  const lost =
    dest.lockLost?.(pipeline) || (dest.holdsLock !== undefined && !(await dest.holdsLock(dest, pipeline)));
  if (!lost) return;
  const held = await dest.tryLock(pipeline, `${os.hostname()}:${process.pid}`);
  const later = held ? 0 : await runsAfter(dest, pipeline, runId);
  if (!held && later === 0) return;
  throw new TributaryError(
    'LOCK_LOST',
    `the run lock of pipeline ${pipeline} was lost when its database connection closed, and ${held ? `${held.holder} has held it since ${held.since}` : `${later} other run(s) started since`}; this run stops here: the files it loaded are kept, the others load on the next run`,
  );
}

import os from 'node:os';
import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import type { ColumnType } from '../core/types.js';
import type { Destination, LiveTable } from '../destinations/types.js';
import { formatType } from '../schema/hints.js';
import { isLosslessWidening } from '../schema/lattice.js';
import { covers } from '../schema/observe.js';
import { hashFile } from '../sources/hash.js';
import { type LedgerEntry, readLedger } from '../state/ledger.js';
import { runsAfter } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';
import { type PreparedModels, prepareModels, runModels, type TransformOptions } from '../transforms/run.js';
import { runDataTests } from '../transforms/test-run.js';
import {
  applyReport,
  DEFAULT_RETRIES,
  type FileResult,
  loadPlannedFile,
  type RemoteLoader,
  type RunFiles,
} from './attempt.js';
import { recordRun, withPipeline } from './envelope.js';
import type { EventSink, ModelResult, RunSummary } from './events.js';
import { runLanes } from './lanes.js';
import { WorkerPool } from './parallel.js';
import { parseHints, planFiles } from './plan.js';
import {
  applyReconciliation,
  filesToHash,
  type PlannedFile,
  planReconcile,
  type Reconciliation,
  unchangedByStat,
} from './reconcile.js';
import { modelsReading, type Scope, type Selection, scopeOf } from './select.js';
import { upgradeTables } from './upgrade.js';

export interface RunOptions {
  /** Seconds to wait for another run of the pipeline to finish. Default 0: fail at once. */
  waitSeconds?: number;
  /**
   * Retries of a file's whole transaction after a transient database error (connection
   * lost, server restarted, deadlock, lock wait timeout), with RETRY_BACKOFF
   * (src/runner/attempt.ts). Default DEFAULT_RETRIES (5).
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
  /**
   * Load only these sources' files (`run --table`, `run --source`; src/runner/select.ts): other
   * tables are not touched, and only the models reading a table in scope run. Default: all.
   */
  select?: Selection;
  /** Run the SQL models after the loads. Default true; `tributary load` (no models folder) runs none. */
  models?: boolean;
  /** Which SQL models run after the loads (docs/transformations.md). Default: each whose upstream changed. */
  transform?: TransformOptions;
  /**
   * Run the pipeline's data tests after the models (`run --test`), into `summary.tests`; the
   * tests of a model that failed or was skipped in this run are skipped. Default false.
   */
  test?: boolean;
  /**
   * Load the files in other processes — workers on a queue (src/queue/, `run --queue`) —
   * instead of this one; everything else (lock, plan, reconcile, models, record) stays here.
   */
  remote?: RemoteLoader;
}

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
  const models = await chosenModels(config, dest, options); // bad models: nothing is touched
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
        if (options.models !== false)
          await runModels(dest, models, {
            pipeline: config.pipeline,
            runId,
            emit,
            onResult,
            signal: options.signal,
          });
        if (summary.models?.some((m) => m.status === 'failed')) summary.status = 'partial';
        if (options.test) {
          const unavailable = new Map(
            (summary.models ?? [])
              .filter((m) => m.status !== 'succeeded')
              .map((m) => [
                m.name,
                `model ${m.name} ${m.status === 'failed' ? 'failed' : 'was skipped'} in this run`,
              ]),
          );
          summary.tests = await runDataTests(dest, models.tests, {
            pipeline: config.pipeline,
            unavailable,
            signal: options.signal,
          });
        }
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
 * The models a run considers: all, those reading a selected table (src/runner/select.ts), or
 * none; with them the data tests of the tables and models in play.
 */
async function chosenModels(
  config: ResolvedConfig,
  dest: Destination,
  options: RunOptions,
): Promise<PreparedModels> {
  if (options.models === false) {
    return {
      graph: { models: new Map(), order: [] },
      tests: [],
      run: [],
      fullRefresh: new Set(),
      beforeImages: new Map(),
    };
  }
  const models = await prepareModels(config, dest, options.transform);
  if (!options.select) return models;
  const { tables } = options.select;
  const run = modelsReading(models.graph, models.run, tables);
  // `--test` with a selection tests what this run loaded and built, not the rest.
  const tests = models.tests.filter((t) =>
    t.nodeKind === 'table' ? tables.has(t.node) : run.includes(t.node),
  );
  return { ...models, run, tests };
}

/**
 * Load every new or changed file. Files of one table load one after the other in path order
 * (a later file wins, and a file sees the schema its predecessors left); files of different
 * tables load at the same time where the destination allows several transactions
 * (`maxConcurrentLoads`: MySQL's pool, 1 on SQLite, whose one writer is fed by the workers):
 * src/runner/lanes.ts. Each file loads through src/runner/attempt.ts. The summary is
 * assembled in path order, so it reads the same however the loads interleaved.
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
  const { planned: all, silent } = await planFiles(config, ledger);
  const select = options.select;
  const scope = scopeOf(config, all, select, ledger);
  const warn = (message: string) => {
    summary.warnings.push(message);
    emit({ type: 'warning', message });
  };
  for (const s of silent) if (!select || select.sources.has(s.source)) warn(s.message);
  for (const message of scope.warnings) warn(message);
  // Edited, late and deleted files: put the tables back in line first (src/runner/reconcile.ts).
  const fix = await reconcile(config, dest, runId, all, ledger, summary, emit, scope);
  for (const message of fix.warnings) warn(message);
  // A run limited to some sources loads theirs, and what a rebuild of their tables took out.
  const planned = all.filter((p) => scope.loads(p));
  const toLoad = planned.filter((p) => !unchangedByStat(p));
  summary.files.discovered = planned.length;
  summary.files.unchanged = planned.length - toLoad.length;
  const left = scope.left(all);
  if (select && left > 0) summary.filesLeft = left;
  emit({
    type: 'files_discovered',
    total: planned.length,
    toLoad: toLoad.length,
    unchanged: summary.files.unchanged,
    bytes: toLoad.reduce((n, p) => n + p.file.size, 0),
  });
  if (toLoad.length === 0) return;
  const remote = options.remote;
  // Workers elsewhere parse the files: no threads here.
  const workers = remote ? 0 : (options.workers ?? os.availableParallelism());
  // A pool the caller owns (a long-lived process running many loads) is used and left open.
  const own = options.pool === undefined;
  const pool = remote
    ? undefined
    : (options.pool ??
      (workers > 0 ? new WorkerPool(workers, options.minPartBytes, options.minPoolBytes) : undefined));
  const closePool = async () => {
    if (own) await pool?.close();
  };
  if (pool && toLoad.some((p) => p.file.size >= pool.minFileBytes)) pool.warm();
  let catalog: Map<string, LiveTable>;
  try {
    catalog = await dest.readCatalog();
    if (await upgradeTables(dest, catalog, scope.sources)) catalog = await dest.readCatalog();
    checkHints(config, scope.sources, hints, catalog);
  } catch (err) {
    await closePool(); // warm threads would keep the process alive
    throw err;
  }

  const results: FileResult[] = [];
  const deferred: string[] = [];
  const files: RunFiles = {
    config,
    dest,
    runId,
    catalog,
    hints,
    fix,
    beforeImages,
    pool,
    retries: options.retries ?? DEFAULT_RETRIES,
    onePass: options.onePass ?? true,
    signal: options.signal,
    emit,
    lockCheck: stopOnce(serialized(() => keepLock(dest, config.pipeline, runId))),
  };
  let started = 0;
  try {
    await runLanes(
      toLoad.map((p) => ({ path: p.file.path, table: p.source.table })),
      async (i, hold) => {
        const planned = toLoad[i] as PlannedFile;
        // A file whose name cannot be named fails at once, here (loadPlannedFile's checkFile).
        const result =
          remote && !planned.file.badName
            ? await remote.load(files, planned, started++, toLoad.length)
            : await loadPlannedFile(files, planned, started++, toLoad.length);
        results[i] = result;
        if (result.holdsTable) hold();
      },
      {
        width: remote?.width ?? dest.capabilities.maxConcurrentLoads,
        signal: options.signal,
        interrupted: () =>
          new TributaryError('INTERRUPTED', 'interrupted; the remaining files load next run'),
        onDeferred: (f, first) => {
          const message = `${f.path} waits for ${first} (table ${f.table}), which failed on a database error: it loads after it, in path order, on the next run`;
          emit({ type: 'warning', message });
          deferred.push(message);
        },
      },
    );
  } finally {
    await closePool();
    for (const r of results) if (r) applyReport(summary, r.report);
    summary.warnings.push(...deferred.sort());
  }
}

/**
 * Put the tables back in line with the current files before loading (src/runner/reconcile.ts):
 * rebuilds for edited and late files, deleted files' rows, emptied tables. Updates the
 * planned files' ledger rows to what it left, and reports each table in the summary.
 */
async function reconcile(
  config: ResolvedConfig,
  dest: Destination,
  runId: number,
  planned: PlannedFile[],
  ledger: Map<string, LedgerEntry>,
  summary: RunSummary,
  emit: EventSink,
  scope: Scope,
): Promise<Reconciliation> {
  const hashes = new Map<string, string>();
  for (const p of filesToHash(scope.sources, planned, scope.held)) {
    // A file that cannot be read now rebuilds nothing: its load fails on its own.
    const h = await hashFile(p.file.abs).catch(() => undefined);
    if (h !== undefined) hashes.set(p.file.path, h);
  }
  const fix = planReconcile(scope.sources, planned, ledger.values(), hashes, scope.held);
  const fixes =
    fix.rebuild.length + fix.deleted.length + fix.empty.length + fix.reload.length + fix.unchanged.length;
  if (fixes > 0) {
    let before = await dest.readCatalog();
    if (await upgradeTables(dest, before, scope.sources)) before = await dest.readCatalog();
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
  return fix;
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
 * Once `check` has thrown LOCK_LOST, every later call throws it again without calling
 * `check`. keepLock stops the run when it takes the lock again and finds another run started
 * since, but the lock stays taken (released when the run ends): the next lane's keepLock
 * would find a live lock, ours, return at once, and its (older) file would load after the
 * newer files the other run loaded (test/faults/lock-retake.test.ts).
 */
function stopOnce(check: () => Promise<void>): () => Promise<void> {
  let stopped: TributaryError | undefined;
  return async () => {
    if (stopped) throw stopped;
    try {
      await check();
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'LOCK_LOST') stopped = err;
      throw err;
    }
  };
}

/**
 * A type hint the live table cannot take without loss is a config error, found before any
 * file is touched (all of them at once).
 */
function checkHints(
  config: ResolvedConfig,
  sources: readonly ResolvedSource[],
  hints: Map<number, Map<string, ColumnType>>,
  catalog: Map<string, LiveTable>,
) {
  const problems: string[] = [];
  for (const source of sources) {
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

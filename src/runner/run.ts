import os from 'node:os';
import pRetry from 'p-retry';
import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import type { ColumnType } from '../core/types.js';
import type { Destination, LiveTable } from '../destinations/types.js';
import { covers } from '../schema/observe.js';
import { formatType, isLosslessWidening, parseTypeHint } from '../schema/types.js';
import { type DiscoveredFile, discoverFiles } from '../sources/discover.js';
import { type LedgerEntry, markFailed, readLedger, touch } from '../state/ledger.js';
import { closeCrashedRuns, finishRun, type RunCounts, startRun } from '../state/runs.js';
import { ensureStateTables } from '../state/tables.js';
import type { EventSink, RunSummary, TableSummary } from './events.js';
import { crashPoint } from './faults.js';
import { loadFile } from './file.js';

export interface RunOptions {
  /** Seconds to wait for another run of the pipeline to finish. Default 0: fail at once. */
  waitSeconds?: number;
  /** Retries of a file's transaction after a transient database error. Default 3. */
  retries?: number;
  signal?: AbortSignal;
  emit?: EventSink;
}

interface PlannedFile {
  file: DiscoveredFile;
  source: ResolvedSource;
  ledger: LedgerEntry | undefined;
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
  await acquireLock(dest, config.pipeline, options.waitSeconds ?? 0, options.signal);
  const started = Date.now();
  try {
    await closeCrashedRuns(dest, config.pipeline);
    const run = await startRun(dest, config.pipeline);
    emit({ type: 'run_started', runId: run.id, pipeline: config.pipeline, destination: dest.description });
    const summary = newSummary(run.id, config.pipeline, run.startedAt);
    let configError: unknown;
    try {
      await loadAll(config, dest, run.id, summary, options, emit);
    } catch (err) {
      summary.status = err instanceof TributaryError && err.code === 'INTERRUPTED' ? 'interrupted' : 'failed';
      summary.error = messageOf(err);
      if (err instanceof TributaryError && err.code === 'CONFIG_INVALID') configError = err;
    }
    crashPoint('before_finish');
    summary.durationMs = Date.now() - started;
    if (summary.status === 'succeeded' && summary.files.failed > 0) summary.status = 'partial';
    await finishRun(dest, run.id, summary.status, countsOf(summary), summary, summary.error);
    if (configError) throw configError; // recorded as a failed run; the CLI exits 2 with its message
    emit({ type: 'run_finished', summary });
    return summary;
  } finally {
    await dest.unlock(config.pipeline);
  }
}

async function loadAll(
  config: ResolvedConfig,
  dest: Destination,
  runId: number,
  summary: RunSummary,
  options: RunOptions,
  emit: EventSink,
): Promise<void> {
  const hints = new Map(config.sources.map((s) => [s.index, parseHints(s)]));
  const planned = await plan(config, dest);
  const toLoad = planned.filter((p) => !unchangedByStat(p));
  summary.files.discovered = planned.length;
  summary.files.unchanged = planned.length - toLoad.length;
  emit({
    type: 'files_discovered',
    total: planned.length,
    toLoad: toLoad.length,
    unchanged: summary.files.unchanged,
  });
  let catalog: Map<string, LiveTable> = toLoad.length > 0 ? await dest.readCatalog() : new Map();
  checkHints(config, hints, catalog);
  for (const [i, p] of toLoad.entries()) {
    if (options.signal?.aborted)
      throw new TributaryError('INTERRUPTED', 'interrupted; the remaining files load next run');
    const { file, source } = p;
    emit({
      type: 'file_started',
      file: file.path,
      table: source.table,
      index: i,
      total: toLoad.length,
      size: file.size,
    });
    const t0 = Date.now();
    try {
      const outcome = await pRetry(
        () =>
          loadFile({
            dest,
            pipeline: config.pipeline,
            runId,
            source,
            hints: hints.get(source.index) as Map<string, ColumnType>,
            file,
            catalog,
            knownHash: p.ledger?.status === 'loaded' ? p.ledger.hash : null,
            emit,
            signal: options.signal,
          }),
        {
          retries: options.retries ?? 3,
          minTimeout: 200,
          maxTimeout: 5_000,
          randomize: true,
          shouldRetry: ({ error }) => error instanceof TributaryError && error.transient,
          onFailedAttempt: async () => {
            catalog = await dest.readCatalog(); // the rolled-back attempt may have changed nothing
          },
        },
      );
      crashPoint('after_commit');
      if (outcome.kind === 'unchanged') {
        if (p.ledger) await touch(dest, p.ledger.id, file.size, file.mtimeMs);
        summary.files.unchanged++;
        emit({ type: 'file_unchanged', file: file.path, table: source.table });
        continue;
      }
      summary.files.loaded++;
      const t = tableSummary(summary, source.table);
      t.files++;
      t.inserted += outcome.stats.inserted;
      t.updated += outcome.stats.updated;
      t.unchanged += outcome.stats.unchanged;
      t.deleted += outcome.stats.deleted;
      t.childRows += outcome.stats.childRows;
      t.rejected += outcome.rejectCount;
      t.discardedRows += outcome.discardedRows;
      t.discardedValues += outcome.discardedValues;
      for (const message of outcome.warnings) {
        summary.warnings.push(message);
        emit({ type: 'warning', message });
      }
      for (const r of outcome.rejects) countReject(summary, r.table, r.code);
      if (outcome.rejectCount > outcome.rejects.length) {
        countReject(summary, source.table, 'MORE', outcome.rejectCount - outcome.rejects.length);
      }
      for (const c of outcome.changes) {
        summary.schemaChanges.push({
          table: c.kind === 'create_table' ? c.table.name : c.table,
          kind: c.kind,
          ...(c.kind === 'add_column' ? { column: c.column.name, to: formatType(c.column.type) } : {}),
          ...(c.kind === 'widen_column'
            ? { column: c.column, from: formatType(c.from), to: formatType(c.to) }
            : {}),
          file: file.path,
        });
      }
      emit({
        type: 'file_loaded',
        file: file.path,
        table: source.table,
        rows: outcome.rows,
        rejects: outcome.rejectCount,
        stats: outcome.stats,
        ms: Date.now() - t0,
      });
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'INTERRUPTED') throw err;
      catalog = await dest.readCatalog();
      const code = err instanceof TributaryError ? err.code : 'LOAD_FAILED';
      const message = messageOf(err);
      summary.files.failed++;
      summary.failures.push({ file: file.path, code, message });
      await markFailed(dest, config.pipeline, { ...file, table: source.table }, runId, `${code}: ${message}`);
      emit({ type: 'file_failed', file: file.path, table: source.table, code, message, willRetry: true });
    }
  }
}

/** Discover every source's files and pair them with their ledger rows. A file is claimed by the first source that matches it. */
async function plan(config: ResolvedConfig, dest: Destination): Promise<PlannedFile[]> {
  const ledger = await readLedger(dest, config.pipeline);
  const claimed = new Map<string, PlannedFile>();
  for (const source of config.sources) {
    for (const file of await discoverFiles(config.baseDir, source.files)) {
      if (!claimed.has(file.path)) claimed.set(file.path, { file, source, ledger: ledger.get(file.path) });
    }
  }
  return [...claimed.values()].sort((a, b) =>
    a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0,
  );
}

/** Size and mtime as in the ledger: unchanged without opening the file. */
function unchangedByStat(p: PlannedFile): boolean {
  const l = p.ledger;
  return l !== undefined && l.status === 'loaded' && l.size === p.file.size && l.mtimeMs === p.file.mtimeMs;
}

/**
 * A type hint the live table cannot take without loss is a config error, found before any
 * file is touched (all of them at once).
 */
function checkHints(config: ResolvedConfig, hints: Map<number, Map<string, ColumnType>>, catalog: Map<string, LiveTable>) {
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

function parseHints(source: ResolvedSource): Map<string, ColumnType> {
  return new Map(Object.entries(source.columns).map(([col, hint]) => [col, parseTypeHint(hint)]));
}

async function acquireLock(
  dest: Destination,
  pipeline: string,
  waitSeconds: number,
  signal?: AbortSignal,
): Promise<void> {
  const holder = `${os.hostname()}:${process.pid}`;
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const held = await dest.tryLock(pipeline, holder);
    if (!held) return;
    if (Date.now() >= deadline || signal?.aborted) {
      throw new TributaryError(
        'LOCK_HELD',
        `pipeline ${pipeline} is being run by ${held.holder} since ${held.since}; wait for it (--wait SECONDS) or try again later`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function newSummary(runId: number, pipeline: string, startedAt: string): RunSummary {
  return {
    runId,
    pipeline,
    status: 'succeeded',
    startedAt,
    durationMs: 0,
    files: { discovered: 0, loaded: 0, unchanged: 0, failed: 0 },
    tables: [],
    schemaChanges: [],
    failures: [],
    rejectsByReason: [],
    warnings: [],
  };
}

function tableSummary(summary: RunSummary, table: string): TableSummary {
  let t = summary.tables.find((x) => x.table === table);
  if (!t) {
    t = {
      table,
      files: 0,
      inserted: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      rejected: 0,
      discardedRows: 0,
      discardedValues: 0,
      childRows: 0,
    };
    summary.tables.push(t);
  }
  return t;
}

function countReject(summary: RunSummary, table: string, code: string, n = 1): void {
  const r = summary.rejectsByReason.find((x) => x.table === table && x.code === code);
  if (r) r.count += n;
  else summary.rejectsByReason.push({ table, code, count: n });
}

function countsOf(s: RunSummary): RunCounts {
  const sum = (k: keyof TableSummary) => s.tables.reduce((a, t) => a + (t[k] as number), 0);
  return {
    filesLoaded: s.files.loaded,
    filesSkipped: s.files.unchanged,
    filesFailed: s.files.failed,
    rowsInserted: sum('inserted'),
    rowsUpdated: sum('updated'),
    rowsUnchanged: sum('unchanged'),
    rowsRejected: sum('rejected'),
  };
}

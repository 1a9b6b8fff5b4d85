import path from 'node:path';
import type { ResolvedConfig, ResolvedSource } from '../../config/resolve.js';
import { messageOf, TributaryError } from '../../core/errors.js';
import type { SchemaChange, SourceItem } from '../../core/types.js';
import { type Destination, type LiveTable, SYS_FILE_ID, type WriteStats } from '../../destinations/types.js';
import { recordRun, withPipeline } from '../../runner/envelope.js';
import type { EventSink, RunSummary } from '../../runner/events.js';
import { type FileJob, loadFile } from '../../runner/load/index.js';
import { parseHints } from '../../runner/plan.js';
import { addSchemaChanges, countReject, tableSummary } from '../../runner/summary.js';
import { readLedger, recordRetry } from '../../state/ledger.js';
import { listRejects, type Reject, resolveRejects, reviseReject } from '../../state/rejects.js';
import { ensureStateTables } from '../../state/tables.js';
import { prepareModels } from '../../transforms/run.js';
import { splitByStoredKey } from './keys.js';
import { planRetry, type RetryGroup } from './plan.js';

export interface RetryOptions {
  /** Only this table's rejects. */
  table?: string;
  /** Runner events of the retried files (schema changes, warnings), for logs. */
  emit?: EventSink;
  signal?: AbortSignal;
}

/** What became of one file's stored rejects. */
export interface RetryFileResult {
  file: string;
  table: string;
  /** Rows that now pass: loaded, their rejects marked resolved. */
  resolved: number;
  /** Rows that still fail: kept, with the reason they fail for now. */
  stillRejected: number;
  /** Rows left alone because a stored row of the same key cannot be ordered against them. */
  kept: number;
  error?: { code: string; message: string };
}

export interface RetryReport {
  /** The run recorded for the retry; null when there was nothing to re-process. */
  runId: number | null;
  /** Unresolved rejects looked at. */
  considered: number;
  resolved: number;
  stillRejected: number;
  /** Rejects a config change cannot fix, grouped by reason. */
  notRetried: Array<{ table: string; reason: string; count: number }>;
  files: RetryFileResult[];
  summary: RunSummary | null;
}

/**
 * `tributary rejects retry`: re-process the stored unresolved rejects under the current
 * config. Each file's rejects go through the runner's own load path (scan → evolve → encode →
 * write → commit, `src/runner/load/`), in one transaction per file with their resolution: rows
 * that pass are merged by the table's rules (cursor included) and their rejects get
 * `resolved_run_id`; the others stay, with their current reason. Runs under the pipeline
 * lock and is recorded as a run, so the loaded rows carry its id.
 */
export async function retryRejects(
  config: ResolvedConfig,
  dest: Destination,
  options: RetryOptions = {},
): Promise<RetryReport> {
  await ensureStateTables(dest, dest.dialect);
  return withPipeline(dest, config.pipeline, {}, async () => {
    const rejects = await listRejects(dest, config.pipeline, { table: options.table });
    const plan = planRetry(config, rejects, await readLedger(dest, config.pipeline));
    const report: RetryReport = {
      runId: null,
      considered: rejects.length,
      resolved: 0,
      stillRejected: 0,
      notRetried: groupReasons(plan.notRetried.map((n) => ({ table: n.reject.table, reason: n.reason }))),
      files: [],
      summary: null,
    };
    if (plan.groups.length === 0) return report;
    // Rows a retry overwrites leave before-images for incremental models, as in a run.
    const { beforeImages } = await prepareModels(config, dest);
    let catalog = await dest.readCatalog();
    const kept: Array<{ table: string; count: number }> = [];
    const { summary } = await recordRun(dest, config.pipeline, 'rejects retry', async (runId, summary) => {
      summary.files.discovered = plan.groups.length;
      for (const group of plan.groups) {
        if (options.signal?.aborted)
          throw new TributaryError('INTERRUPTED', 'interrupted; run the retry again');
        try {
          const done = await retryFile(config, dest, runId, group, catalog, { ...options, beforeImages });
          report.files.push(done.result);
          addFile(summary, done.result, done.stats, done.changes, done.still);
          if (done.result.kept > 0) kept.push({ table: done.result.table, count: done.result.kept });
        } catch (err) {
          if (err instanceof TributaryError && (err.code === 'INTERRUPTED' || err.code === 'LOCK_LOST'))
            throw err;
          catalog = await dest.readCatalog(); // the rolled-back file may have left DDL (MySQL)
          const code = err instanceof TributaryError ? err.code : 'LOAD_FAILED';
          const failed = {
            file: group.file,
            table: group.source.table,
            resolved: 0,
            stillRejected: 0,
            kept: 0,
          };
          report.files.push({ ...failed, error: { code, message: messageOf(err) } });
          summary.files.failed++;
          summary.failures.push({ file: group.file, code, message: messageOf(err) });
        }
      }
    });
    report.runId = summary.runId;
    report.resolved = report.files.reduce((n, f) => n + f.resolved, 0);
    report.stillRejected = report.files.reduce((n, f) => n + f.stillRejected, 0);
    for (const k of kept) {
      report.notRetried.push({
        table: k.table,
        reason: `${k.table} has no cursor, so a retried row cannot be ordered against the stored row of its key; add a cursor, or reload the table with \`tributary run --full-refresh --table ${k.table}\``,
        count: k.count,
      });
    }
    report.summary = summary;
    return report;
  });
}

interface FileDone {
  result: RetryFileResult;
  stats: WriteStats;
  changes: SchemaChange[];
  still: Reject[];
}

async function retryFile(
  config: ResolvedConfig,
  dest: Destination,
  runId: number,
  group: RetryGroup,
  catalog: Map<string, LiveTable>,
  options: RetryOptions & { beforeImages: ReadonlyMap<string, readonly string[]> },
): Promise<FileDone> {
  const source = retrySource(group.source);
  const { fresh, stored } =
    source.write === 'merge' && !source.cursor
      ? await splitByStoredKey(dest, source, catalog.get(source.table), group.captures, group.records)
      : { fresh: group.records, stored: [] };
  if (fresh.length === 0) {
    const result = {
      file: group.file,
      table: source.table,
      resolved: 0,
      stillRejected: 0,
      kept: stored.length,
    };
    const empty: WriteStats = { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 };
    return { result, stats: empty, changes: [], still: [] };
  }
  // The rows that still fail, by record; emptied when an attempt starts again (a direct load
  // that met a key twice is rolled back and done through staging).
  const still = new Map<number, Reject>();
  // The append writer first deletes its file's rows (a re-sent file replaces them); a retry
  // adds to them, so it writes under an id no row has, then gives the rows the file's id.
  const append = source.write === 'append';
  const job: FileJob = {
    dest,
    pipeline: config.pipeline,
    runId,
    source,
    hints: parseHints(source),
    file: {
      path: group.file,
      abs: path.resolve(config.baseDir, group.file),
      size: 0,
      mtimeMs: 0,
      captures: group.captures,
    },
    catalog,
    knownHash: null,
    emit: options.emit ?? (() => {}),
    signal: options.signal,
    beforeImages: options.beforeImages,
    retry: {
      items: () => batches(fresh),
      begin: () => still.clear(),
      onReject: async (r) => {
        still.set(r.record, r);
      },
      writeId: append ? -group.fileId : group.fileId,
      settle: async (tx) => {
        if (append && catalog.get(source.table)?.systemColumns.includes(SYS_FILE_ID)) {
          const q = dest.dialect.quote;
          await tx.execute(
            `UPDATE ${q(source.table)} SET ${q(SYS_FILE_ID)} = ? WHERE ${q(SYS_FILE_ID)} = ?`,
            [group.fileId, -group.fileId],
          );
        }
        const resolved = fresh.filter((x) => !still.has(x.reject.record)).map((x) => x.reject.id);
        await resolveRejects(tx, resolved, runId);
        if (resolved.length > 0) await recordRetry(tx, group.fileId, runId, resolved.length);
        for (const x of fresh) {
          const r = still.get(x.reject.record);
          if (r) await reviseReject(tx, x.reject.id, r);
        }
      },
    },
  };
  const outcome = await loadFile(job);
  if (outcome.kind !== 'loaded') throw new Error('internal: a retry found its records unchanged');
  const result = {
    file: group.file,
    table: source.table,
    resolved: fresh.length - still.size,
    stillRejected: still.size,
    kept: stored.length,
  };
  return { result, stats: outcome.stats, changes: outcome.changes, still: [...still.values()] };
}

/**
 * The source as a retry loads it: never failed by `max_rejects` (the rows are few and the
 * file loaded already), and a `replace` table gets rows added to its snapshot rather than
 * replaced by them.
 */
function retrySource(s: ResolvedSource): ResolvedSource {
  const { maxRejects: _ignored, ...rest } = s;
  return { ...rest, write: s.write === 'replace' ? 'append' : s.write };
}

async function* batches(records: RetryGroup['records']): AsyncGenerator<SourceItem[]> {
  for (let i = 0; i < records.length; i += 2_000) {
    yield records.slice(i, i + 2_000).map((x) => ({
      kind: 'record' as const,
      data: x.data,
      line: x.reject.line,
      record: x.reject.record,
    }));
  }
}

function groupReasons(items: Array<{ table: string; reason: string }>): RetryReport['notRetried'] {
  const out = new Map<string, { table: string; reason: string; count: number }>();
  for (const i of items) {
    const key = `${i.table}\u0000${i.reason}`;
    const g = out.get(key);
    if (g) g.count++;
    else out.set(key, { ...i, count: 1 });
  }
  return [...out.values()];
}

/** Count one retried file: its writes per table, its schema changes, what still fails. */
export function addFile(
  summary: RunSummary,
  result: RetryFileResult,
  stats: WriteStats,
  changes: readonly SchemaChange[],
  still: readonly Reject[],
): void {
  summary.files.loaded++;
  const t = tableSummary(summary, result.table);
  t.files++;
  t.inserted += stats.inserted;
  t.updated += stats.updated;
  t.unchanged += stats.unchanged;
  t.deleted += stats.deleted;
  t.childRows += stats.childRows;
  t.rejected += still.length + result.kept;
  addSchemaChanges(summary, changes, result.file);
  for (const r of still) countReject(summary, r.table, r.code, 1);
  if (result.kept > 0) countReject(summary, result.table, 'KEPT_NO_CURSOR', result.kept);
}

/**
 * `tributary worker`: takes the jobs `run --queue` puts on the pipeline's queue and loads
 * each file exactly as a local run would (src/runner/attempt.ts → src/runner/load/), with
 * its own config's credentials. BullMQ delivers a job at least once: a worker that dies
 * holding one (its lock not renewed for `lockSeconds`) has it given to another. The file's
 * rows, rejects and ledger row commit in one transaction that first checks the run is
 * still the newest and this attempt's claim on the file the last (src/state/claims.ts),
 * so a job done twice, or by a worker that was paused and came back, loads its file once.
 */
import os from 'node:os';
import path from 'node:path';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import pRetry from 'p-retry';
import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import { crashOnFile, crashPoint } from '../core/faults.js';
import type { Destination, LiveTable } from '../destinations/types.js';
import {
  DEFAULT_RETRIES,
  type FileResult,
  loadPlannedFile,
  type RunFiles,
  refreshCatalog,
} from '../runner/attempt.js';
import type { RunEvent } from '../runner/events.js';
import { WorkerPool } from '../runner/parallel.js';
import { parseHints } from '../runner/plan.js';
import { type Claim, checkClaim, claimFile, pipelineId } from '../state/claims.js';
import { ledgerEntry } from '../state/ledger.js';
import { ensureStateTables } from '../state/tables.js';
import { checkQueueUrl, connectRedis, notShared, redisConnection } from './connection.js';
import {
  configFingerprint,
  JOB_VERSION,
  type LoadJobData,
  type LoadJobProgress,
  type LoadJobResult,
  queueName,
} from './protocol.js';

export interface WorkerOptions {
  url: string;
  /** Jobs (files) loaded at once by this process. Default 1. */
  concurrency?: number;
  /** Worker threads parsing files beside the writer, shared by the jobs. Default: the cores. */
  threads?: number;
  /**
   * Seconds a job stays with this process while it does not answer (paused, cut off,
   * killed) before the queue gives it to another worker. Default 30 (BullMQ's default).
   */
  lockSeconds?: number;
  /** Retries of a file's transaction after a transient database error (as `run --retries`). */
  retries?: number;
  /** Aborted: take no new job, finish the current ones, stop. */
  signal: AbortSignal;
  /** Aborted: interrupt the current jobs too (their files roll back; the queue gives them to another worker). */
  hardStop?: AbortSignal;
  emit: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'worker_ready'; worker: string; queue: string; concurrency: number }
  | { type: 'job_started'; worker: string; file: string; table: string; runId: number; attempt: number }
  | {
      type: 'job_done';
      worker: string;
      file: string;
      table: string;
      runId: number;
      result: FileResult;
      ms: number;
    }
  | { type: 'job_fenced'; worker: string; file: string; runId: number; message: string }
  | { type: 'job_error'; worker: string; file: string; runId: number; message: string }
  | { type: 'worker_stopped'; worker: string; jobs: number }
  | { type: 'warning'; message: string };

/** Serve the pipeline's queue until `signal` aborts; resolves once the current jobs have ended. */
export async function serveQueue(
  config: ResolvedConfig,
  dest: Destination,
  options: WorkerOptions,
): Promise<void> {
  checkQueueUrl(options.url);
  if (!dest.capabilities.remoteLoads) throw notShared(dest);
  const holder = `${os.hostname()}:${process.pid}`;
  const connection: Redis = redisConnection(options.url);
  await connectRedis(connection, options.url);
  // Workers started together all make the state tables at once: PostgreSQL may refuse one
  // `CREATE TABLE IF NOT EXISTS` racing another (a duplicate type); the next try finds them.
  const name = await pRetry(
    async () => {
      await ensureStateTables(dest, dest.dialect);
      return queueName(config.pipeline, await pipelineId(dest, config.pipeline));
    },
    { retries: 3, minTimeout: 200 },
  );
  const threads = options.threads ?? os.availableParallelism();
  const pool = threads > 0 ? new WorkerPool(threads) : undefined;
  const hints = new Map(config.sources.map((s) => [s.index, parseHints(s)]));
  const catalog: Map<string, LiveTable> = await dest.readCatalog();
  const fingerprint = configFingerprint(config);
  const lockMs = Math.max(1, options.lockSeconds ?? 30) * 1000;
  const interrupt = new AbortController();
  options.hardStop?.addEventListener('abort', () => interrupt.abort(), { once: true });
  let jobs = 0;

  const processor = async (job: Job<LoadJobData, LoadJobResult>): Promise<LoadJobResult> => {
    const d = job.data;
    const t0 = Date.now();
    if (d.v !== JOB_VERSION)
      throw new UnrecoverableError(`job version ${d.v}; this worker takes version ${JOB_VERSION}`);
    if (d.pipeline !== config.pipeline || d.config !== fingerprint) {
      // Another pipeline's config, or sources that differ from the coordinator's: loading
      // would give other tables than a local run. Refused, for the coordinator to report.
      throw new UnrecoverableError(
        `the worker's config (${config.file}) does not match the run's: its sources differ; start workers with the same tributary.yaml as the run`,
      );
    }
    const source = config.sources[d.source];
    if (!source || source.table !== d.table)
      throw new UnrecoverableError(`sources[${d.source}] is not table ${d.table}`);
    jobs++;
    options.emit({
      type: 'job_started',
      worker: holder,
      file: d.path,
      table: d.table,
      runId: d.runId,
      attempt: job.attemptsMade + 1,
    });
    let claim: Claim;
    try {
      claim = await claimFile(dest, config.pipeline, d.path, d.runId, holder);
      crashPoint('claimed');
      crashOnFile(d.path);
      // An earlier attempt committed, and died before the queue heard of it: nothing to do.
      const entry = await ledgerEntry(dest, config.pipeline, d.path);
      if (
        entry?.status === 'loaded' &&
        entry.runId === d.runId &&
        entry.size === d.size &&
        entry.mtimeMs === d.mtimeMs
      ) {
        // No result for the coordinator, which then reads the file's counts from the ledger.
        const message = `${d.path} was already loaded by an earlier attempt of this job`;
        options.emit({ type: 'job_fenced', worker: holder, file: d.path, runId: d.runId, message });
        return { v: JOB_VERSION, worker: holder, fenced: message, ms: 0 };
      }
      await refreshCatalog(dest, catalog, source.table);
      const fence = (db: Parameters<typeof checkClaim>[0]) =>
        checkClaim(db, dest.dialect.shareLockSql, claim);
      let lastProgress = 0;
      const run: RunFiles = {
        config,
        dest,
        runId: d.runId,
        catalog,
        hints,
        fix: {
          shadowed: new Set(d.shadowed ? [d.path] : []),
          retried: new Set(d.retried ? [d.path] : []),
        },
        beforeImages: new Map(d.beforeImages),
        ...(pool ? { pool } : {}),
        retries: options.retries ?? DEFAULT_RETRIES,
        onePass: true,
        signal: interrupt.signal,
        emit: (e: RunEvent) => {
          if (e.type === 'file_progress' && Date.now() - lastProgress >= 1_000) {
            lastProgress = Date.now();
            const p: LoadJobProgress = { worker: holder, rows: e.rows, bytes: e.bytes };
            job.updateProgress(p).catch(() => {});
          }
        },
        lockCheck: () => fence(dest),
        fence,
      };
      const planned = {
        file: {
          path: d.path,
          abs: path.resolve(config.baseDir, d.path),
          size: d.size,
          mtimeMs: d.mtimeMs,
          captures: d.captures,
        },
        source,
        ledger: entry?.table === source.table ? entry : undefined,
      };
      const result = await loadPlannedFile(run, planned, d.index, d.total);
      const ms = Date.now() - t0;
      options.emit({
        type: 'job_done',
        worker: holder,
        file: d.path,
        table: d.table,
        runId: d.runId,
        result,
        ms,
      });
      return { v: JOB_VERSION, worker: holder, result, ms };
    } catch (err) {
      if (err instanceof TributaryError && err.code === 'FENCED') {
        options.emit({
          type: 'job_fenced',
          worker: holder,
          file: d.path,
          runId: d.runId,
          message: err.message,
        });
        return { v: JOB_VERSION, worker: holder, fenced: err.message, ms: Date.now() - t0 };
      }
      options.emit({
        type: 'job_error',
        worker: holder,
        file: d.path,
        runId: d.runId,
        message: messageOf(err),
      });
      throw err; // the queue retries the job (JOB_ATTEMPTS), on this worker or another
    }
  };

  const worker = new Worker<LoadJobData, LoadJobResult>(name, processor, {
    connection,
    concurrency: Math.max(1, options.concurrency ?? 1),
    lockDuration: lockMs,
    stalledInterval: lockMs,
    maxStalledCount: 1,
    name: holder,
    autorun: false,
  });
  worker.on('error', (err) => options.emit({ type: 'warning', message: `queue: ${messageOf(err)}` }));
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      worker
        .close()
        .catch(() => {})
        .finally(() => resolve());
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  });
  options.emit({
    type: 'worker_ready',
    worker: holder,
    queue: name,
    concurrency: Math.max(1, options.concurrency ?? 1),
  });
  try {
    await Promise.all([worker.run(), stopped]);
  } finally {
    await pool?.close();
    connection.disconnect();
    options.emit({ type: 'worker_stopped', worker: holder, jobs });
  }
}

/**
 * `run --queue`: the run stays in this process — lock, plan, reconcile, models, record — and
 * each file to load becomes a BullMQ job that a `tributary worker` (src/queue/worker.ts) on
 * any machine takes. The run's lanes (src/runner/lanes.ts) still decide the order: one file
 * of a table at a time, in path order, so at most one job per table is on the queue, and
 * files of different tables load side by side.
 *
 * Redis is transport; the ledger is the truth. A job whose outcome Redis lost (a restart
 * with nothing on disk) is looked up in the ledger and enqueued again if the file did not
 * commit; a worker's commit is fenced by the database (src/state/claims.ts), so a job done
 * twice loads its file once.
 */
import { randomUUID } from 'node:crypto';
import { type Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { maskUrl } from '../config/destination.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import type { Destination } from '../destinations/types.js';
import type { FileResult, LoadedReport, RemoteLoader, RunFiles } from '../runner/attempt.js';
import type { EventSink } from '../runner/events.js';
import type { PlannedFile } from '../runner/reconcile.js';
import { pipelineId } from '../state/claims.js';
import { type LedgerEntry, ledgerEntry, markFailed } from '../state/ledger.js';
import { rejectCountsOfFile } from '../state/rejects.js';
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

/** How often an outstanding job's state is read, besides the queue's events. */
const POLL_MS = 1_000;
/** A file waiting this long for a worker makes the run say so (once). */
const IDLE_WARNING_MS = 30_000;
/** A file whose job Redis lost, or whose attempt was fenced, is enqueued again at most this often. */
const MAX_REQUEUES = 5;
/**
 * Attempts of a job that failed on a worker (an error that is not the file's own: the
 * worker interrupted, its database unreachable past the file's retries). A worker that dies
 * holding a job is another matter: BullMQ gives the job to another worker once
 * (`maxStalledCount`, src/queue/worker.ts), then fails it.
 */
const JOB_ATTEMPTS = 3;

type Outcome =
  | { kind: 'completed'; value: LoadJobResult | undefined }
  | { kind: 'failed'; reason: string; worker: string | undefined }
  | { kind: 'lost' };

export class QueueCoordinator implements RemoteLoader {
  readonly width: number;
  readonly #queue: Queue<LoadJobData, LoadJobResult>;
  readonly #events: QueueEvents;
  readonly #connections: Redis[];
  readonly #wake = new Map<string, () => void>();
  readonly #url: string;
  readonly #emit: EventSink;
  readonly #fingerprint: string;
  #unreachableSince: number | undefined;

  private constructor(
    config: ResolvedConfig,
    url: string,
    name: string,
    connections: Redis[],
    emit: EventSink,
  ) {
    const [queueConn, eventsConn] = connections as [Redis, Redis];
    this.#url = url;
    this.#emit = emit;
    this.#connections = connections;
    this.#fingerprint = configFingerprint(config);
    // Every table may have its one file on the queue at once: the workers decide how many load.
    this.width = Math.max(1, new Set(config.sources.map((s) => s.table)).size);
    this.#queue = new Queue(name, { connection: queueConn });
    this.#events = new QueueEvents(name, { connection: eventsConn, autorun: true });
    const wake = ({ jobId }: { jobId: string }) => this.#wake.get(jobId)?.();
    this.#events.on('completed', wake);
    this.#events.on('failed', wake);
    this.#events.on('progress', ({ jobId, data }) => {
      const p = data as Partial<LoadJobProgress> | undefined;
      const file = this.#files.get(jobId);
      if (file && p && typeof p.rows === 'number' && typeof p.bytes === 'number') {
        this.#emit({ type: 'file_progress', file, rows: p.rows, bytes: p.bytes });
      }
    });
    // QueueEvents reports a lost connection as an error event; the poll below notices too.
    this.#events.on('error', () => {});
    this.#queue.on('error', () => {});
  }

  readonly #files = new Map<string, string>();
  #forgotten = false;
  #idleSaid = false;
  readonly #nonce = randomUUID().slice(0, 8);

  /** Connect to the queue of the config's pipeline (QUEUE_UNAVAILABLE when Redis does not answer). */
  static async open(
    config: ResolvedConfig,
    dest: Destination,
    url: string,
    emit: EventSink,
  ): Promise<QueueCoordinator> {
    checkQueueUrl(url);
    if (!dest.capabilities.remoteLoads) throw notShared(dest);
    const connections = [redisConnection(url), redisConnection(url)];
    try {
      for (const c of connections) await connectRedis(c, url);
    } catch (err) {
      for (const c of connections) c.disconnect();
      throw err;
    }
    await ensureStateTables(dest, dest.dialect);
    const name = queueName(config.pipeline, await pipelineId(dest, config.pipeline));
    return new QueueCoordinator(config, url, name, connections, emit);
  }

  /**
   * Before the run enqueues anything: jobs of earlier runs still waiting are removed (a
   * worker would refuse them anyway: src/state/claims.ts).
   */
  async forgetOlderRuns(runId: number): Promise<number> {
    const jobs = await this.#queue.getJobs(['waiting', 'delayed', 'prioritized', 'paused']);
    let removed = 0;
    for (const job of jobs) {
      if (job && job.data.runId < runId) {
        await job.remove().then(
          () => removed++,
          () => {},
        );
      }
    }
    return removed;
  }

  async load(run: RunFiles, planned: PlannedFile, index: number, total: number): Promise<FileResult> {
    const { file, source } = planned;
    await run.lockCheck();
    if (!this.#forgotten) {
      this.#forgotten = true;
      await this.#retryRedis(run, () => this.forgetOlderRuns(run.runId));
    }
    for (let requeue = 0; ; requeue++) {
      // Run ids start again at 1 in a new database, and Redis keeps finished jobs for a day:
      // the nonce keeps this run's jobs apart from any other's.
      const jobId = `${run.runId}.${this.#nonce}.${index}.${requeue}`;
      const data: LoadJobData = {
        v: JOB_VERSION,
        pipeline: run.config.pipeline,
        runId: run.runId,
        path: file.path,
        size: file.size,
        mtimeMs: file.mtimeMs,
        captures: file.captures,
        source: source.index,
        table: source.table,
        config: this.#fingerprint,
        shadowed: run.fix.shadowed.has(file.path),
        retried: run.fix.retried.has(file.path),
        beforeImages: [...run.beforeImages].filter(
          ([t]) => t === source.table || t.startsWith(`${source.table}__`),
        ) as Array<[string, string[]]>,
        index,
        total,
      };
      this.#files.set(jobId, file.path);
      run.emit({ type: 'file_started', file: file.path, table: source.table, index, total, size: file.size });
      try {
        await this.#retryRedis(run, () =>
          this.#queue.add('load', data, {
            jobId,
            attempts: JOB_ATTEMPTS,
            backoff: { type: 'exponential', delay: 1_000 },
            removeOnComplete: { age: 24 * 3600, count: 10_000 },
            removeOnFail: { age: 7 * 24 * 3600 },
          }),
        );
        const outcome = await this.#waitFor(run, jobId);
        const done = await this.#settle(run, planned, outcome, requeue);
        if (done) return done;
      } finally {
        this.#files.delete(jobId);
      }
    }
  }

  /** The file's result, or undefined to enqueue it again. */
  async #settle(
    run: RunFiles,
    planned: PlannedFile,
    outcome: Outcome,
    requeue: number,
  ): Promise<FileResult | undefined> {
    const { file, source } = planned;
    if (outcome.kind === 'completed' && outcome.value?.result) {
      const { result, worker, ms } = outcome.value;
      this.#report(run, file.path, source.table, result, worker, ms);
      return result;
    }
    // Lost by Redis, fenced, or failed on the workers: the ledger says whether it committed.
    const entry = await ledgerEntry(run.dest, run.config.pipeline, file.path);
    if (committedBy(entry, run.runId, planned)) {
      const rejects = await rejectCountsOfFile(run.dest, (entry as LedgerEntry).id);
      const result = fromLedger(file.path, source.table, entry as LedgerEntry, rejects);
      this.#report(run, file.path, source.table, result, undefined, 0);
      return result;
    }
    const why =
      outcome.kind === 'failed'
        ? `failed on ${outcome.worker ?? 'a worker'}: ${outcome.reason}`
        : outcome.kind === 'lost'
          ? 'its job was lost by the queue (Redis restarted?)'
          : `its attempt was fenced: ${outcome.value?.fenced ?? 'no result'}`;
    if (outcome.kind !== 'failed' && requeue < MAX_REQUEUES) {
      run.emit({ type: 'warning', message: `${file.path}: ${why}; enqueued again` });
      return undefined;
    }
    // Recorded by this run, under its lock, like a file that failed here.
    await run.lockCheck();
    const message = outcome.kind === 'failed' ? why : `${why}, ${requeue + 1} times`;
    await markFailed(
      run.dest,
      run.config.pipeline,
      { ...file, table: source.table },
      run.runId,
      `LOAD_FAILED: ${message}`,
    );
    const result: FileResult = {
      report: { kind: 'failed', file: file.path, table: source.table, code: 'LOAD_FAILED', message },
      // The worker died or could not finish: the table's later files wait (path order).
      holdsTable: true,
    };
    this.#report(run, file.path, source.table, result, undefined, 0);
    return result;
  }

  /** The events a local load would have emitted, from the worker's report. */
  #report(
    run: RunFiles,
    file: string,
    table: string,
    result: FileResult,
    worker: string | undefined,
    ms: number,
  ) {
    const r = result.report;
    if (r.kind === 'unchanged') {
      run.emit({ type: 'file_unchanged', file, table });
    } else if (r.kind === 'failed') {
      run.emit({ type: 'file_failed', file, table, code: r.code, message: r.message, willRetry: true });
    } else {
      for (const change of r.loaded.changes) run.emit({ type: 'schema_changed', file, change });
      for (const message of r.loaded.warnings) run.emit({ type: 'warning', message });
      run.emit({
        type: 'file_loaded',
        file,
        table,
        rows: r.loaded.rows,
        rejects: r.loaded.rejectCount,
        stats: r.loaded.stats,
        ms,
        passes: r.loaded.passes,
        ...(worker ? { worker } : {}),
      });
    }
  }

  async #waitFor(run: RunFiles, jobId: string): Promise<Outcome> {
    let nudge = () => {};
    const onAbort = () => nudge();
    run.signal?.addEventListener('abort', onAbort, { once: true });
    this.#wake.set(jobId, () => nudge());
    const since = Date.now();
    try {
      for (;;) {
        if (run.signal?.aborted) {
          throw new TributaryError('INTERRUPTED', 'interrupted; the remaining files load next run');
        }
        // Armed before the state is read, so an event arriving meanwhile is not missed.
        const wake = new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          nudge = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        const state = await this.#state(run, jobId);
        if (state === 'completed' || state === 'failed') {
          const job = (await this.#queue.getJob(jobId)) as Job<LoadJobData, LoadJobResult> | undefined;
          // Another run's job under this id (it cannot be, with the nonce; never trust it blindly).
          if (!job || job.data.path !== this.#files.get(jobId)) return { kind: 'lost' };
          return state === 'completed'
            ? { kind: 'completed', value: job.returnvalue }
            : { kind: 'failed', reason: job.failedReason, worker: job.processedBy };
        }
        if (state === 'unknown') return { kind: 'lost' };
        if (state === 'waiting' && !this.#idleSaid && Date.now() - since > IDLE_WARNING_MS) {
          // Said once per run: a run with no worker waits, it does not fail.
          this.#idleSaid = true;
          run.emit({
            type: 'warning',
            message: `no worker has taken a file for ${IDLE_WARNING_MS / 1000} s: is \`tributary worker\` running for this pipeline, with this queue (${maskUrl(this.#url)}, queue ${this.#queue.name})? The run waits`,
          });
        }
        await wake;
      }
    } finally {
      nudge();
      this.#wake.delete(jobId);
      run.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A job's state; while Redis does not answer, `unreachable` (said once). */
  async #state(run: RunFiles, jobId: string): Promise<string> {
    try {
      const state = await withTimeout(this.#queue.getJobState(jobId), 5_000);
      if (this.#unreachableSince !== undefined) {
        run.emit({ type: 'warning', message: `the queue at ${maskUrl(this.#url)} answers again` });
        this.#unreachableSince = undefined;
      }
      return state;
    } catch (err) {
      this.#unreachable(run, err);
      return 'unreachable';
    }
  }

  #unreachable(run: RunFiles, err: unknown) {
    if (this.#unreachableSince !== undefined) return;
    this.#unreachableSince = Date.now();
    run.emit({
      type: 'warning',
      message: `the queue at ${maskUrl(this.#url)} does not answer (${maskUrl(messageOf(err))}); waiting for it`,
    });
  }

  async #retryRedis<T>(run: RunFiles, fn: () => Promise<T>): Promise<T> {
    for (;;) {
      if (run.signal?.aborted) {
        throw new TributaryError('INTERRUPTED', 'interrupted; the remaining files load next run');
      }
      try {
        return await withTimeout(fn(), 5_000);
      } catch (err) {
        this.#unreachable(run, err);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
  }

  /**
   * After the run: jobs of this run still waiting (an interrupted run) are removed, so no
   * worker loads a file after the run ended; then the connections close.
   */
  async close(runId?: number): Promise<void> {
    try {
      if (runId !== undefined) await withTimeout(this.forgetOlderRuns(runId + 1), 5_000).catch(() => 0);
      // At most 5 s, and the timer cleared: a pending one kept the process alive that long.
      await withTimeout(Promise.allSettled([this.#events.close(), this.#queue.close()]), 5_000).catch(
        () => {},
      );
    } finally {
      for (const c of this.#connections) c.disconnect();
    }
  }
}

/** The file committed in this run (an earlier attempt of its job, whose result Redis lost). */
function committedBy(entry: LedgerEntry | undefined, runId: number, planned: PlannedFile): boolean {
  return (
    entry !== undefined &&
    entry.status === 'loaded' &&
    entry.runId === runId &&
    entry.table === planned.source.table &&
    entry.size === planned.file.size &&
    entry.mtimeMs === planned.file.mtimeMs
  );
}

/** A file's result read back from its ledger row: its rows and rejects, not the details. */
function fromLedger(
  path: string,
  table: string,
  entry: LedgerEntry,
  rejectCounts: LoadedReport['rejectCounts'],
): FileResult {
  return {
    report: {
      kind: 'loaded',
      file: path,
      table,
      loaded: {
        rows: entry.rowsLoaded,
        stats: { inserted: 0, updated: 0, unchanged: 0, deleted: 0, childRows: 0 },
        rejectCount: entry.rowsRejected,
        rejectCounts,
        changes: [],
        discardedRows: 0,
        discardedValues: 0,
        passes: 2,
        warnings: [
          `${path} was loaded by a worker whose report the queue lost: its ${entry.rowsLoaded} row(s) are in the table, but not in this summary's new/updated counts (its rejects are counted, from the rejects store)`,
        ],
      },
    },
    holdsTable: false,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

import os from 'node:os';
import { messageOf, TributaryError } from '../core/errors.js';
import type { Destination } from '../destinations/types.js';
import { openEpoch } from '../state/claims.js';
import { closeCrashedRuns, finishRun, startRun } from '../state/runs.js';
import type { RunSummary } from './events.js';
import { countsOf, newSummary } from './summary.js';
import { settleTentative } from './tentative.js';

export interface PipelineOptions {
  /** Wait this long for another process's run to finish; 0: fail at once (LOCK_HELD). */
  waitSeconds?: number;
  signal?: AbortSignal;
}

/**
 * The one way a command opens a pipeline to change it — `run`, `rejects retry`, `reset` —
 * once it has made the state tables (`ensureStateTables`): the run lock taken (waiting up to
 * `waitSeconds`), runs a dead process
 * left `running` closed as crashed, tables a crashed one-pass load left tentative settled
 * (src/runner/tentative.ts); then `fn`; the lock released whatever happens. So whichever
 * command comes after a crash cleans up after it.
 */
export async function withPipeline<T>(
  dest: Destination,
  pipeline: string,
  options: PipelineOptions,
  fn: () => Promise<T>,
): Promise<T> {
  await acquireLock(dest, pipeline, options.waitSeconds ?? 0, options.signal);
  try {
    await closeCrashedRuns(dest, pipeline);
    await settleTentative(dest);
    return await fn();
  } finally {
    await dest.unlock(pipeline);
  }
}

/**
 * A run record around `fn` (call inside {@link withPipeline}): the run started, `fn` given its
 * id and summary to fill, the run finished with the summary's status and counts — also when
 * `fn` throws, which sets the status (`interrupted` for INTERRUPTED, else `failed`) and the
 * error, and is rethrown after the run is recorded.
 */
export async function recordRun<T>(
  dest: Destination,
  pipeline: string,
  trigger: string | undefined,
  fn: (runId: number, summary: RunSummary) => Promise<T>,
): Promise<{ result: T | undefined; summary: RunSummary; error?: unknown }> {
  const run = await startRun(dest, pipeline);
  // Jobs an earlier run left on a queue commit nothing from now on (src/state/claims.ts).
  await openEpoch(dest, pipeline, run.id);
  const summary = newSummary(run.id, pipeline, run.startedAt, trigger);
  const started = Date.now();
  let result: T | undefined;
  let error: unknown;
  try {
    result = await fn(run.id, summary);
  } catch (err) {
    error = err;
    summary.status = err instanceof TributaryError && err.code === 'INTERRUPTED' ? 'interrupted' : 'failed';
    summary.error = messageOf(err);
  }
  summary.durationMs = Date.now() - started;
  if (summary.status === 'succeeded' && summary.files.failed > 0) summary.status = 'partial';
  await finishRun(dest, run.id, summary.status, countsOf(summary), summary, summary.error);
  return error === undefined ? { result, summary } : { result, summary, error };
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

import { stat } from 'node:fs/promises';
import { TributaryError } from '../../core/errors.js';
import type { SchemaChange } from '../../core/types.js';
import { type Destination, DirectLoadConflict, type Transaction } from '../../destinations/types.js';
import type { ScanInput } from '../../normalize/scan.js';
import { fileId, markLoaded } from '../../state/ledger.js';
import { clearRejects } from '../../state/rejects.js';
import { runsAfter } from '../../state/runs.js';
import { type FileJob, type FileOutcome, sourceChanged } from './job.js';
import type { Scan } from './scan.js';
import { type WriteResult, writeRows } from './write.js';

/**
 * The run lock must still be ours when a file commits: a database restart frees MySQL's
 * lock with its connection, and another run may have taken it before this process noticed.
 * A worker on a queue, which holds no lock, asks its fence instead (FileJob.fence).
 */
export async function confirmLock(job: FileJob, db: Transaction | Destination): Promise<void> {
  if (job.fence) return job.fence(db);
  if (!job.dest.holdsLock) return;
  if (await job.dest.holdsLock(db, job.pipeline)) {
    // Ours now, but maybe taken again after another run held it and loaded later files:
    // then this (older) file must not commit. Asked outside the transaction, whose snapshot
    // (MySQL's REPEATABLE READ) may predate that run's row. A run starts only under the lock,
    // which we hold now: any run after ours has already written its row.
    const later = await runsAfter(job.dest, job.pipeline, job.runId);
    if (later === 0) return;
    throw new TributaryError(
      'LOCK_LOST',
      `the run lock of pipeline ${job.pipeline} was lost when its database connection closed, and ${later} other run(s) started since; ${job.file.path} was rolled back, and this run stops here: the files it loaded are kept, the others load on the next run`,
    );
  }
  // Lost, not necessarily taken by another run: transient, so the file is rolled back and
  // retried, and keepLock (src/runner/run.ts) before the retry takes the lock again or stops.
  const then = job.retry
    ? 'the retry stops here: the rejects it resolved are kept; run `tributary rejects retry` again for the others'
    : 'with no retry left this run stops here: the files it loaded are kept, the others load on the next run';
  throw new TributaryError(
    'LOCK_LOST',
    `the run lock of pipeline ${job.pipeline} was lost when its database connection closed; ${job.file.path} was rolled back, and ${then}`,
    { transient: true },
  );
}

/** A file read once must not have changed meanwhile (two passes compare their hashes instead). */
export async function checkUnchanged(job: FileJob): Promise<void> {
  const now = await stat(job.file.abs).catch(() => undefined);
  if (!now || now.size !== job.file.size || Math.trunc(now.mtimeMs) !== job.file.mtimeMs) {
    throw sourceChanged(job.file.path);
  }
}

/**
 * The file's transaction, for both ways of loading it: `before` (the DDL where it is
 * transactional), its ledger id, its earlier rejects cleared, its rows written, `check` on
 * what was read, the run lock confirmed, the ledger row marked loaded (a retry's rejects
 * settled instead: FileJob.retry). Tried first with `direct` on; a direct load that met a
 * key twice is rolled back and done through staging.
 */
export async function commitFile(
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
      job.retry?.begin();
      await how.before?.(tx);
      const id = job.retry
        ? job.retry.writeId
        : await fileId(tx, job.pipeline, { ...file, table: source.table }, job.runId);
      if (!job.retry) await clearRejects(tx, id);
      const result = await writeRows(job, tx, id, children, {
        direct,
        onePass: how.onePass,
        observe: how.observe,
      });
      await how.check(result);
      await confirmLock(job, tx);
      if (job.retry) await job.retry.settle(tx);
      else
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
export async function discardFile(job: FileJob, scan: Scan): Promise<FileOutcome> {
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

import type { SchemaChange } from '../../core/types.js';
import type { Destination, SqlClient, Transaction } from '../../destinations/types.js';
import { changedTable } from '../../schema/diff.js';
import { formatType } from '../../schema/hints.js';
import { recordSchemaChange } from '../../state/history.js';
import type { FileJob } from './job.js';

/** A file's schema changes: applied, read back into its catalog, recorded in the schema history. */
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
  await adoptTables(job, changes.map(changedTable), 'writer' in db ? db : undefined);
  if (!ahead) await recordChanges(job, db, changes);
  if (emit) for (const change of changes) job.emit({ type: 'schema_changed', file: job.file.path, change });
}

/**
 * The live definitions of `tables`, read back after DDL, into the job's catalog: through the
 * file's transaction `tx` when the DDL ran in it (it has not committed yet).
 */
export async function adoptTables(job: FileJob, tables: readonly string[], tx?: SqlClient): Promise<void> {
  const fresh = await job.dest.readCatalog(tx);
  for (const t of new Set(tables)) {
    const live = fresh.get(t);
    if (live) job.catalog.set(t, live);
  }
}

/** The schema history rows of a file's changes. */
export async function recordChanges(
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

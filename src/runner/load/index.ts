import { TributaryError } from '../../core/errors.js';
import { crashPoint } from '../../core/faults.js';
import { commitFile, confirmLock, discardFile } from './commit.js';
import { applyDdl } from './ddl.js';
import { type FileJob, type FileOutcome, sourceChanged } from './job.js';
import { loadInOnePass, loadNewInOnePass } from './one-pass.js';
import { checkFile, newTable, planFile, renameHints } from './plan.js';
import { scanFile } from './scan.js';

/**
 * The one way a file loads (src/runner/load/): `run` calls {@link loadFile} for each file
 * it loads, `rejects retry` for each file whose rejects it loads again (FileJob.retry).
 *
 * - job.ts       what a load is given (FileJob) and gives back (FileOutcome)
 * - plan.ts      pure: can the file load, which schema changes it needs, what to warn of
 * - scan.ts      pass 1: the types every value needs, and the file's hash
 * - ddl.ts       the schema changes applied and recorded in the schema history
 * - write.ts     pass 2: records coerced, rejected or written through the table's writer
 * - commit.ts    the file's transaction: rows, rejects, lock check, ledger row
 * - one-pass.ts  one read instead of two, where that gives exactly what two give
 */
export type { FileJob, FileOutcome, RetryLoad } from './job.js';
export { checkFile, newTable, planFile, renameHints } from './plan.js';
export { type Scan, scanFile } from './scan.js';

/**
 * Load one file: a first pass learns the schema it needs and its content hash, the DDL is
 * applied, then a second pass coerces and writes its rows, rejects and ledger row in one
 * transaction. Reading twice keeps memory bounded whatever the file size and decides types
 * from every value, not a sample.
 *
 * A file for a table that exists is first loaded in one pass, on the bet that it fits the
 * table as it is (the usual day of an incremental pipeline): see {@link loadInOnePass}.
 */
export async function loadFile(job: FileJob): Promise<FileOutcome> {
  const { dest, source, file } = job;
  const children = source.write === 'merge' && source.primaryKey.length > 0;
  checkFile(job);
  if (job.knownHash === null && !job.retry && job.onePass !== false) {
    const outcome = job.catalog.has(source.table)
      ? await loadInOnePass(job, children)
      : await loadNewInOnePass(job, children);
    if (outcome) return outcome;
  }
  const scan = await scanFile(job, children);
  if (job.knownHash !== null && scan.hash === job.knownHash) return { kind: 'unchanged', hash: scan.hash };

  if (!job.catalog.has(source.table) && newTable(job) === 'discard') {
    if (job.retry) {
      throw new TributaryError(
        'SCHEMA_CONFLICT',
        `table ${source.table} does not exist and its contract (contract.tables: ${source.contract.tables}) discards the rows of a new table; its rejects stay`,
        { context: { file: file.path, table: source.table } },
      );
    }
    return discardFile(job, scan);
  }
  const changes = planFile(job, scan.observed);
  const warnings = renameHints(job, scan.observed);
  const ddlOutside = !dest.capabilities.transactionalDdl;
  // DDL outside the transaction outlives this run: only while the lock is ours (a run that
  // lost it in a server restart must not change the schema under the run that took it).
  if (ddlOutside && changes.length > 0) {
    await confirmLock(job, dest);
    await applyDdl(job, dest, changes);
  }
  if (changes.length > 0) crashPoint('after_ddl');

  return commitFile(job, children, {
    passes: 2,
    changes,
    warnings,
    before: async (tx) => {
      if (!ddlOutside && changes.length > 0) await applyDdl(job, tx, changes);
    },
    // The second read must find the bytes the first one planned for.
    check: async (result) => {
      if (result.hash !== scan.hash) throw sourceChanged(file.path);
    },
  });
}

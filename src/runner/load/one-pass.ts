import { crashPoint } from '../../core/faults.js';
import type { SchemaChange } from '../../core/types.js';
import { Scanner } from '../../normalize/scan.js';
import { changedTable } from '../../schema/diff.js';
import { partsOf } from '../parallel.js';
import { settleTentative } from '../tentative.js';
import { checkUnchanged, commitFile, confirmLock } from './commit.js';
import { adoptTables, applyDdl, recordChanges } from './ddl.js';
import { checkAbort, type FileJob, type FileOutcome, OnePassMiss } from './job.js';
import { planFile } from './plan.js';
import { reader, scanInput, target } from './scan.js';

/**
 * Loading a file in one pass instead of two, where that gives exactly what two passes give
 * (src/runner/load/index.ts decides when to try).
 */

/**
 * One pass instead of two, for a file whose table exists: its rows are coerced to the live
 * types and written straight away. This is exact — the same rows, rejects and counts as the
 * two passes — as long as the first pass would have planned no schema change, and that
 * holds when every value fits its column and no record brings a column or child table the
 * table lacks: the first pass widens an existing column only for a value that does not fit
 * it, and adds only columns it sees. So at the first reject for a type (`TYPE_MISMATCH`,
 * `CONTRACT_FROZEN`) or the first value or row kept out by the contract, the transaction is
 * rolled back and the file loads in two passes; undefined is returned then. So it is at
 * the first column the table lacks, even one with only empty values (which creates nothing
 * but may word a rename warning). Rejects of other kinds (a malformed line, an empty key)
 * do not depend on the schema and do not stop it.
 */
export async function loadInOnePass(job: FileJob, children: boolean): Promise<FileOutcome | undefined> {
  const { file } = job;
  if (job.pool && file.size >= job.pool.minFileBytes) job.parts = await partsOf(job.pool, target(job));
  try {
    return await commitFile(job, children, {
      passes: 1,
      changes: [],
      warnings: [],
      onePass: 'live',
      check: () => checkUnchanged(job),
    });
  } catch (err) {
    if (err instanceof OnePassMiss) {
      job.parts = undefined;
      return undefined;
    }
    throw err;
  }
}

/** Records a new table's types are guessed from before its file is loaded in one pass. */
const SAMPLE_RECORDS = 10_000;

/**
 * One pass for a file whose table does not exist yet: the table is created with the types
 * a sample of the file's first records needs, and the file is loaded into it while every
 * record is also scanned, as the first pass would scan it. At the end the schema planned
 * from that full scan must be the one planned from the sample — then the table, the rows
 * and the rejects are exactly what two passes make, since two passes would have created the
 * same table and coerced to the same types. Otherwise (or at the first batch that needs a
 * wider type, see {@link loadInOnePass}) the file is rolled back, its new tables with it,
 * and it loads in two passes; undefined is returned then.
 *
 * Where DDL is transactional (SQLite) the tables are created in the file's transaction.
 * Where it commits by itself (MySQL) they are created just before, marked tentative
 * (Destination.tentative), their schema history is written in the file's transaction, and
 * the mark is cleared after the commit; a guess that failed drops them. A crash in between
 * leaves a marked table that the next run drops, or keeps when the ledger says the file
 * committed (src/runner/tentative.ts) — the same state as if the file had loaded in two
 * passes, or not yet.
 */
export async function loadNewInOnePass(job: FileJob, children: boolean): Promise<FileOutcome | undefined> {
  const { dest, source, file } = job;
  const inTx = dest.capabilities.transactionalDdl;
  if ((!inTx && !dest.tentative) || source.contract.tables !== 'evolve') return undefined;
  const input = scanInput(job, children);
  const sample = new Scanner(input);
  for await (const batch of reader(job, () => {})) {
    checkAbort(job);
    crashPoint('scan');
    sample.add(batch);
    if (sample.records >= SAMPLE_RECORDS) break;
  }
  let changes: SchemaChange[];
  try {
    changes = planFile(job, sample.result().observations);
  } catch {
    return undefined; // two passes will say what is wrong with the whole file
  }
  if (changes.length === 0) return undefined;
  // Only new tables: a change to a table that exists would outlive a wrong guess on MySQL.
  if (!inTx && changes.some((c) => c.kind !== 'create_table' || job.catalog.has(c.table.name)))
    return undefined;
  const before = new Map(job.catalog);
  const touched = changes.map(changedTable);
  if (job.pool && file.size >= job.pool.minFileBytes) job.parts = await partsOf(job.pool, target(job));
  const tentative = inTx ? undefined : dest.tentative;
  try {
    if (tentative) {
      await confirmLock(job, dest); // as for any DDL outside the transaction (loadFile)
      await tentative.create(changes, { root: source.table, runId: job.runId });
      await adoptTables(job, touched);
      crashPoint('after_ddl');
    }
    const outcome = await commitFile(job, children, {
      passes: 1,
      changes,
      warnings: [],
      onePass: 'new',
      observe: input,
      before: async (tx) => {
        if (tentative) {
          await recordChanges(job, tx, changes);
          return;
        }
        await applyDdl(job, tx, changes, false);
        crashPoint('after_ddl');
      },
      check: async (result) => {
        await checkUnchanged(job);
        const scan = result.scan;
        if (!scan || (job.parts?.split && scan.orderSensitive)) throw new OnePassMiss();
        const planned = planFile({ ...job, catalog: before }, scan.observations);
        if (JSON.stringify(planned) !== JSON.stringify(changes)) throw new OnePassMiss();
      },
    });
    // Committed: the tables are ordinary ones now. Should clearing a mark fail, the next
    // run clears it (the ledger says the file loaded).
    if (tentative) for (const t of touched) await tentative.confirm(t).catch(() => {});
    for (const change of changes) job.emit({ type: 'schema_changed', file: file.path, change });
    return outcome;
  } catch (err) {
    // The DDL was rolled back with the file (SQLite), or its tables are settled (MySQL):
    // dropped — unless the ledger says the file committed after all (a COMMIT whose reply
    // was lost). Should that fail too, the file's next attempt or the next run settles them.
    for (const t of touched) {
      const live = before.get(t);
      if (live) job.catalog.set(t, live);
      else job.catalog.delete(t);
    }
    if (tentative) {
      const settled = settleTentative(dest, (t) => touched.includes(t));
      if (!(err instanceof OnePassMiss)) await settled.catch(() => {});
      else await settled; // two passes create them again: they must be gone
    }
    if (err instanceof OnePassMiss) {
      job.parts = undefined;
      return undefined;
    }
    throw err;
  }
}

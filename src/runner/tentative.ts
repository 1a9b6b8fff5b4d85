import type { Destination } from '../destinations/types.js';
import { loadedInRun } from '../state/ledger.js';

/**
 * Settle the tables a one-pass load made tentatively where DDL commits by itself
 * (Destination.tentative, src/runner/load/one-pass.ts `loadNewInOnePass`): a table whose file's
 * transaction committed — the ledger says a file of its source table loaded in the run that
 * made it — keeps its data and loses the mark (the process died before clearing it); any
 * other is an empty table made from a guess, and is dropped, so the file loads as if it had
 * never been tried. Run under the run lock: at the start of a run, and before a file is
 * tried again (only its own tables: `only`).
 */
export async function settleTentative(dest: Destination, only?: (table: string) => boolean): Promise<void> {
  if (!dest.tentative) return;
  for (const { table, mark } of await dest.tentative.list()) {
    if (only && !only(table)) continue;
    if (await loadedInRun(dest, mark.root, mark.runId)) await dest.tentative.confirm(table);
    else await dest.tentative.drop(table);
  }
}

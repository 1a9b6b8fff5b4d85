import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import {
  childTablesOf,
  type Destination,
  type LiveTable,
  type SqlClient,
  SYS_RUN_ID,
} from '../destinations/types.js';
import { recordRun, withPipeline } from '../runner/envelope.js';
import { configTables, knownTable } from '../runner/select.js';
import { keyConflict } from '../schema/diff.js';
import { recordSchemaChange } from '../state/history.js';
import { forgetFiles, readLedger } from '../state/ledger.js';
import { deleteTableRejects } from '../state/rejects.js';
import { ensureStateTables } from '../state/tables.js';
import { markTableReset } from '../transforms/state.js';
import { countRows } from './status.js';

/** What resetting one table throws away; shown before asking for confirmation. */
export interface TableReset {
  table: string;
  /** Rows in the table now (its child tables apart). */
  rows: number;
  childTables: Array<{ table: string; rows: number }>;
  /** Files in the ledger for the table: they load again on the next run. */
  files: number;
  /** Of those, the ones no longer on disk: their rows cannot come back. */
  missingFiles: string[];
}

export { configTables };

/**
 * The table `--table` names (normalized, checked against the config: an unknown name is a usage
 * error with the closest known one), or all the config's tables.
 */
export function tablesNamed(config: ResolvedConfig, table: string | undefined): string[] {
  return table === undefined ? configTables(config) : [knownTable(config, table)];
}

/** Count what a reset of `tables` would delete and forget (reads only). */
export async function planReset(
  config: ResolvedConfig,
  dest: Destination,
  tables: readonly string[],
): Promise<TableReset[]> {
  await ensureStateTables(dest, dest.dialect);
  const catalog = await dest.readCatalog();
  const ledger = [...(await readLedger(dest, config.pipeline)).values()];
  const out: TableReset[] = [];
  for (const table of tables) {
    const files = ledger.filter((e) => e.table === table);
    out.push({
      table,
      rows: catalog.has(table) ? await countRows(dest, table) : 0,
      childTables: await Promise.all(
        childTablesOf(catalog, table).map(async ({ name: t }) => ({
          table: t,
          rows: await countRows(dest, t),
        })),
      ),
      files: files.length,
      missingFiles: files.map((e) => e.path).filter((p) => !fs.existsSync(path.resolve(config.baseDir, p))),
    });
  }
  return out;
}

/**
 * Forget `tables` so the next load rebuilds them from the files on disk: their rows (child
 * tables included), their ledger entries and their rejects go in **one transaction**, so a
 * crash leaves either the old tables or empty ones whose files all load again — never rows
 * whose files would load a second time. The schema and the run and schema histories stay.
 * Incremental models reading the tables are told to rebuild after `runId` (a NULL tombstone,
 * in the same transaction).
 */
export async function resetTables(
  dest: Destination,
  pipeline: string,
  tables: readonly string[],
  runId: number,
  keys?: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  const catalog = await dest.readCatalog();
  await dest.transaction(async (tx) => {
    for (const table of tables) await resetOne(tx, dest, catalog, pipeline, table, runId);
  });
  // A table whose key the config changed is dropped, empty, so that the next load makes it
  // again with the new key (after the transaction: DDL commits by itself on MySQL; a crash in
  // between leaves an empty table that the next reset drops).
  for (const table of tables) {
    const live = catalog.get(table);
    const wanted = keys?.get(table);
    // Only a table Tributary made (it has the run-id column): never one the user made.
    if (
      !live ||
      !wanted ||
      !live.systemColumns.includes(SYS_RUN_ID) ||
      !keyConflict(table, live.primaryKey, wanted)
    )
      continue;
    const q = dest.dialect.quote;
    for (const child of childTablesOf(catalog, table))
      await dest.execute(`DROP TABLE IF EXISTS ${q(child.name)}`);
    await dest.execute(`DROP TABLE IF EXISTS ${q(table)}`);
    const key = (k: readonly string[]) => (k.length === 0 ? 'no key' : `primary key (${k.join(', ')})`);
    await recordSchemaChange(dest, pipeline, {
      runId,
      table,
      change: 'drop_table',
      column: null,
      oldType: key(live.primaryKey),
      newType: key(wanted),
      file: null,
    });
  }
}

/** The key each table's (first) source gives, for {@link resetTables}. */
export function configKeys(config: ResolvedConfig): Map<string, readonly string[]> {
  const keys = new Map<string, readonly string[]>();
  for (const s of config.sources) if (!keys.has(s.table)) keys.set(s.table, s.primaryKey);
  return keys;
}

/**
 * `tributary reset`: `resetTables` under the pipeline lock, outside a load, recorded as a
 * run (`reset of orders` in `tributary history`) so models know when the tables changed.
 */
export async function resetPipelineTables(
  config: ResolvedConfig,
  dest: Destination,
  tables: readonly string[],
): Promise<number> {
  await ensureStateTables(dest, dest.dialect);
  return withPipeline(dest, config.pipeline, {}, async () => {
    const { summary } = await recordRun(dest, config.pipeline, `reset of ${tables.join(', ')}`, (runId) =>
      resetTables(dest, config.pipeline, tables, runId, configKeys(config)),
    );
    if (summary.error)
      throw new TributaryError('LOAD_FAILED', `reset failed; nothing was changed: ${summary.error}`);
    return summary.runId;
  });
}

async function resetOne(
  tx: SqlClient,
  dest: Destination,
  catalog: Map<string, LiveTable>,
  pipeline: string,
  table: string,
  runId: number,
): Promise<void> {
  const q = dest.dialect.quote;
  // DELETE, not TRUNCATE: TRUNCATE commits by itself on MySQL and would break the atomicity.
  for (const child of childTablesOf(catalog, table).map((t) => t.name)) {
    await tx.execute(`DELETE FROM ${q(child)}`);
    await markTableReset(tx, child, runId);
  }
  if (catalog.has(table)) {
    await tx.execute(`DELETE FROM ${q(table)}`);
    await markTableReset(tx, table, runId);
  }
  await forgetFiles(tx, pipeline, table);
  await deleteTableRejects(tx, pipeline, table);
}

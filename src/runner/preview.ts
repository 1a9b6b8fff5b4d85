import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import type { ContractMode, LiveTable, SchemaChange } from '../core/types.js';
import { systemColumnNames } from '../destinations/sql.js';
import type { Destination } from '../destinations/types.js';
import { applyChanges, changedTable } from '../schema/diff.js';
import { formatType } from '../schema/hints.js';
import { hashFile } from '../sources/hash.js';
import { type LedgerEntry, readLedger } from '../state/ledger.js';
import { checkFile, newTable, planFile, renameHints, scanFile } from './load/index.js';
import { parseHints, planFiles } from './plan.js';
import {
  filesToHash,
  type PlannedFile,
  planReconcile,
  type Reconciliation,
  unchangedByStat,
} from './reconcile.js';
import { type Selection, scopeOf } from './select.js';

/** What `run --dry-run` says of one file. */
export interface FilePreview {
  path: string;
  table: string;
  size: number;
  /** `load`: new or changed; `reload`: loads again after a rebuild; `unchanged`; `fail`: would fail. */
  action: 'load' | 'reload' | 'unchanged' | 'fail';
  reason: string;
  /** Records the first pass read (files that would load). */
  records?: number;
  /** A replace table's older file: read for its schema and rejects, its rows not written. */
  shadowed?: boolean;
  /** Schema changes, each with the statements it runs as on this destination. */
  changes: Array<{ change: SchemaChange; text: string; sql: string[] }>;
  /** What the contract or the types would keep out of the table (rows rejected or discarded). */
  rejects: string[];
  warnings: string[];
  error?: { code: string; message: string };
}

export interface RunPreview {
  pipeline: string;
  destination: string;
  /** The destination has no database (or SQLite file) yet: the run would create it. */
  absent: boolean;
  files: FilePreview[];
  /** Tables the run would put back in line before loading (src/runner/reconcile.ts). */
  reconcile: Array<{ table: string; action: 'rebuild' | 'delete_file' | 'empty'; reason: string }>;
  /** `--table` / `--source`: new or changed files of other sources the run would leave (absent: none). */
  filesLeft?: number;
  warnings: string[];
}

/**
 * What a run would do, without doing any of it (`run --dry-run`): the files it would load
 * and why, the tables it would rebuild, and — from a first pass over each file to load, the
 * same pass a run makes — the schema changes each file would cause, as the statements they
 * run as here, and what the contract or the types would keep out. Reads the ledger, the
 * catalog and the files; writes nothing, takes no lock, runs no model. Files of one table
 * are planned in path order on the schema their predecessors would leave.
 */
export async function previewRun(
  config: ResolvedConfig,
  dest: Destination,
  options: { select?: Selection | undefined } = {},
): Promise<RunPreview> {
  const ledger = dest.absent ? new Map<string, LedgerEntry>() : await ledgerIfAny(dest, config.pipeline);
  const catalog = dest.absent ? new Map<string, LiveTable>() : await dest.readCatalog();
  const { planned: all, silent } = await planFiles(config, ledger);
  // As a run limited to some sources sees them (src/runner/select.ts).
  const select = options.select;
  const scope = scopeOf(config, all, select, ledger);
  const out: RunPreview = {
    pipeline: config.pipeline,
    destination: dest.description,
    absent: dest.absent === true,
    files: [],
    reconcile: [],
    warnings: [
      ...silent.filter((s) => !select || select.sources.has(s.source)).map((s) => s.message),
      ...scope.warnings,
    ],
  };

  const hashes = new Map<string, string>();
  for (const p of filesToHash(scope.sources, all, scope.held)) {
    const h = await hashFile(p.file.abs).catch(() => undefined);
    if (h !== undefined) hashes.set(p.file.path, h);
  }
  const fix = planReconcile(scope.sources, all, ledger.values(), hashes, scope.held);
  for (const r of fix.rebuild)
    out.reconcile.push({ table: r.table, action: 'rebuild', reason: r.reasons.join('; ') });
  for (const d of fix.deleted)
    out.reconcile.push({ table: d.table, action: 'delete_file', reason: `${d.entry.path} was deleted` });
  for (const t of fix.empty)
    out.reconcile.push({ table: t, action: 'empty', reason: 'every file of the table was deleted' });
  out.warnings.push(...fix.warnings);

  const after = reconciled(all, fix);
  if (select) {
    const left = scope.left(after);
    if (left > 0) out.filesLeft = left;
  }
  for (const p of after.filter((f) => scope.loads(f))) {
    const preview: FilePreview = {
      path: p.file.path,
      table: p.source.table,
      size: p.file.size,
      action: 'unchanged',
      reason: 'size and modification time as when it loaded',
      changes: [],
      rejects: [],
      warnings: [],
    };
    out.files.push(preview);
    if (unchangedByStat(p)) continue;
    preview.action = p.ledger?.status === 'stale' ? 'reload' : 'load';
    preview.reason = reasonFor(p);
    if (fix.shadowed.has(p.file.path)) preview.shadowed = true;
    try {
      await previewFile(config, dest, catalog, p, preview);
    } catch (err) {
      preview.action = 'fail';
      preview.error = {
        code: err instanceof TributaryError ? err.code : 'LOAD_FAILED',
        message: messageOf(err),
      };
    }
  }
  return out;
}

/** The ledger, or none when the state tables do not exist yet (a fresh destination; `tributary load` asks too). */
export async function ledgerIfAny(dest: Destination, pipeline: string): Promise<Map<string, LedgerEntry>> {
  try {
    return await readLedger(dest, pipeline);
  } catch (err) {
    if (/no such table|doesn't exist|ER_NO_SUCH_TABLE|42P01/i.test(messageOf(err))) return new Map(); // 42P01: PostgreSQL's undefined_table
    throw err;
  }
}

/** The files with their ledger rows as a run would see them after reconciling. */
function reconciled(planned: readonly PlannedFile[], fix: Reconciliation): PlannedFile[] {
  const stale = new Set<number>([...fix.rebuild.flatMap((r) => r.stale), ...fix.reload.map((r) => r.id)]);
  const unchanged = new Map(fix.unchanged.map((u) => [u.id, u.file]));
  return planned.map((p) => {
    const l = p.ledger;
    if (!l) return p;
    if (stale.has(l.id)) return { ...p, ledger: { ...l, status: 'stale' } };
    const moved = unchanged.get(l.id);
    if (moved) return { ...p, ledger: { ...l, status: 'loaded', size: moved.size, mtimeMs: moved.mtimeMs } };
    return p;
  });
}

function reasonFor(p: PlannedFile): string {
  const l = p.ledger;
  if (p.file.badName) return 'its name is not valid UTF-8';
  if (!l) return 'new file';
  if (l.status === 'stale') return 'its table is rebuilt from the current files';
  if (l.status === 'failed') return 'failed before';
  if (l.status === 'loading') return 'a crashed run left it half-done';
  return 'changed on disk since it loaded';
}

/** Pass 1 over one file on the simulated catalog; its changes are applied to that catalog. */
async function previewFile(
  config: ResolvedConfig,
  dest: Destination,
  catalog: Map<string, LiveTable>,
  p: PlannedFile,
  preview: FilePreview,
): Promise<void> {
  const { source, file } = p;
  checkFile({ source, file, catalog });
  const live = catalog.get(source.table);
  const hints = parseHints(source);
  const job = {
    dest,
    pipeline: config.pipeline,
    runId: 0,
    source,
    hints,
    file,
    catalog,
    knownHash: p.ledger?.status === 'loaded' ? p.ledger.hash : null,
    emit: () => {},
  };
  const children = source.write === 'merge' && source.primaryKey.length > 0;
  const scan = await scanFile(job, children);
  preview.records = scan.records;
  if (job.knownHash !== null && scan.hash === job.knownHash) {
    preview.action = 'unchanged';
    preview.reason = 'touched, same content';
    return;
  }
  if (!live && newTable(job) === 'discard') {
    preview.rejects.push(
      `table ${source.table} does not exist: its rows are discarded (contract.tables: ${source.contract.tables})`,
    );
    return;
  }
  const changes = planFile(job, scan.observed);
  preview.warnings.push(...renameHints(job, scan.observed));
  for (const change of changes) {
    const table = changedTable(change);
    const before = catalog.get(table);
    preview.changes.push({ change, text: describe(change), sql: dest.schemaChangeSql(change, before) });
    catalog.set(table, simulate(before, change));
  }
  // What stays out: columns the contract does not add, values no lossless type holds.
  for (const [table, obs] of scan.observed) {
    const now = catalog.get(table);
    if (!now) continue;
    const mode = table === source.table || live ? source.contract.columns : 'evolve';
    const missing = [...obs.types.entries()]
      .filter(([c, t]) => t !== null && !now.columns.some((x) => x.name === c))
      .map(([c]) => c);
    if (missing.length > 0) preview.rejects.push(keptOut(table, missing, mode));
    for (const c of obs.incompatible) {
      const type = now.columns.find((x) => x.name === c)?.type;
      const what = type ? formatType(type) : 'its type';
      preview.rejects.push(
        `${table}.${c}: values that do not fit ${what} ${dataTypeEffect(source.contract.dataType)} (contract.data_type: ${source.contract.dataType})`,
      );
    }
  }
}

/** The live table after one change (system columns as the change creates them). */
function simulate(before: LiveTable | undefined, change: SchemaChange): LiveTable {
  const after = applyChanges(before, [change]);
  if (!after) throw new Error(`internal: ${describe(change)} on a missing table`);
  const systemColumns =
    before?.systemColumns ?? (change.kind === 'create_table' ? systemColumnNames(change.system) : []);
  return { ...before, ...after, systemColumns };
}

function describe(c: SchemaChange): string {
  switch (c.kind) {
    case 'create_table':
      return `create table ${c.table.name} (${c.table.columns.map((x) => `${x.name} ${formatType(x.type)}`).join(', ')})${c.table.primaryKey.length ? `, key (${c.table.primaryKey.join(', ')})` : ''}`;
    case 'add_column':
      return `add column ${c.table}.${c.column.name} ${formatType(c.column.type)}`;
    case 'widen_column':
      return `widen ${c.table}.${c.column} ${formatType(c.from)} → ${formatType(c.to)}`;
  }
}

function keptOut(table: string, columns: string[], mode: ContractMode): string {
  const list = columns.join(', ');
  switch (mode) {
    case 'freeze':
      return `${table}: new column(s) ${list} are not added (contract.columns: freeze): rows with a value in them are rejected`;
    case 'discard_row':
      return `${table}: new column(s) ${list} are not added (contract.columns: discard_row): rows with a value in them are discarded`;
    case 'discard_value':
      return `${table}: new column(s) ${list} are not added (contract.columns: discard_value): their values are dropped`;
    default:
      return `${table}: column(s) ${list} are not added`;
  }
}

function dataTypeEffect(mode: ContractMode | 'text'): string {
  if (mode === 'discard_row') return 'are discarded with their rows';
  if (mode === 'discard_value') return 'are dropped';
  return 'reject their rows';
}

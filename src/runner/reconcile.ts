import type { ResolvedSource } from '../config/resolve.js';
import type { WriteDisposition } from '../core/types.js';
import { childTablesOf, type Destination, type LiveTable, SYS_FILE_ID } from '../destinations/types.js';
import { captureRegex, type DiscoveredFile } from '../sources/discover.js';
import { forgetFile, type LedgerEntry, markStale, markUnchanged } from '../state/ledger.js';
import { markTableReset } from '../transforms/state.js';

/**
 * The invariant (docs/loading.md): after any sequence of runs, a loaded table equals what a
 * full refresh of the files now in the landing folder would give — in path order, with the
 * cursor rule — whatever order the files arrived or were edited in. Loading each new file on
 * top of the table keeps it only while files come in path order. This module finds, before
 * any file loads, what breaks that order and plans what puts it right:
 *
 * - **merge**: a file loaded before whose content changed (an edit, a re-send with rows
 *   dropped), a new file whose path sorts before a file already loaded (late), or a loaded
 *   file deleted under `on_deleted_file: delete`. The winner of a key it touches may then be
 *   in any other current file, so the table is **rebuilt**: in one transaction its rows that
 *   came from current files are taken out (rows carry `_tributary_file_id`, the file that
 *   supplied them; rows of deleted files under `keep` stay) with their child rows, and its
 *   current files are marked `stale`; they then load again in path order, which is exactly a
 *   full refresh of the table. A crash in between leaves stale files, which the next run
 *   loads (still in path order, after the ones already loaded again).
 * - **append**: a file's rows are its own (re-sent, its rows are replaced, as before); a
 *   deleted file under `delete` takes its rows with it.
 * - **replace**: the table is its newest (last in path order) current file. An older file
 *   that is new or edited is read for its schema and rejects, but writes no rows (shadowed);
 *   when the newest file is deleted under `delete`, the new newest loads again, or the table
 *   is emptied when none is left.
 *
 * The plan is pure ({@link planReconcile}); {@link applyReconciliation} carries it out.
 */

export interface PlannedFile {
  file: DiscoveredFile;
  source: ResolvedSource;
  ledger: LedgerEntry | undefined;
}

export interface Rebuild {
  table: string;
  /** Why, for the report: `orders_2024-06-01.csv edited`, `… arrived after a later file`, `… deleted`. */
  reasons: string[];
  /** Ledger ids of deleted files kept by `on_deleted_file: keep` (their rows stay). */
  keep: number[];
  /** Ledger ids of the current files whose rows are in the table: they load again. */
  stale: number[];
}

export interface Reconciliation {
  rebuild: Rebuild[];
  /** Loaded files gone from the folder under `on_deleted_file: delete`: their ledger rows go (and an append table's rows by file id). */
  deleted: Array<{ table: string; write: WriteDisposition; entry: LedgerEntry }>;
  /** Replace tables whose every file is gone under `delete`: emptied. */
  empty: string[];
  /** Unchanged files that load again (a replace table's new newest file). */
  reload: Array<{ table: string; id: number }>;
  /**
   * Files that failed before with the content they have now and sort before a loaded file of
   * their table: tried again, but no rebuild for them (they most likely fail again). Should one
   * load after all (a config fixed), its table is rebuilt on the next run (attempt.ts).
   */
  retried: Set<string>;
  /** What the plan held back, for the report. */
  warnings: string[];
  /** Files that failed or moved on disk but hold what they held when they loaded: marked loaded again. */
  unchanged: Array<{ id: number; file: DiscoveredFile }>;
  /** Replace-table files a later current file of the same table overrides: loaded without their rows. */
  shadowed: Set<string>;
}

/** The table holds this file's rows: it loaded, and is not waiting to load again. */
export function rowsIn(entry: LedgerEntry | undefined): entry is LedgerEntry {
  return entry !== undefined && entry.hash !== null && entry.status !== 'stale';
}

/**
 * Failures that are the file's own (unreadable, malformed, a key or schema conflict, too
 * many rejects): the same file most likely fails again. Any other failure (the database, an
 * unexpected error) says nothing about the file.
 */
const FILE_FAULTS = ['SOURCE_UNREADABLE:', 'SOURCE_FORMAT:', 'SCHEMA_CONFLICT:', 'LOAD_TOO_MANY_REJECTS:'];

/**
 * The file failed before without loading, for a reason of its own, with the size and mtime
 * it has now (ledger.markFailed keeps them). A file that failed on anything else and sorts
 * before a loaded file is late like a new one: its table is rebuilt.
 */
function failedBefore(p: PlannedFile): boolean {
  const l = p.ledger;
  return (
    l !== undefined &&
    l.status === 'failed' &&
    l.hash === null &&
    l.size === p.file.size &&
    l.mtimeMs === p.file.mtimeMs &&
    FILE_FAULTS.some((code) => l.error?.startsWith(code) === true)
  );
}

/** Size and mtime as in the ledger: unchanged without opening the file. */
export function unchangedByStat(p: PlannedFile): boolean {
  const l = p.ledger;
  return l !== undefined && l.status === 'loaded' && l.size === p.file.size && l.mtimeMs === p.file.mtimeMs;
}

/**
 * Files whose content must be known before the plan: files of merge tables that loaded
 * before and moved on disk (edited, or only touched?) and new files of merge tables that
 * arrive before a loaded file (readable at all? a file that cannot be read rebuilds nothing).
 */
export function filesToHash(
  sources: readonly ResolvedSource[],
  files: readonly PlannedFile[],
  held: ReadonlySet<string> = NONE,
): PlannedFile[] {
  const merge = new Set(sources.filter((s) => s.write === 'merge').map((s) => s.table));
  const maxIn = lastLoaded(files);
  return files.filter(
    (p) =>
      merge.has(p.source.table) &&
      !unchangedByStat(p) &&
      !held.has(p.file.path) &&
      (rowsIn(p.ledger) || (p.file.path < (maxIn.get(p.source.table) ?? '') && !failedBefore(p))),
  );
}

const NONE: ReadonlySet<string> = new Set();

/** Per table, the greatest path of a current file whose rows are in the table. */
function lastLoaded(files: readonly PlannedFile[]): Map<string, string> {
  const max = new Map<string, string>();
  for (const p of files) {
    if (!rowsIn(p.ledger)) continue;
    const m = max.get(p.source.table);
    if (m === undefined || p.file.path > m) max.set(p.source.table, p.file.path);
  }
  return max;
}

/**
 * What the run must do before loading so that each table equals a full refresh of its
 * current files. Pure. `files`: the discovered files in path order with their sources and
 * ledger rows; `ledger`: every ledger row of the pipeline; `hashes`: the content hash now of
 * the files {@link filesToHash} named (absent: could not be read). Only the tables of `sources`
 * are planned for.
 *
 * `held`: discovered files the run leaves as they are (a run limited to some sources,
 * src/runner/select.ts): not deleted, and not looked at — one whose rows are in its table
 * counts as unchanged (and loads again if the table is rebuilt), one without (new, failed) is
 * left out of the plan, as if it had not arrived yet.
 */
export function planReconcile(
  sources: readonly ResolvedSource[],
  files: readonly PlannedFile[],
  ledger: Iterable<LedgerEntry>,
  hashes: ReadonlyMap<string, string>,
  held: ReadonlySet<string> = NONE,
): Reconciliation {
  const out: Reconciliation = {
    rebuild: [],
    deleted: [],
    empty: [],
    reload: [],
    unchanged: [],
    shadowed: new Set(),
    retried: new Set(),
    warnings: [],
  };
  // Which table each discovered file feeds now (a file may move to another table's source).
  const discovered = new Map(files.map((p) => [p.file.path, p.source.table]));
  const entries = [...ledger];
  const maxIn = lastLoaded(files);
  const tables = new Map<string, ResolvedSource[]>();
  for (const s of sources) tables.set(s.table, [...(tables.get(s.table) ?? []), s]);

  for (const [table, own] of tables) {
    const write = (own[0] as ResolvedSource).write;
    const current = files.filter(
      (p) => p.source.table === table && (!held.has(p.file.path) || rowsIn(p.ledger)),
    );
    // A loaded file that is no longer found (deleted, or no longer matched by its source), or
    // that another table's source claims now.
    const gone = entries.filter((e) => e.table === table && discovered.get(e.path) !== table);
    const matchers = own.some((s) => s.onDeletedFile === 'delete')
      ? own.map((s) => ({ re: captureRegex(s.files), policy: s.onDeletedFile }))
      : [];
    const policy = (e: LedgerEntry) =>
      matchers.find((m) => m.re.test(e.path))?.policy ?? (own[0] as ResolvedSource).onDeletedFile;
    let goneDelete = gone.filter((e) => policy(e) === 'delete');
    // Not one file of the table found: a folder not mounted, a glob mistyped — not a deletion.
    if (goneDelete.length > 0 && current.length === 0) {
      out.warnings.push(
        `no file of table ${table} was found, so the ${goneDelete.length} file(s) it loaded are not taken for deleted (on_deleted_file: delete) — is the folder there? To remove their rows on purpose: \`tributary reset ${table}\``,
      );
      goneDelete = [];
    }
    for (const entry of goneDelete) out.deleted.push({ table, write, entry });
    const removed = goneDelete.filter(rowsIn);

    if (write === 'merge') {
      const reasons: string[] = [];
      const last = maxIn.get(table);
      for (const p of current) {
        if (unchangedByStat(p) || held.has(p.file.path)) continue;
        const hash = hashes.get(p.file.path);
        if (rowsIn(p.ledger)) {
          if (hash === undefined) continue; // unreadable now: its load fails, its rows stay
          if (hash === p.ledger.hash) out.unchanged.push({ id: p.ledger.id, file: p.file });
          else reasons.push(`${p.file.path} changed`);
        } else if (last !== undefined && p.file.path < last && hash !== undefined) {
          if (failedBefore(p)) out.retried.add(p.file.path);
          else reasons.push(`${p.file.path} arrived after ${last}`);
        }
      }
      for (const e of removed) reasons.push(`${e.path} was deleted`);
      if (reasons.length > 0) {
        out.rebuild.push({
          table,
          reasons,
          keep: gone.filter((e) => policy(e) === 'keep' && rowsIn(e)).map((e) => e.id),
          stale: current.flatMap((p) => (rowsIn(p.ledger) ? [p.ledger.id] : [])),
        });
      }
    } else if (write === 'replace') {
      const newest = current[current.length - 1];
      for (const p of current)
        if (p !== newest && !unchangedByStat(p) && !held.has(p.file.path)) out.shadowed.add(p.file.path);
      // The table held a deleted file's rows when that file was newer than every current one.
      if (removed.some((e) => newest === undefined || e.path > newest.file.path)) {
        if (newest === undefined) out.empty.push(table);
        // Loaded before: load it again even if it only moved on disk (a touched file whose hash
        // is unchanged would otherwise be skipped, leaving the deleted file's rows).
        else if (rowsIn(newest.ledger)) out.reload.push({ table, id: newest.ledger.id });
      }
    }
  }
  return out;
}

/**
 * Carry out a plan, each table in one transaction: a merge table's rows from current files
 * and their child rows taken out and its current files marked stale; deleted files' ledger
 * rows, rejects and (append) rows removed; replace tables emptied or their newest file
 * marked to load again. Incremental models reading a table changed here are rebuilt by
 * their next refresh (a tombstone without image). A row of unknown origin (NULL file id: a
 * merge table made before rows carried their file, see upgradeTables in src/runner/upgrade.ts) is taken out
 * by a rebuild, unless deleted files are kept, whose row it may be.
 */
export async function applyReconciliation(
  dest: Destination,
  plan: Reconciliation,
  runId: number,
  catalog: ReadonlyMap<string, LiveTable>,
): Promise<void> {
  const q = (id: string) => dest.dialect.quote(id);
  for (const u of plan.unchanged) await markUnchanged(dest, u.id, u.file.size, u.file.mtimeMs);

  const tables = new Set([
    ...plan.rebuild.map((r) => r.table),
    ...plan.deleted.map((d) => d.table),
    ...plan.empty,
    ...plan.reload.map((r) => r.table),
  ]);
  for (const table of tables) {
    const live = catalog.get(table);
    const rebuild = plan.rebuild.find((r) => r.table === table);
    const deleted = plan.deleted.filter((d) => d.table === table);
    await dest.transaction(async (tx) => {
      let changed = false;
      if (live && rebuild) {
        // With deleted files kept, a row of unknown origin (NULL) may be theirs: NOT IN keeps it.
        const kept = rebuild.keep.map(Number).filter(Number.isSafeInteger);
        await tx.execute(
          `DELETE FROM ${q(table)}${kept.length === 0 ? '' : ` WHERE ${q(SYS_FILE_ID)} NOT IN (${kept.join(', ')})`}`,
        );
        for (const child of childTablesOf(catalog, table)) {
          const c = q(child.name);
          const on = live.primaryKey.map((k) => `p.${q(k)} = ${c}.${q(k)}`).join(' AND ');
          await tx.execute(`DELETE FROM ${c} WHERE NOT EXISTS (SELECT 1 FROM ${q(table)} p WHERE ${on})`);
        }
        await markStale(tx, rebuild.stale);
        changed = true;
      }
      for (const d of deleted) {
        if (live && d.write === 'append' && live.systemColumns.includes(SYS_FILE_ID) && rowsIn(d.entry)) {
          const id = Number(d.entry.id);
          if (!Number.isSafeInteger(id)) throw new Error(`internal: bad file id ${d.entry.id}`);
          await tx.execute(`DELETE FROM ${q(table)} WHERE ${q(SYS_FILE_ID)} = ${id}`);
          changed = true;
        }
        await forgetFile(tx, d.entry.id);
      }
      if (live && plan.empty.includes(table)) {
        await tx.execute(`DELETE FROM ${q(table)}`);
        changed = true;
      }
      // In the transaction that forgot the deleted newest file: a crash between the two would
      // leave its rows in place with nothing left to say so.
      await markStale(
        tx,
        plan.reload.filter((r) => r.table === table).map((r) => r.id),
      );
      if (changed) {
        await markTableReset(tx, table, runId);
        for (const child of childTablesOf(catalog, table)) await markTableReset(tx, child.name, runId);
      }
    });
  }
}

import { describeDestination } from '../config/destination.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { messageOf } from '../core/errors.js';
import { childTablesOf, type Destination, type LiveTable, type SqlClient } from '../destinations/types.js';
import { describeModels, type ModelEntry } from '../ops/models.js';
import { fixFor, writeRejectsCsv } from '../ops/rejects.js';
import { describeTable, type TableColumns } from '../ops/schema.js';
import { countRows } from '../ops/status.js';
import type { RunFileReport, RunSummary } from '../runner/events.js';
import { claimsOfRun } from '../state/claims.js';
import { listSchemaHistory, type SchemaHistoryEntry, schemaChangesOfRun } from '../state/history.js';
import {
  deliveryTimes,
  failedFiles,
  filesOfRun,
  filesWithRejects,
  type LedgerEntry,
  ledgerByTable,
  ledgerEntry,
  recentFiles,
  runFileTotals,
} from '../state/ledger.js';
import {
  groupRejects,
  pageRejects,
  type RejectFilter,
  type RejectGroup,
  rejectById,
  type StoredReject,
} from '../state/rejects.js';
import { listRuns, pageRuns, type RunRecord, type RunRow, runTotals } from '../state/runs.js';
import { pathKey, stateTablesPresent, T } from '../state/tables.js';
import type { ModelState } from '../transforms/plan.js';
import { MODELS, readModelStates, tombstoneTotals } from '../transforms/state.js';
import type { RunPoint } from './chart.js';
import { runDuration } from './format.js';
import { type Freshness, freshness } from './freshness.js';
import { type LineageGraph, lineageGraph } from './lineage.js';

/**
 * What the dashboard reads, each a plain object (a page renders it, /api/… sends it as JSON).
 * Read-only by construction: the destination is opened read-only (SQLite: a query_only
 * connection; MySQL/MariaDB: `SET SESSION TRANSACTION READ ONLY`; PostgreSQL:
 * `default_transaction_read_only`), every statement goes through {@link readOnly}, which
 * refuses anything but a SELECT (SQLite's catalog excepted: it reads through its own
 * query_only handle), and nothing here takes the run lock or creates a table: a database no run has used
 * yet, or whose state tables are missing, reads as empty. Every SQL statement is a reader of
 * src/state or src/ops, written once for SQLite, MySQL/MariaDB and PostgreSQL.
 */

export const RUNS_PAGE = 50;
export const REJECTS_PAGE = 50;
/** Runs in the overview's chart by default, and at most. */
export const CHART_RUNS = 60;
export const CHART_RUNS_MAX = 1_000;
/** A file list (of a run, of a table) shows at most this many; the page says how many more. */
export const FILES_SHOWN = 500;

export type DatabaseState = 'ok' | 'absent';

export interface RunView extends RunRow {
  durationMs: number | null;
}

export interface OverviewData {
  pipeline: string;
  destination: string;
  database: DatabaseState;
  runs: number;
  lastRun: RunView | null;
  /** The files a running run has committed so far (from the ledger), while it runs. */
  progress: { files: number; rows: number; rejected: number } | null;
  chart: RunPoint[];
  failedFiles: Array<{ path: string; table: string; runId: number | null; error: string | null; at: string }>;
  freshness: Freshness[];
  /** Changes whenever what the overview shows may have changed: the live refresh compares it. */
  version: string;
}

export interface RunsPage {
  pipeline: string;
  runs: RunView[];
  total: number;
  /** `before` for the next (older) page; null on the last. */
  next: number | null;
}

/** A file of a run, with the worker that loaded it when a queue's workers did (its claim). */
export type RunFileView = RunFileReport & { worker?: string; attempts?: number };

export interface RunDetail {
  run: RunView;
  trigger: string | null;
  files: RunFileView[];
  /** `summary`: the run's own report of each file; `ledger`: the files whose ledger row this run last wrote (older runs). */
  filesFrom: 'summary' | 'ledger';
  filesOmitted: number;
  schemaChanges: SchemaHistoryEntry[];
  models: NonNullable<RunSummary['models']>;
  failures: RunSummary['failures'];
  rejectsByReason: RunSummary['rejectsByReason'];
  warnings: string[];
  tables: RunSummary['tables'];
}

export interface TableListEntry {
  table: string;
  kind: 'table' | 'child' | 'model';
  rows: number | null;
  columns: number;
  primaryKey: string[];
  files: number;
  failed: number;
  lastChange: string | null;
}

export interface SourceView {
  index: number;
  files: string;
  format: string | null;
  write: string;
  primaryKey: readonly string[];
  cursor: string | null;
}

export interface TableDetail {
  table: string;
  kind: 'table' | 'child' | 'model' | 'missing';
  rows: number | null;
  columns: TableColumns['columns'];
  primaryKey: string[];
  cursor: string | null;
  sources: SourceView[];
  children: string[];
  parent: string | null;
  history: SchemaHistoryEntry[];
  recentFiles: Array<
    Pick<
      LedgerEntry,
      'path' | 'status' | 'runId' | 'rowsLoaded' | 'rowsRejected' | 'error' | 'updatedAt' | 'size'
    >
  >;
  freshness: Freshness | null;
  model: ModelEntry | null;
  /** Before-images kept for incremental models (src/transforms/state.ts); null when none. */
  beforeImages: { images: number; resets: number; firstRun: number | null; lastRun: number | null } | null;
}

export interface RejectsView {
  filter: { table?: string; code?: string; column?: string | null; file?: string; run?: number };
  groups: Array<Omit<RejectGroup, 'examples'> & { fix: string }>;
  total: number;
  rejects: StoredReject[];
  /** `after` for the next page; null on the last. */
  next: number | null;
  /** Choices for the filters: the tables and files with open rejects, the reasons in the groups. */
  tables: string[];
  files: Array<{ path: string; table: string; rejected: number }>;
  codes: string[];
  /** A `file` filter naming no file of the ledger. */
  unknownFile: boolean;
}

export interface LineageData {
  graph: LineageGraph;
  /** Why the models are not in the graph (their problems), when they are not. */
  modelProblem: string | null;
}

/** A client that runs only reads: anything but SELECT (or WITH … SELECT) throws before reaching the database. */
export function readOnly(db: SqlClient): SqlClient {
  const refuse = (sql: string): never => {
    throw new Error(`the dashboard is read-only; refused: ${sql.slice(0, 60)}`);
  };
  return {
    query: (sql, params) => (/^\s*(SELECT|WITH)\b/i.test(sql) ? db.query(sql, params) : refuse(sql)),
    execute: async (sql) => refuse(sql),
    insertRow: async (sql) => refuse(sql),
  };
}

const view = (r: RunRow): RunView => ({ ...r, durationMs: runDuration(r.startedAt, r.finishedAt) });

const STATE = [T.runs, T.files, T.rejects, T.history, T.tombstones, T.claims, MODELS] as const;

export class DashboardData {
  readonly config: ResolvedConfig;
  readonly #create: () => Promise<Destination>;
  #dest: Destination | undefined;
  #opening: Promise<Destination | undefined> | undefined;
  /** State tables seen: once there, they stay (no command drops them). */
  readonly #present = new Set<string>();

  constructor(config: ResolvedConfig, create: () => Promise<Destination>) {
    this.config = config;
    this.#create = create;
  }

  /** The destination opened read-only, or undefined while it has no database (no run yet): tried again next time. */
  async #open(): Promise<Destination | undefined> {
    if (this.#dest) return this.#dest;
    this.#opening ??= (async () => {
      const dest = await this.#create();
      await dest.open({ readOnly: true });
      if (dest.absent) {
        await dest.close();
        return undefined;
      }
      this.#dest = dest;
      return dest;
    })().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async close(): Promise<void> {
    const dest = this.#dest;
    this.#dest = undefined;
    await dest?.close();
  }

  /** Printable (password masked by the destination itself). */
  async description(): Promise<string> {
    return (await this.#open())?.description ?? describeDestination(this.config.destination);
  }

  /** The open destination, a read-only client on it, and which state tables it has. */
  async #state(): Promise<{ dest: Destination; db: SqlClient; has: (t: string) => boolean } | undefined> {
    const dest = await this.#open();
    if (!dest) return undefined;
    const missing = STATE.filter((t) => !this.#present.has(t));
    if (missing.length > 0)
      for (const t of await stateTablesPresent(readOnly(dest), missing)) this.#present.add(t);
    return { dest, db: readOnly(dest), has: (t) => this.#present.has(t) };
  }

  get pipeline(): string {
    return this.config.pipeline;
  }

  async overview(chartRuns = CHART_RUNS): Promise<OverviewData> {
    const s = await this.#state();
    const base = {
      pipeline: this.pipeline,
      destination: await this.description(),
      database: (s ? 'ok' : 'absent') as DatabaseState,
    };
    const hasRuns = s?.has(T.runs) ?? false;
    if (!s || !hasRuns) {
      return {
        ...base,
        runs: 0,
        lastRun: null,
        progress: null,
        chart: [],
        failedFiles: [],
        freshness: [],
        version: `${base.database}:0`,
      };
    }
    const totals = await runTotals(s.db, this.pipeline);
    const recent = await pageRuns(s.db, this.pipeline, {
      limit: Math.min(Math.max(1, chartRuns), CHART_RUNS_MAX),
    });
    const last = recent[0] ? view(recent[0]) : null;
    let progress: OverviewData['progress'] = null;
    if (last?.status === 'running' && s.has(T.files))
      progress = await runFileTotals(s.db, this.pipeline, last.id);
    const failed = s.has(T.files) ? await failedFiles(s.db, this.pipeline, 50) : [];
    const fresh = s.has(T.files) ? await this.#freshness(s.db) : [];
    const chart = recent.map(toPoint).reverse();
    const version = JSON.stringify([
      totals.newest,
      last?.status,
      last?.finishedAt,
      progress,
      failed.length,
      failed[0]?.updatedAt,
      fresh.filter((f) => f.status === 'late').map((f) => f.table),
    ]);
    return {
      ...base,
      runs: totals.runs,
      lastRun: last,
      progress,
      chart,
      failedFiles: failed.map((f) => ({
        path: f.path,
        table: f.table,
        runId: f.runId,
        error: f.error,
        at: f.updatedAt,
      })),
      freshness: fresh,
      version,
    };
  }

  async #freshness(db: SqlClient): Promise<Freshness[]> {
    const now = Date.now();
    const tables = [...new Set(this.config.sources.map((src) => src.table))].sort();
    const out: Freshness[] = [];
    for (const t of tables) out.push(freshness(t, await deliveryTimes(db, this.pipeline, t, 200), now));
    return out;
  }

  async chart(limit = CHART_RUNS): Promise<RunPoint[]> {
    const s = await this.#state();
    if (!s?.has(T.runs)) return [];
    const rows = await pageRuns(s.db, this.pipeline, { limit: Math.min(Math.max(1, limit), CHART_RUNS_MAX) });
    return rows.map(toPoint).reverse();
  }

  async runs(before?: number): Promise<RunsPage> {
    const s = await this.#state();
    if (!s?.has(T.runs)) return { pipeline: this.pipeline, runs: [], total: 0, next: null };
    const totals = await runTotals(s.db, this.pipeline);
    const rows = await pageRuns(s.db, this.pipeline, { limit: RUNS_PAGE + 1, ...(before ? { before } : {}) });
    const page = rows.slice(0, RUNS_PAGE).map(view);
    return {
      pipeline: this.pipeline,
      runs: page,
      total: totals.runs,
      next: rows.length > RUNS_PAGE ? (page[page.length - 1]?.id ?? null) : null,
    };
  }

  async run(id: number): Promise<RunDetail | undefined> {
    const s = await this.#state();
    if (!s?.has(T.runs)) return undefined;
    const [record] = await listRuns(s.db, this.pipeline, { id });
    if (!record) return undefined;
    const summary = (record.summary ?? null) as Partial<RunSummary> | null;
    const { summary: _, ...row } = record as RunRecord;
    let files: RunFileReport[] = summary?.fileReports ?? [];
    let filesFrom: RunDetail['filesFrom'] = 'summary';
    let omitted = summary?.fileReportsOmitted ?? 0;
    if (!summary?.fileReports && s.has(T.files)) {
      filesFrom = 'ledger';
      const ledger = await filesOfRun(s.db, this.pipeline, id, FILES_SHOWN + 1);
      omitted = Math.max(0, ledger.length - FILES_SHOWN);
      files = ledger.slice(0, FILES_SHOWN).map((f) => ({
        file: f.path,
        table: f.table,
        status: f.status === 'failed' ? 'failed' : 'loaded',
        rows: f.rowsLoaded,
        rejected: f.rowsRejected,
        ...(f.error ? { message: f.error } : {}),
      }));
    }
    const claims = s.has(T.claims) ? await claimsOfRun(s.db, this.pipeline, id) : new Map();
    const withWorkers: RunFileView[] =
      claims.size === 0
        ? files
        : files.map((f) => {
            const c = claims.get(pathKey(f.file));
            return c ? { ...f, worker: c.holder, attempts: c.token } : f;
          });
    return {
      run: view(row),
      trigger: summary?.trigger ?? null,
      files: withWorkers,
      filesFrom,
      filesOmitted: omitted,
      schemaChanges: s.has(T.history) ? await schemaChangesOfRun(s.db, this.pipeline, id) : [],
      models: summary?.models ?? [],
      failures: summary?.failures ?? [],
      rejectsByReason: summary?.rejectsByReason ?? [],
      warnings: summary?.warnings ?? [],
      tables: summary?.tables ?? [],
    };
  }

  /** The models, or the problem that keeps them from being read. */
  async #models(
    s: { dest: Destination; db: SqlClient; has: (t: string) => boolean } | undefined,
    catalog: Iterable<string>,
  ): Promise<{ models: ModelEntry[]; problem: string | null }> {
    let states: ReadonlyMap<string, ModelState> = new Map();
    if (s?.has(MODELS)) states = await readModelStates(s.db, this.pipeline);
    try {
      return { models: describeModels(this.config, catalog, states), problem: null };
    } catch (err) {
      return { models: [], problem: messageOf(err) };
    }
  }

  async #catalog(dest: Destination | undefined): Promise<Map<string, LiveTable>> {
    return dest ? dest.readCatalog(readOnly(dest)) : new Map();
  }

  async tables(): Promise<{ tables: TableListEntry[]; modelProblem: string | null }> {
    const s = await this.#state();
    const catalog = await this.#catalog(s?.dest);
    const { models, problem } = await this.#models(s, catalog.keys());
    const modelNames = new Set(models.map((m) => m.name));
    const ledger = s?.has(T.files) ? await ledgerByTable(s.db, this.pipeline) : [];
    const byTable = new Map(ledger.map((l) => [l.table, l]));
    const names = [
      ...new Set([...this.config.sources.map((x) => x.table), ...catalog.keys(), ...modelNames]),
    ].sort();
    const out: TableListEntry[] = [];
    for (const name of names) {
      const live = catalog.get(name);
      const l = byTable.get(name);
      out.push({
        table: name,
        kind: modelNames.has(name) ? 'model' : this.#isChild(catalog, name) ? 'child' : 'table',
        rows: live && s ? await countRows(s.dest, name, s.db) : null,
        columns: live?.columns.length ?? 0,
        primaryKey: live?.primaryKey ?? [],
        files: l?.files ?? 0,
        failed: l?.failed ?? 0,
        lastChange: l?.lastChange ?? null,
      });
    }
    return { tables: out, modelProblem: problem };
  }

  #isChild(catalog: ReadonlyMap<string, LiveTable>, name: string): boolean {
    if (this.config.sources.some((x) => x.table === name)) return false;
    return [...catalog.keys()].some(
      (p) => p !== name && childTablesOf(catalog, p).some((c) => c.name === name),
    );
  }

  async table(name: string): Promise<TableDetail | undefined> {
    const s = await this.#state();
    const catalog = await this.#catalog(s?.dest);
    const { models } = await this.#models(s, catalog.keys());
    const model = models.find((m) => m.name === name) ?? null;
    const live = catalog.get(name);
    const sources = this.config.sources.filter((x) => x.table === name);
    if (!live && !model && sources.length === 0) return undefined;
    const described = live ? describeTable(live) : null;
    const parent =
      [...catalog.keys()]
        .filter((p) => p !== name && name.startsWith(`${p}__`))
        .sort((a, b) => b.length - a.length)
        .find((p) => childTablesOf(catalog, p).some((c) => c.name === name)) ?? null;
    const hasFiles = s?.has(T.files) ?? false;
    const kind: TableDetail['kind'] = model
      ? 'model'
      : parent
        ? 'child'
        : live || sources.length
          ? 'table'
          : 'missing';
    return {
      table: name,
      kind: live || model ? kind : 'missing',
      rows: live && s ? await countRows(s.dest, name, s.db) : null,
      columns: described?.columns ?? [],
      primaryKey: described?.primaryKey ?? [],
      cursor: sources.find((x) => x.cursor)?.cursor ?? null,
      sources: sources.map((x) => ({
        index: x.index,
        files: x.files,
        format: x.format ?? null,
        write: x.write,
        primaryKey: x.primaryKey,
        cursor: x.cursor ?? null,
      })),
      children: childTablesOf(catalog, name)
        .map((c) => c.name)
        .sort(),
      parent,
      history: s?.has(T.history) ? await listSchemaHistory(s.db, this.pipeline, name) : [],
      recentFiles:
        s && hasFiles
          ? (await recentFiles(s.db, this.pipeline, name, 20)).map((f) => ({
              path: f.path,
              status: f.status,
              runId: f.runId,
              rowsLoaded: f.rowsLoaded,
              rowsRejected: f.rowsRejected,
              error: f.error,
              updatedAt: f.updatedAt,
              size: f.size,
            }))
          : [],
      freshness:
        s && hasFiles && sources.length > 0
          ? freshness(name, await deliveryTimes(s.db, this.pipeline, name, 200), Date.now())
          : null,
      model,
      beforeImages: s?.has(T.tombstones) ? await this.#beforeImages(s.db, name) : null,
    };
  }

  async #beforeImages(db: SqlClient, table: string): Promise<TableDetail['beforeImages']> {
    const t = await tombstoneTotals(db, table);
    return t.images + t.resets === 0 ? null : t;
  }

  async #rejectFilter(
    db: SqlClient,
    f: RejectsView['filter'],
  ): Promise<{ filter: RejectFilter; unknownFile: boolean }> {
    const filter: RejectFilter = {};
    if (f.table) filter.table = f.table;
    if (f.code) filter.code = f.code;
    if (f.run !== undefined) filter.runId = f.run;
    if (f.column !== undefined) filter.column = f.column;
    let unknownFile = false;
    if (f.file) {
      const entry = this.#present.has(T.files) ? await ledgerEntry(db, this.pipeline, f.file) : undefined;
      // A path the ledger does not know matches no reject (id 0 is never a file's).
      filter.fileId = entry?.id ?? 0;
      unknownFile = !entry;
    }
    return { filter, unknownFile };
  }

  async rejects(f: RejectsView['filter'], after?: number): Promise<RejectsView> {
    const s = await this.#state();
    const empty: RejectsView = {
      filter: f,
      groups: [],
      total: 0,
      rejects: [],
      next: null,
      tables: [],
      files: [],
      codes: [],
      unknownFile: false,
    };
    if (!s?.has(T.rejects)) return empty;
    const { filter, unknownFile } = await this.#rejectFilter(s.db, f);
    const groups = await this.#groups(s.db, filter);
    const rows = await pageRejects(s.db, this.pipeline, filter, {
      limit: REJECTS_PAGE + 1,
      ...(after ? { after } : {}),
    });
    const page = rows.slice(0, REJECTS_PAGE);
    const files = s.has(T.files)
      ? await filesWithRejects(s.db, this.pipeline, { limit: 500, ...(f.table ? { table: f.table } : {}) })
      : [];
    // The table choices without a second pass over the rejects: the config's tables, the
    // catalog's (child tables), and those of the groups.
    const catalog = await s.dest.readCatalog(s.db);
    const tables = [
      ...new Set([
        ...this.config.sources.map((x) => x.table),
        ...catalog.keys(),
        ...groups.map((g) => g.table),
      ]),
    ];
    return {
      filter: f,
      groups: groups.map(({ examples: _, ...g }) => ({ ...g, fix: fixFor(g.code) })),
      total: groups.reduce((a, g) => a + g.count, 0),
      rejects: page,
      next: rows.length > REJECTS_PAGE ? (page[page.length - 1]?.id ?? null) : null,
      tables: tables.sort(),
      files: files.map((x) => ({ path: x.path, table: x.table, rejected: x.rowsRejected })),
      codes: [...new Set(groups.map((g) => g.code))].sort(),
      unknownFile,
    };
  }

  /**
   * The rejects grouped by table, reason and column: one pass over the matching rejects (0.8 s
   * for a million on SQLite, docs/dashboard.md), so kept for as long as no run has started or
   * finished since — every change to the rejects is made by a run (run, rejects retry,
   * reset), and paging through them or coming back costs nothing. Never kept while a run goes.
   */
  async #groups(db: SqlClient, filter: RejectFilter): Promise<RejectGroup[]> {
    const [newest] = await pageRuns(db, this.pipeline, { limit: 1 });
    const stamp =
      newest && newest.status !== 'running' ? `${newest.id}:${newest.status}:${newest.finishedAt}` : null;
    const key = JSON.stringify(filter);
    const hit = stamp ? this.#groupCache.get(key) : undefined;
    if (hit && hit.stamp === stamp) return hit.groups;
    const groups = await groupRejects(db, this.pipeline, { ...filter, examples: 0 });
    if (stamp) {
      if (this.#groupCache.size >= 32)
        this.#groupCache.delete(this.#groupCache.keys().next().value as string);
      this.#groupCache.set(key, { stamp, groups });
    }
    return groups;
  }

  readonly #groupCache = new Map<string, { stamp: string; groups: RejectGroup[] }>();

  async reject(id: number): Promise<(StoredReject & { fix: string }) | undefined> {
    const s = await this.#state();
    if (!s?.has(T.rejects)) return undefined;
    const r = await rejectById(s.db, this.pipeline, id);
    return r ? { ...r, fix: fixFor(r.code) } : undefined;
  }

  /** The matching rejects as CSV, to `write`; how many. */
  async rejectsCsv(
    f: RejectsView['filter'],
    write: (chunk: string) => Promise<void>,
    mask: (t: string) => string,
  ): Promise<number> {
    const s = await this.#state();
    if (!s?.has(T.rejects)) {
      await writeRejectsCsv(
        { query: async () => [], execute: async () => ({ affectedRows: 0 }), insertRow: async () => 0 },
        this.pipeline,
        {},
        write,
      );
      return 0;
    }
    const { filter } = await this.#rejectFilter(s.db, f);
    return writeRejectsCsv(s.db, this.pipeline, filter, write, mask);
  }

  async lineage(): Promise<LineageData> {
    const s = await this.#state();
    const catalog = await this.#catalog(s?.dest);
    const { models, problem } = await this.#models(s, catalog.keys());
    const graph = lineageGraph({
      sources: this.config.sources.map((x) => ({
        index: x.index,
        table: x.table,
        files: x.files,
        format: x.format,
      })),
      tables: [...catalog.keys()],
      isChild: (name) => this.#isChild(catalog, name),
      models: models.map((m) => ({
        name: m.name,
        materialized: m.materialized,
        models: m.dependsOn.models,
        tables: m.dependsOn.tables,
      })),
    });
    return { graph, modelProblem: problem };
  }
}

const toPoint = (r: RunRow): RunPoint => ({
  id: r.id,
  status: r.status,
  startedAt: r.startedAt,
  rows: r.rowsInserted + r.rowsUpdated,
  rejected: r.rowsRejected,
  durationMs: runDuration(r.startedAt, r.finishedAt),
});

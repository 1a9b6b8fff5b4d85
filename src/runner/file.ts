import { createHash } from 'node:crypto';
import type { ResolvedSource } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import type { ColumnSchema, ColumnType, SchemaChange, SourceItem, TableSchema } from '../core/types.js';
import {
  type Destination,
  type LiveTable,
  type RowNode,
  SYS_IDX,
  type Transaction,
  type WriteStats,
} from '../destinations/types.js';
import { applyChanges, planTable, SchemaConflict } from '../schema/diff.js';
import { TableObserver } from '../schema/observe.js';
import { formatType } from '../schema/types.js';
import type { DiscoveredFile } from '../sources/discover.js';
import { readFile } from '../sources/open.js';
import { recordSchemaChange } from '../state/history.js';
import { fileId, markLoaded } from '../state/ledger.js';
import { clearRejects, insertRejects, type Reject } from '../state/rejects.js';
import { recordEncoder } from './encode.js';
import { crashPoint } from './faults.js';
import type { EventSink } from './events.js';
import { makeShaper, rawOf } from './shape.js';

/** Everything a file load needs from the run. */
export interface FileJob {
  dest: Destination;
  pipeline: string;
  runId: number;
  source: ResolvedSource;
  hints: ReadonlyMap<string, ColumnType>;
  file: DiscoveredFile;
  /** Live tables; updated in place after this file's DDL. */
  catalog: Map<string, LiveTable>;
  /** Hash stored in the ledger when the file loaded before (skip when equal). */
  knownHash: string | null;
  emit: EventSink;
  signal?: AbortSignal;
}

export type FileOutcome =
  | { kind: 'unchanged'; hash: string }
  | {
      kind: 'loaded';
      hash: string;
      rows: number;
      rejects: Reject[];
      rejectCount: number;
      stats: WriteStats;
      changes: SchemaChange[];
      discardedRows: number;
      discardedValues: number;
      warnings: string[];
    };

const BATCH = 2_000;
const KEEP_REJECTS = 1_000; // rejects kept in memory for the run summary; all are stored

/**
 * Load one file: a first pass learns the schema it needs and its content hash, the DDL is
 * applied, then a second pass coerces and writes its rows, rejects and ledger row in one
 * transaction. Reading twice keeps memory bounded whatever the file size and decides types
 * from every value, not a sample.
 */
export async function loadFile(job: FileJob): Promise<FileOutcome> {
  const { dest, source, file } = job;
  const children = source.write === 'merge' && source.primaryKey.length > 0;
  const scan = await scanFile(job, children);
  if (job.knownHash !== null && scan.hash === job.knownHash) return { kind: 'unchanged', hash: scan.hash };

  const live = job.catalog.get(source.table);
  if (!live && source.contract.tables === 'freeze') {
    throw new TributaryError(
      'SCHEMA_CONFLICT',
      `table ${source.table} does not exist and its contract freezes tables; create it or set contract.tables: evolve`,
      { context: { file: file.path, table: source.table } },
    );
  }
  if (!live && source.contract.tables !== 'evolve') return discardFile(job, scan);
  const changes = planFile(job, scan.observed);
  const warnings = renameHints(job, scan.observed);
  const ddlOutside = !dest.capabilities.transactionalDdl;
  if (ddlOutside && changes.length > 0) await applyDdl(job, dest, changes);
  if (changes.length > 0) crashPoint('after_ddl');

  return dest.transaction(async (tx) => {
    if (!ddlOutside && changes.length > 0) await applyDdl(job, tx, changes);
    const id = await fileId(tx, job.pipeline, { ...file, table: source.table }, job.runId);
    await clearRejects(tx, id);
    const result = await writeRows(job, tx, id, children);
    if (result.hash !== scan.hash) {
      throw new TributaryError(
        'SOURCE_CHANGED',
        `${file.path} changed while it was being loaded; it will be loaded again next run`,
        {
          context: { file: file.path },
        },
      );
    }
    await markLoaded(tx, id, {
      table: source.table,
      size: file.size,
      mtimeMs: file.mtimeMs,
      hash: scan.hash,
      runId: job.runId,
      rows: result.rows,
      rejects: result.rejectCount,
    });
    return { kind: 'loaded', ...result, hash: scan.hash, changes, warnings };
  });
}

/** A file for a table that does not exist, under a `discard_*` tables contract: count, load nothing. */
async function discardFile(job: FileJob, scan: Scan): Promise<FileOutcome> {
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
    };
  });
}

/**
 * A file that brings new columns while established ones go missing may have renamed them:
 * say so, with the fix. Only for tables that exist and columns that are not keys.
 */
function renameHints(job: FileJob, observed: Map<string, TableObserver>): string[] {
  const live = job.catalog.get(job.source.table);
  const seen = observed.get(job.source.table)?.types;
  if (!live || !seen) return [];
  const added = [...seen.keys()].filter((c) => !live.columns.some((x) => x.name === c));
  const missing = live.columns
    .map((c) => c.name)
    .filter((c) => !seen.has(c) && !job.source.primaryKey.includes(c) && c !== SYS_IDX);
  if (added.length === 0 || missing.length === 0) return [];
  return [
    `${job.file.path}: new column(s) ${added.join(', ')} while ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing — a renamed header? If so, add \`rename: { "<header>": ${missing[0]} }\` to the source`,
  ];
}

interface Scan {
  hash: string;
  observed: Map<string, TableObserver>;
  records: number;
}

function reader(job: FileJob, hash: ReturnType<typeof createHash>): AsyncGenerator<SourceItem[]> {
  return readFile(job.file.abs, {
    format: job.source.format,
    delimiter: job.source.delimiter,
    batchSize: BATCH,
    onRawChunk: (chunk) => hash.update(chunk),
  });
}

/** Pass 1: fold every value into the types each table needs; hash the bytes on the way. */
async function scanFile(job: FileJob, children: boolean): Promise<Scan> {
  const hash = createHash('sha256');
  const observed = new Map<string, TableObserver>();
  const observer = (table: string) => {
    let o = observed.get(table);
    if (!o) {
      const live = job.catalog.get(table);
      const established = new Map((live?.columns ?? []).map((c) => [c.name, c.type]));
      const fixed = table === job.source.table ? new Set(job.hints.keys()) : new Set<string>();
      o = new TableObserver(established, fixed);
      observed.set(table, o);
    }
    return o;
  };
  const shape = makeShaper(job.source, job.file.captures, children);
  const root = observer(job.source.table);
  let records = 0;
  for await (const batch of reader(job, hash)) {
    checkAbort(job);
    crashPoint('scan');
    for (const item of batch) {
      if (item.kind !== 'record') continue;
      records++;
      const shaped = shape(item.data);
      for (const [col, v] of shaped.root) root.observe(col, v);
      if (shaped.children) {
        for (const [table, rows] of shaped.children) {
          const o = observer(table);
          for (const row of rows) for (const [col, v] of row) o.observe(col, v);
        }
      }
    }
  }
  return { hash: hash.digest('hex'), observed, records };
}

/** The schema changes this file needs, root table first, then its child tables. */
function planFile(job: FileJob, observed: Map<string, TableObserver>): SchemaChange[] {
  const { source, catalog } = job;
  const changes: SchemaChange[] = [];
  try {
    const rootChanges = planTable({
      name: source.table,
      live: catalog.get(source.table),
      observed: observed.get(source.table)?.types ?? new Map(),
      hints: job.hints,
      primaryKey: source.primaryKey,
      system: { fileId: source.write === 'append', idx: false },
      contract: source.contract,
      incompatible: observed.get(source.table)?.incompatible,
    });
    changes.push(...rootChanges);
    const root = applyChanges(catalog.get(source.table), rootChanges) as TableSchema;
    const keyCols: ColumnSchema[] = source.primaryKey.map(
      (k) => root.columns.find((c) => c.name === k) as ColumnSchema,
    );
    for (const [table, obs] of observed) {
      if (table === source.table) continue;
      const hasValues = [...obs.types.values()].some((t) => t !== null);
      if (!catalog.has(table) && !hasValues) continue;
      changes.push(
        ...planTable({
          name: table,
          live: catalog.get(table),
          observed: obs.types,
          hints: new Map(),
          primaryKey: [...source.primaryKey, SYS_IDX],
          leading: [...keyCols, { name: SYS_IDX, type: { kind: 'integer' } }],
          system: { fileId: false, idx: true },
          contract: catalog.has(table) ? source.contract : { ...source.contract, columns: 'evolve' },
          incompatible: obs.incompatible,
        }),
      );
    }
  } catch (err) {
    if (err instanceof SchemaConflict) {
      throw new TributaryError('SCHEMA_CONFLICT', err.message, {
        context: { file: job.file.path, table: source.table },
      });
    }
    throw err;
  }
  return changes;
}

async function applyDdl(job: FileJob, db: Transaction | Destination, changes: SchemaChange[]): Promise<void> {
  await job.dest.applySchemaChanges(changes, 'writer' in db ? (db as Transaction) : undefined);
  const touched = new Set(changes.map((c) => (c.kind === 'create_table' ? c.table.name : c.table)));
  const fresh = await job.dest.readCatalog();
  for (const t of touched) {
    const live = fresh.get(t);
    if (live) job.catalog.set(t, live);
  }
  for (const change of changes) {
    await recordSchemaChange(db, job.pipeline, {
      runId: job.runId,
      table: change.kind === 'create_table' ? change.table.name : change.table,
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
    job.emit({ type: 'schema_changed', file: job.file.path, change });
  }
}

interface WriteResult {
  hash: string;
  rows: number;
  rejects: Reject[];
  rejectCount: number;
  stats: WriteStats;
  discardedRows: number;
  discardedValues: number;
}

/** Pass 2: coerce each record to the live types, reject what does not fit, write the rest. */
async function writeRows(job: FileJob, tx: Transaction, id: number, children: boolean): Promise<WriteResult> {
  const { source, catalog, file } = job;
  const table = catalog.get(source.table);
  if (!table) throw new Error(`internal: table ${source.table} missing after DDL`);
  const childTables = children
    ? [...catalog.values()].filter(
        (t) => t.name.startsWith(`${source.table}__`) && t.primaryKey.includes(SYS_IDX),
      )
    : [];
  const writer = await tx.writer({
    table,
    write: source.write,
    primaryKey: source.primaryKey,
    cursor: source.cursor,
    runId: job.runId,
    fileId: id,
    children: childTables,
  });
  const encode = recordEncoder({
    table,
    childTables,
    primaryKey: source.primaryKey,
    cursor: source.cursor,
    contract: source.contract,
  });
  const shape = makeShaper(source, file.captures, children);
  const hash = createHash('sha256');
  const rejects: Reject[] = [];
  let pending: Reject[] = [];
  let rejectCount = 0;
  let rows = 0;
  let bytes = 0;
  let discardedRows = 0;
  let discardedValues = 0;
  const reject = async (r: Reject) => {
    rejectCount++;
    if (rejects.length < KEEP_REJECTS) rejects.push(r);
    pending.push(r);
    if (pending.length >= 500) {
      await insertRejects(tx, job.pipeline, { id, path: file.path }, job.runId, pending);
      pending = [];
    }
  };

  for await (const batch of readFile(file.abs, {
    format: source.format,
    delimiter: source.delimiter,
    batchSize: BATCH,
    onRawChunk: (chunk) => {
      hash.update(chunk);
      bytes += chunk.length;
    },
  })) {
    checkAbort(job);
    const out: RowNode[] = [];
    for (const item of batch) {
      const base = { table: source.table, line: item.line, record: item.record };
      if (item.kind === 'problem') {
        await reject({ ...base, code: item.code, column: null, message: item.message, raw: item.raw });
        continue;
      }
      const e = encode(shape(item.data));
      if (e.kind === 'row') {
        discardedValues += e.discardedValues;
        out.push(e.node);
      } else if (e.kind === 'discard') {
        discardedRows++;
      } else {
        await reject({ ...base, code: e.code, column: e.column, message: e.message, raw: rawOf(item.data) });
      }
    }
    if (out.length > 0) await writer.write(out);
    crashPoint('load');
    rows += out.length;
    job.emit({ type: 'file_progress', file: file.path, bytes, rows });
  }
  if (pending.length > 0) await insertRejects(tx, job.pipeline, { id, path: file.path }, job.runId, pending);
  const stats = await writer.finish();
  return { hash: hash.digest('hex'), rows, rejects, rejectCount, stats, discardedRows, discardedValues };
}

function checkAbort(job: FileJob): void {
  if (job.signal?.aborted) {
    throw new TributaryError(
      'INTERRUPTED',
      `interrupted while loading ${job.file.path}; it will be loaded next run`,
    );
  }
}

export { messageOf };

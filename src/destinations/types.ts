import type {
  ColumnType,
  DbValue,
  LiveTable,
  RowNode,
  SchemaChange,
  WriteDisposition,
} from '../core/types.js';

export type { LiveTable, RowNode, SchemaChange, SystemColumns, TableLimits } from '../core/types.js';

/**
 * What the code above a destination may rely on. Branch on these flags, never on the
 * dialect's name (Kysely's DialectAdapter, dlt's capabilities).
 */
export interface Capabilities {
  /** DDL can run inside the file's data transaction (SQLite) or commits implicitly (MySQL). */
  transactionalDdl: boolean;
  maxIdentifierLength: number;
  /** A bulk path exists (MySQL LOAD DATA LOCAL INFILE). */
  bulkLoad: boolean;
  /** How many file transactions may run at once. */
  maxConcurrentLoads: number;
  /**
   * Processes on other machines may load into it at the same time (workers on a queue,
   * src/queue/): a database server. Not an embedded file (SQLite).
   */
  remoteLoads: boolean;
  /**
   * An index may hold the state tables' long-text columns (`SqlDialect.longTextSql`): SQLite,
   * PostgreSQL. Not MySQL, whose TEXT columns need a prefix length in a key and whose index
   * keys are at most 3,072 bytes. Decides which dashboard indexes the state tables get
   * (src/state/tables.ts).
   */
  longTextInIndex: boolean;
  /**
   * Text row format the table writers accept through `writeText` (rows encoded off the main
   * thread, see src/destinations/rowtext.ts), or undefined when they take only `write`.
   */
  rowFormat?: RowFormat;
}

/**
 * `tsv`: LOAD DATA's tab-separated text (src/destinations/rowtext.ts `tsvRow`), one row per
 * line. `json`: one JSON array of rows, each an array of values (`jsonRows`), which SQLite
 * reads with `json_each` inside one INSERT … SELECT.
 */
export type RowFormat = 'tsv' | 'json';

export interface ExecResult {
  /**
   * Rows changed. (MySQL counts an UPDATE that sets the same values as 0; SQLite and
   * PostgreSQL count matched rows.)
   */
  affectedRows: number;
}

/** The SQL surface state/ and transforms/ use: `?` placeholders, rows as plain objects. */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult>;
  /**
   * Run `INSERT INTO <table> (…) VALUES (…)` — one row, into a table whose key is an
   * auto-increment `id` (`SqlDialect.autoIdSql`) — and resolve to the new row's id. How the
   * id comes back is the destination's business: SQLite's last rowid, MySQL's insert id,
   * PostgreSQL's `RETURNING id` (it has no "last insert id" of a statement).
   */
  insertRow(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** Identifier quoting and type rendering; the one place identifiers become SQL text. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'mysql' | 'postgres';
  /** Quote one identifier, escaping the quote character. */
  quote(identifier: string): string;
  /**
   * Physical type for a logical type. `key`: the column is part of an index. Every decimal
   * up to decimal(65,30) (Tributary's own limit, `DECIMAL_MAX_PRECISION` in
   * src/schema/lattice.ts) must map to a type that holds it exactly.
   */
  typeSql(type: ColumnType, key: boolean): string;
  /** Column definition of an auto-increment integer primary key. */
  autoIdSql(name: string): string;
  /** Physical type for short indexed text in state tables. */
  keyTextSql: string;
  /** Physical type for long text in state tables. */
  longTextSql: string;
  /**
   * What ends a SELECT to read the latest committed rows and hold a shared lock on them until
   * the transaction ends (src/state/claims.ts); '' where one writer excludes the others (SQLite).
   */
  shareLockSql: string;
  /**
   * A number written in a data test (`accepted_values(id, 9007199254740993)`), compared
   * exactly, never through a 64-bit float: one or more members of an `IN (…)` list and their
   * parameters. `text` is canonical: `-?\d+(\.\d+)?`, no leading zero before another digit,
   * no trailing zero in the fraction, no `-0`.
   */
  exactNumberSql(text: string): { sql: string; params: DbValue[] };
}

export const SYS_RUN_ID = '_tributary_run_id';
export const SYS_FILE_ID = '_tributary_file_id';
export const SYS_IDX = '_tributary_idx';

/** The child tables of `table` in a catalog: `<table>__<column>`, keyed by its key plus `_tributary_idx`. */
export function childTablesOf(catalog: ReadonlyMap<string, LiveTable>, table: string): LiveTable[] {
  return [...catalog.values()].filter(
    (t) => t.name.startsWith(`${table}__`) && t.primaryKey.includes(SYS_IDX),
  );
}
/**
 * Before-images of rows a load deleted or overwrote, for incremental models
 * (docs/transformations.md): `table_name`, `run_id`, `image` (a JSON object of the requested
 * columns; NULL marks the whole table replaced or reset).
 */
export const TOMBSTONES = '_tributary_tombstones';

/** How one file's rows go into one table (the root table of the file). */
export interface TableWritePlan {
  table: LiveTable;
  write: WriteDisposition;
  /** Key columns (merge). */
  primaryKey: readonly string[];
  cursor: string | undefined;
  runId: number;
  fileId: number;
  /** Child tables, linked to this table's primary key plus `_tributary_idx`. */
  children: readonly LiveTable[];
  /**
   * Tables (this one or a child) whose deleted or overwritten rows must be recorded in
   * TOMBSTONES, in the file's transaction, before they go: table → columns to record (those
   * the table has). A replace records one NULL image instead. Default: record nothing.
   */
  beforeImages?: ReadonlyMap<string, readonly string[]>;
  /**
   * The writer may load rows straight into the table, without staging and merging, when it
   * finds the table empty as the file's transaction starts. If the file then turns out to
   * hold a key twice, `finish` throws {@link DirectLoadConflict}: the caller rolls the
   * transaction back and loads the file again with `direct` off. Default off.
   */
  direct?: boolean;
}

/**
 * What every writer assumes of its plan, checked once where it starts: a merge has a key,
 * child tables hang off a merge table, and the ids (written into SQL text by some writers)
 * are safe integers.
 */
export function checkWritePlan(plan: TableWritePlan): void {
  const { table } = plan;
  if (plan.write === 'merge' && plan.primaryKey.length === 0)
    throw new Error(`internal: merge into ${table.name} without a primary key`);
  if (plan.children.length > 0 && plan.write !== 'merge')
    throw new Error(`internal: child tables need a merge table (${table.name})`);
  for (const id of [plan.runId, plan.fileId])
    if (!Number.isSafeInteger(id)) throw new Error(`internal: bad id ${id}`);
}

/** A direct load (TableWritePlan.direct) met a duplicate key: roll back, load again without it. */
export class DirectLoadConflict extends Error {
  constructor(table: string) {
    super(`a key occurs twice in the file: ${table} must be loaded through staging`);
    this.name = 'DirectLoadConflict';
  }
}

export interface WriteStats {
  inserted: number;
  updated: number;
  /** Rows that changed nothing: identical to the stored row, or older than it by cursor. */
  unchanged: number;
  /** Rows removed first: a re-sent append file's earlier rows, or a replaced table. */
  deleted: number;
  childRows: number;
}

/** Writes rows for one table inside an open transaction. */
export interface TableWriter {
  write(rows: readonly RowNode[]): Promise<void>;
  /**
   * Rows already encoded as text in `Capabilities.rowFormat` (values in the table's column
   * order; tsv: each line ending in `\n`; json: one array of rows): only when the destination has a row format and
   * the plan has no child tables. Batches of `write` and `writeText` may not be mixed.
   */
  writeText?(text: string, rows: number): Promise<void>;
  /**
   * Rows as the file's own CSV text, one LF-ended line per row, fields in the order of
   * `shape.columns` (the fast path, src/normalize/native.ts: every value is already in the
   * form the server reads as the encoder would have written it; an empty field is NULL).
   * Only where `writeText` is, and may be mixed with it: rows keep the order they come in.
   */
  writeCsv?(text: Uint8Array, rows: number, shape: CsvShape): Promise<void>;
  finish(): Promise<WriteStats>;
}

/** How a batch of the file's own CSV text is to be read (TableWriter.writeCsv). */
export interface CsvShape {
  /** The table's column of each field, in the file's order. */
  columns: readonly string[];
  /** One of `,` `;` tab `|`. */
  delimiter: string;
  /** Some field is empty: read it as NULL. */
  nulls: boolean;
}

/** An open transaction: SQL plus the bulk row path. */
export interface Transaction extends SqlClient {
  writer(plan: TableWritePlan): Promise<TableWriter>;
}

export interface LockInfo {
  pipeline: string;
  holder: string;
  since: string;
}

export interface Destination extends SqlClient {
  readonly capabilities: Capabilities;
  readonly dialect: SqlDialect;
  /** Printable description, never containing a password. */
  readonly description: string;
  /** Things the run should tell the user once (e.g. a bulk path that is not available). */
  readonly warnings?: readonly string[];
  /**
   * Connect; create the database when missing and allowed. `readOnly` (`run --dry-run`):
   * change nothing, not even by creating the database or the SQLite file; when there is
   * none, {@link absent} is true and there is nothing to read (an empty destination). Its
   * sessions refuse writes in the database (SQLite `query_only`, MySQL `SET SESSION
   * TRANSACTION READ ONLY`, PostgreSQL `default_transaction_read_only`); the run lock, on
   * connections of its own, is not affected.
   */
  open(options?: { readOnly?: boolean }): Promise<void>;
  /** Opened read-only and found no database (or SQLite file): nothing to read. */
  readonly absent?: boolean;
  close(): Promise<void>;
  /**
   * User tables from the live catalog (state tables excluded). `db`: read through that open
   * transaction, so that DDL applied in it (`transactionalDdl`) is seen before it commits.
   */
  readCatalog(db?: SqlClient): Promise<Map<string, LiveTable>>;
  /**
   * Apply schema changes idempotently. With `tx` (only when `transactionalDdl`), inside
   * that transaction; otherwise each statement commits on its own.
   */
  applySchemaChanges(changes: readonly SchemaChange[], tx?: Transaction): Promise<void>;
  /**
   * The statements a schema change runs as here, given the table before it (undefined when
   * absent); none when it is already there. Pure: what `applySchemaChanges` runs, and what
   * `run --dry-run` prints.
   */
  schemaChangeSql(change: SchemaChange, live: LiveTable | undefined): string[];
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Take the pipeline's run lock; resolves to the current holder when it is taken. */
  tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined>;
  unlock(pipeline: string): Promise<void>;
  /**
   * Whether the run lock taken by `tryLock` has been freed behind our back: MySQL's GET_LOCK
   * dies with its connection (a server restart). Absent: the lock cannot be lost (SQLite).
   */
  lockLost?(pipeline: string): boolean;
  /**
   * Asked inside a file's transaction right before it commits: whether the run lock is still
   * ours (MySQL: our GET_LOCK connection still owns it). Absent: the lock cannot be lost.
   */
  holdsLock?(db: SqlClient, pipeline: string): Promise<boolean>;
  /**
   * Create an index on `table` unless one named `name` exists. Optional: without it,
   * incremental models get no helper indexes and read their base tables whole.
   */
  ensureIndex?(table: string, name: string, columns: readonly string[]): Promise<void>;
  /**
   * Run `change` — which drops and makes again, or alters, `relation` inside the open
   * transaction `db` (only where `transactionalDdl`) — keeping the views that read it, directly
   * or through other views: saved, dropped and created again around it, in the same
   * transaction. `current(view)`: a SELECT to make a view from when its saved definition no
   * longer fits the new relation (a model's view, from the model's SQL), or undefined.
   *
   * Present where a view is bound to the relations it reads rather than to their names
   * (PostgreSQL: a table with views cannot be dropped, nor a column they read change type).
   * Absent where views read relations by name and survive a DROP and CREATE of them (SQLite,
   * MySQL/MariaDB): there `change` simply runs.
   */
  keepDependentViews?<T>(
    db: SqlClient,
    relation: string,
    change: () => Promise<T>,
    current?: (view: string) => string | undefined,
  ): Promise<T>;
  /**
   * Tables created for a one-pass load where DDL commits by itself (MySQL), before the
   * file's transaction: marked tentative until that transaction has committed, so that a
   * crash in between leaves a table the next run recognises (src/runner/tentative.ts).
   * Absent where DDL is transactional.
   */
  tentative?: TentativeTables;
}

/** See {@link Destination.tentative}. */
export interface TentativeTables {
  /** Create the tables of `create_table` changes, marked as made for `root`'s file in run `runId`. */
  create(changes: readonly SchemaChange[], mark: TentativeMark): Promise<void>;
  /** The tables still marked, with their marks. */
  list(): Promise<Array<{ table: string; mark: TentativeMark }>>;
  /** Clear the mark: an ordinary table from now on. */
  confirm(table: string): Promise<void>;
  /** Drop the table if it is still marked. */
  drop(table: string): Promise<void>;
}

/** Which load a tentative table was made for: the source table of the file, and the run. */
export interface TentativeMark {
  root: string;
  runId: number;
}

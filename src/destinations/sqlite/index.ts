import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { TributaryError } from '../../core/errors.js';
import type {
  Capabilities,
  Destination,
  ExecResult,
  LiveTable,
  LockInfo,
  SchemaChange,
  Transaction,
} from '../types.js';
import { readSqliteCatalog, readSqliteTable } from './catalog.js';
import { sqliteChangeSql } from './ddl.js';
import { sqliteDialect as d } from './dialect.js';
import { sqliteDriver } from './driver.js';
import { translateSqliteError } from './errors.js';
import { registerSqliteFunctions } from './functions.js';
import { sqliteWriter } from './writer.js';

const LOCKS = '_tributary_locks';

/**
 * The embedded default. One connection (SQLite has one writer); WAL so readers — another
 * `tributary status`, the sqlite3 shell — see committed data while a run writes.
 */
export class SqliteDestination implements Destination {
  readonly capabilities: Capabilities = {
    transactionalDdl: true,
    maxIdentifierLength: 64, // SQLite has no limit; we keep MySQL's so a pipeline can move
    bulkLoad: false,
    maxConcurrentLoads: 1,
    remoteLoads: false,
    longTextInIndex: true,
    rowFormat: 'json',
  };
  readonly dialect = d;
  readonly description: string;
  #db: Database.Database | undefined;
  #inTx = false;

  constructor(readonly file: string) {
    this.description = `sqlite:${file}`;
  }

  get db(): Database.Database {
    if (!this.#db) throw new Error('SQLite destination is not open');
    return this.#db;
  }

  absent = false;

  async open(options: { readOnly?: boolean } = {}): Promise<void> {
    if (options.readOnly) {
      if (!fs.existsSync(this.file)) {
        this.absent = true;
        return;
      }
      try {
        // Not SQLite's read-only mode, which leaves the WAL side files (-wal, -shm) behind: a
        // connection that refuses every write (query_only), so the last one out removes them
        // as usual and the folder is as it was.
        const db = new (sqliteDriver())(this.file, { fileMustExist: true });
        db.pragma('query_only = ON');
        db.pragma('busy_timeout = 10000');
        registerSqliteFunctions(db);
        this.#db = db;
      } catch (err) {
        throw translateSqliteError(err, `opening ${this.file}`);
      }
      return;
    }
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const db = new (sqliteDriver())(this.file);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL'); // WAL + NORMAL: a killed process never loses a commit
      db.pragma('busy_timeout = 10000');
      db.pragma('temp_store = MEMORY');
      db.defaultSafeIntegers(false);
      registerSqliteFunctions(db);
      this.#db = db;
    } catch (err) {
      throw translateSqliteError(err, `opening ${this.file}`);
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const stmt = this.db.prepare(sql);
      if (stmt.reader)
        return (stmt.safeIntegers(true).all(...params) as Record<string, unknown>[]).map(exactRow) as T[];
      stmt.run(...params);
      return [];
    } catch (err) {
      throw translateSqliteError(err, sql);
    }
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<ExecResult> {
    try {
      return { affectedRows: this.db.prepare(sql).run(...params).changes };
    } catch (err) {
      throw translateSqliteError(err, sql);
    }
  }

  async insertRow(sql: string, params: readonly unknown[] = []): Promise<number> {
    try {
      return Number(this.db.prepare(sql).run(...params).lastInsertRowid);
    } catch (err) {
      throw translateSqliteError(err, sql);
    }
  }

  /** One connection: a transaction's DDL is visible to every read, `db` or not. */
  async readCatalog(): Promise<Map<string, LiveTable>> {
    return readSqliteCatalog(this.db);
  }

  async applySchemaChanges(changes: readonly SchemaChange[]): Promise<void> {
    for (const change of changes) this.#apply(change);
  }

  #apply(change: SchemaChange): void {
    const live = change.kind === 'create_table' ? undefined : readSqliteTable(this.db, change.table);
    if (change.kind !== 'create_table' && !live) {
      throw new TributaryError('SCHEMA_CONFLICT', `cannot change ${change.table}: no such table`);
    }
    for (const sql of sqliteChangeSql(change, live)) this.db.exec(sql);
  }

  schemaChangeSql(change: SchemaChange, live: LiveTable | undefined): string[] {
    return sqliteChangeSql(change, live);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    if (this.#inTx) throw new Error('SQLite destination: nested transaction');
    const db = this.db;
    this.#inTx = true;
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      this.#inTx = false;
      throw translateSqliteError(err, 'BEGIN IMMEDIATE');
    }
    const tx: Transaction = {
      query: (sql, params) => this.query(sql, params),
      execute: (sql, params) => this.execute(sql, params),
      insertRow: (sql, params) => this.insertRow(sql, params),
      writer: async (plan) => sqliteWriter(db, plan),
    };
    try {
      const result = await fn(tx);
      db.exec('COMMIT');
      return result;
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw translateSqliteError(err, 'transaction');
    } finally {
      this.#inTx = false;
    }
  }

  /**
   * SQLite has no session-scoped named lock: a row in `_tributary_locks` names the holder
   * (host and pid). A row whose process is gone on this host is stale and taken over.
   */
  async tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined> {
    const db = this.db;
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${LOCKS} (pipeline TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL, since TEXT NOT NULL)`,
    );
    const heldBy = (): LockInfo | undefined => {
      const row = db
        .prepare(`SELECT holder, host, pid, since FROM ${LOCKS} WHERE pipeline = ?`)
        .get(pipeline) as { holder: string; host: string; pid: number; since: string } | undefined;
      if (row && !(row.host === os.hostname() && (row.pid === process.pid || !processAlive(row.pid)))) {
        return { pipeline, holder: row.holder, since: row.since };
      }
      return undefined;
    };
    // A plain read first (WAL readers never wait): a holder in the middle of a file holds the
    // database's write lock, and BEGIN IMMEDIATE would wait busy_timeout for it, then fail
    // with SQLITE_BUSY instead of naming it (test/faults/lock.test.ts).
    const seen = heldBy();
    if (seen) return seen;
    const take = db.transaction((): LockInfo | undefined => {
      const held = heldBy();
      if (held) return held;
      db.prepare(
        `INSERT OR REPLACE INTO ${LOCKS} (pipeline, holder, host, pid, since) VALUES (?, ?, ?, ?, ?)`,
      ).run(pipeline, holder, os.hostname(), process.pid, new Date().toISOString());
      return undefined;
    });
    try {
      return take.immediate();
    } catch (err) {
      throw translateSqliteError(err, 'taking the run lock');
    }
  }

  async unlock(pipeline: string): Promise<void> {
    if (!this.#db) return;
    this.db.prepare(`DELETE FROM ${LOCKS} WHERE pipeline = ? AND pid = ?`).run(pipeline, process.pid);
  }

  async ensureIndex(table: string, name: string, columns: readonly string[]): Promise<void> {
    await this.execute(
      `CREATE INDEX IF NOT EXISTS ${d.quote(name)} ON ${d.quote(table)} (${columns.map(d.quote).join(', ')})`,
    );
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Integers come back exact: as numbers when they are safe, as decimal strings beyond 2^53
 * (the MySQL driver does the same with `supportBigNumbers`).
 */
function exactRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'bigint')
      row[k] = v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
  }
  return row;
}

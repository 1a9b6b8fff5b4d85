import { Readable } from 'node:stream';
import mysql, {
  type Connection,
  type ConnectionOptions,
  type Pool,
  type PoolConnection,
} from 'mysql2/promise';
import { type DestinationConfig, describeDestination } from '../../config/destination.js';
import { TributaryError } from '../../core/errors.js';
import type {
  Capabilities,
  Destination,
  ExecResult,
  LiveTable,
  LockInfo,
  SchemaChange,
  SqlClient,
  SqlDialect,
  TentativeTables,
  Transaction,
} from '../types.js';
import { readMysqlCatalog, readMysqlTable } from './catalog.js';
import { mysqlChangeSql } from './ddl.js';
import { BINARY_COLLATIONS, mysqlDialect } from './dialect.js';
import { translateMysqlError } from './errors.js';
import { RunLocks } from './lock.js';
import { Session } from './session.js';
import { type Settings, settings } from './settings.js';
import { mysqlTentative } from './tentative.js';
import { mysqlWriter, type WriterOptions } from './write/index.js';

/** A parsed `mysql://` / `mariadb://` destination (see config/destination.ts). */
export type MysqlConfig = Extract<DestinationConfig, { kind: 'mysql' }>;

/**
 * Session settings on every connection. STRICT_ALL_TABLES: a bad value is an error, never a
 * silently truncated or zeroed one; NO_BACKSLASH_ESCAPES stays off, which the driver's
 * string escaping relies on. UTC so DATETIME values are stored as given.
 */
const SQL_MODE =
  'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
const SESSION_INIT = `SET time_zone = '+00:00', sql_mode = '${SQL_MODE}'`;
/** A read-only open (`ui`, `--dry-run`): the server refuses every write to a table in these sessions. */
const READ_ONLY = 'SET SESSION TRANSACTION READ ONLY';

/** A LOAD DATA the writer did not start asks for a file: refuse (never read local files). */
function refuseInfile(path: string): Readable {
  return new Readable({
    read() {
      this.destroy(new Error(`refused the server's request for local file ${JSON.stringify(path)}`));
    },
  });
}

/**
 * MySQL 8 / MariaDB 10.11 destination: a mysql2 pool for file transactions, DDL outside
 * them (MySQL DDL commits implicitly), rows through LOAD DATA LOCAL INFILE straight into
 * an empty table or into per-file staging tables, and run locks with GET_LOCK on dedicated
 * connections.
 *
 * Values come back exact: BIGINT as a number when it is a safe integer and as a string
 * otherwise, DECIMAL as a string, DATE/DATETIME as text in UTC, JSON as its text.
 */
export class MysqlDestination implements Destination {
  readonly description: string;
  /** Things an operator should know, each said once (e.g. the slower path without LOAD DATA). */
  readonly warnings: string[] = [];
  readonly #config: MysqlConfig;
  readonly #settings: Settings;
  readonly #secrets: readonly string[];
  #pool: Pool | undefined;
  #collation: string = BINARY_COLLATIONS[2];
  #dialect: SqlDialect = mysqlDialect();
  #bulk = false;
  #stagingEngines: readonly string[] = ['InnoDB'];
  /** The server is MariaDB (its VERSION() says so): see WriterOptions.sessionCounter. */
  #mariadb = false;
  readonly #ready = new WeakSet<object>();
  /** Opened read-only: every pooled session refuses writes (SET SESSION TRANSACTION READ ONLY). */
  #readOnly = false;
  #locks: RunLocks | undefined;

  constructor(config: MysqlConfig) {
    this.#config = config;
    this.#settings = settings(config.options);
    this.#secrets = config.password ? [config.password] : [];
    this.description = describeDestination(config);
  }

  get capabilities(): Capabilities {
    return {
      transactionalDdl: false,
      maxIdentifierLength: 64,
      bulkLoad: this.#bulk,
      maxConcurrentLoads: this.#settings.loads,
      remoteLoads: true,
      longTextInIndex: false,
      // Workers encode rows as LOAD DATA text; without LOAD DATA the writers bind values.
      ...(this.#bulk ? { rowFormat: 'tsv' as const } : {}),
    };
  }

  get dialect(): SqlDialect {
    return this.#dialect;
  }

  #options(database: string | undefined): ConnectionOptions {
    const c = this.#config;
    return {
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database,
      ssl: this.#settings.ssl,
      connectTimeout: this.#settings.connectTimeout,
      charset: 'utf8mb4',
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      dateStrings: true,
      jsonStrings: true,
      timezone: '+00:00',
      // Affected rows count changed rows (1 insert, 2 update, 0 unchanged): the writer's counts rely on it.
      flags: ['-FOUND_ROWS'],
      enableKeepAlive: true,
      infileStreamFactory: refuseInfile,
    };
  }

  #fail(err: unknown, what: string, connecting = false): unknown {
    return translateMysqlError(err, what, { secrets: this.#secrets, connecting });
  }

  absent = false;

  async open(options: { readOnly?: boolean } = {}): Promise<void> {
    if (this.#pool) return;
    const { database } = this.#config;
    let probe: Connection;
    try {
      probe = await mysql.createConnection(this.#options(undefined));
    } catch (err) {
      throw this.#fail(err, `connecting to ${this.description}`, true);
    }
    try {
      const [rows] = await probe.query(
        `SELECT @@local_infile AS local_infile, VERSION() AS version, (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${probe.escape(database)}) AS has_db`,
      );
      const info = (
        rows as Array<{ local_infile: number | string; version: string; has_db: number | string }>
      )[0];
      this.#mariadb = /mariadb/i.test(String(info?.version ?? ''));
      const [colls] = await probe.query(
        `SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (${BINARY_COLLATIONS.map((n) => `'${n}'`).join(', ')})`,
      );
      const names = new Set((colls as Array<{ name: string }>).map((r) => r.name));
      const [aria] = await probe.query(
        "SELECT 1 AS found FROM information_schema.ENGINES WHERE ENGINE = 'Aria' AND SUPPORT IN ('YES', 'DEFAULT')",
      );
      this.#stagingEngines = (aria as unknown[]).length > 0 ? ['Aria', 'InnoDB'] : ['InnoDB'];
      this.#collation = BINARY_COLLATIONS.find((n) => names.has(n)) ?? BINARY_COLLATIONS[2];
      this.#dialect = mysqlDialect(this.#collation);
      this.#readOnly = options.readOnly === true;
      if (Number(info?.has_db) === 0 && options.readOnly) {
        this.absent = true;
        return;
      }
      if (Number(info?.has_db) === 0) {
        if (!this.#settings.createDatabase) {
          throw new TributaryError(
            'DEST_CONNECT',
            `database ${database} does not exist on ${this.description} (createDatabase=false)`,
          );
        }
        const sql = `CREATE DATABASE IF NOT EXISTS ${this.#dialect.quote(database)} CHARACTER SET utf8mb4 COLLATE ${this.#collation}`;
        try {
          await probe.query(sql);
        } catch (err) {
          const e = this.#fail(err, sql, true) as Error;
          throw new TributaryError(
            'DEST_CONNECT',
            `database ${database} does not exist and could not be created: ${e.message}`,
            {
              cause: e,
            },
          );
        }
      }
      this.#bulk = this.#settings.localInfile && Number(info?.local_infile) === 1;
      if (!this.#bulk) {
        this.warnings.push(
          this.#settings.localInfile
            ? `${this.description}: local_infile is OFF on the server, so rows load with multi-row INSERTs (about half the speed of LOAD DATA); SET GLOBAL local_infile = 1 to enable the bulk path`
            : `${this.description}: localInfile=false, so rows load with multi-row INSERTs (about half the speed of LOAD DATA)`,
        );
      }
    } catch (err) {
      throw this.#fail(err, 'opening the destination', true);
    } finally {
      await probe.end().catch(() => probe.destroy());
    }
    this.#pool = mysql.createPool({
      ...this.#options(database),
      connectionLimit: this.#settings.loads + 1, // one beyond the loads for catalog and state queries
      waitForConnections: true,
      queueLimit: 0,
      maxIdle: this.#settings.loads + 1,
    });
    this.#locks = new RunLocks(
      async () => {
        try {
          return await mysql.createConnection(this.#options(database));
        } catch (err) {
          throw this.#fail(err, `connecting to ${this.description}`, true);
        }
      },
      database,
      this.#dialect.keyTextSql,
      this.#secrets,
      (pipeline) =>
        this.warnings.push(`the run lock of pipeline ${pipeline} was lost: its connection closed`),
    );
    // Fail here, not at the first query, when the user may not use the database.
    try {
      (await this.#acquire()).release();
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#locks?.unlockAll();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  /** A pooled connection with the session settings applied (once per physical connection). */
  async #acquire(): Promise<PoolConnection> {
    if (!this.#pool) throw new Error('MySQL destination is not open');
    let conn: PoolConnection;
    try {
      conn = await this.#pool.getConnection();
    } catch (err) {
      throw this.#fail(err, `connecting to ${this.description}`, true);
    }
    const core = (conn as unknown as { connection: object }).connection;
    if (!this.#ready.has(core)) {
      const init = this.#readOnly ? [SESSION_INIT, READ_ONLY] : [SESSION_INIT];
      for (const sql of init) {
        try {
          await conn.query(sql);
        } catch (err) {
          conn.destroy();
          throw this.#fail(err, sql);
        }
      }
      this.#ready.add(core);
    }
    return conn;
  }

  async #withSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    const conn = await this.#acquire();
    const session = new Session(conn, this.#secrets);
    try {
      return await fn(session);
    } finally {
      if (session.broken) conn.destroy();
      else conn.release();
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#withSession((s) => s.query<T>(sql, params));
  }

  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    return this.#withSession((s) => s.execute(sql, params));
  }

  insertRow(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.#withSession((s) => s.insertRow(sql, params));
  }

  readCatalog(db?: SqlClient): Promise<Map<string, LiveTable>> {
    return db ? readMysqlCatalog(db) : this.#withSession((s) => readMysqlCatalog(s));
  }

  readonly tentative: TentativeTables = mysqlTentative(
    (fn) => this.#withSession(fn),
    () => this.#collation,
  );

  /**
   * Each change is one DDL statement that commits on its own, so a crash between two leaves
   * a state the next run reads from the catalog and completes: CREATE TABLE IF NOT EXISTS,
   * ADD COLUMN only when the catalog lacks it, MODIFY COLUMN only when the type differs.
   */
  async applySchemaChanges(changes: readonly SchemaChange[], tx?: Transaction): Promise<void> {
    if (tx) throw new Error('MySQL DDL commits implicitly: apply schema changes outside the transaction');
    await this.#withSession(async (s) => {
      for (const change of changes) await this.#apply(s, change);
    });
  }

  async #apply(s: Session, change: SchemaChange): Promise<void> {
    const live = change.kind === 'create_table' ? undefined : await readMysqlTable(s, change.table);
    if (change.kind === 'add_column' && !live) {
      throw new TributaryError(
        'SCHEMA_CONFLICT',
        `cannot add ${change.table}.${change.column.name}: no such table`,
      );
    }
    if (change.kind === 'widen_column' && !live?.columns.some((c) => c.name === change.column)) {
      throw new TributaryError(
        'SCHEMA_CONFLICT',
        `cannot widen ${change.table}.${change.column}: no such column`,
      );
    }
    for (const sql of this.schemaChangeSql(change, live)) await s.execute(sql);
  }

  schemaChangeSql(change: SchemaChange, live: LiveTable | undefined): string[] {
    return mysqlChangeSql(change, live, this.#collation);
  }

  /**
   * One pooled connection, BEGIN … COMMIT. On failure an open LOAD DATA is ended first (it
   * holds the connection), then ROLLBACK; a connection that failed fatally is destroyed.
   * Staging tables are temporary tables of this connection, dropped before it is reused.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const conn = await this.#acquire();
    const session = new Session(conn, this.#secrets);
    try {
      await session.execute('START TRANSACTION');
    } catch (err) {
      if (session.broken) conn.destroy();
      else conn.release();
      throw err;
    }
    const options: WriterOptions = {
      bulk: this.#bulk,
      padSpace: this.#collation === 'utf8mb4_bin',
      stagingEngines: this.#stagingEngines,
      sessionCounter: this.#mariadb,
    };
    const tx: Transaction = {
      query: (sql, params) => session.query(sql, params),
      execute: (sql, params) => session.execute(sql, params),
      insertRow: (sql, params) => session.insertRow(sql, params),
      writer: (plan) => mysqlWriter(session, plan, options),
    };
    try {
      const result = await fn(tx);
      await session.flush();
      await session.execute('COMMIT');
      return result;
    } catch (err) {
      await session.abort();
      await session.execute('ROLLBACK').catch(() => {
        session.broken = true;
      });
      throw this.#fail(err, 'transaction');
    } finally {
      for (const name of session.temps) {
        if (session.broken) break;
        await session.execute(`DROP TEMPORARY TABLE IF EXISTS ${this.#dialect.quote(name)}`).catch(() => {
          session.broken = true;
        });
      }
      if (session.broken) conn.destroy();
      else conn.release();
    }
  }

  async tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined> {
    if (!this.#locks) throw new Error('MySQL destination is not open');
    return this.#locks.tryLock(pipeline, holder);
  }

  async unlock(pipeline: string): Promise<void> {
    await this.#locks?.unlock(pipeline);
  }

  lockLost(pipeline: string): boolean {
    return this.#locks?.lost(pipeline) ?? false;
  }

  async holdsLock(db: SqlClient, pipeline: string): Promise<boolean> {
    return (await this.#locks?.holds(db, pipeline)) ?? false;
  }

  /**
   * A helper index (transforms/materialize.ts `ensureBaseIndexes`), on its own pooled
   * connection: CREATE INDEX commits implicitly, so it must never run inside a file's
   * transaction. MySQL 8 has no CREATE INDEX IF NOT EXISTS: the catalog is asked first, and an
   * index created in between (ER_DUP_KEYNAME) counts as there.
   */
  async ensureIndex(table: string, name: string, columns: readonly string[]): Promise<void> {
    const q = this.#dialect.quote;
    await this.#withSession(async (s) => {
      const found = await s.query(
        'SELECT 1 AS found FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1',
        [table, name],
      );
      if (found.length > 0) return;
      try {
        await s.execute(`CREATE INDEX ${q(name)} ON ${q(table)} (${columns.map(q).join(', ')})`);
      } catch (err) {
        if ((err as { cause?: { errno?: number } }).cause?.errno !== 1061) throw err;
      }
    });
  }
}

import pg, { type Client, type ClientConfig, type Pool, type PoolClient } from 'pg';
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
  Transaction,
} from '../types.js';
import { readPostgresCatalog, readPostgresTable } from './catalog.js';
import { postgresChangeSql } from './ddl.js';
import { postgresDialect as d, MAX_IDENTIFIER_BYTES, q } from './dialect.js';
import { translatePgError } from './errors.js';
import { RunLocks } from './lock.js';
import { PgSession, runSql, typeParsers } from './session.js';
import { keepDependentViews } from './views.js';
import { postgresWriter } from './writer.js';

/** A parsed `postgres://` destination (see config/destination.ts). */
export type PostgresConfig = Extract<DestinationConfig, { kind: 'postgres' }>;

/** Options accepted after `?` in a postgres:// URL (besides `schema`, taken by the config). */
const OPTIONS = {
  schema: 'the schema of the pipeline’s tables (default public; created when missing)',
  connectionLimit: 'concurrent file loads, 1 to 32 (default 4); the pool holds one more connection',
  ssl: 'true | skip-verify | false (default false)',
  createDatabase: 'false to never create the database (default true)',
  connectTimeout: 'milliseconds (default 10000)',
} as const;

interface Settings {
  loads: number;
  ssl: ClientConfig['ssl'];
  createDatabase: boolean;
  connectTimeout: number;
}

function settings(options: Record<string, string>): Settings {
  for (const key of Object.keys(options)) {
    if (!(key in OPTIONS) || key === 'schema') {
      const known = Object.entries(OPTIONS)
        .map(([k, v]) => `${k} (${v})`)
        .join('; ');
      throw new TributaryError(
        'CONFIG_INVALID',
        `destination option "${key}" is unknown; known options: ${known}`,
      );
    }
  }
  const bad = (key: keyof typeof OPTIONS, raw: string) =>
    new TributaryError('CONFIG_INVALID', `destination option ${key}=${raw}: expected ${OPTIONS[key]}`);
  const int = (key: keyof typeof OPTIONS, def: number, min: number, max: number) => {
    const raw = options[key];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw bad(key, raw);
    return n;
  };
  const create = options.createDatabase;
  if (create !== undefined && create !== 'true' && create !== 'false') throw bad('createDatabase', create);
  const ssl = options.ssl;
  if (ssl !== undefined && !['true', 'false', 'skip-verify'].includes(ssl)) throw bad('ssl', ssl);
  return {
    loads: int('connectionLimit', 4, 1, 32),
    ssl:
      ssl === 'true'
        ? { rejectUnauthorized: true }
        : ssl === 'skip-verify'
          ? { rejectUnauthorized: false }
          : undefined,
    createDatabase: create !== 'false',
    connectTimeout: int('connectTimeout', 10_000, 100, 600_000),
  };
}

/** A value for the `options` startup parameter: spaces and backslashes escaped with a backslash. */
const startupValue = (v: string) => v.replace(/[\\ ]/g, (c) => `\\${c}`);

/**
 * PostgreSQL destination (15 is the reference): a pg pool for file transactions, DDL inside
 * them (PostgreSQL's DDL is transactional: the SQLite path, no tentative tables), rows through
 * `COPY … FROM STDIN` straight into an empty table or into per-file staging tables, and run
 * locks with session-level advisory locks on dedicated connections. The pipeline's tables live
 * in one schema (`?schema=`, default public), the search_path of every connection.
 *
 * Values come back exact: BIGINT as a number when it is a safe integer and as a string
 * otherwise, NUMERIC as a string, DATE/TIMESTAMPTZ as text in UTC, JSONB as its compact text,
 * BOOLEAN as true/false (session.ts typeParsers).
 */
export class PostgresDestination implements Destination {
  readonly description: string;
  readonly dialect = d;
  readonly warnings: string[] = [];
  readonly #config: PostgresConfig;
  readonly #settings: Settings;
  readonly #secrets: readonly string[];
  #pool: Pool | undefined;
  #locks: RunLocks | undefined;
  /**
   * Pooled connections this destination listens to, with the error a connection met between
   * two statements (undefined until it does).
   */
  readonly #listening = new WeakMap<PoolClient, { error?: unknown }>();
  absent = false;

  constructor(config: PostgresConfig) {
    this.#config = config;
    this.#settings = settings(config.options);
    this.#secrets = config.password ? [config.password] : [];
    this.description = describeDestination(config);
  }

  get capabilities(): Capabilities {
    return {
      transactionalDdl: true,
      maxIdentifierLength: MAX_IDENTIFIER_BYTES,
      bulkLoad: true,
      maxConcurrentLoads: this.#settings.loads,
      remoteLoads: true,
      longTextInIndex: true,
      rowFormat: 'tsv',
    };
  }

  /**
   * Connection settings. Every session runs in UTC (TIMESTAMPTZ text in and out is UTC) with the
   * pipeline's schema as its search_path, so state tables, models and staging need no schema
   * prefix; temporary tables stay in the session's own pg_temp schema. What the SQL text and
   * the values assume is pinned too, whatever the server, database or role sets (the startup
   * options win over `ALTER DATABASE/ROLE … SET`): `standard_conforming_strings` on (a
   * backslash in a '…' literal is itself: `lit`, the catalog's LIKE … ESCAPE '\'), and
   * `client_encoding` UTF8 (pg writes and reads UTF-8; a server converting to another client
   * encoding would garble every non-ASCII character; pg's startup message asks for UTF8 too,
   * the option says so here rather than leave it to the driver).
   */
  #clientConfig(database: string, withSchema = true, readOnly = false): ClientConfig {
    const c = this.#config;
    const options = [
      '-c TimeZone=UTC',
      '-c DateStyle=ISO,YMD',
      '-c IntervalStyle=postgres',
      '-c standard_conforming_strings=on',
      '-c client_encoding=UTF8',
    ];
    if (withSchema) options.push(`-c search_path=${startupValue(q(c.schema))}`);
    // A read-only open (`ui`, `--dry-run`): every transaction of the session refuses writes.
    if (readOnly) options.push('-c default_transaction_read_only=on');
    return {
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database,
      ssl: this.#settings.ssl,
      connectionTimeoutMillis: this.#settings.connectTimeout,
      keepAlive: true,
      application_name: 'tributary',
      options: options.join(' '),
      types: typeParsers,
    };
  }

  #fail(err: unknown, what: string, connecting = false): unknown {
    return translatePgError(err, what, { secrets: this.#secrets, connecting });
  }

  async #connect(database: string, withSchema = true): Promise<Client> {
    const client = new pg.Client(this.#clientConfig(database, withSchema));
    client.on('error', () => undefined); // reported by the query that meets it
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  async open(options: { readOnly?: boolean } = {}): Promise<void> {
    if (this.#pool) return;
    const { database, schema } = this.#config;
    let probe: Client;
    try {
      probe = await this.#connect(database, false);
    } catch (err) {
      if ((err as { code?: string }).code !== '3D000')
        throw this.#fail(err, `connecting to ${this.description}`, true);
      if (options.readOnly) {
        this.absent = true;
        return;
      }
      await this.#createDatabase();
      try {
        probe = await this.#connect(database, false);
      } catch (again) {
        throw this.#fail(again, `connecting to ${this.description}`, true);
      }
    }
    try {
      await this.#checkEncoding(probe);
      const found = await runSql(probe, 'SELECT 1 AS found FROM pg_namespace WHERE nspname = ?', [schema]);
      if (found.rows.length === 0) {
        if (options.readOnly) {
          this.absent = true;
          return;
        }
        await runSql(probe, `CREATE SCHEMA IF NOT EXISTS ${q(schema)}`).catch((err: { code?: string }) => {
          if (err.code !== '23505' && err.code !== '42P06') throw err; // made by another process meanwhile
        });
      }
    } catch (err) {
      throw this.#fail(err, 'opening the destination', true);
    } finally {
      await probe.end().catch(() => undefined);
    }
    const pool = new pg.Pool({
      ...this.#clientConfig(database, true, options.readOnly === true),
      max: this.#settings.loads + 1, // one beyond the loads for catalog and state queries
      idleTimeoutMillis: 30_000,
    });
    // An idle pooled connection that dies (a server restart) is dropped by the pool; the
    // error must not reach the process as an unhandled 'error' event.
    pool.on('error', () => undefined);
    this.#pool = pool;
    this.#locks = new RunLocks(
      async () => {
        try {
          return await this.#connect(database);
        } catch (err) {
          throw this.#fail(err, `connecting to ${this.description}`, true);
        }
      },
      database,
      schema,
      this.#secrets,
      (pipeline) =>
        this.warnings.push(`the run lock of pipeline ${pipeline} was lost: its connection closed`),
    );
  }

  /**
   * The database must store text as UTF-8: the sessions speak UTF-8 (client_encoding), and a
   * database of another encoding would convert every value to it — refusing the characters it
   * lacks (a file failing on its first `€` in LATIN1) or, as SQL_ASCII, storing bytes unchecked
   * and comparing them as bytes. Checked as the destination opens, before anything is created
   * or read, so that such a database fails at once with what to do, not later mid-load.
   */
  async #checkEncoding(probe: Client): Promise<void> {
    const { rows } = await runSql(
      probe,
      'SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = current_database()',
    );
    const encoding = String((rows[0] as { enc?: unknown } | undefined)?.enc ?? '');
    if (encoding === 'UTF8') return;
    const { database } = this.#config;
    throw new TributaryError(
      'DEST_CONNECT',
      `database ${database} on ${this.description} stores text as ${encoding}, not UTF8: Tributary loads text as UTF-8, which it would convert or refuse; use a UTF8 database (CREATE DATABASE ${q(database)} ENCODING 'UTF8' TEMPLATE template0, or let Tributary create a missing one)`,
    );
  }

  /** CREATE DATABASE from the maintenance database `postgres`, UTF8 whatever the server's default. */
  async #createDatabase(): Promise<void> {
    const { database } = this.#config;
    if (!this.#settings.createDatabase) {
      throw new TributaryError(
        'DEST_CONNECT',
        `database ${database} does not exist on ${this.description} (createDatabase=false)`,
      );
    }
    const sql = `CREATE DATABASE ${q(database)} ENCODING 'UTF8' TEMPLATE template0`;
    let admin: Client;
    try {
      admin = await this.#connect('postgres', false);
    } catch (err) {
      throw this.#fail(err, `connecting to ${this.description} to create the database`, true);
    }
    try {
      await admin.query(sql);
    } catch (err) {
      if ((err as { code?: string }).code !== '42P04') {
        // 42P04: created by another process meanwhile
        const e = this.#fail(err, sql, true) as Error;
        throw new TributaryError(
          'DEST_CONNECT',
          `database ${database} does not exist and could not be created: ${e.message}`,
          { cause: e },
        );
      }
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#locks?.unlockAll();
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end();
  }

  get #open(): Pool {
    if (!this.#pool) throw new Error('PostgreSQL destination is not open');
    return this.#pool;
  }

  async #acquire(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await this.#open.connect();
    } catch (err) {
      throw this.#fail(err, `connecting to ${this.description}`, true);
    }
    // A checked-out connection that dies between two statements emits 'error' on the client
    // (the pool listens only while it is idle) with the server's reason (57P01 for a
    // terminated backend); the next statement only gets pg's "not queryable", and reports the
    // reason kept here instead (PgSession).
    if (!this.#listening.has(client)) {
      const state: { error?: unknown } = {};
      client.on('error', (err) => {
        state.error ??= err;
      });
      this.#listening.set(client, state);
    }
    return client;
  }

  /** One statement on a pooled connection (autocommit); a connection that failed fatally is destroyed. */
  async #once<T>(fn: (s: PgSession) => Promise<T>): Promise<T> {
    const client = await this.#acquire();
    const session = new PgSession(client, this.#secrets, () => this.#listening.get(client)?.error);
    try {
      return await fn(session);
    } finally {
      client.release(session.broken);
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#once((s) => s.query<T>(sql, params));
  }

  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    return this.#once((s) => s.execute(sql, params));
  }

  insertRow(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.#once((s) => s.insertRow(sql, params));
  }

  readCatalog(db?: SqlClient): Promise<Map<string, LiveTable>> {
    return readPostgresCatalog(db ?? this, this.#config.schema);
  }

  /**
   * With `tx`, inside the file's transaction (PostgreSQL's DDL is transactional: a failed file
   * leaves no half-made table); without, in a transaction of their own. The live table is read
   * on the same connection, so a change sees the ones before it. A widened column's table keeps
   * the views that read it (views.ts): they are dropped before the ALTER and made again after.
   */
  async applySchemaChanges(changes: readonly SchemaChange[], tx?: Transaction): Promise<void> {
    const apply = async (db: SqlClient) => {
      for (const change of changes) {
        const live =
          change.kind === 'create_table'
            ? undefined
            : await readPostgresTable(db, this.#config.schema, change.table);
        if (change.kind !== 'create_table' && !live) {
          throw new TributaryError('SCHEMA_CONFLICT', `cannot change ${change.table}: no such table`);
        }
        const statements = postgresChangeSql(change, live);
        const run = async () => {
          for (const sql of statements) await db.execute(sql);
        };
        // ALTER … TYPE of a column a view reads is refused (0A000): the views go and come back.
        if (change.kind === 'widen_column' && statements.length > 0)
          await keepDependentViews(db, change.table, run);
        else await run();
      }
    };
    if (tx) await apply(tx);
    else await this.transaction(apply);
  }

  keepDependentViews<T>(
    db: SqlClient,
    relation: string,
    change: () => Promise<T>,
    current?: (view: string) => string | undefined,
  ): Promise<T> {
    return keepDependentViews(db, relation, change, current);
  }

  schemaChangeSql(change: SchemaChange, live: LiveTable | undefined): string[] {
    return postgresChangeSql(change, live);
  }

  /**
   * One pooled connection, BEGIN … COMMIT. On failure an open COPY is abandoned first (it
   * holds the connection), then ROLLBACK; a connection that failed fatally is destroyed.
   * Staging tables are `ON COMMIT DROP`: they go with the transaction.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.#acquire();
    const session = new PgSession(client, this.#secrets, () => this.#listening.get(client)?.error);
    try {
      await session.execute('BEGIN');
    } catch (err) {
      client.release(true);
      throw err;
    }
    const tx: Transaction = {
      query: (sql, params) => session.query(sql, params),
      execute: (sql, params) => session.execute(sql, params),
      insertRow: (sql, params) => session.insertRow(sql, params),
      writer: (plan) => postgresWriter(session, plan),
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
      client.release(session.broken);
    }
  }

  async tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined> {
    if (!this.#locks) throw new Error('PostgreSQL destination is not open');
    return this.#locks.tryLock(pipeline, holder);
  }

  async unlock(pipeline: string): Promise<void> {
    await this.#locks?.unlock(pipeline);
  }

  lockLost(pipeline: string): boolean {
    return this.#locks?.lost(pipeline) ?? false;
  }

  async holdsLock(_db: SqlClient, pipeline: string): Promise<boolean> {
    return (await this.#locks?.holds(pipeline)) ?? false;
  }

  /**
   * A helper index (transforms/materialize.ts `ensureBaseIndexes`, the state tables' indexes),
   * on its own pooled connection: CREATE INDEX IF NOT EXISTS; one created by another session
   * at the same moment counts as there. An index already there is found in the catalog first:
   * CREATE INDEX takes its table's SHARE lock before it looks for the name, so it would wait
   * for a running run's open transaction (a second run, which must say at once that the
   * pipeline is locked, would hang until the first one ends).
   */
  async ensureIndex(table: string, name: string, columns: readonly string[]): Promise<void> {
    const found = await this.query('SELECT to_regclass($1) IS NOT NULL AS found', [q(name)]);
    if (found[0]?.found === true) return;
    try {
      await this.execute(
        `CREATE INDEX IF NOT EXISTS ${q(name)} ON ${q(table)} (${columns.map(q).join(', ')})`,
      );
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code !== '23505' && code !== '42P07') throw err;
    }
  }
}

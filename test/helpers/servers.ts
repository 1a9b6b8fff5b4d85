import type { Capabilities } from '../../src/destinations/types.js';
import type { Dialect } from './dialects.js';
import { MYSQL_TEST_URL, mysqlAdmin, mysqlAvailable } from './mysql.js';
import { POSTGRES_TEST_URL, postgresAdmin, postgresAvailable } from './postgres.js';

/**
 * The database servers under test, for suites that run one body on each
 * (test/destinations/destination.test.ts): what differs between them is said here once —
 * how an administrator asks the server things, kills a session, makes a user — so that the
 * tests themselves read the same for every server.
 */
export type ServerDialect = Exclude<Dialect, 'sqlite'>;

export interface ServerKit {
  dialect: ServerDialect;
  /** The server's URL without a database. */
  baseUrl: string;
  /** The URL of a closed port, a password in it. */
  refusedUrl: string;
  /** What `open()` of a new database reports. */
  capabilities: Capabilities;
  /** Run as the administrator (in `database`, else the default one); rows as plain objects. */
  admin(sql: string, params?: unknown[], database?: string): Promise<Array<Record<string, unknown>>>;
  /** What {@link databaseEncoding} says of a database the destination created. */
  encoding: RegExp;
  /** The character set (and collation) a database was created with; undefined when there is none. */
  databaseEncoding(name: string): Promise<string | undefined>;
  /** The id of the session a statement runs in: `SELECT … AS id`. */
  sessionIdSql: string;
  /** End session `id` from outside, as a crash or an operator would. */
  kill(id: unknown): Promise<void>;
  /** The column of `_tributary_locks` naming the session that holds a run lock. */
  lockSessionColumn: string;
  /** A statement that makes the transaction wait for a row lock briefly, and the error then. */
  shortLockWait: string;
  lockWaitError: RegExp;
  deadlockError: RegExp;
  /** The error of a statement naming a table that does not exist. */
  missingTableError: RegExp;
  /** A login `user` with `password`, allowed to use `database` (but not to create databases). */
  createUser(user: string, password: string, database: string): Promise<void>;
  dropUser(user: string): Promise<void>;
  /**
   * Whether a direct load's repeated key is thrown by `finish` (MySQL: LOAD DATA skips and
   * counts the duplicates) or by whichever statement ends the bulk copy (PostgreSQL's COPY
   * fails at its end; the runner catches it from the whole transaction either way).
   */
  conflictAtFinish: boolean;
  /** URL options that take another write path: [name, options]. */
  variants: Array<[string, string]>;
}

const mariadb: ServerKit = {
  dialect: 'mariadb',
  baseUrl: MYSQL_TEST_URL,
  refusedUrl: 'mysql://root:pw-not-shown@127.0.0.1:1/x',
  capabilities: {
    transactionalDdl: false,
    maxIdentifierLength: 64,
    bulkLoad: true,
    maxConcurrentLoads: 4,
    remoteLoads: true,
    rowFormat: 'tsv',
  },
  encoding: /^utf8mb4 utf8mb4_(nopad_bin|0900_bin|bin)$/,
  async admin(sql, params, database) {
    const c = await mysqlAdmin(database);
    try {
      const [rows] = await c.query(sql, params);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    } finally {
      await c.end();
    }
  },
  async databaseEncoding(name) {
    const [row] = await mariadb.admin(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS coll FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [name],
    );
    return row ? `${row.cs} ${row.coll}` : undefined;
  },
  sessionIdSql: 'SELECT CONNECTION_ID() AS id',
  async kill(id) {
    await mariadb.admin(`KILL CONNECTION ${Number(id)}`);
  },
  lockSessionColumn: 'connection_id',
  shortLockWait: 'SET SESSION innodb_lock_wait_timeout = 1',
  lockWaitError: /1205/,
  deadlockError: /1213/,
  missingTableError: /MySQL ER_NO_SUCH_TABLE 1146/,
  async createUser(user, password, database) {
    await mariadb.admin(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    await mariadb.admin(`GRANT ALL ON \`${database}\`.* TO '${user}'@'%'`);
  },
  async dropUser(user) {
    await mariadb.admin(`DROP USER IF EXISTS '${user}'@'%'`);
  },
  conflictAtFinish: true,
  variants: [['INSERT path', 'localInfile=false']],
};

const postgres: ServerKit = {
  dialect: 'postgres',
  baseUrl: POSTGRES_TEST_URL,
  refusedUrl: 'postgres://u:pw-not-shown@127.0.0.1:1/x',
  capabilities: {
    transactionalDdl: true,
    maxIdentifierLength: 63,
    bulkLoad: true,
    maxConcurrentLoads: 4,
    remoteLoads: true,
    rowFormat: 'tsv',
  },
  encoding: /^UTF8$/,
  async admin(sql, params, database) {
    const c = await postgresAdmin(database);
    try {
      let n = 0;
      return (
        await c.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows;
    } finally {
      await c.end();
    }
  },
  async databaseEncoding(name) {
    const [row] = await postgres.admin(
      'SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = ?',
      [name],
    );
    return row ? String(row.enc) : undefined;
  },
  sessionIdSql: 'SELECT pg_backend_pid() AS id',
  async kill(id) {
    await postgres.admin('SELECT pg_terminate_backend(?)', [id]);
  },
  lockSessionColumn: 'pid',
  shortLockWait: "SET LOCAL lock_timeout = '200ms'",
  lockWaitError: /55P03/,
  deadlockError: /40P01/,
  missingTableError: /PostgreSQL 42P01/,
  async createUser(user, password) {
    await postgres.admin(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
  },
  async dropUser(user) {
    await postgres.admin(`DROP ROLE IF EXISTS ${user}`);
  },
  conflictAtFinish: false,
  variants: [],
};

export const SERVERS: Record<ServerDialect, ServerKit> = { mariadb, postgres };

/**
 * Whether a selected dialect can be tested: SQLite always; a server when it answers. Under
 * `CI=true` an unreachable server throws (test/helpers/mysql.ts): a failure, never a skip.
 */
export async function reachable(dialect: Dialect): Promise<boolean> {
  if (dialect === 'sqlite') return true;
  return dialect === 'postgres' ? postgresAvailable() : mysqlAvailable();
}

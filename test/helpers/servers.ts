import type { Capabilities } from '../../src/destinations/types.js';
import { DIALECTS, type Dialect } from './dialects.js';

/**
 * A database server under test, for the suite that runs one body on each
 * (test/destinations/suite.ts): what differs between servers — how an administrator asks the
 * server things, kills a session, makes a user, which error a lock wait gives — each server's
 * test file says once, as its kit (mysql.test.ts, postgres.test.ts), so that the tests
 * themselves read the same for every server.
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

/**
 * Whether the suites test `dialect`: selected by `TRIBUTARY_TEST_DIALECTS`, and for a server,
 * reachable. Under `CI=true` a selected server that does not answer throws (test/helpers/mysql.ts):
 * a failure, never a skip. Awaited at a test file's top level.
 */
export async function testable(dialect: Dialect): Promise<boolean> {
  if (!DIALECTS.includes(dialect)) return false;
  if (dialect === 'sqlite') return true;
  // Each driver loaded only where its server is tested.
  if (dialect === 'postgres') return (await import('./postgres.js')).postgresAvailable();
  return (await import('./mysql.js')).mysqlAvailable();
}

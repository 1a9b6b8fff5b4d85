import { randomBytes } from 'node:crypto';
import mysql, { type Connection } from 'mysql2/promise';

/**
 * The test server: `TRIBUTARY_TEST_MYSQL_URL` (no database in the path), by default the
 * local MariaDB as root without a password.
 */
export const MYSQL_TEST_URL = (process.env.TRIBUTARY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(
  /\/+$/,
  '',
);

const inCI = () => process.env.CI === 'true' || process.env.CI === '1';

function server(): { host: string; port: number; user: string; password: string } {
  const u = new URL(MYSQL_TEST_URL.replace(/^mariadb:/, 'mysql:'));
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
  };
}

const masked = () => MYSQL_TEST_URL.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');

let availability: Promise<boolean> | undefined;

/**
 * Whether the test server answers. Under `CI=true` an unreachable server throws: a missing
 * service is a failure there, never a silent skip. Elsewhere it resolves false once, with a
 * message saying why the MySQL tests are skipped.
 */
export function mysqlAvailable(): Promise<boolean> {
  availability ??= (async () => {
    try {
      const conn = await mysql.createConnection({ ...server(), connectTimeout: 3000 });
      await conn.query('SELECT 1');
      await conn.end();
      return true;
    } catch (err) {
      const why = `MySQL/MariaDB is not reachable at ${masked()}: ${(err as Error).message}`;
      if (inCI())
        throw new Error(
          `${why}. CI=true: a missing database service fails the run instead of skipping tests.`,
        );
      console.warn(
        `${why}. Skipping the MySQL tests (set TRIBUTARY_TEST_MYSQL_URL, or CI=true to fail instead).`,
      );
      return false;
    }
  })();
  return availability;
}

/** A raw mysql2 connection to the test server, for assertions and fault injection (caller ends it). */
export async function mysqlAdmin(database?: string): Promise<Connection> {
  return mysql.createConnection({
    ...server(),
    database,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    charset: 'utf8mb4',
  });
}

/**
 * A new empty database `trib_test_<random>` on the test server (`create: false`: only its
 * name, for the destination to create on open), with its `mysql://` URL and a `drop()` that
 * removes it. Throws when the server is unreachable (after `mysqlAvailable()` decided whether
 * that is a skip or a failure).
 */
export async function freshMysqlDatabase(
  opts: { create?: boolean } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!(await mysqlAvailable())) throw new Error(`MySQL/MariaDB is not reachable at ${masked()}`);
  const name = `trib_test_${randomBytes(6).toString('hex')}`;
  if (opts.create !== false) {
    const admin = await mysqlAdmin();
    try {
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
    } finally {
      await admin.end();
    }
  }
  return {
    url: `${MYSQL_TEST_URL}/${name}`,
    name,
    async drop() {
      const c = await mysqlAdmin();
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

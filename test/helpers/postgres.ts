import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The test server: `TRIBUTARY_TEST_POSTGRES_URL` (no database in the path), by default the
 * local PostgreSQL as `postgres` with trust authentication.
 */
export const POSTGRES_TEST_URL = (
  process.env.TRIBUTARY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432'
).replace(/\/+$/, '');

const inCI = () => process.env.CI === 'true' || process.env.CI === '1';

function server(url: string = POSTGRES_TEST_URL): {
  host: string;
  port: number;
  user: string;
  password: string;
} {
  const u = new URL(url.replace(/^postgresql:/, 'postgres:'));
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
  };
}

const masked = () => POSTGRES_TEST_URL.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');

let availability: Promise<boolean> | undefined;

/**
 * Whether the test server answers. Under `CI=true` an unreachable server throws: a missing
 * service is a failure there, never a silent skip. Elsewhere it resolves false once, with a
 * message saying why the PostgreSQL tests are skipped.
 */
export function postgresAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const client = new pg.Client({ ...server(), database: 'postgres', connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (err) {
      const why = `PostgreSQL is not reachable at ${masked()}: ${(err as Error).message}`;
      if (inCI())
        throw new Error(
          `${why}. CI=true: a missing database service fails the run instead of skipping tests.`,
        );
      console.warn(
        `${why}. Skipping the PostgreSQL tests (set TRIBUTARY_TEST_POSTGRES_URL, or CI=true to fail instead).`,
      );
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return availability;
}

/**
 * A raw pg client to the test server (or the server `serverUrl`, without a database: a private
 * one, test/faults/postgres-server.ts), for assertions and fault injection (caller ends it).
 */
export async function postgresAdmin(database = 'postgres', serverUrl?: string): Promise<pg.Client> {
  const client = new pg.Client({ ...server(serverUrl), database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * A new database `trib_pgtest_<random>` on the test server (with `create: false` only its
 * name: the destination creates it on open), with its `postgres://` URL and a `drop()` that
 * removes it. Throws when the server is unreachable (after `postgresAvailable()` decided
 * whether that is a skip or a failure). `serverUrl`: on that server instead (a private one).
 */
export async function freshPostgresDatabase(
  opts: { create?: boolean; serverUrl?: string } = {},
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const base = (opts.serverUrl ?? POSTGRES_TEST_URL).replace(/\/+$/, '');
  if (opts.serverUrl === undefined && !(await postgresAvailable()))
    throw new Error(`PostgreSQL is not reachable at ${masked()}`);
  const name = `trib_pgtest_${randomBytes(6).toString('hex')}`;
  if (opts.create !== false) {
    const admin = await postgresAdmin('postgres', opts.serverUrl);
    try {
      await admin.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
    } finally {
      await admin.end();
    }
  }
  return {
    url: `${base}/${name}`,
    name,
    async drop() {
      const c = await postgresAdmin('postgres', opts.serverUrl);
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Faults before any data moves: an unreachable database, a wrong password, an unknown user,
 * a database or schema that is missing (PostgreSQL creates them, or says why it cannot), a
 * destination URL that is not one, a config key that is missing or names an unset variable.
 * Each gives a one-line reason on stderr (no stack trace, never the password), its documented
 * exit code (2: config, 4: destination), and touches nothing it should not.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translatePgError } from '../../src/destinations/postgres/errors.js';
import { freshMysqlDatabase, mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';
import { freshPostgresDatabase, postgresAdmin, postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { describeExit, tributary } from './cli.js';
import { PrivatePostgres, privatePostgresSupported } from './postgres-server.js';

const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;
/** A private PostgreSQL cluster with password authentication (the shared server trusts every local connection). */
const noPrivatePostgres = DIALECTS.includes('postgres')
  ? privatePostgresSupported()
  : 'postgres not selected';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-startup-'));
  fs.mkdirSync(path.join(dir, 'in'));
  fs.writeFileSync(path.join(dir, 'in', 'a.csv'), 'id,v\n1,a\n');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const SOURCES = 'sources:\n  - table: t\n    files: "in/*.csv"\n';
function config(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** stderr is one `tributary: …` line, without a stack trace. */
function expectOneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('tributary: '))).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines.find((l) => l.startsWith('tributary: ')) as string;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

describe('startup faults', () => {
  it.each([
    ['mysql', 'root'],
    ['postgres', 'postgres'],
  ])('an unreachable database (%s): exit 4, one line naming the destination', async (scheme, user) => {
    const port = await closedPort();
    const c = config(
      `unreachable-${scheme}.yaml`,
      `pipeline: p\ndestination: ${scheme}://${user}@127.0.0.1:${port}/db\n${SOURCES}`,
    );
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(4);
    expect(expectOneLine(x.stderr)).toMatch(
      new RegExp(`ECONNREFUSED.*connecting to ${scheme}://${user}@127.0.0.1:${port}/db`),
    );
  });

  it.each([
    [
      'postgres://u:S3cret-Pw@127.0.0.1:5432',
      /no database name in "postgres:\/\/u:\*\*\*@127\.0\.0\.1:5432" \(expected one after the port, as in postgres:\/\/host:5432\/db\)/,
    ],
    [
      'postgresql://u:S3cret-Pw@127.0.0.1:notaport/db',
      /not a valid URL: "postgresql:\/\/u:\*\*\*@127\.0\.0\.1:notaport\/db"/,
    ],
    ['postgres://u:S3cret-Pw@127.0.0.1:5432/db?schema=', /empty \?schema= in "postgres:\/\/u:\*\*\*@/],
    [
      'postgres://u:S3cret-Pw@127.0.0.1:5432/db?sslmode=require',
      /destination option "sslmode" is unknown; known options: schema .*connectTimeout/,
    ],
    [
      'mysql://u:S3cret-Pw@127.0.0.1:3306/',
      /no database name in "mysql:\/\/u:\*\*\*@127\.0\.0\.1:3306\/" \(expected one after the port, as in mysql:\/\/host:3306\/db\)/,
    ],
  ])(
    'a destination URL that is not one (%s): exit 2, the reason, never the password, nothing created',
    async (url, reason) => {
      const c = config('badurl.yaml', `pipeline: p\ndestination: ${url}\n${SOURCES}`);
      const x = await tributary(['run', '-c', c]);
      expect(x.code, describeExit(x)).toBe(2);
      expect(x.stderr).toMatch(reason);
      expect(x.stderr).not.toMatch(/\n\s+at /);
      expect(x.stdout + x.stderr).not.toContain('S3cret-Pw');
    },
  );

  it.skipIf(!mariadb)(
    'a wrong password: exit 4, one line, the password nowhere, no database created',
    async () => {
      const admin = await mysqlAdmin();
      const db = await freshMysqlDatabase(); // only for a unique name
      await db.drop();
      const user = `trib_pw_${db.name.slice(-6)}`;
      await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'the-right-one'`);
      await admin.query(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`);
      try {
        const c = config(
          'password.yaml',
          `pipeline: p\ndestination: mysql://${user}:S3cret-Wrong@127.0.0.1:3306/${db.name}\n${SOURCES}`,
        );
        const x = await tributary(['run', '-c', c]);
        expect(x.code, describeExit(x)).toBe(4);
        expect(expectOneLine(x.stderr)).toMatch(/1045.*Access denied/);
        expect(x.stdout + x.stderr).not.toContain('S3cret-Wrong');
        const [rows] = await admin.query(
          'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
          [db.name],
        );
        expect(rows).toEqual([]);
      } finally {
        await admin.query(`DROP USER '${user}'@'%'`);
        await admin.end();
      }
    },
  );

  it('a destination from an unset variable: exit 2, the key and the variable named, nothing created', async () => {
    const c = config('env.yaml', `pipeline: p\ndestination: \${TRIB_TEST_UNSET_DB}\n${SOURCES}`);
    const x = await tributary(['run', '-c', c], { env: { TRIB_TEST_UNSET_DB: undefined } });
    expect(x.code, describeExit(x)).toBe(2);
    expect(x.stderr).toMatch(/destination: environment variable \$\{TRIB_TEST_UNSET_DB\} is not set/);
    expect(x.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, '.tributary'))).toBe(false);
  });

  it('a missing required key: exit 2, the key named, nothing created', async () => {
    const c = config('nosources.yaml', 'pipeline: p\ndestination: sqlite:.tributary/p.db\n');
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(2);
    expect(x.stderr).toMatch(/sources: got nothing/);
    expect(x.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(path.join(dir, '.tributary'))).toBe(false);
  });
});

/**
 * PostgreSQL before any data moves. A missing database is created (UTF8), and so is the
 * schema `?schema=` names — or the reason it cannot be is given in one line. A wrong password
 * needs a server that asks for one: a private cluster with scram-sha-256 (postgres-server.ts).
 */
describe.skipIf(!postgres)('startup faults on PostgreSQL', () => {
  const roles: string[] = [];
  const drops: Array<() => Promise<void>> = [];
  let server: PrivatePostgres | undefined;
  beforeAll(async () => {
    if (noPrivatePostgres === undefined) server = await PrivatePostgres.create({ password: 'Right-Pw-4711' });
  }, 60_000);
  afterAll(async () => {
    for (const drop of drops) await drop();
    const admin = await postgresAdmin();
    try {
      for (const r of roles) await admin.query(`DROP ROLE IF EXISTS ${r}`);
    } finally {
      await admin.end();
    }
    await server?.destroy();
  });

  /** A database name nobody has (dropped at the end, in case a test created it). */
  const freshName = async () => {
    const db = await freshPostgresDatabase({ create: false });
    drops.push(db.drop);
    return db;
  };
  const exists = async (name: string) => {
    const admin = await postgresAdmin();
    try {
      return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rows.length > 0;
    } finally {
      await admin.end();
    }
  };
  const role = async (suffix: string) => {
    const name = `trib_role_${suffix}_${Math.random().toString(16).slice(2, 8)}`;
    const admin = await postgresAdmin();
    try {
      await admin.query(`CREATE ROLE ${name} LOGIN`); // no CREATEDB, no superuser
    } finally {
      await admin.end();
    }
    roles.push(name);
    return name;
  };

  it.skipIf(noPrivatePostgres !== undefined)(
    'a wrong password: exit 4, one line (28P01), the password nowhere, no database created',
    async () => {
      const s = server as PrivatePostgres;
      const c = config(
        'pg-password.yaml',
        `pipeline: p\ndestination: postgres://postgres:S3cret-Wrong@127.0.0.1:${s.port}/trib_pw\n${SOURCES}`,
      );
      const x = await tributary(['run', '-c', c]);
      expect(x.code, describeExit(x)).toBe(4);
      expect(expectOneLine(x.stderr)).toMatch(
        new RegExp(
          `28P01: password authentication failed for user "postgres" \\(in: connecting to postgres://postgres:\\*\\*\\*@127.0.0.1:${s.port}/trib_pw\\)`,
        ),
      );
      expect(x.stdout + x.stderr).not.toContain('S3cret-Wrong');
      // The same from TRIBUTARY_DB_PASSWORD, the way a password stays out of the config.
      const e = config(
        'pg-password-env.yaml',
        `pipeline: p\ndestination: postgres://postgres@127.0.0.1:${s.port}/trib_pw\n${SOURCES}`,
      );
      const y = await tributary(['run', '-c', e], { env: { TRIBUTARY_DB_PASSWORD: 'S3cret-Wrong' } });
      expect(y.code, describeExit(y)).toBe(4);
      expect(expectOneLine(y.stderr)).toMatch(/28P01: password authentication failed/);
      expect(y.stdout + y.stderr).not.toContain('S3cret-Wrong');
      // Terminal: retrying a wrong password cannot help.
      const client = new pg.Client({
        host: '127.0.0.1',
        port: s.port,
        user: 'postgres',
        password: 'S3cret-Wrong',
      });
      let raw: unknown;
      await client.connect().catch((err: unknown) => {
        raw = err;
      });
      await client.end().catch(() => undefined);
      expect(
        translatePgError(raw, 'connecting', { connecting: true, secrets: ['S3cret-Wrong'] }),
      ).toMatchObject({
        code: 'DEST_CONNECT',
        transient: false,
      });
      const admin = new pg.Client({
        host: '127.0.0.1',
        port: s.port,
        user: 'postgres',
        password: s.password,
        database: 'postgres',
      });
      await admin.connect();
      try {
        expect((await admin.query("SELECT 1 FROM pg_database WHERE datname = 'trib_pw'")).rows).toEqual([]);
      } finally {
        await admin.end();
      }
      // The right one loads.
      const z = await tributary(['run', '-c', e], { env: { TRIBUTARY_DB_PASSWORD: s.password } });
      expect(z.code, describeExit(z)).toBe(0);
    },
  );

  it('an unknown role: exit 4, one line (28000), nothing created', async () => {
    const db = await freshName();
    const c = config(
      'pg-role.yaml',
      `pipeline: p\ndestination: postgres://trib_nobody_${db.name.slice(-6)}@127.0.0.1:5432/${db.name}\n${SOURCES}`,
    );
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(4);
    expect(expectOneLine(x.stderr)).toMatch(
      /PostgreSQL 28000: role "trib_nobody_\w+" does not exist \(in: connecting to postgres:/,
    );
    expect(await exists(db.name)).toBe(false);
  });

  it('a missing database and schema are created: UTF8, the tables in the schema ?schema= names', async () => {
    const db = await freshName();
    const c = config('pg-create.yaml', `pipeline: p\ndestination: ${db.url}?schema=trib_raw\n${SOURCES}`);
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(0);
    const admin = await postgresAdmin(db.name);
    try {
      const { rows } = await admin.query(
        `SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = current_database()`,
      );
      expect(rows).toEqual([{ enc: 'UTF8' }]);
      const tables = await admin.query(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_name IN ('t', '_tributary_files') ORDER BY 1",
      );
      expect(tables.rows.map((r) => r.t)).toEqual(['trib_raw._tributary_files', 'trib_raw.t']);
    } finally {
      await admin.end();
    }
  });

  it('createDatabase=false and a missing database: exit 4, one line naming it, nothing created', async () => {
    const db = await freshName();
    const c = config(
      'pg-nocreate.yaml',
      `pipeline: p\ndestination: ${db.url}?createDatabase=false\n${SOURCES}`,
    );
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(4);
    expect(expectOneLine(x.stderr)).toMatch(
      new RegExp(
        `database ${db.name} does not exist on postgres://postgres@127.0.0.1:5432/${db.name} \\(createDatabase=false\\)`,
      ),
    );
    expect(await exists(db.name)).toBe(false);
  });

  it('a role that may not create the database, or the schema: exit 4, one line with the reason (42501)', async () => {
    const user = await role('nocreate');
    const db = await freshName();
    const c = config(
      'pg-nodb.yaml',
      `pipeline: p\ndestination: postgres://${user}@127.0.0.1:5432/${db.name}\n${SOURCES}`,
    );
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(4);
    expect(expectOneLine(x.stderr)).toMatch(
      new RegExp(
        `database ${db.name} does not exist and could not be created: PostgreSQL 42501: permission denied to create database`,
      ),
    );
    expect(await exists(db.name)).toBe(false);
    // An existing database it may connect to (CONNECT is PUBLIC's), but not create a schema in.
    const there = await freshPostgresDatabase();
    drops.push(there.drop);
    const s = config(
      'pg-noschema.yaml',
      `pipeline: p\ndestination: postgres://${user}@127.0.0.1:5432/${there.name}?schema=trib_raw\n${SOURCES}`,
    );
    const y = await tributary(['run', '-c', s]);
    expect(y.code, describeExit(y)).toBe(4);
    expect(expectOneLine(y.stderr)).toMatch(/PostgreSQL 42501: permission denied for database/);
  });
});

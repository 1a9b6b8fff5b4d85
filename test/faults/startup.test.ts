/**
 * Faults before any data moves: an unreachable database, a wrong password, a config key
 * that is missing or names an unset variable. Each gives a one-line reason on stderr (no
 * stack trace), its documented exit code (2: config, 4: destination), and touches nothing.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshMysqlDatabase, mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';
import { describeExit, tributary } from './cli.js';

const mariadb = await mysqlAvailable();

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
  it('an unreachable database: exit 4, one line naming the destination', async () => {
    const port = await closedPort();
    const c = config(
      'unreachable.yaml',
      `pipeline: p\ndestination: mysql://root@127.0.0.1:${port}/db\n${SOURCES}`,
    );
    const x = await tributary(['run', '-c', c]);
    expect(x.code, describeExit(x)).toBe(4);
    expect(expectOneLine(x.stderr)).toMatch(
      new RegExp(`ECONNREFUSED.*connecting to mysql://root@127.0.0.1:${port}/db`),
    );
  });

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

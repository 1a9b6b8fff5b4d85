/**
 * Transient or terminal: every database error is classified in one place per dialect
 * (src/destinations/sqlite/errors.ts, src/destinations/mysql/errors.ts,
 * src/destinations/postgres/errors.ts), and the load loop retries a file's whole transaction
 * on a transient one. The errors here are real — provoked on a real server — not hand-made
 * objects, so a driver upgrade that changes their shape shows.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql, { type Connection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { translateMysqlError } from '../../src/destinations/mysql/errors.js';
import { translatePgError } from '../../src/destinations/postgres/errors.js';
import { translateSqliteError } from '../../src/destinations/sqlite/errors.js';
import { freshMysqlDatabase, mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';
import { freshPostgresDatabase, postgresAdmin, postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { Cli, describeExit, tributary } from './cli.js';
import { type Dataset, generateDataset } from './dataset.js';
import { CrashLab, freshPipeline, postgresTarget } from './harness.js';
import { PrivateMariaDb, privateServerSupported, sleep } from './mariadb-server.js';
import { compareStates, openDestination, readState } from './state.js';

const available = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;

/** The error a promise rejects with (fails the test when it resolves). */
async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

function expectClass(err: unknown, transient: boolean, code: 'DEST_QUERY' | 'DEST_CONNECT', text: RegExp) {
  expect(err).toBeInstanceOf(TributaryError);
  expect(err).toMatchObject({ code, transient });
  expect((err as Error).message).toMatch(text);
}

describe('SQLite errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-sqlite-busy-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a database locked by another writer is transient (SQLITE_BUSY)', () => {
    const file = path.join(dir, 'busy.db');
    const a = new Database(file);
    const b = new Database(file);
    try {
      a.pragma('journal_mode = WAL');
      a.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      b.pragma('busy_timeout = 0');
      a.exec('BEGIN IMMEDIATE');
      let err: unknown;
      try {
        b.exec('BEGIN IMMEDIATE');
      } catch (e) {
        err = translateSqliteError(e, 'BEGIN IMMEDIATE');
      }
      expectClass(err, true, 'DEST_QUERY', /SQLITE_BUSY/);
      a.exec('ROLLBACK');
    } finally {
      a.close();
      b.close();
    }
  });

  it('a constraint or syntax error is terminal', () => {
    const db = new Database(path.join(dir, 'terminal.db'));
    try {
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      db.exec('INSERT INTO t VALUES (1)');
      const errs: unknown[] = [];
      for (const sql of ['INSERT INTO t VALUES (1)', 'SELEC 1']) {
        try {
          db.exec(sql);
        } catch (e) {
          errs.push(translateSqliteError(e, sql));
        }
      }
      expectClass(errs[0], false, 'DEST_QUERY', /SQLITE_CONSTRAINT/);
      expectClass(errs[1], false, 'DEST_QUERY', /SQLITE_ERROR/);
    } finally {
      db.close();
    }
  });
});

describe.skipIf(!available)('MySQL errors', () => {
  let db: Awaited<ReturnType<typeof freshMysqlDatabase>>;
  const conns: Connection[] = [];
  const connect = async () => {
    const c = await mysqlAdmin(db.name);
    conns.push(c);
    return c;
  };
  beforeAll(async () => {
    db = await freshMysqlDatabase();
    const c = await connect();
    await c.query('CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB');
    await c.query('INSERT INTO t VALUES (1, 0), (2, 0)');
  });
  afterAll(async () => {
    for (const c of conns) c.destroy();
    await db?.drop();
  });

  it('a lock wait timeout is transient (1205)', async () => {
    const holder = await connect();
    const waiter = await connect();
    await holder.query('START TRANSACTION');
    await holder.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
    await waiter.query('SET SESSION innodb_lock_wait_timeout = 1');
    const sql = 'UPDATE t SET v = 1 WHERE id = 1';
    const err = translateMysqlError(await caught(waiter.query(sql)), sql);
    expectClass(err, true, 'DEST_QUERY', /1205.*Lock wait timeout/);
    await holder.query('ROLLBACK');
  });

  it('a deadlock is transient (1213)', async () => {
    const a = await connect();
    const b = await connect();
    await a.query('START TRANSACTION');
    await b.query('START TRANSACTION');
    await a.query('UPDATE t SET v = 10 WHERE id = 1');
    await b.query('UPDATE t SET v = 20 WHERE id = 2');
    // a waits for b's row; b then asks for a's row: InnoDB picks one of them as the victim.
    const first = a.query('UPDATE t SET v = 11 WHERE id = 2').then(
      () => undefined,
      (e: unknown) => e,
    );
    await sleep(200);
    const second = b.query('UPDATE t SET v = 21 WHERE id = 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    const victim = (await Promise.race([first, second])) ?? (await first) ?? (await second);
    const err = translateMysqlError(victim, 'UPDATE t …');
    expectClass(err, true, 'DEST_QUERY', /1213.*Deadlock/);
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    await Promise.all([first, second]);
  });

  it('a connection killed by the server is transient', async () => {
    const victim = await connect();
    const admin = await connect();
    const [[row]] = (await victim.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
    await admin.query(`KILL CONNECTION ${Number(row.id)}`);
    const err = translateMysqlError(await caught(victim.query('SELECT 1')), 'SELECT 1');
    expect(err).toMatchObject({ transient: true });
  });

  it('a server that refuses connections is transient; connecting errors are DEST_CONNECT', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const raw = await caught(
      mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 2000 }),
    );
    const err = translateMysqlError(raw, 'connecting', { connecting: true });
    expectClass(err, true, 'DEST_CONNECT', /ECONNREFUSED/);
  });

  it('a wrong password is terminal and never printed', async () => {
    const admin = await connect();
    const user = `trib_${db.name.slice(-8)}`;
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'right-password'`);
    try {
      const raw = await caught(
        mysql.createConnection({ host: '127.0.0.1', user, password: 'Wr0ng-Secret', connectTimeout: 2000 }),
      );
      const err = translateMysqlError(raw, 'connecting', { connecting: true, secrets: ['Wr0ng-Secret'] });
      expectClass(err, false, 'DEST_CONNECT', /1045/);
      expect((err as Error).message).not.toContain('Wr0ng-Secret');
    } finally {
      await admin.query(`DROP USER '${user}'@'%'`);
    }
  });

  it('syntax and duplicate-key errors are terminal, without row values in the message', async () => {
    const c = await connect();
    const dup = 'INSERT INTO t VALUES (1, 5)';
    expectClass(translateMysqlError(await caught(c.query(dup)), dup), false, 'DEST_QUERY', /1062/);
    expect((translateMysqlError(await caught(c.query(dup)), dup) as Error).message).not.toMatch(/'1'/);
    const bad = 'SELEC 1';
    expectClass(translateMysqlError(await caught(c.query(bad)), bad), false, 'DEST_QUERY', /1064/);
  });
});

describe.skipIf(!postgres)('PostgreSQL errors', () => {
  let dir: string;
  /** A config file naming `destination` (openDestination reads one). */
  const config = (destination: string) => {
    const file = path.join(dir, 'tributary.yaml');
    fs.writeFileSync(
      file,
      `pipeline: test\ndestination: ${destination}\nsources:\n  - table: t\n    files: "in/*.csv"\n`,
    );
    return file;
  };
  let db: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  const clients: pg.Client[] = [];
  const roles: string[] = [];
  const connect = async () => {
    const c = await postgresAdmin(db.name);
    clients.push(c);
    return c;
  };
  /** A login role of this test (no superuser: limits and privileges apply to it), dropped at the end. */
  const role = async (options = '') => {
    const name = `trib_role_${db.name.slice(-8)}_${roles.length}`;
    const admin = await connect();
    await admin.query(`CREATE ROLE ${name} LOGIN ${options}`);
    roles.push(name);
    return name;
  };
  const as = (user: string) =>
    new pg.Client({
      host: '127.0.0.1',
      port: Number(new URL(db.url).port || 5432),
      user,
      database: db.name,
      connectionTimeoutMillis: 3000,
    });
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-pgerrors-'));
    db = await freshPostgresDatabase();
    const c = await connect();
    await c.query('CREATE TABLE t (id INT PRIMARY KEY, v INT)');
    await c.query('INSERT INTO t VALUES (1, 0), (2, 0)');
  });
  afterAll(async () => {
    for (const c of clients) await c.end().catch(() => undefined);
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (roles.length > 0) {
      const admin = await postgresAdmin();
      for (const r of roles) await admin.query(`DROP ROLE IF EXISTS ${r}`);
      await admin.end();
    }
  });

  it('a connection terminated by the server is transient: 57P01 on its statement, and the closed client after', async () => {
    const victim = await connect();
    const admin = await connect();
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const sleeping = caught(victim.query('SELECT pg_sleep(30)'));
    await sleep(200);
    await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
    const err = translatePgError(await sleeping, 'SELECT pg_sleep(30)');
    expectClass(err, true, 'DEST_QUERY', /57P01.*terminating connection due to administrator command/);
    const after = translatePgError(await caught(victim.query('SELECT 1')), 'SELECT 1');
    expect(after).toMatchObject({ transient: true });
  });

  it('a connection terminated between two statements of a transaction: the next one reports the server’s reason (57P01)', async () => {
    // pg emits the server's reason as an 'error' event when no statement runs, and fails the
    // next statement with only "Client has encountered a connection error and is not
    // queryable": the destination reports the reason instead.
    const admin = await connect();
    const dest = await openDestination(config(db.url));
    try {
      const err = await caught(
        dest.transaction(async (tx) => {
          const [me] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await admin.query('SELECT pg_terminate_backend($1)', [me?.pid]);
          await sleep(300); // the termination reaches the idle connection
          await tx.query('SELECT 1');
        }),
      );
      expectClass(
        err,
        true,
        'DEST_QUERY',
        /57P01: terminating connection due to administrator command \(in: SELECT 1\)/,
      );
    } finally {
      await dest.close();
    }
  });

  it('a serialization failure is transient (40001)', async () => {
    const a = await connect();
    const b = await connect();
    await a.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await a.query('SELECT * FROM t'); // a's snapshot
    await b.query('UPDATE t SET v = v + 1 WHERE id = 1');
    const sql = 'UPDATE t SET v = 5 WHERE id = 1';
    const err = translatePgError(await caught(a.query(sql)), sql);
    expectClass(err, true, 'DEST_QUERY', /40001.*could not serialize access/);
    await a.query('ROLLBACK');
  });

  it('a deadlock is transient (40P01)', async () => {
    const a = await connect();
    const b = await connect();
    for (const c of [a, b]) {
      await c.query('BEGIN');
      await c.query("SET LOCAL deadlock_timeout = '100ms'");
    }
    await a.query('UPDATE t SET v = 10 WHERE id = 1');
    await b.query('UPDATE t SET v = 20 WHERE id = 2');
    // a waits for b's row; b then asks for a's row: the server picks one of them as the victim.
    const first = a.query('UPDATE t SET v = 11 WHERE id = 2').then(
      () => undefined,
      (e: unknown) => e,
    );
    await sleep(200);
    const second = b.query('UPDATE t SET v = 21 WHERE id = 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    const victim = (await Promise.race([first, second])) ?? (await first) ?? (await second);
    expectClass(translatePgError(victim, 'UPDATE t …'), true, 'DEST_QUERY', /40P01.*deadlock detected/);
    await a.query('ROLLBACK');
    await b.query('ROLLBACK');
    await Promise.all([first, second]);
  });

  it('a lock wait past lock_timeout is transient (55P03)', async () => {
    const holder = await connect();
    const waiter = await connect();
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
    await waiter.query("SET lock_timeout = '200ms'");
    const sql = 'UPDATE t SET v = 1 WHERE id = 1';
    expectClass(
      translatePgError(await caught(waiter.query(sql)), sql),
      true,
      'DEST_QUERY',
      /55P03.*lock timeout/,
    );
    await holder.query('ROLLBACK');
  });

  it('too many connections is transient (53300), reported as a connection error', async () => {
    const user = await role('CONNECTION LIMIT 1');
    const first = as(user);
    await first.connect();
    try {
      const second = as(user);
      const raw = await caught(second.connect());
      await second.end().catch(() => undefined);
      const err = translatePgError(raw, 'connecting', { connecting: true });
      expectClass(err, true, 'DEST_CONNECT', /53300.*too many connections/);
    } finally {
      await first.end();
    }
  });

  it('a server that refuses connections is transient; connecting errors are DEST_CONNECT', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', connectionTimeoutMillis: 2000 });
    const raw = await caught(c.connect());
    await c.end().catch(() => undefined);
    expectClass(
      translatePgError(raw, 'connecting', { connecting: true }),
      true,
      'DEST_CONNECT',
      /ECONNREFUSED/,
    );
  });

  it('an unknown role, a missing privilege, a syntax error, a bad value and a duplicate key are terminal, without row values', async () => {
    const nobody = as(`trib_nobody_${db.name.slice(-8)}`);
    const raw = await caught(nobody.connect());
    await nobody.end().catch(() => undefined);
    expectClass(
      translatePgError(raw, 'connecting', { connecting: true }),
      false,
      'DEST_CONNECT',
      /28000.*role/,
    );

    const user = await role();
    const plain = as(user);
    await plain.connect();
    clients.push(plain);
    const denied = 'SELECT * FROM t';
    expectClass(
      translatePgError(await caught(plain.query(denied)), denied),
      false,
      'DEST_QUERY',
      /42501.*permission denied/,
    );

    const c = await connect();
    const bad = 'SELEC 1';
    expectClass(translatePgError(await caught(c.query(bad)), bad), false, 'DEST_QUERY', /42601/);
    const value = "INSERT INTO t VALUES (7, 'S3cretValue')";
    const typed = translatePgError(await caught(c.query(value)), 'INSERT INTO t VALUES (?, ?)');
    expectClass(typed, false, 'DEST_QUERY', /22P02.*invalid input syntax/);
    expect((typed as Error).message).not.toContain('S3cretValue');
    const dup = 'INSERT INTO t VALUES ($1, $2)';
    const err = translatePgError(await caught(c.query(dup, [1, 5])), dup);
    expectClass(err, false, 'DEST_QUERY', /23505.*duplicate key/);
    expect((err as Error).message).not.toMatch(/\(id\)=\(1\)/); // the DETAIL holds the key's value
  });
});

/**
 * The retry itself, end to end: the real CLI loads a file while another session holds a row
 * lock it needs, where a lock wait gives up after 1 s — a private MariaDB server with
 * `innodb_lock_wait_timeout=1` (1205), a PostgreSQL database with `lock_timeout = '1s'`
 * (`ALTER DATABASE … SET`, 55P03; PostgreSQL waits for ever by default). With retries the
 * file's transaction is rolled back and tried again until the lock is released; with
 * `--retries 0` the file fails with a clear reason, nothing of it is written, and the next
 * run loads it.
 */
interface LockWaitServer {
  /** The destination URL. */
  url: string;
  /** A second session on that database (once the first run created it). */
  holder(): Promise<{ query(sql: string): Promise<unknown>; close(): Promise<void> }>;
  destroy(): Promise<void>;
}

const LOCK_WAIT = {
  mariadb: {
    skip: available ? privateServerSupported() : 'no MariaDB',
    /** The reason a file that waited too long fails with. */
    timeout: /MySQL .*1205.*Lock wait timeout/,
    code: /1205/,
    async create(): Promise<LockWaitServer> {
      const server = await PrivateMariaDb.create(['--innodb-lock-wait-timeout=1']);
      return {
        url: `${server.url}/lockwait`,
        async holder() {
          const c = await mysql.createConnection({
            host: '127.0.0.1',
            port: server.port,
            user: 'root',
            database: 'lockwait',
          });
          return { query: (sql) => c.query(sql), close: async () => c.destroy() };
        },
        destroy: () => server.destroy(),
      };
    },
  },
  postgres: {
    skip: postgres ? undefined : 'no PostgreSQL',
    timeout: /PostgreSQL 55P03: canceling statement due to lock timeout/,
    code: /55P03/,
    async create(): Promise<LockWaitServer> {
      const db = await freshPostgresDatabase();
      const admin = await postgresAdmin();
      try {
        await admin.query(`ALTER DATABASE "${db.name}" SET lock_timeout = '1s'`);
      } finally {
        await admin.end();
      }
      return {
        url: db.url,
        async holder() {
          const c = await postgresAdmin(db.name);
          return { query: (sql) => c.query(sql), close: () => c.end() };
        },
        destroy: () => db.drop(),
      };
    },
  },
};

describe.each((['mariadb', 'postgres'] as const).filter((d) => DIALECTS.includes(d)))(
  'a lock wait timeout during a run on %s',
  (dialect) => {
    const kind = LOCK_WAIT[dialect];
    const skip = kind.skip !== undefined;
    let server: LockWaitServer;
    let dir: string;
    let config: string;
    let holder: Awaited<ReturnType<LockWaitServer['holder']>>;

    beforeAll(async () => {
      if (skip) return;
      server = await kind.create();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-lockwait-'));
      config = path.join(dir, 'tributary.yaml');
      fs.writeFileSync(
        config,
        `pipeline: test\ndestination: ${server.url}\nsources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n`,
      );
      fs.mkdirSync(path.join(dir, 'in'));
      fs.writeFileSync(
        path.join(dir, 'in', 'a.csv'),
        `id,v\n${Array.from({ length: 100 }, (_, i) => `${i + 1},a`).join('\n')}\n`,
      );
      const first = await tributary(['run', '-c', config]);
      expect(first.code, describeExit(first)).toBe(0);
      holder = await server.holder();
    }, 60_000);
    afterAll(async () => {
      await holder?.close().catch(() => undefined);
      await server?.destroy();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const values = async () => {
      const dest = await openDestination(config);
      try {
        const rows = await dest.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
        return rows.map((r) => `${r.id}=${r.v}`).join(' ');
      } finally {
        await dest.close();
      }
    };

    it.skipIf(skip)(
      'fails the file with the reason under --retries 0, writing none of it; the next run loads it',
      async () => {
        fs.writeFileSync(path.join(dir, 'in', 'b.csv'), 'id,v\n1,b\n50,b\n101,b\n');
        const before = await values();
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM t WHERE id = 50 FOR UPDATE');
        const x = await tributary(['run', '--retries', '0', '-c', config]);
        await holder.query('ROLLBACK');
        expect(x.code, describeExit(x)).toBe(1); // partial: a file failed, it is retried next run
        expect(x.stdout).toMatch(new RegExp(`in/b\\.csv: DEST_QUERY: ${kind.timeout.source}`));
        expect(x.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack trace
        expect(await values()).toBe(before);
        const again = await tributary(['run', '-c', config]);
        expect(again.code, describeExit(again)).toBe(0);
        expect(await values()).toMatch(/^1=b .*50=b .*101=b$/);
      },
    );

    it.skipIf(skip)(
      'retries the whole file transaction with backoff until the lock is released',
      async () => {
        fs.writeFileSync(path.join(dir, 'in', 'c.csv'), 'id,v\n2,c\n50,c\n102,c\n');
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM t WHERE id = 50 FOR UPDATE');
        const run = new Cli(['run', '--json', '--retries', '6', '-c', config]);
        // Release the lock once an attempt has timed out on it (after 1 s), however long the
        // process takes to get there on a busy machine.
        await run.waitFor((e) => e.type === 'file_retry');
        await holder.query('ROLLBACK');
        const x = await run.exited;
        expect(x.code, describeExit(x)).toBe(0);
        const retries = x.events.filter((e) => e.type === 'file_retry');
        expect(retries.length).toBeGreaterThanOrEqual(1);
        expect(retries[0]).toMatchObject({
          file: 'in/c.csv',
          attempt: 1,
          message: expect.stringMatching(kind.code),
        });
        expect(x.summary).toMatchObject({ status: 'succeeded', files: { loaded: 1, failed: 0 } });
        expect(await values()).toMatch(/^1=b 2=c .*50=c .*101=b 102=c$/);
      },
    );

    it.skipIf(skip)(
      'a file that fails on a database error holds its table: later files wait for the next run, and the run ends',
      async () => {
        // d.csv fails (lock wait, no retry left) and e.csv sorts after it: e.csv must not load
        // before d.csv (a late d.csv would cost a rebuild), so it waits. The scheduler before
        // src/runner/lanes.ts deferred e.csv and then waited forever for a free lane.
        fs.writeFileSync(path.join(dir, 'in', 'd.csv'), 'id,v\n3,d\n50,d\n');
        fs.writeFileSync(path.join(dir, 'in', 'e.csv'), 'id,v\n3,e\n');
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM t WHERE id = 50 FOR UPDATE');
        const run = new Cli(['run', '--json', '--retries', '0', '-c', config]);
        const x = await run.exited;
        await holder.query('ROLLBACK');
        expect(x.code, describeExit(x)).toBe(1);
        expect(x.summary).toMatchObject({ status: 'partial', files: { loaded: 0, failed: 1 } });
        expect(x.summary?.warnings.join('\n')).toMatch(/in\/e\.csv waits for in\/d\.csv \(table t\)/);
        const again = await tributary(['run', '-c', config]);
        expect(again.code, describeExit(again)).toBe(0);
        expect(await values()).toMatch(/^1=b 2=c 3=e .*50=d /);
      },
    );
  },
);

/**
 * The run's own connection terminated by the server in the middle of a file
 * (`pg_terminate_backend`, as an administrator or a connection pooler's failover does): 57P01
 * is transient, so the file's transaction is rolled back and tried again on a new connection;
 * with `--retries 0` the file fails with a one-line reason. Either way the next run ends with
 * exactly the tables, rejects, ledger and schema history of a run nobody disturbed (the
 * harness's reference, test/faults/harness.ts). Batches are slowed down
 * (`TRIBUTARY_DELAY_AT=load:250`) so that a file is surely inside its transaction when its
 * connection is cut, however fast the machine.
 */
describe.skipIf(!postgres)('the run’s connection terminated in the middle of a PostgreSQL run', () => {
  let data: Dataset;
  let lab: CrashLab;
  beforeAll(async () => {
    data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-terminate-')), {
      batches: 2,
      rowsPerFile: 1_000,
      customersPerFile: 300,
    });
    lab = new CrashLab(postgresTarget(), data);
    await lab.prepare();
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
    if (data) fs.rmSync(data.dir, { recursive: true, force: true });
  });

  /** The database a pipeline's config writes to. */
  const databaseOf = (config: string) =>
    new URL(
      (/^destination: (.*)$/m.exec(fs.readFileSync(config, 'utf8')) as RegExpExecArray)[1] as string,
    ).pathname.slice(1);

  /**
   * Once the run is loading (`loading` resolved), terminate every connection of it that is
   * inside a transaction which wrote something — the files' connections, not the run lock's
   * (its pid is in `_tributary_locks`). Resolves with how many were terminated.
   */
  async function terminateLoads(run: Cli, database: string, loading: Promise<unknown>): Promise<number> {
    await loading;
    const admin = await postgresAdmin(database);
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && run.child.exitCode === null) {
        const { rows } = await admin.query(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'tributary'
              AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
              AND pid NOT IN (SELECT pid FROM _tributary_locks)`,
        );
        if (rows.length > 0) return rows.length;
        await sleep(10);
      }
      throw new Error(`no connection of the run was inside a file's transaction\n${run.stderr}`);
    } finally {
      await admin.end();
    }
  }

  it('retries the file on a new connection and completes; the next run changes nothing', {
    timeout: 120_000,
  }, async () => {
    const p = await freshPipeline(postgresTarget(), data.dir, 'terminate-retry');
    try {
      const run = new Cli(['run', '--json', '--retries', '5', '-c', p.config], {
        env: { TRIBUTARY_DELAY_AT: 'load:250' },
      });
      const loading = run.waitFor((e) => e.type === 'file_started');
      expect(await terminateLoads(run, databaseOf(p.config), loading)).toBeGreaterThan(0);
      const x = await run.exited;
      expect(x.code, describeExit(x)).toBe(0);
      const retries = x.events.filter((e) => e.type === 'file_retry');
      expect(retries.length, describeExit(x)).toBeGreaterThan(0);
      expect(retries[0]).toMatchObject({
        attempt: 1,
        message: expect.stringMatching(/57P01: terminating connection due to administrator command/),
      });
      expect(x.summary?.files).toMatchObject({ loaded: data.files.length, failed: 0 });
      const again = await tributary(['run', '--json', '-c', p.config]);
      expect(again.code, describeExit(again)).toBe(0);
      expect(again.summary?.files).toMatchObject({ loaded: 0, unchanged: data.files.length });
      expect(compareStates(lab.reference!.state, await readState(p.config), { history: true })).toEqual([]);
    } finally {
      await p.drop();
    }
  });

  it('under --retries 0 the file fails with a one-line reason, and the next run finishes the job', {
    timeout: 120_000,
  }, async () => {
    const p = await freshPipeline(postgresTarget(), data.dir, 'terminate-stop');
    try {
      const run = new Cli(['run', '--retries', '0', '-c', p.config], {
        env: { TRIBUTARY_DELAY_AT: 'load:250' },
      });
      // Without --json (the lines a person reads): loading once the files are counted.
      const loading = run.waitForStderr(/file\(s\) found/);
      expect(await terminateLoads(run, databaseOf(p.config), loading)).toBeGreaterThan(0);
      const x = await run.exited;
      expect(x.code, describeExit(x)).toBe(1); // partial: the file failed, it loads next run
      expect(x.stdout).toMatch(
        /landing\/\S+: DEST_QUERY: PostgreSQL 57P01: terminating connection due to administrator command/,
      );
      expect(x.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack trace
      const again = await tributary(['run', '--json', '-c', p.config]);
      expect(again.code, describeExit(again)).toBe(0);
      const state = await readState(p.config);
      expect(compareStates(lab.reference!.state, state, { history: true })).toEqual([]);
      expect(state.runs).toEqual(['partial', 'succeeded']);
    } finally {
      await p.drop();
    }
  });
});

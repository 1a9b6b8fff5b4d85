/**
 * Transient or terminal: every database error is classified in one place per dialect
 * (src/destinations/sqlite/errors.ts, src/destinations/mysql/errors.ts), and the load loop
 * retries a file's whole transaction on a transient one. The errors here are real — provoked
 * on a real server — not hand-made objects, so a driver upgrade that changes their shape shows.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql, { type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TributaryError } from '../../src/core/errors.js';
import { translateMysqlError } from '../../src/destinations/mysql/errors.js';
import { translateSqliteError } from '../../src/destinations/sqlite/errors.js';
import { freshMysqlDatabase, mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';
import { Cli, describeExit, tributary } from './cli.js';
import { PrivateMariaDb, privateServerSupported, sleep } from './mariadb-server.js';
import { openDestination } from './state.js';

const available = await mysqlAvailable();

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

/**
 * The retry itself, end to end: the real CLI loads a file while another session holds a row
 * lock it needs, on a private server whose `innodb_lock_wait_timeout` is 1 s. With retries
 * the file's transaction is rolled back and tried again until the lock is released; with
 * `--retries 0` the file fails with a clear reason, nothing of it is written, and the next
 * run loads it.
 */
const noPrivate = available ? privateServerSupported() : 'no MariaDB';
describe.skipIf(noPrivate !== undefined)('a lock wait timeout during a run', () => {
  let server: PrivateMariaDb;
  let dir: string;
  let config: string;
  let holder: Connection;

  beforeAll(async () => {
    server = await PrivateMariaDb.create(['--innodb-lock-wait-timeout=1']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-lockwait-'));
    config = path.join(dir, 'tributary.yaml');
    fs.writeFileSync(
      config,
      `pipeline: test\ndestination: ${server.url}/lockwait\nsources:\n  - table: t\n    files: "in/*.csv"\n    primary_key: id\n`,
    );
    fs.mkdirSync(path.join(dir, 'in'));
    fs.writeFileSync(
      path.join(dir, 'in', 'a.csv'),
      `id,v\n${Array.from({ length: 100 }, (_, i) => `${i + 1},a`).join('\n')}\n`,
    );
    const first = await tributary(['run', '-c', config]);
    expect(first.code, describeExit(first)).toBe(0);
    holder = await mysql.createConnection({
      host: '127.0.0.1',
      port: server.port,
      user: 'root',
      database: 'lockwait',
    });
  }, 60_000);
  afterAll(async () => {
    holder?.destroy();
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

  it('fails the file with the reason under --retries 0, writing none of it; the next run loads it', async () => {
    fs.writeFileSync(path.join(dir, 'in', 'b.csv'), 'id,v\n1,b\n50,b\n101,b\n');
    const before = await values();
    await holder.query('START TRANSACTION');
    await holder.query('SELECT * FROM t WHERE id = 50 FOR UPDATE');
    const x = await tributary(['run', '--retries', '0', '-c', config]);
    await holder.query('ROLLBACK');
    expect(x.code, describeExit(x)).toBe(1); // partial: a file failed, it is retried next run
    expect(x.stdout).toMatch(/in\/b\.csv: DEST_QUERY: MySQL .*1205.*Lock wait timeout/);
    expect(x.stderr).not.toMatch(/\n\s+at /); // a reason, not a stack trace
    expect(await values()).toBe(before);
    const again = await tributary(['run', '-c', config]);
    expect(again.code, describeExit(again)).toBe(0);
    expect(await values()).toMatch(/^1=b .*50=b .*101=b$/);
  });

  it('retries the whole file transaction with backoff until the lock is released', async () => {
    fs.writeFileSync(path.join(dir, 'in', 'c.csv'), 'id,v\n2,c\n50,c\n102,c\n');
    await holder.query('START TRANSACTION');
    await holder.query('SELECT * FROM t WHERE id = 50 FOR UPDATE');
    const run = new Cli(['run', '--json', '--retries', '6', '-c', config]);
    // Release the lock once an attempt has timed out on it (innodb_lock_wait_timeout=1),
    // however long the process takes to get there on a busy machine.
    await run.waitFor((e) => e.type === 'file_retry');
    await holder.query('ROLLBACK');
    const x = await run.exited;
    expect(x.code, describeExit(x)).toBe(0);
    const retries = x.events.filter((e) => e.type === 'file_retry');
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(retries[0]).toMatchObject({
      file: 'in/c.csv',
      attempt: 1,
      message: expect.stringMatching(/1205/),
    });
    expect(x.summary).toMatchObject({ status: 'succeeded', files: { loaded: 1, failed: 0 } });
    expect(await values()).toMatch(/^1=b 2=c .*50=c .*101=b 102=c$/);
  });

  it('a file that fails on a database error holds its table: later files wait for the next run, and the run ends', async () => {
    // d.csv fails (lock wait, no retry left) and e.csv sorts after it: e.csv must not load
    // before d.csv (a late d.csv would cost a rebuild), so it waits. The scheduler before
    // src/runner/lanes.ts deferred e.csv and then waited forever for a free lane.
    fs.writeFileSync(path.join(dir, 'in', 'd.csv'), 'id,v\n3,d\n50,d\n');
    fs.writeFileSync(path.join(dir, 'in', 'e.csv'), 'id,v\n3,e\n');
    await holder.query('START TRANSACTION');
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
  });
});

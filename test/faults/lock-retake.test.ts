/**
 * A run whose MySQL lock died (a server restart) while another run started AND finished:
 * when this run takes the free lock again, it must stop — and load nothing more, in none of
 * its lanes. Deterministic version of the rare failure of restart.test.ts ("keeps one run at
 * a time through the restart"): the restart is played in process — the lock's connection
 * killed with KILL, and the first run's transactions and lock attempts refused (a transient
 * DEST_CONNECT, as while the server is down) until the second run is done.
 *
 * The bug it caught: the lane whose keepLock took the lock again saw the other run and threw
 * LOCK_LOST, but left the lock taken; the next lane's keepLock then found a held, live lock
 * ("not lost"), skipped the check for runs started since, and its file committed — an older
 * file loaded after the newer ones the second run had loaded (a later file must win). The
 * same for a lane already in its transaction: confirmLock saw the lock taken again as ours.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import { TributaryError } from '../../src/core/errors.js';
import { createDestination } from '../../src/destinations/index.js';
import { lockName } from '../../src/destinations/mysql/lock.js';
import type { Destination } from '../../src/destinations/types.js';
import type { RunEvent } from '../../src/runner/events.js';
import { runPipeline } from '../../src/runner/run.js';
import { mysqlAdmin, mysqlAvailable } from '../helpers/mysql.js';
import { DIALECTS, dump, Workspace } from '../helpers/workspace.js';

const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;

const SOURCES = `sources:
  - table: orders
    files: "in/*/orders.csv"
    primary_key: order_id
  - table: users
    files: "in/*/users.csv"
    primary_key: user_id
`;

function writeDay(ws: Workspace, day: number) {
  const orders = ['order_id,amount'];
  const users = ['user_id,name'];
  for (let i = 1; i <= 300; i++) {
    orders.push(`${i},${day * 1000 + i}`);
    users.push(`${i},user ${i} day ${day}`);
  }
  ws.write(`in/d${day}/orders.csv`, `${orders.join('\n')}\n`);
  ws.write(`in/d${day}/users.csv`, `${users.join('\n')}\n`);
}

const down = () =>
  new TributaryError('DEST_CONNECT', 'the database server is down (test)', { transient: true });

async function until(what: string, cond: () => boolean, ms = 60_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!mariadb)('the run lock taken again after another run came and went (MariaDB)', () => {
  let ws: Workspace | undefined;
  const open: Destination[] = [];
  afterEach(async () => {
    for (const d of open.splice(0)) await d.close().catch(() => {});
    await ws?.drop();
  });

  /**
   * Day 1 loaded; days 2 and 3 land. The first run starts with its file transactions failing
   * as if the server were down (`paused`: except its first one, which waits inside its
   * transaction for `resume`), so both lanes (orders, users) are busy; its lock connection is
   * killed; a second run loads days 2 and 3; then the server is "back" for the first run.
   */
  async function scenario(paused: boolean) {
    ws = await Workspace.create('mariadb');
    ws.write('tributary.yaml', `pipeline: test\ndestination: ${ws.destination}\n${SOURCES}`);
    const config = readConfig(path.join(ws.dir, 'tributary.yaml'));
    const dest = async () => {
      const d = await createDestination(config.destination);
      await d.open();
      open.push(d);
      return d;
    };
    writeDay(ws, 1);
    expect((await runPipeline(config, await dest(), { workers: 0 })).status).toBe('succeeded');
    writeDay(ws, 2);
    writeDay(ws, 3);

    const first = await dest();
    let txDown = true;
    let lockDown = false;
    let inTx = false;
    let resume = () => {};
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    let locksTaken = 0;
    const realTx = first.transaction.bind(first);
    const realTryLock = first.tryLock.bind(first);
    first.transaction = (<T>(fn: (tx: never) => Promise<T>) => {
      if (paused && !inTx) {
        inTx = true;
        return realTx(async (tx) => {
          await resumed;
          return fn(tx as never);
        });
      }
      return txDown ? Promise.reject(down()) : realTx(fn as never);
    }) as typeof first.transaction;
    first.tryLock = async (p, h) => {
      if (lockDown) throw down();
      const held = await realTryLock(p, h);
      if (!held) locksTaken++;
      return held;
    };
    const events: RunEvent[] = [];
    const firstRun = runPipeline(config, first, { workers: 0, retries: 20, emit: (e) => events.push(e) });
    const retrying = () =>
      new Set(events.filter((e) => e.type === 'file_retry').map((e) => (e as { file: string }).file));
    await until('both lanes busy', () => retrying().size === (paused ? 1 : 2) && (!paused || inTx));

    lockDown = true;
    const admin = await mysqlAdmin();
    try {
      const database = new URL(ws.destination.replace(/^mariadb:/, 'mysql:')).pathname.slice(1);
      const [rows] = await admin.query('SELECT IS_USED_LOCK(?) AS id', [lockName(database, 'test')]);
      const id = (rows as Array<{ id: number | null }>)[0]?.id;
      expect(id, 'the first run holds its lock').not.toBeNull();
      await admin.query(`KILL CONNECTION ${Number(id)}`);
    } finally {
      await admin.end();
    }

    const second = await runPipeline(config, await dest(), { workers: 0 });
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    expect(second.files.loaded).toBe(4);

    const mark = events.length;
    txDown = false;
    lockDown = false;
    if (paused) {
      // The retrying lane takes the lock again (and stops the run); the paused lane's file
      // then goes on in its transaction, to confirmLock.
      await until('the lock taken again', () => locksTaken === 2);
      resume();
    }
    const summary = await firstRun;
    return { summary, late: events.slice(mark), check: await dest() };
  }

  async function expectStopped(r: Awaited<ReturnType<typeof scenario>>) {
    const loaded = r.late.filter((e) => e.type === 'file_loaded').map((e) => (e as { file: string }).file);
    expect(loaded, 'files the first run loaded after the second run').toEqual([]);
    expect(r.summary.status).toBe('failed');
    expect(r.summary.error).toMatch(
      /the run lock of pipeline test was lost .* 1 other run\(s\) started since/,
    );
    const orders = await dump(r.check, 'orders');
    const users = await dump(r.check, 'users');
    expect(
      orders.filter((x) => Math.floor(Number(x.amount) / 1000) !== 3).length,
      'orders not from day 3',
    ).toBe(0);
    expect(users.filter((x) => !String(x.name).endsWith('day 3')).length, 'users not from day 3').toBe(0);
  }

  it('the first run stops at the next attempt of every lane', { timeout: 120_000 }, async () => {
    await expectStopped(await scenario(false));
  });

  it('a file already in its transaction is rolled back at confirmLock', { timeout: 120_000 }, async () => {
    await expectStopped(await scenario(true));
  });
});

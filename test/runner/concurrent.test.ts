import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/cli/context.js';
import { createDestination } from '../../src/destinations/index.js';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';
import { runPipeline } from '../../src/runner/run.js';
import { listRejects } from '../../src/state/rejects.js';
import { DIALECTS, type Dialect, dump, Workspace } from '../helpers/workspace.js';

/**
 * Files of different tables load at the same time where the destination allows several
 * transactions (MySQL: `connectionLimit`, default 4); files of one table still load one
 * after the other in path order. The result must be that of one load at a time: same
 * tables, same rejects, same summary — with the order rules (a later file wins; the
 * greatest cursor wins, whatever the file order) holding across files.
 */
function writeData(ws: Workspace) {
  for (const day of [1, 2, 3]) {
    const orders = ['order_id,user_id,amount,updated_at'];
    const users = ['user_id,name,tier'];
    const events = ['event_id,user_id,kind'];
    for (let i = 1; i <= 3_000; i++) {
      // Days 2 and 3 re-send every order; day 2's odd ones and day 3's even ones with an OLDER
      // cursor than the stored one (ignored): odd orders end as on day 3, even ones as on day 2.
      const stale = (day === 2 && i % 2 === 1) || (day === 3 && i % 2 === 0);
      const stamp = stale ? '2024-01-01 00:00:00' : `2024-01-0${day + 1} 00:00:00`;
      orders.push(i === 500 * day ? `${i},${i}` : `${i},${i % 300},${i}.${day}0,${stamp}`);
      if (i <= 1_000)
        users.push(`${i},"user ${i}, day ${day}",${day === 3 && i % 3 === 0 ? 'gold' : 'basic'}`);
      events.push(i === 1_234 ? `${day}-${i},x` : `${day}-${i},${i % 300},${['view', 'click'][i % 2]}`);
    }
    ws.write(`in/d${day}/orders.csv`, `${orders.join('\n')}\n`);
    ws.write(`in/d${day}/users.csv`, `${users.join('\n')}\n`);
    ws.write(`in/d${day}/events.csv`, `${events.join('\n')}\n`);
  }
}

const SOURCES = `sources:
  - table: orders
    files: "in/*/orders.csv"
    primary_key: order_id
    cursor: updated_at
  - table: users
    files: "in/*/users.csv"
    primary_key: user_id
  - table: events
    files: "in/*/events.csv"
`;

async function load(dialect: Dialect, suffix: string) {
  const ws = await Workspace.create(dialect);
  writeData(ws);
  ws.write('tributary.yaml', `pipeline: test\ndestination: ${ws.destination}${suffix}\n${SOURCES}`);
  const config = readConfig(path.join(ws.dir, 'tributary.yaml'));
  const dest = await createDestination(config.destination);
  await dest.open();
  const events: RunEvent[] = [];
  try {
    const summary = await runPipeline(config, dest, { workers: 0, emit: (e) => events.push(e) });
    const tables = {
      orders: await dump(dest, 'orders'),
      users: await dump(dest, 'users'),
      events: await dump(dest, 'events'),
    };
    const rejects = (await listRejects(dest, 'test')).map((r) => [r.file, r.line, r.code, r.column]);
    return { ws, summary, events, tables, rejects, concurrent: dest.capabilities.maxConcurrentLoads };
  } finally {
    await dest.close();
  }
}

/** Most files in progress at once, from the event stream. */
function widest(events: RunEvent[]): number {
  let open = 0;
  let max = 0;
  for (const e of events) {
    if (e.type === 'file_started') max = Math.max(max, ++open);
    if (e.type === 'file_loaded' || e.type === 'file_failed' || e.type === 'file_unchanged') open--;
  }
  return max;
}

describe.each(DIALECTS)('concurrent loads on %s', (dialect) => {
  const runs: Awaited<ReturnType<typeof load>>[] = [];
  beforeAll(async () => {
    // A server database takes connectionLimit (MariaDB, PostgreSQL); SQLite loads one file at a time.
    runs.push(await load(dialect, dialect === 'sqlite' ? '' : '?connectionLimit=1'));
    runs.push(await load(dialect, ''));
  }, 120_000);
  afterAll(async () => {
    for (const r of runs) await r.ws.drop();
  });

  it('loads tables side by side where it can, with exactly the result of one load at a time', () => {
    const [one, many] = runs as [Awaited<ReturnType<typeof load>>, Awaited<ReturnType<typeof load>>];
    expect(one.concurrent).toBe(1);
    expect(widest(one.events)).toBe(1);
    if (dialect !== 'sqlite') {
      expect(many.concurrent).toBe(4);
      expect(widest(many.events)).toBe(3); // one lane per table
    }
    // Files of one table never overlap, and load in path order.
    for (const table of ['orders', 'users', 'events']) {
      const seq = many.events.flatMap((e) =>
        (e.type === 'file_started' || e.type === 'file_loaded') && e.table === table
          ? [`${e.type} ${e.file}`]
          : [],
      );
      expect(seq).toEqual(
        [1, 2, 3].flatMap((d) => [`file_started in/d${d}/${table}.csv`, `file_loaded in/d${d}/${table}.csv`]),
      );
    }
    const {
      runId: _a,
      startedAt: _b,
      durationMs: _c,
      ...a
    } = one.summary as RunSummary & Record<string, unknown>;
    const {
      runId: _d,
      startedAt: _e,
      durationMs: _f,
      ...b
    } = many.summary as RunSummary & Record<string, unknown>;
    // A file's time (`fileReports[].ms`) is a measurement, not a result.
    const untimed = (s: Record<string, unknown>) => ({
      ...s,
      fileReports: (s.fileReports as Record<string, unknown>[] | undefined)?.map(({ ms: _ms, ...r }) => r),
    });
    expect(untimed(b)).toEqual(untimed(a));
    expect(many.events.filter((e) => e.type === 'file_retry')).toEqual([]); // no deadlock between lanes
    expect(many.tables).toEqual(one.tables);
    expect(many.rejects).toEqual(one.rejects);
    // The order rules across files: an older re-send lost, a newer one won, the last users file won.
    const order = (id: number) => one.tables.orders.find((o) => o.order_id === String(id));
    expect(order(1)?.amount).toBe('1.30');
    expect(order(2)?.amount).toBe('2.20');
    expect(one.tables.users.find((u) => u.user_id === '3')).toMatchObject({
      name: 'user 3, day 3',
      tier: 'gold',
    });
    expect(one.tables.events).toHaveLength(3 * 2_999);
    expect(one.rejects).toHaveLength(6);
    expect(new Set(one.rejects.map((r) => r[2]))).toEqual(new Set(['CSV_FIELD_COUNT']));
  });
});

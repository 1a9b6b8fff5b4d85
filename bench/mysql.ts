import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import {
  type ChildResult,
  expectedCents,
  flag,
  ORDER_COLUMNS,
  ordersCsv,
  rate,
  runCli,
  SERVER,
  saveResult,
  tempDir,
  uniqueSuffix,
} from './lib.js';

/**
 * MariaDB end to end vs the speed limit, all in this run on the same files, `--rounds`
 * rounds (default 3) alternating, medians compared:
 *
 * - **bare LOAD DATA** (the baseline): `LOAD DATA LOCAL INFILE` of the CSV into a hand-made
 *   table of the right types;
 * - **Tributary, new table**: `tributary run` into an empty database (inference, ledger, the
 *   fast path: the file's own text to LOAD DATA where the server reads it as Tributary would
 *   store it), and the same with the fast path off (`TRIBUTARY_FAST_PATH=off`: every row
 *   coerced and encoded as TSV), for the before/after;
 * - **Tributary, all updates**: a rerun with a later file holding every key again, every row
 *   changed (staged and merged);
 * - **the bare update statements** on the same data, each on a table holding the first file
 *   (loaded untimed): `LOAD DATA … REPLACE`, and a staging table loaded by LOAD DATA then
 *   merged by `INSERT … SELECT … ON DUPLICATE KEY UPDATE` or by `UPDATE … JOIN` — the floor
 *   an update run is held against.
 *
 * CPU is measured beside the wall time: ours (the CLI child's, all threads; the benchmark's
 * own for the bare loads) and the server's (mariadbd's, from /proc).
 */
export async function benchMysql(rows: number): Promise<Record<string, unknown>> {
  const csv = await ordersCsv(`orders-${rows}.csv`, rows);
  const updates = await ordersCsv(`orders-${rows}-v1.csv`, rows, 1);
  const rounds = Number(flag('rounds') ?? (process.env.BENCH_SMOKE ? 1 : 3));
  const mb = fs.statSync(csv).size / 1e6;
  const admin = await mysql.createConnection({
    ...SERVER,
    infileStreamFactory: (p: string) => fs.createReadStream(p),
  });
  // Names of this run alone: two benchmarks (or a benchmark and the smoke test) may run at once.
  const suffix = uniqueSuffix();
  const bareDb = `trib_bench_bare_${suffix}`;
  const dbs = new Set<string>([bareDb]);
  const server = serverCpu();
  const samples: Record<string, Sample[]> = {};
  const add = (name: string, s: Sample) => {
    samples[name] ??= [];
    samples[name].push(s);
  };

  const count = async (db: string) => {
    const [[r]] = (await admin.query(`SELECT count(*) AS n FROM ${db}.orders`)) as unknown as [
      [{ n: number }],
    ];
    return Number(r?.n);
  };
  // Not just the count: every row's values (the sum of the amounts, the cursor's month).
  const check = async (db: string, version: number, runId?: number) => {
    const [[r]] = (await admin.query(
      `SELECT count(*) AS n, CAST(SUM(amount * 100) AS CHAR) AS cents, SUM(MONTH(updated_at) = ${6 + version}) AS month` +
        (runId === undefined ? '' : ', MIN(_tributary_run_id) AS lo, MAX(_tributary_run_id) AS hi') +
        ` FROM ${db}.orders`,
    )) as unknown as [[{ n: number; cents: string; month: number | string; lo?: number; hi?: number }]];
    const want = expectedCents(rows, version);
    if (
      Number(r?.n) !== rows ||
      BigInt(String(r?.cents).replace(/\.0*$/, '')) !== want ||
      Number(r?.month) !== rows
    ) {
      throw new Error(`${db}, version ${version}: table holds ${JSON.stringify(r)}, expected ${want} cents`);
    }
    if (runId !== undefined && (r?.lo !== runId || r?.hi !== runId))
      throw new Error(`${db}, version ${version}: run ids ${r?.lo}..${r?.hi}`);
  };
  const createOrders = async (db: string, engine = 'InnoDB', temporary = false) =>
    admin.query(
      `CREATE ${temporary ? 'TEMPORARY ' : ''}TABLE ${db}.${temporary ? 'staged' : 'orders'} (order_id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(18,2), currency LONGTEXT, status LONGTEXT, ordered_at DATETIME(6), updated_at DATETIME(6)) ENGINE=${engine}`,
    );
  const loadInto = (db: string, table: string, file: string, how = '') =>
    admin.query({
      sql: `LOAD DATA LOCAL INFILE ? ${how} INTO TABLE ${db}.${table} CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' IGNORE 1 LINES (${ORDER_COLUMNS.join(', ')})`,
      values: [file],
    });
  /** A fresh bare database whose `orders` holds the first file (untimed). */
  const freshBare = async (withFirst: boolean) => {
    await admin.query(`DROP DATABASE IF EXISTS ${bareDb}`);
    await admin.query(`CREATE DATABASE ${bareDb} CHARACTER SET utf8mb4`);
    await createOrders(bareDb);
    if (withFirst) await loadInto(bareDb, 'orders', csv);
  };
  const bare = async (name: string, fn: () => Promise<unknown>, version: number) => {
    const s0 = server();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    add(name, { ms, ourCpuMs: (c.user + c.system) / 1000, serverCpuMs: server() - s0 });
    await check(bareDb, version);
  };
  const tributary = async (name: string, dir: string, env: NodeJS.ProcessEnv = {}) => {
    const s0 = server();
    const r = await runCli(['run', '--json'], dir, env);
    const serverCpuMs = server() - s0;
    if (r.code !== 0) throw new Error(`tributary run (${name}) failed: ${r.stderr}`);
    add(name, child(r, serverCpuMs));
    return r;
  };
  const workspace = (db: string) => {
    const dir = tempDir('trib-bench-mysql-');
    fs.mkdirSync(path.join(dir, 'in'));
    fs.symlinkSync(csv, path.join(dir, 'in', 'orders.csv'));
    fs.writeFileSync(
      path.join(dir, 'tributary.yaml'),
      `pipeline: bench\ndestination: mysql://root@127.0.0.1:3306/${db}\nsources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n    columns: { amount: "decimal(18,2)" }\n`,
    );
    return dir;
  };

  try {
    for (let round = 0; round < rounds; round++) {
      await freshBare(false);
      await bare('bareLoadData', () => loadInto(bareDb, 'orders', csv), 0);

      for (const [name, env] of [
        ['initial', {}],
        ['initialFastPathOff', { TRIBUTARY_FAST_PATH: 'off' }],
      ] as const) {
        const db = `trib_bench_run_${suffix}_${round}_${name === 'initial' ? 'a' : 'b'}`;
        dbs.add(db);
        await admin.query(`DROP DATABASE IF EXISTS ${db}`);
        const dir = workspace(db);
        await tributary(name, dir, env);
        await check(db, 0, 1);
        if (name === 'initial') {
          // The updates arrive as a later file (`orders_2.csv` sorts after `orders.csv`):
          // every row merges as an update. (Editing orders.csv itself would rebuild the table.)
          fs.symlinkSync(updates, path.join(dir, 'in', 'orders_2.csv'));
          const r = await tributary('update', dir);
          const done = r.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
            .find((e) => e.type === 'run_finished');
          const updated = done.summary.tables[0]?.updated;
          if (updated !== rows) throw new Error(`update run updated ${updated} rows, expected ${rows}`);
          if ((await count(db)) !== rows) throw new Error(`update run left ${await count(db)} rows`);
          await check(db, 1, 2);
        }
        fs.rmSync(dir, { recursive: true, force: true });
        await admin.query(`DROP DATABASE IF EXISTS ${db}`);
      }

      // The floor of an update run: the bare statements on the same data.
      const set = ORDER_COLUMNS.filter((c) => c !== 'order_id');
      await freshBare(true);
      await bare('bareReplace', () => loadInto(bareDb, 'orders', updates, 'REPLACE'), 1);
      // A staging table loaded by LOAD DATA, then merged into the orders by one statement.
      const staged = (merge: string) => async () => {
        await createOrders(bareDb, 'InnoDB', true);
        await loadInto(bareDb, 'staged', updates);
        await admin.query(merge);
        await admin.query(`DROP TEMPORARY TABLE ${bareDb}.staged`);
      };
      await freshBare(true);
      await bare(
        'bareUpsert',
        staged(
          `INSERT INTO ${bareDb}.orders SELECT * FROM ${bareDb}.staged ON DUPLICATE KEY UPDATE ${set.map((c) => `${c} = VALUES(${c})`).join(', ')}`,
        ),
        1,
      );
      await freshBare(true);
      await bare(
        'bareUpdateJoin',
        staged(
          `UPDATE ${bareDb}.orders o JOIN ${bareDb}.staged s USING (order_id) SET ${set.map((c) => `o.${c} = s.${c}`).join(', ')}`,
        ),
        1,
      );
    }

    const m = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)])) as Record<
      string,
      Sample & { maxRssMb?: number }
    >;
    const show = (name: string) => ({
      ms: Math.round(m[name]!.ms),
      rowsPerSec: rate(rows, m[name]!.ms),
      ourCpuMs: Math.round(m[name]!.ourCpuMs),
      serverCpuMs: Math.round(m[name]!.serverCpuMs),
      ...(m[name]!.maxRssMb === undefined ? {} : { maxRssMb: Math.round(m[name]!.maxRssMb) }),
      rounds: samples[name]!.map((s) => Math.round(s.ms)),
    });
    const bareMs = m.bareLoadData!.ms;
    const bestBareUpdate = (['bareReplace', 'bareUpsert', 'bareUpdateJoin'] as const).reduce((a, b) =>
      m[a]!.ms <= m[b]!.ms ? a : b,
    );
    const result = {
      rows,
      fileMB: Number(mb.toFixed(1)),
      rounds,
      bareLoadData: show('bareLoadData'),
      initial: show('initial'),
      initialFastPathOff: show('initialFastPathOff'),
      update: show('update'),
      bareReplace: show('bareReplace'),
      bareUpsert: show('bareUpsert'),
      bareUpdateJoin: show('bareUpdateJoin'),
      initialRatio: ratio(bareMs / m.initial!.ms),
      initialRatioFastPathOff: ratio(bareMs / m.initialFastPathOff!.ms),
      updateRatio: ratio(bareMs / m.update!.ms),
      bestBareUpdate,
      updateVsBestBareUpdate: ratio(m.update!.ms / m[bestBareUpdate]!.ms),
      targets:
        'initialRatio >= 0.8, updateRatio >= 0.4, updateVsBestBareUpdate <= 1.5, maxRssMb < 300 (each a median of the rounds)',
    };
    saveResult('mysql', result);
    return result;
  } finally {
    for (const db of dbs) await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.end();
  }
}

interface Sample {
  ms: number;
  ourCpuMs: number;
  serverCpuMs: number;
  maxRssMb?: number;
}

function child(r: ChildResult, serverCpuMs: number): Sample {
  return { ms: r.ms, ourCpuMs: r.cpuMs.user + r.cpuMs.system, serverCpuMs, maxRssMb: r.maxRssMb };
}

/** The sample of median wall time (its CPU with it: one round's figures, not a mix). */
function median(xs: Sample[]): Sample {
  return [...xs].sort((a, b) => a.ms - b.ms)[Math.floor((xs.length - 1) / 2)] as Sample;
}

const ratio = (x: number) => Number(x.toFixed(2));

/** The MariaDB server's CPU so far, ms (all its threads, from /proc; 0 where it cannot be read). */
function serverCpu(): () => number {
  let pid: string | undefined;
  try {
    pid = execFileSync('pgrep', ['-x', 'mariadbd'], { encoding: 'utf8' }).trim().split('\n')[0];
  } catch {
    try {
      pid = execFileSync('pgrep', ['-x', 'mysqld'], { encoding: 'utf8' }).trim().split('\n')[0];
    } catch {}
  }
  return () => {
    if (!pid) return 0;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ 100
    } catch {
      return 0;
    }
  };
}

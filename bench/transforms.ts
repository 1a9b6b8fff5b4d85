import fs from 'node:fs';
import path from 'node:path';
import { readConfig, withDestination } from '../src/cli/context.js';
import type { Destination } from '../src/destinations/types.js';
import type { ModelResult } from '../src/runner/events.js';
import { runPipeline } from '../src/runner/run.js';
import { order, ordersCsv, saveResult, tempDir, uniqueSuffix } from './lib.js';

/** The demo's user_totals over the benchmark's orders (which have no market column). */
const USER_TOTALS = `-- @materialized incremental
-- @unique_key user_id
SELECT
  user_id,
  COUNT(*) AS order_count,
  ROUND(SUM(amount), 2) AS total_amount,
  MIN(DATE(ordered_at)) AS first_order_date,
  MAX(DATE(ordered_at)) AS last_order_date,
  COUNT(CASE WHEN status = 'delivered' THEN 1 END) AS delivered_count
FROM {{ ref('orders') }}
GROUP BY user_id
`;

const BATCH = 1_000;
const ROUNDS = 5;
/** The MariaDB database of this run (a name of its own: benchmarks may run at once). */
const MYSQL_DB = `tributary_bench_${uniqueSuffix()}`;

/**
 * Incremental vs full refresh of `user_totals` after a small batch, on `rows` orders:
 * load the orders (the first build of the model is part of that run), then ROUNDS times:
 * a batch of BATCH orders (half updates that move orders between users, half new) refreshed
 * incrementally by its run, then a `--full-refresh` of the same model; the results must
 * agree. Times are the model's own refresh time from the run summary (median of the rounds).
 * SQLite always; MariaDB too when TRIBUTARY_BENCH_MYSQL_URL names a server (a database
 * `tributary_bench_<pid>_<random>` is created and dropped).
 */
export async function benchTransforms(rows: number): Promise<Record<string, unknown>> {
  const csv = await ordersCsv(`orders-${rows}.csv`, rows);
  const result: Record<string, unknown> = { rows, batch: BATCH, rounds: ROUNDS };
  result.sqlite = await benchOne(csv, rows, (dir) => `sqlite:${path.join(dir, 'out.db')}`);
  const mysql = process.env.TRIBUTARY_BENCH_MYSQL_URL;
  if (mysql) result.mariadb = await benchOne(csv, rows, () => `${mysql.replace(/\/+$/, '')}/${MYSQL_DB}`);
  saveResult('transforms', result);
  return result;
}

async function benchOne(
  csv: string,
  rows: number,
  destination: (dir: string) => string,
): Promise<Record<string, unknown>> {
  const dir = tempDir('trib-bench-transforms-');
  fs.mkdirSync(path.join(dir, 'in'));
  fs.mkdirSync(path.join(dir, 'models'));
  fs.symlinkSync(csv, path.join(dir, 'in', 'orders-0.csv'));
  fs.writeFileSync(path.join(dir, 'models', 'user_totals.sql'), USER_TOTALS);
  fs.writeFileSync(
    path.join(dir, 'tributary.yaml'),
    `pipeline: bench\ndestination: ${destination(dir)}\nsources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n    columns: { amount: "decimal(18,2)" }\n`,
  );
  const config = readConfig(path.join(dir, 'tributary.yaml'));
  try {
    return await withDestination(config, async (dest) => {
      await dest.execute(`DROP TABLE IF EXISTS ${dest.dialect.quote('user_totals')}`).catch(() => undefined);
      const t0 = performance.now();
      const first = await runPipeline(config, dest);
      const loadMs = performance.now() - t0;
      const incremental: ModelResult[] = [];
      const full: ModelResult[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        writeBatch(path.join(dir, 'in', `orders-${round}.csv`), rows, round);
        incremental.push(modelResult(await runPipeline(config, dest)));
        const afterIncremental = await checksum(dest);
        full.push(
          modelResult(await runPipeline(config, dest, { load: false, transform: { fullRefresh: true } })),
        );
        const afterFull = await checksum(dest);
        if (afterIncremental !== afterFull)
          throw new Error(`incremental ${afterIncremental} ≠ full ${afterFull}`);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
      const inc = median(incremental.map((r) => r.durationMs));
      const fullMs = median(full.map((r) => r.durationMs));
      return {
        destination: dest.description,
        loadAndFirstBuildMs: Math.round(loadMs),
        firstBuildMs: modelResult(first).durationMs,
        modelRows: full[0]?.rows,
        keysPerBatch: incremental.map((r) => r.keys),
        incrementalMs: incremental.map((r) => r.durationMs),
        fullRefreshMs: full.map((r) => r.durationMs),
        speedup: Number((fullMs / Math.max(inc, 1)).toFixed(1)),
      };
    });
  } finally {
    if (config.destination.kind !== 'sqlite') {
      await withDestination(config, (dest) => dest.execute(`DROP DATABASE IF EXISTS ${MYSQL_DB}`)).catch(
        () => undefined,
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** BATCH orders: the first half updates existing orders (new version: other user, amount), the rest are new. */
function writeBatch(file: string, rows: number, round: number): void {
  const lines = ['order_id,user_id,amount,currency,status,ordered_at,updated_at'];
  for (let i = 0; i < BATCH; i++) {
    // Each round updates other orders, so version 1 (a month later) is always the newer one.
    const o =
      i < BATCH / 2
        ? order(Math.floor((i * rows) / (BATCH / 2)) + round, 1)
        : order(rows + round * BATCH + i);
    lines.push(
      `${o.order_id},${o.user_id},${o.amount},${o.currency},${o.status},${o.ordered_at},${o.updated_at}`,
    );
  }
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

function modelResult(s: { models?: ModelResult[]; status: string; error?: string }): ModelResult {
  const m = s.models?.find((x) => x.name === 'user_totals');
  if (m?.status !== 'succeeded')
    throw new Error(`user_totals did not run: ${s.status} ${s.error ?? m?.error ?? ''}`);
  return m;
}

async function checksum(dest: Destination): Promise<string> {
  const [r] = await dest.query<Record<string, unknown>>(
    'SELECT COUNT(*) AS n, SUM(order_count) AS orders, ROUND(SUM(total_amount), 2) AS total, SUM(delivered_count) AS delivered FROM user_totals',
  );
  return `${r?.n}/${r?.orders}/${Number(r?.total).toFixed(2)}/${r?.delivered}`;
}

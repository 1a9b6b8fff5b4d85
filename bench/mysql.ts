import fs from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import {
  expectedCents,
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
 * MariaDB end to end vs the speed limit, both in this run on the same file: (a) a bare
 * `LOAD DATA LOCAL INFILE` into a hand-made table of the right types, (b) `tributary run`
 * into an empty database (inference, validation, staging, merge, ledger), then (c) a rerun
 * on a changed copy of the file whose rows are all updates of existing keys.
 */
export async function benchMysql(rows: number): Promise<Record<string, unknown>> {
  const csv = await ordersCsv(`orders-${rows}.csv`, rows);
  const updates = await ordersCsv(`orders-${rows}-v1.csv`, rows, 1);
  const mb = fs.statSync(csv).size / 1e6;
  const admin = await mysql.createConnection({
    ...SERVER,
    infileStreamFactory: (p: string) => fs.createReadStream(p),
  });
  // Names of this run alone: two benchmarks (or a benchmark and the smoke test) may run at once.
  const suffix = uniqueSuffix();
  const bareDb = `trib_bench_bare_${suffix}`;
  const runDb = `trib_bench_run_${suffix}`;
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${bareDb}`);
    await admin.query(`DROP DATABASE IF EXISTS ${runDb}`);
    await admin.query(`CREATE DATABASE ${bareDb} CHARACTER SET utf8mb4`);
    await admin.query(
      `CREATE TABLE ${bareDb}.orders (order_id BIGINT PRIMARY KEY, user_id BIGINT, amount DECIMAL(18,2), currency LONGTEXT, status LONGTEXT, ordered_at DATETIME(6), updated_at DATETIME(6)) ENGINE=InnoDB`,
    );
    const t0 = performance.now();
    await admin.query({
      sql: `LOAD DATA LOCAL INFILE ? INTO TABLE ${bareDb}.orders CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' LINES TERMINATED BY '\\n' IGNORE 1 LINES (${ORDER_COLUMNS.join(', ')})`,
      values: [csv],
    });
    const bareMs = performance.now() - t0;
    const [[bareCount]] = (await admin.query(`SELECT count(*) AS n FROM ${bareDb}.orders`)) as unknown as [
      [{ n: number }],
    ];
    if (Number(bareCount?.n) !== rows)
      throw new Error(`bare LOAD DATA loaded ${bareCount?.n} rows, expected ${rows}`);

    const dir = tempDir('trib-bench-mysql-');
    fs.mkdirSync(path.join(dir, 'in'));
    fs.symlinkSync(csv, path.join(dir, 'in', 'orders.csv'));
    fs.writeFileSync(
      path.join(dir, 'tributary.yaml'),
      `pipeline: bench\ndestination: mysql://root@127.0.0.1:3306/${runDb}\nsources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n    columns: { amount: "decimal(18,2)" }\n`,
    );
    const initial = await runCli(['run', '--quiet'], dir);
    if (initial.code !== 0) throw new Error(`tributary run failed: ${initial.stderr}`);
    const count = async () => {
      const [[r]] = (await admin.query(`SELECT count(*) AS n FROM ${runDb}.orders`)) as unknown as [
        [{ n: number }],
      ];
      return Number(r?.n);
    };
    if ((await count()) !== rows) throw new Error(`tributary loaded ${await count()} rows, expected ${rows}`);
    // Not just the count: every row's values and run id (the sum of the amounts, the cursor's month).
    const check = async (version: number, runId: number) => {
      const [[r]] = (await admin.query(
        `SELECT CAST(SUM(amount * 100) AS CHAR) AS cents, SUM(MONTH(updated_at) = ${6 + version}) AS month, ` +
          `MIN(_tributary_run_id) AS lo, MAX(_tributary_run_id) AS hi FROM ${runDb}.orders`,
      )) as unknown as [[{ cents: string; month: number | string; lo: number; hi: number }]];
      const want = expectedCents(rows, version);
      if (BigInt(String(r?.cents).replace(/\.0*$/, '')) !== want || Number(r?.month) !== rows) {
        throw new Error(`version ${version}: table holds ${JSON.stringify(r)}, expected ${want} cents`);
      }
      if (r?.lo !== runId || r?.hi !== runId)
        throw new Error(`version ${version}: run ids ${r?.lo}..${r?.hi}`);
    };
    await check(0, 1);

    // The updates arrive as a later file (`orders_2.csv` sorts after `orders.csv`): every row
    // merges as an update. (Editing orders.csv itself would rebuild the table instead.)
    fs.symlinkSync(updates, path.join(dir, 'in', 'orders_2.csv'));
    const update = await runCli(['run', '--json'], dir);
    if (update.code !== 0) throw new Error(`tributary update run failed: ${update.stderr}`);
    const done = update.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'run_finished');
    const updated = done.summary.tables[0]?.updated;
    if (updated !== rows) throw new Error(`update run updated ${updated} rows, expected ${rows}`);
    if ((await count()) !== rows) throw new Error(`update run left ${await count()} rows, expected ${rows}`);
    await check(1, 2);
    fs.rmSync(dir, { recursive: true, force: true });

    const result = {
      rows,
      fileMB: Number(mb.toFixed(1)),
      bareLoadData: { ms: Math.round(bareMs), rowsPerSec: rate(rows, bareMs) },
      initial: {
        ms: Math.round(initial.ms),
        rowsPerSec: rate(rows, initial.ms),
        maxRssMb: Math.round(initial.maxRssMb),
      },
      initialRatio: Number((bareMs / initial.ms).toFixed(2)),
      update: {
        ms: Math.round(update.ms),
        rowsPerSec: rate(rows, update.ms),
        maxRssMb: Math.round(update.maxRssMb),
      },
      updateRatio: Number((bareMs / update.ms).toFixed(2)),
      targets: 'initialRatio >= 0.7, updateRatio >= 0.4, maxRssMb < 300',
    };
    saveResult('mysql', result);
    return result;
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${bareDb}`);
    await admin.query(`DROP DATABASE IF EXISTS ${runDb}`);
    await admin.end();
  }
}

import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { DATA, order, PG_SERVER, rate, runCli, SERVER, saveResult, tempDir, uniqueSuffix } from './lib.js';
import { createDatabase, dropDatabase, PG_TARGETS, pgAdmin, ServerCpu } from './postgres.js';

const TARGET = 2 * 1000 ** 3; // 2 GB

/** A ~2 GB JSON array of order objects (cached); returns its path and row count. */
async function jsonArray(): Promise<{ file: string; rows: number }> {
  fs.mkdirSync(DATA, { recursive: true });
  const file = path.join(DATA, 'orders-2gb.json');
  const meta = `${file}.rows`;
  if (fs.existsSync(file) && fs.existsSync(meta))
    return { file, rows: Number(fs.readFileSync(meta, 'utf8')) };
  const out = fs.createWriteStream(`${file}.tmp`);
  let bytes = 0;
  let rows = 0;
  let buf = '[\n';
  while (bytes + buf.length < TARGET) {
    buf += `${rows ? ',\n' : ''}${JSON.stringify(order(rows))}`;
    rows++;
    if (buf.length > 1 << 20) {
      bytes += buf.length;
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(`${buf}\n]\n`);
  await once(out, 'finish');
  fs.renameSync(`${file}.tmp`, file);
  fs.writeFileSync(meta, String(rows));
  return { file, rows };
}

/** A ~2 GB orders CSV (cached). */
async function csv(): Promise<{ file: string; rows: number }> {
  const rows = Math.ceil(TARGET / 72);
  const { ordersCsv } = await import('./lib.js');
  return { file: await ordersCsv(`orders-${rows}.csv`, rows), rows };
}

/** One 2 GB file, CSV and JSON array, into SQLite, and the CSV into MariaDB: time and the process's peak RSS. */
export async function benchBigfile(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { target: 'maxRssMb < 300' };
  result.csvMariadb = await csvIntoMariadb();
  for (const [name, make] of [
    ['csv', csv],
    ['jsonArray', jsonArray],
  ] as const) {
    const { file, rows } = await make();
    const dir = tempDir('trib-bench-big-');
    fs.mkdirSync(path.join(dir, 'in'));
    fs.symlinkSync(file, path.join(dir, 'in', path.basename(file)));
    fs.writeFileSync(
      path.join(dir, 'tributary.yaml'),
      `pipeline: big\ndestination: sqlite:out.db\nsources:\n  - table: orders\n    files: "in/*"\n    primary_key: order_id\n`,
    );
    const run = await runCli(['run', '--quiet'], dir);
    if (run.code !== 0) throw new Error(`tributary run failed: ${run.stderr}`);
    const db = new Database(path.join(dir, 'out.db'), { readonly: true });
    const loaded = db.prepare('SELECT count(*) FROM orders').pluck().get() as number;
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (loaded !== rows) throw new Error(`${name}: loaded ${loaded} rows, expected ${rows}`);
    result[name] = {
      fileGB: Number((fs.statSync(file).size / 1e9).toFixed(2)),
      rows,
      ms: Math.round(run.ms),
      rowsPerSec: rate(rows, run.ms),
      maxRssMb: Math.round(run.maxRssMb),
    };
  }
  saveResult('bigfile', result);
  return result;
}

/** The 2 GB CSV into a new MariaDB table (one pass, LOAD DATA): time and peak RSS. */
async function csvIntoMariadb(): Promise<Record<string, unknown>> {
  const { file, rows } = await csv();
  const admin = await mysql.createConnection(SERVER);
  const db = `trib_bench_big_${uniqueSuffix()}`;
  const dir = tempDir('trib-bench-big-mysql-');
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    fs.mkdirSync(path.join(dir, 'in'));
    fs.symlinkSync(file, path.join(dir, 'in', path.basename(file)));
    fs.writeFileSync(
      path.join(dir, 'tributary.yaml'),
      `pipeline: big\ndestination: mysql://root@127.0.0.1:3306/${db}\nsources:\n  - table: orders\n    files: "in/*"\n    primary_key: order_id\n`,
    );
    const run = await runCli(['run', '--quiet'], dir);
    if (run.code !== 0) throw new Error(`tributary run failed: ${run.stderr}`);
    const [[r]] = (await admin.query(`SELECT count(*) AS n FROM ${db}.orders`)) as unknown as [
      [{ n: number }],
    ];
    if (Number(r?.n) !== rows) throw new Error(`csvMariadb: loaded ${r?.n} rows, expected ${rows}`);
    return {
      fileGB: Number((fs.statSync(file).size / 1e9).toFixed(2)),
      rows,
      ms: Math.round(run.ms),
      rowsPerSec: rate(rows, run.ms),
      maxRssMb: Math.round(run.maxRssMb),
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The 2 GB CSV into a new PostgreSQL table (`npm run bench -- postgres-bigfile`; not part of
 * `bigfile`, which it would lengthen by minutes): one pass, the rows through COPY straight
 * into the table created in the file's transaction. Time, the process's peak RSS, and CPU
 * (ours, the server's).
 */
export async function benchPostgresBigfile(): Promise<Record<string, unknown>> {
  const { file, rows } = await csv();
  const admin = await pgAdmin();
  const db = `trib_bench_pg_big_${process.pid}`;
  const dir = tempDir('trib-bench-big-pg-');
  try {
    await createDatabase(admin, db);
    fs.mkdirSync(path.join(dir, 'in'));
    fs.symlinkSync(file, path.join(dir, 'in', path.basename(file)));
    fs.writeFileSync(
      path.join(dir, 'tributary.yaml'),
      `pipeline: big\ndestination: postgres://${PG_SERVER.user}@${PG_SERVER.host}:${PG_SERVER.port}/${db}\nsources:\n  - table: orders\n    files: "in/*"\n    primary_key: order_id\n`,
    );
    await admin.query('CHECKPOINT');
    const server = new ServerCpu(db);
    const run = await runCli(['run', '--quiet'], dir);
    const cpu = server.stop();
    if (run.code !== 0) throw new Error(`tributary run failed: ${run.stderr}`);
    const check = await pgAdmin(db);
    let loaded: number;
    try {
      loaded = ((await check.query('SELECT count(*)::int AS n FROM orders')).rows[0] as { n: number }).n;
    } finally {
      await check.end();
    }
    if (loaded !== rows) throw new Error(`csvPostgres: loaded ${loaded} rows, expected ${rows}`);
    const maxRssMb = Math.round(run.maxRssMb);
    const result = {
      target: `maxRssMb < ${PG_TARGETS.maxRssMb}`,
      csvPostgres: {
        fileGB: Number((fs.statSync(file).size / 1e9).toFixed(2)),
        rows,
        ms: Math.round(run.ms),
        rowsPerSec: rate(rows, run.ms),
        maxRssMb,
        cpuMs: {
          ours: Math.round(run.cpuMs.user + run.cpuMs.system),
          server: Math.round(cpu.backendsMs),
          serverBackground: Math.round(cpu.backgroundMs),
        },
      },
      verdict: maxRssMb < PG_TARGETS.maxRssMb ? 'PASS' : 'MISS',
    };
    console.log(
      `postgres-bigfile: ${rows} rows in ${(run.ms / 1000).toFixed(1)} s, peak RSS ${maxRssMb} MB (target < ${PG_TARGETS.maxRssMb} MB): ${result.verdict}`,
    );
    saveResult('postgres-bigfile', result);
    return result;
  } finally {
    await dropDatabase(admin, db).catch(() => undefined);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A ~100 MB CSV of rows `width` bytes wide (cached), or with `single`, one row of that width. */
async function wideCsv(width: number, single = false): Promise<{ file: string; rows: number }> {
  fs.mkdirSync(DATA, { recursive: true });
  const rows = single ? 1 : Math.ceil(100e6 / width);
  const file = path.join(DATA, `wide-${width}-${rows}.csv`);
  if (fs.existsSync(file)) return { file, rows };
  const out = fs.createWriteStream(`${file}.tmp`);
  out.write('id,note,amount\n');
  const letters = 'abcdefghijklmnopqrstuvwxyz ';
  for (let i = 0; i < rows; i++) {
    let note = '';
    while (note.length < width) note += letters.slice(i % 7) + letters.slice(0, i % 7);
    if (!out.write(`${i + 1},${note.slice(0, width)},${(i % 1000) / 100}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  fs.renameSync(`${file}.tmp`, file);
  return { file, rows };
}

/**
 * Wide rows into both databases (`npm run bench -- wide`, and part of bigfile): 100 MB CSVs
 * of 1 KB, 10 KB and 50 KB rows and a file of one 10 MB row, each into a new SQLite and a new
 * MariaDB table: rows checked, time and the process's peak RSS (target < 300 MB: batches
 * and the worker window are bounded by bytes, LOAD DATA text goes in 1 MiB packets).
 */
export async function benchWide(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { target: 'maxRssMb < 300' };
  const admin = await mysql.createConnection(SERVER);
  try {
    for (const [label, width, single] of [
      ['1KB', 1000, false],
      ['10KB', 10_000, false],
      ['50KB', 50_000, false],
      ['one10MB', 10_000_000, true],
    ] as const) {
      const { file, rows } = await wideCsv(width, single);
      for (const dest of ['sqlite', 'mariadb'] as const) {
        const dir = tempDir('trib-bench-wide-');
        const db = `trib_bench_wide_${process.pid}`;
        try {
          fs.mkdirSync(path.join(dir, 'in'));
          fs.symlinkSync(file, path.join(dir, 'in', path.basename(file)));
          if (dest === 'mariadb') await admin.query(`DROP DATABASE IF EXISTS ${db}`);
          const url = dest === 'sqlite' ? 'sqlite:out.db' : `mysql://root@127.0.0.1:3306/${db}`;
          fs.writeFileSync(
            path.join(dir, 'tributary.yaml'),
            `pipeline: wide\ndestination: ${url}\nsources:\n  - table: t\n    files: "in/*"\n    primary_key: id\n`,
          );
          const run = await runCli(['run', '--quiet'], dir);
          if (run.code !== 0) throw new Error(`wide ${label} → ${dest}: tributary run failed: ${run.stderr}`);
          let loaded: number;
          if (dest === 'sqlite') {
            const lite = new Database(path.join(dir, 'out.db'), { readonly: true });
            loaded = lite.prepare('SELECT count(*) FROM t').pluck().get() as number;
            lite.close();
          } else {
            const [[r]] = (await admin.query(`SELECT count(*) AS n FROM ${db}.t`)) as unknown as [
              [{ n: number }],
            ];
            loaded = Number(r?.n);
          }
          if (loaded !== rows)
            throw new Error(`wide ${label} → ${dest}: loaded ${loaded} rows, expected ${rows}`);
          result[`${label}_${dest}`] = {
            fileMB: Math.round(fs.statSync(file).size / 1e6),
            rows,
            ms: Math.round(run.ms),
            maxRssMb: Math.round(run.maxRssMb),
          };
          console.log(label, dest, JSON.stringify(result[`${label}_${dest}`]));
        } finally {
          if (dest === 'mariadb') await admin.query(`DROP DATABASE IF EXISTS ${db}`);
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await admin.end();
  }
  saveResult('wide', result);
  return result;
}

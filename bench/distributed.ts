import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import {
  DATA,
  flag,
  median,
  order,
  PG_SERVER,
  ROOT,
  rate,
  runCli,
  SERVER,
  saveResult,
  tempDir,
  uniqueSuffix,
  writeOrders,
} from './lib.js';
import { createDatabase, dropDatabase, pgAdmin } from './postgres.js';

const BIN = path.join(ROOT, 'bin', 'tributary.js');
const WORKER_COUNTS = [1, 2, 3] as const;

/** A server the benchmark loads into: a fresh database per load. */
interface Target {
  name: 'mariadb' | 'postgres';
  url(db: string): string;
  create(db: string): Promise<void>;
  drop(db: string): Promise<void>;
  /** Rows and the sum of the amounts in cents of a table. */
  table(db: string, table: string): Promise<{ n: number; cents: bigint }>;
  close(): Promise<void>;
}

async function mariadb(): Promise<Target> {
  const admin = await mysql.createConnection(SERVER);
  return {
    name: 'mariadb',
    url: (db) => `mysql://${SERVER.user}@${SERVER.host}:${SERVER.port}/${db}`,
    create: async (db) => {
      await admin.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
    },
    drop: async (db) => {
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
    },
    table: async (db, table) => {
      const [[r]] = (await admin.query(
        `SELECT count(*) AS n, CAST(COALESCE(SUM(amount * 100), 0) AS CHAR) AS cents FROM ${db}.${table}`,
      )) as unknown as [[{ n: number; cents: string }]];
      return { n: Number(r?.n), cents: BigInt(String(r?.cents).replace(/\.0*$/, '')) };
    },
    close: () => admin.end(),
  };
}

async function postgres(): Promise<Target> {
  const admin = await pgAdmin();
  return {
    name: 'postgres',
    url: (db) => `postgres://${PG_SERVER.user}@${PG_SERVER.host}:${PG_SERVER.port}/${db}`,
    create: (db) => createDatabase(admin, db),
    drop: (db) => dropDatabase(admin, db),
    table: async (db, table) => {
      const client = await pgAdmin(db);
      try {
        const [r] = (
          await client.query(
            `SELECT count(*)::int AS n, (coalesce(sum(amount), 0) * 100)::bigint::text AS cents FROM ${table}`,
          )
        ).rows as Array<{ n: number; cents: string }>;
        return { n: Number(r?.n), cents: BigInt(r?.cents ?? '0') };
      } finally {
        await client.end();
      }
    },
    close: () => admin.end(),
  };
}

/** The landing folder of a benchmark: its files (relative paths) and each table's expected content. */
interface DataSet {
  dir: string;
  files: string[];
  tables: Array<{ table: string; rows: number; cents: string }>;
}

/**
 * `tables` tables of the demo's orders shape, each of `files` CSV files in its own folder
 * (`t0/part-000.csv` …), `rows` in all, every file new keys of its table: the first file of
 * a table goes straight into the new table, the later ones are staged and merged. Written
 * once under bench/data/ and reused (a manifest holds the expected sums).
 */
async function dataSet(rows: number, tables: number, files: number): Promise<DataSet> {
  const dir = path.join(DATA, `distributed-${rows}-${tables}x${files}`);
  const manifest = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifest)) return JSON.parse(fs.readFileSync(manifest, 'utf8')) as DataSet;
  fs.mkdirSync(dir, { recursive: true });
  const set: DataSet = { dir, files: [], tables: [] };
  const perTable = Math.floor(rows / tables);
  for (let t = 0; t < tables; t++) {
    const first = t * perTable;
    const count = t === tables - 1 ? rows - first : perTable;
    fs.mkdirSync(path.join(dir, `t${t}`), { recursive: true });
    let cents = 0n;
    for (let f = 0; f < files; f++) {
      const from = first + Math.floor((count * f) / files);
      const to = first + Math.floor((count * (f + 1)) / files);
      const rel = `t${t}/part-${String(f).padStart(3, '0')}.csv`;
      await writeOrders(path.join(dir, rel), from, to);
      set.files.push(rel);
      for (let i = from; i < to; i++) {
        const [whole, frac] = order(i).amount.split('.');
        cents += BigInt(whole as string) * 100n + BigInt(frac as string);
      }
    }
    set.tables.push({ table: `t${t}`, rows: count, cents: String(cents) });
  }
  fs.writeFileSync(manifest, JSON.stringify(set));
  return set;
}

/** `files` CSV files of one row each, all of one table (`tiny`): what a job costs besides its rows. */
async function tinySet(files: number): Promise<DataSet> {
  const dir = path.join(DATA, `distributed-tiny-${files}`);
  const manifest = path.join(dir, 'manifest.json');
  if (fs.existsSync(manifest)) return JSON.parse(fs.readFileSync(manifest, 'utf8')) as DataSet;
  fs.mkdirSync(path.join(dir, 'tiny'), { recursive: true });
  const set: DataSet = { dir, files: [], tables: [] };
  let cents = 0n;
  for (let f = 0; f < files; f++) {
    const rel = `tiny/e-${String(f).padStart(5, '0')}.csv`;
    await writeOrders(path.join(dir, rel), f, f + 1);
    set.files.push(rel);
    const [whole, frac] = order(f).amount.split('.');
    cents += BigInt(whole as string) * 100n + BigInt(frac as string);
  }
  set.tables.push({ table: 'tiny', rows: files, cents: String(cents) });
  fs.writeFileSync(manifest, JSON.stringify(set));
  return set;
}

/** A pipeline over `set` into `url`: a temporary folder with its config and the files linked under `in/`. */
function workspace(set: DataSet, url: string): string {
  const dir = tempDir('trib-bench-dist-');
  for (const rel of set.files) {
    fs.mkdirSync(path.join(dir, 'in', path.dirname(rel)), { recursive: true });
    fs.symlinkSync(path.join(set.dir, rel), path.join(dir, 'in', rel));
  }
  const sources = set.tables
    .map(
      ({ table }) =>
        `  - table: ${table}\n    files: "in/${table}/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n    columns: { amount: "decimal(18,2)" }\n`,
    )
    .join('');
  fs.writeFileSync(
    path.join(dir, 'tributary.yaml'),
    `pipeline: bench\ndestination: ${url}\nsources:\n${sources}`,
  );
  return dir;
}

/** A `tributary worker` process (bin/tributary.js), and the queue it serves once ready. */
interface WorkerProcess {
  child: ChildProcess;
  queue: string;
  stderr(): string;
}

async function startWorker(dir: string, queueUrl: string, args: string[]): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'worker', '-c', path.join(dir, 'tributary.yaml'), '--queue', queueUrl, ...args],
    { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  const queue = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker not ready after 60 s: ${stderr}`)), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before it was ready: ${stderr}`));
    });
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000); // the last lines are enough for an error
      const m = /waiting for files on (\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
  });
  return { child, queue, stderr: () => stderr };
}

async function stopWorker(w: WorkerProcess): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = once(w.child, 'exit');
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** CPU ms (user + system) and peak RSS (MB) of a live process, from /proc (zeros elsewhere). */
function procStats(pid: number | undefined): { cpuMs: number; maxRssMb: number } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuMs: (Number(f[11]) + Number(f[12])) * 10, maxRssMb: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return { cpuMs: 0, maxRssMb: 0 };
  }
}

/** Remove a queue's keys from Redis (the jobs of a finished round). */
async function obliterate(queueUrl: string, name: string): Promise<void> {
  const connection = new Redis(queueUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

interface Load {
  /** From starting the run's process until its work was done (`main()` returned). */
  ms: number;
  /** Then until the process exited. */
  exitLagMs: number;
  /** The run's own duration (its summary: from the lock to the end, no process start). */
  runMs: number;
  /** CPU of the run's process plus, with workers, theirs while the run lasted. */
  cpuMs: number;
  /** Peak RSS of the run's process, and the highest of the workers'. */
  maxRssMb: number;
  workerMaxRssMb: number;
  /** Files loaded by each worker process (empty for a local run). */
  filesPerWorker: number[];
  /** The files' own load times summed (file_loaded.ms: in a worker, from taking the job to its commit). */
  loadMs: number;
}

/**
 * One load of `set` into a new database: a local `tributary run` (workers = 0), or a `run
 * --queue` with that many `tributary worker` processes started beforehand (their start is
 * not timed: workers are long-lived). Every table is checked before the time counts.
 */
async function load(
  target: Target,
  set: DataSet,
  workers: number,
  db: string,
  options: { queueUrl: string; workerArgs: string[] },
): Promise<Load> {
  await target.create(db);
  const dir = workspace(set, target.url(db));
  const procs: WorkerProcess[] = [];
  try {
    for (let i = 0; i < workers; i++)
      procs.push(await startWorker(dir, options.queueUrl, options.workerArgs));
    const before = procs.map((p) => procStats(p.child.pid).cpuMs);
    const args = ['run', '--json', ...(workers > 0 ? ['--queue', options.queueUrl] : [])];
    const run = await runCli(args, dir);
    const after = procs.map((p) => procStats(p.child.pid));
    const events = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as { type: string; worker?: string; ms?: number; summary?: Record<string, unknown> },
      );
    const summary = events.find((e) => e.type === 'run_finished')?.summary as
      | { status: string; durationMs: number; files: { loaded: number; failed: number } }
      | undefined;
    if (run.code !== 0 || summary?.status !== 'succeeded' || summary.files.loaded !== set.files.length) {
      throw new Error(
        `${target.name}, ${workers} worker(s): run ended ${run.code}, ${JSON.stringify(summary?.files)}: ${run.stderr.slice(-4000)}\n${procs.map((p) => p.stderr().slice(-2000)).join('\n')}`,
      );
    }
    for (const t of set.tables) {
      const got = await target.table(db, t.table);
      if (got.n !== t.rows || got.cents !== BigInt(t.cents)) {
        throw new Error(
          `${target.name}, ${workers} worker(s): ${t.table} holds ${got.n} rows, ${got.cents} cents; expected ${t.rows}, ${t.cents}`,
        );
      }
    }
    const byWorker = new Map<string, number>();
    for (const e of events)
      if (e.type === 'file_loaded' && e.worker) byWorker.set(e.worker, (byWorker.get(e.worker) ?? 0) + 1);
    if (workers > 0 && [...byWorker.values()].reduce((a, b) => a + b, 0) !== set.files.length) {
      throw new Error(`${workers} worker(s): not every file was loaded by a worker`);
    }
    return {
      ms: run.doneMs,
      exitLagMs: run.ms - run.doneMs,
      runMs: summary.durationMs,
      cpuMs: run.cpuMs.user + run.cpuMs.system + after.reduce((s, a, i) => s + a.cpuMs - (before[i] ?? 0), 0),
      maxRssMb: run.maxRssMb,
      workerMaxRssMb: Math.max(0, ...after.map((a) => a.maxRssMb)),
      filesPerWorker: [...byWorker.values()].sort((a, b) => b - a),
      loadMs: events.reduce((sum, e) => sum + (e.type === 'file_loaded' ? (e.ms ?? 0) : 0), 0),
    };
  } finally {
    for (const p of procs) await stopWorker(p);
    const queue = procs[0]?.queue;
    if (queue) await obliterate(options.queueUrl, queue).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
    await target.drop(db).catch(() => undefined);
  }
}

/** The round nearest the median. */
function medianRound(xs: readonly Load[]): Load {
  const m = median(xs.map((x) => x.ms));
  return xs.reduce((best, x) => (Math.abs(x.ms - m) < Math.abs(best.ms - m) ? x : best));
}

const r2 = (x: number) => Number(x.toFixed(2));

/**
 * Distributed loading (`run --queue` + `tributary worker`, src/queue/) against a local run of
 * the same files, alternating in this run: each round loads the data set locally, then with
 * 1, 2 and 3 worker processes, each into a new database. Reports the median rows/s of each,
 * its ratio to the local run and the scaling efficiency rows/s(N) / (N × rows/s(1)). Then
 * the cost of a job: `--tiny` files of one row in one table (loaded one after another either
 * way), local vs one worker, in ms per file.
 *
 * Options: `--rows N` (default 1 M) in `--tables=4` tables of `--files=4` files each;
 * `--rounds=3`; `--dialects=mariadb` (or `mariadb,postgres`, `postgres`); `--tiny=500` (0:
 * skip); `--worker-threads=1` and `--concurrency=1` (passed to each `tributary worker` as
 * `--workers` and `--concurrency`); `--queue=redis://127.0.0.1:6379/0`. Under BENCH_SMOKE:
 * one round. Needs the built CLI (`npm run build`), Redis and the servers. `sizes` (the
 * smoke test's) take the place of the flags.
 */
export async function benchDistributed(
  rows: number,
  sizes: { files?: number; tiny?: number; dialects?: string[] } = {},
): Promise<Record<string, unknown>> {
  const rounds = Number(flag('rounds') ?? (process.env.BENCH_SMOKE ? 1 : 3));
  const tables = Number(flag('tables') ?? 4);
  const files = sizes.files ?? Number(flag('files') ?? 4);
  const tiny = sizes.tiny ?? Number(flag('tiny') ?? 500);
  const dialects = sizes.dialects ?? (flag('dialects') ?? 'mariadb').split(',').filter(Boolean);
  const queueUrl = flag('queue') ?? process.env.TRIBUTARY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
  const threads = flag('worker-threads') ?? '1';
  const concurrency = flag('concurrency') ?? '1';
  const workerArgs = ['--workers', threads, '--concurrency', concurrency];
  for (const d of dialects)
    if (d !== 'mariadb' && d !== 'postgres') throw new Error(`--dialects: ${d}? (mariadb, postgres)`);

  const set = await dataSet(rows, tables, files);
  const tinyData = tiny > 0 ? await tinySet(tiny) : undefined;
  const cpus = os.availableParallelism();
  const suffix = uniqueSuffix();
  const result: Record<string, unknown> = {
    rows,
    tables,
    filesPerTable: files,
    fileMB: r2(fs.statSync(path.join(set.dir, set.files[0] as string)).size / 1e6),
    rounds,
    cpus,
    workerProcess: `tributary worker ${workerArgs.join(' ')}`,
    localRun: 'tributary run (default --workers: one thread per core)',
  };
  const lines: string[] = [];

  for (const dialect of dialects) {
    const target = dialect === 'mariadb' ? await mariadb() : await postgres();
    const loads = new Map<number, Load[]>([0, ...WORKER_COUNTS].map((n) => [n, []]));
    const tinyLoads = new Map<number, Load[]>([
      [0, []],
      [1, []],
    ]);
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const n of [0, ...WORKER_COUNTS]) {
          const db = `trib_bench_dist_${suffix}_${round}_${n}`;
          loads.get(n)?.push(await load(target, set, n, db, { queueUrl, workerArgs }));
        }
        if (tinyData) {
          for (const n of [0, 1]) {
            const db = `trib_bench_dist_${suffix}_${round}_tiny${n}`;
            tinyLoads.get(n)?.push(await load(target, tinyData, n, db, { queueUrl, workerArgs }));
          }
        }
      }
    } finally {
      await target.close();
    }

    const of = (n: number) => loads.get(n) ?? [];
    const ms = (n: number) => median(of(n).map((l) => l.ms));
    const local = rate(rows, ms(0));
    const one = rate(rows, ms(1));
    const modes: Record<string, unknown> = {};
    lines.push(
      `distributed, ${target.name}: ${rows} rows in ${tables} tables × ${files} files, median of ${rounds} alternating round(s)`,
    );
    for (const n of [0, ...WORKER_COUNTS]) {
      const m = medianRound(of(n));
      const rps = rate(rows, ms(n));
      const entry = {
        ms: Math.round(ms(n)),
        rounds: of(n).map((l) => Math.round(l.ms)),
        rowsPerSec: rps,
        ratioToLocal: r2(rps / local),
        ...(n > 0 ? { efficiency: r2(rps / (n * one)), filesPerWorker: m.filesPerWorker } : {}),
        // After its work, the run's process took this long to exit (median): not in `ms`.
        exitLagMs: Math.round(median(of(n).map((l) => l.exitLagMs))),
        cpuSeconds: r2(m.cpuMs / 1000),
        maxRssMb: Math.round(m.maxRssMb),
        ...(n > 0 ? { workerMaxRssMb: Math.round(m.workerMaxRssMb) } : {}),
      };
      modes[n === 0 ? 'local' : `workers${n}`] = entry;
      const label = n === 0 ? 'local run' : `${n} worker${n > 1 ? 's' : ''}`;
      lines.push(
        `  ${label.padEnd(10)} ${(entry.ms / 1000).toFixed(2).padStart(7)} s  ${String(rps).padStart(8)} rows/s  ratio ${entry.ratioToLocal.toFixed(2)}` +
          `${n > 0 ? `  efficiency ${entry.efficiency?.toFixed(2)}  files per worker ${entry.filesPerWorker?.join('/')}` : ''}` +
          `  CPU ${entry.cpuSeconds.toFixed(1)} s  [${entry.rounds.join(', ')} ms]` +
          (entry.exitLagMs > 500
            ? `  (then ${(entry.exitLagMs / 1000).toFixed(1)} s to exit, not counted)`
            : ''),
      );
    }
    if (tinyData) {
      // The run's own duration (no process start), per file: both load one file at a time.
      // Of the queue's, the part spent in the worker's job (claim, ledger, catalog, load,
      // commit); the rest is the queue's round trip and the coordinator.
      const ofTiny = (n: number) => tinyLoads.get(n) ?? [];
      const perFile = (n: number) => median(ofTiny(n).map((l) => l.runMs)) / tiny;
      const inJob = (n: number) => median(ofTiny(n).map((l) => l.loadMs)) / tiny;
      const localMs = perFile(0);
      const queueMs = perFile(1);
      const tinyResult = {
        files: tiny,
        localMsPerFile: r2(localMs),
        localLoadMsPerFile: r2(inJob(0)),
        queueMsPerFile: r2(queueMs),
        queueJobMsPerFile: r2(inJob(1)),
        overheadMsPerFile: r2(queueMs - localMs),
        queueJobsPerSec: Math.round(1000 / queueMs),
        rounds: { local: ofTiny(0).map((l) => l.runMs), queue: ofTiny(1).map((l) => l.runMs) },
      };
      modes.tinyFiles = tinyResult;
      lines.push(
        `  ${tiny} files of 1 row, one table: local ${localMs.toFixed(1)} ms/file (loads ${tinyResult.localLoadMsPerFile} ms), ` +
          `queue with 1 worker ${queueMs.toFixed(1)} ms/file (jobs ${tinyResult.queueJobMsPerFile} ms in the worker): ` +
          `+${(queueMs - localMs).toFixed(1)} ms per file, ${tinyResult.queueJobsPerSec} jobs/s`,
      );
    }
    result[target.name] = modes;
  }

  const note =
    `This machine has ${cpus} vCPU(s), shared by the coordinator, the workers and the database server: ` +
    `more than ${cpus} worker process(es) cannot speed a run up here. efficiency = rows/s(N) / (N × rows/s(1)); ` +
    'the local run loads the tables side by side too (one file per table at a time, like the queue), so it is the bar to beat.';
  result.note = note;
  console.log([...lines, `note: ${note}`].join('\n'));
  saveResult('distributed', result);
  return result;
}

import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  expectedCents,
  flag,
  median,
  ORDER_COLUMNS,
  ordersCsv,
  PG_SERVER,
  rate,
  runCli,
  saveResult,
  tempDir,
} from './lib.js';

/** The targets (issue 15): ratios against the bare COPY, and peak RSS. */
export const PG_TARGETS = { initialRatio: 0.8, updateRatio: 0.4, maxRssMb: 300 } as const;

/** A client to the benchmark server, in UTC like Tributary's sessions (the caller ends it). */
export async function pgAdmin(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({
    ...PG_SERVER,
    database,
    options: '-c TimeZone=UTC',
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function createDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
}

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux). */
const TICK_MS = 10;
const AUXILIARY = /: (checkpointer|background writer|walwriter|autovacuum (launcher|worker))/;

/** Every `postgres:` process: its pid, kind, and CPU so far (user + system, in ticks). */
function postgresProcesses(
  db: string,
): Array<{ pid: number; kind: 'backend' | 'background'; ticks: number }> {
  const out: Array<{ pid: number; kind: 'backend' | 'background'; ticks: number }> = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out; // no /proc: not Linux
  }
  for (const pid of pids) {
    try {
      const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
      if (!title.startsWith('postgres: ')) continue;
      const kind = AUXILIARY.test(title) ? 'background' : title.includes(` ${db} `) ? 'backend' : undefined;
      if (!kind) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(pid), kind, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * The PostgreSQL server's CPU while a load runs, read from /proc every 100 ms: the client
 * backends connected to database `db` (their process title names it), and the server's
 * background processes (checkpointer, background writer, WAL writer, autovacuum — shared with
 * whatever else uses the server). A backend's CPU in its last 100 ms before it exits is lost,
 * so the backends' figure is a lower bound. Everything reads 0 where there is no /proc.
 */
export class ServerCpu {
  readonly #db: string;
  readonly #first = new Map<number, number>();
  readonly #last = new Map<number, { kind: string; ticks: number }>();
  readonly #timer: NodeJS.Timeout;

  constructor(db: string) {
    this.#db = db;
    for (const p of postgresProcesses(db)) this.#first.set(p.pid, p.ticks);
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 100);
  }

  #sample(): void {
    for (const p of postgresProcesses(this.#db)) this.#last.set(p.pid, { kind: p.kind, ticks: p.ticks });
  }

  /** CPU ms used since the start: by the database's backends, by the server's background processes. */
  stop(): { backendsMs: number; backgroundMs: number } {
    clearInterval(this.#timer);
    this.#sample();
    const sum = { backendsMs: 0, backgroundMs: 0 };
    for (const [pid, { kind, ticks }] of this.#last) {
      const ms = (ticks - (this.#first.get(pid) ?? 0)) * TICK_MS;
      if (kind === 'backend') sum.backendsMs += ms;
      else sum.backgroundMs += ms;
    }
    return sum;
  }
}

interface Measured {
  ms: number;
  /** Our process's CPU (the benchmark's own for the bare COPY, the CLI child's for Tributary). */
  ourCpuMs: number;
  serverCpuMs: number;
  serverBackgroundCpuMs: number;
  maxRssMb?: number;
}

const BARE_TABLE =
  'CREATE TABLE orders (order_id BIGINT PRIMARY KEY, user_id BIGINT, amount NUMERIC(18,2), currency TEXT, ' +
  'status TEXT, ordered_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, ' +
  '_tributary_run_id BIGINT DEFAULT 1, _tributary_file_id BIGINT DEFAULT 1)';

/**
 * The speed limit: the same CSV file streamed into a bare `COPY … FROM STDIN (FORMAT csv,
 * HEADER)` through pg-copy-streams, into a new table of the types Tributary creates for it
 * (with its two system columns, filled by defaults), in its own transaction.
 */
async function bareCopy(db: string, csv: string, rows: number, cents: bigint): Promise<Measured> {
  const client = await pgAdmin(db);
  try {
    await client.query('DROP TABLE IF EXISTS orders');
    await client.query(BARE_TABLE);
    await client.query('CHECKPOINT');
    const server = new ServerCpu(db);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const copy = client.query(
      copyFrom(`COPY orders (${ORDER_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv, HEADER)`),
    );
    await pipeline(fs.createReadStream(csv), copy);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    const s = server.stop();
    const [r] = (
      await client.query('SELECT count(*)::int AS n, (sum(amount) * 100)::bigint::text AS cents FROM orders')
    ).rows as Array<{ n: number; cents: string }>;
    if (r?.n !== rows || BigInt(r.cents) !== cents)
      throw new Error(`bare COPY loaded ${r?.n} rows, ${r?.cents} cents; expected ${rows}, ${cents}`);
    return {
      ms,
      ourCpuMs: (cpu.user + cpu.system) / 1000,
      serverCpuMs: s.backendsMs,
      serverBackgroundCpuMs: s.backgroundMs,
    };
  } finally {
    await client.end();
  }
}

/** `tributary run` in `dir`, with the server's CPU measured for database `db`. */
async function tributaryRun(dir: string, db: string, args: string[]): Promise<Measured & { stdout: string }> {
  const workers = flag('workers');
  if (workers !== undefined) args = [...args, '--workers', workers];
  const admin = await pgAdmin();
  try {
    await admin.query('CHECKPOINT');
  } finally {
    await admin.end();
  }
  const server = new ServerCpu(db);
  const run = await runCli(args, dir);
  const s = server.stop();
  if (run.code !== 0) throw new Error(`tributary ${args.join(' ')} failed: ${run.stderr}`);
  return {
    ms: run.ms,
    ourCpuMs: run.cpuMs.user + run.cpuMs.system,
    serverCpuMs: s.backendsMs,
    serverBackgroundCpuMs: s.backgroundMs,
    maxRssMb: run.maxRssMb,
    stdout: run.stdout,
  };
}

/** Every row of version `version` in the table: count, sum of amounts, the cursor's month, the run id. */
async function checkTable(db: string, rows: number, version: number, runId: number, cents: bigint) {
  const client = await pgAdmin(db);
  try {
    const [r] = (
      await client.query(
        `SELECT count(*)::int AS n, (sum(amount) * 100)::bigint::text AS cents, ` +
          `count(*) FILTER (WHERE extract(month FROM updated_at) = ${6 + version})::int AS month, ` +
          'min(_tributary_run_id)::int AS lo, max(_tributary_run_id)::int AS hi FROM orders',
      )
    ).rows as Array<{ n: number; cents: string; month: number; lo: number; hi: number }>;
    if (r?.n !== rows || BigInt(r.cents) !== cents || r.month !== rows || r.lo !== runId || r.hi !== runId) {
      throw new Error(
        `version ${version}: table holds ${JSON.stringify(r)}, expected ${rows} rows, ${cents} cents, run ${runId}`,
      );
    }
  } finally {
    await client.end();
  }
}

function summary(xs: readonly Measured[]) {
  const ms = median(xs.map((x) => x.ms));
  const round = (n: number) => Math.round(n);
  return {
    ms: round(ms),
    rounds: xs.map((x) => round(x.ms)),
    // CPU of each round, ms: ours, the server's backends, the server's background processes.
    cpuMs: xs.map((x) => [round(x.ourCpuMs), round(x.serverCpuMs), round(x.serverBackgroundCpuMs)]),
    ...(xs[0]?.maxRssMb !== undefined
      ? { maxRssMb: round(Math.max(...xs.map((x) => x.maxRssMb ?? 0))) }
      : {}),
  };
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

/**
 * PostgreSQL end to end vs the speed limit, alternating in this run on the same file: each
 * round (a) a bare `COPY … FROM STDIN` of the CSV into a new pre-typed table, (b) `tributary
 * run` into a new database (inference, validation, the ledger, the table created in the
 * file's transaction, COPY in text format), (c) a rerun with a later file holding every key
 * again, changed: all updates, staged and merged. Ratios are of the medians (`--rounds=N`,
 * default 3; one under BENCH_SMOKE). Every table is checked (count, sum of the amounts, the
 * cursor, the run id) before a speed is reported. A checkpoint before each timed load keeps
 * one load's dirty pages from being written during the next. `--workers=N` passes
 * `--workers N` to the runs (the result is then saved as postgres-workersN).
 */
export async function benchPostgres(rows: number): Promise<Record<string, unknown>> {
  const rounds = Number(flag('rounds') ?? (process.env.BENCH_SMOKE ? 1 : 3));
  const csv = await ordersCsv(`orders-${rows}.csv`, rows);
  const updates = await ordersCsv(`orders-${rows}-v1.csv`, rows, 1);
  const cents = [expectedCents(rows, 0), expectedCents(rows, 1)] as const;
  const mb = fs.statSync(csv).size / 1e6;
  const prefix = `trib_bench_pg_${process.pid}`;
  const bareDb = `${prefix}_bare`;
  const admin = await pgAdmin();
  const [{ server_version: version } = { server_version: '?' }] = (await admin.query('SHOW server_version'))
    .rows as Array<{ server_version: string }>;
  const bare: Measured[] = [];
  const initial: Measured[] = [];
  const update: Measured[] = [];
  try {
    await createDatabase(admin, bareDb);
    for (let round = 1; round <= rounds; round++) {
      bare.push(await bareCopy(bareDb, csv, rows, cents[0]));

      const runDb = `${prefix}_run${round}`;
      await createDatabase(admin, runDb);
      const dir = tempDir('trib-bench-pg-');
      try {
        fs.mkdirSync(path.join(dir, 'in'));
        fs.symlinkSync(csv, path.join(dir, 'in', 'orders.csv'));
        fs.writeFileSync(
          path.join(dir, 'tributary.yaml'),
          `pipeline: bench\ndestination: postgres://${PG_SERVER.user}@${PG_SERVER.host}:${PG_SERVER.port}/${runDb}\n` +
            'sources:\n  - table: orders\n    files: "in/*.csv"\n    primary_key: order_id\n    cursor: updated_at\n' +
            '    columns: { amount: "decimal(18,2)" }\n',
        );
        initial.push(await tributaryRun(dir, runDb, ['run', '--quiet']));
        await checkTable(runDb, rows, 0, 1, cents[0]);

        // The updates arrive as a later file (`orders_2.csv` sorts after `orders.csv`): every
        // row merges as an update. (Editing orders.csv itself would rebuild the table instead.)
        fs.symlinkSync(updates, path.join(dir, 'in', 'orders_2.csv'));
        const u = await tributaryRun(dir, runDb, ['run', '--json']);
        const done = u.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((e) => e.type === 'run_finished');
        const updated = done?.summary.tables[0]?.updated;
        if (updated !== rows) throw new Error(`update run updated ${updated} rows, expected ${rows}`);
        await checkTable(runDb, rows, 1, 2, cents[1]);
        update.push(u);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await dropDatabase(admin, runDb);
      }
    }
  } finally {
    await dropDatabase(admin, bareDb).catch(() => undefined);
    await admin.end();
  }

  const b = summary(bare);
  const i = summary(initial);
  const u = summary(update);
  const initialRatio = Number((b.ms / i.ms).toFixed(2));
  const updateRatio = Number((b.ms / u.ms).toFixed(2));
  const maxRssMb = Math.max(i.maxRssMb ?? 0, u.maxRssMb ?? 0);
  const result = {
    rows,
    fileMB: Number(mb.toFixed(1)),
    server: `PostgreSQL ${version}`,
    rounds,
    workers: flag('workers') ?? 'default (one per core)',
    bareCopy: { ...b, rowsPerSec: rate(rows, b.ms) },
    initial: { ...i, rowsPerSec: rate(rows, i.ms) },
    initialRatio,
    update: { ...u, rowsPerSec: rate(rows, u.ms) },
    updateRatio,
    targets: `initialRatio >= ${PG_TARGETS.initialRatio}, updateRatio >= ${PG_TARGETS.updateRatio}, maxRssMb < ${PG_TARGETS.maxRssMb} (the 2 GB CSV: npm run bench -- postgres-bigfile)`,
    verdict: {
      initialRatio: verdict(initialRatio >= PG_TARGETS.initialRatio),
      updateRatio: verdict(updateRatio >= PG_TARGETS.updateRatio),
      maxRssMb: verdict(maxRssMb < PG_TARGETS.maxRssMb),
    },
  };
  const cpu = (m: ReturnType<typeof summary>) => {
    // The round nearest the median.
    const k = m.rounds.reduce(
      (best, ms, j) => (Math.abs(ms - m.ms) < Math.abs((m.rounds[best] ?? 0) - m.ms) ? j : best),
      0,
    );
    const [ours, srv, bg] = m.cpuMs[k] ?? [0, 0, 0];
    return `CPU ours ${((ours ?? 0) / 1000).toFixed(2)} s, server ${((srv ?? 0) / 1000).toFixed(2)} s (+${((bg ?? 0) / 1000).toFixed(2)} s background)`;
  };
  console.log(
    [
      `postgres, ${rows} rows (${result.fileMB} MB), median of ${rounds} alternating round(s):`,
      `  bare COPY          ${(b.ms / 1000).toFixed(2)} s  [${b.rounds.join(', ')} ms]  ${cpu(b)}`,
      `  tributary, new     ${(i.ms / 1000).toFixed(2)} s  [${i.rounds.join(', ')} ms]  ${cpu(i)}  ratio ${initialRatio} (target >= ${PG_TARGETS.initialRatio}): ${result.verdict.initialRatio}`,
      `  tributary, updates ${(u.ms / 1000).toFixed(2)} s  [${u.rounds.join(', ')} ms]  ${cpu(u)}  ratio ${updateRatio} (target >= ${PG_TARGETS.updateRatio}): ${result.verdict.updateRatio}`,
      `  peak RSS ${maxRssMb} MB (target < ${PG_TARGETS.maxRssMb} MB): ${result.verdict.maxRssMb}`,
    ].join('\n'),
  );
  saveResult(flag('workers') === undefined ? 'postgres' : `postgres-workers${flag('workers')}`, result);
  return result;
}

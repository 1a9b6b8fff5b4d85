import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mulberry32 } from '../examples/markets/generate.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const DATA = path.join(ROOT, 'bench', 'data');
/** The MariaDB server the benchmarks use (the machine's, root with no password). */
export const SERVER = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };
/** The PostgreSQL server the benchmarks use (the machine's, `postgres` with trust authentication). */
export const PG_SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' };

/** Deterministic PRNG: the demo generator's mulberry32. */
export const rng = mulberry32;

export interface OrderRow {
  order_id: number;
  user_id: number;
  amount: string;
  currency: string;
  status: string;
  ordered_at: string;
  updated_at: string;
}

const STATUSES = ['placed', 'paid', 'shipped', 'delivered', 'cancelled'];

/** Order i of a generated data set; `version` > 0 makes an update of the same key. */
export function order(i: number, version = 0, rand = rng(i * 7919 + version)): OrderRow {
  const day = 1 + (i % 28);
  const sec = i % 86400;
  const hh = String(Math.floor(sec / 3600)).padStart(2, '0');
  const mm = String(Math.floor((sec % 3600) / 60)).padStart(2, '0');
  const ss = String(sec % 60).padStart(2, '0');
  const cents = Math.floor(rand() * 100_000);
  return {
    order_id: i + 1,
    user_id: 1 + Math.floor(rand() * 50_000),
    amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    currency: 'EUR',
    status: STATUSES[(i + version) % STATUSES.length] as string,
    ordered_at: `2024-06-${String(day).padStart(2, '0')} ${hh}:${mm}:${ss}`,
    updated_at: `2024-0${6 + version}-${String(day).padStart(2, '0')} ${hh}:${mm}:${ss}`,
  };
}

/** What version `version` of the generated orders must leave in a table: the sum of the amounts in cents. */
export function expectedCents(rows: number, version: number): bigint {
  let cents = 0n;
  for (let i = 0; i < rows; i++) {
    const [whole, frac] = order(i, version).amount.split('.');
    cents += BigInt(whole as string) * 100n + BigInt(frac as string);
  }
  return cents;
}

export const ORDER_COLUMNS = [
  'order_id',
  'user_id',
  'amount',
  'currency',
  'status',
  'ordered_at',
  'updated_at',
] as const;

/** Write an orders CSV of `rows` rows (cached by name); returns its path. */
export async function ordersCsv(name: string, rows: number, version = 0): Promise<string> {
  fs.mkdirSync(DATA, { recursive: true });
  const file = path.join(DATA, name);
  if (fs.existsSync(file)) return file;
  await writeOrders(file, 0, rows, version);
  return file;
}

/** Write orders `from` … `to - 1` (order ids `from + 1` … `to`) as a CSV file (through a temporary name). */
export async function writeOrders(file: string, from: number, to: number, version = 0): Promise<void> {
  const tmp = `${file}.tmp`;
  const out = fs.createWriteStream(tmp);
  out.write(`${ORDER_COLUMNS.join(',')}\n`);
  let buf = '';
  for (let i = from; i < to; i++) {
    const o = order(i, version);
    buf += `${o.order_id},${o.user_id},${o.amount},${o.currency},${o.status},${o.ordered_at},${o.updated_at}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  fs.renameSync(tmp, file);
}

/** A benchmark's own option, `--name=value` (the runner takes the names and `--rows N`). */
export function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(arg.indexOf('=') + 1);
}

/** A random suffix for database names, so that two benchmarks running at once never share one. */
export function uniqueSuffix(): string {
  return `${process.pid}_${randomBytes(3).toString('hex')}`;
}

export interface ChildResult {
  ms: number;
  /**
   * Until the CLI's `main()` returned (its work done), without the time the process may then
   * take to exit (a timer or a socket left open keeps Node alive).
   */
  doneMs: number;
  maxRssMb: number;
  /** CPU time of the child process (all its threads), user and system, in ms. */
  cpuMs: { user: number; system: number };
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run the built CLI in a child process and report its wall time, peak RSS and CPU time (read
 * from `process.resourceUsage()` inside the child as it exits).
 */
export async function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const script = `const m = await import(${JSON.stringify(path.join(ROOT, 'dist/cli/main.js'))});
const code = await m.main(['node', 'tributary', ...JSON.parse(process.argv[1])]);
const u = process.resourceUsage();
process.stderr.write('\\nBENCH_MAXRSS ' + u.maxRSS + '\\nBENCH_CPU ' + u.userCPUTime + ' ' + u.systemCPUTime + '\\n');
process.exitCode = code;`;
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], {
    cwd,
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  let doneMs: number | undefined;
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
    if (doneMs === undefined && stderr.includes('BENCH_CPU')) doneMs = performance.now() - t0;
  });
  const [code] = (await once(child, 'exit')) as [number];
  const ms = performance.now() - t0;
  const rss = /BENCH_MAXRSS (\d+)/.exec(stderr);
  const cpu = /BENCH_CPU (\d+) (\d+)/.exec(stderr);
  return {
    ms,
    doneMs: doneMs ?? ms,
    maxRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN,
    cpuMs: cpu
      ? { user: Number(cpu[1]) / 1000, system: Number(cpu[2]) / 1000 }
      : { user: Number.NaN, system: Number.NaN },
    code,
    stdout,
    stderr,
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Saves a result under bench/results/ — except in the CI smoke run (`BENCH_SMOKE=1`), which checks correctness only. */
export function saveResult(name: string, result: unknown): string {
  const dir = path.join(ROOT, 'bench', 'results');
  if (process.env.BENCH_SMOKE) return '';
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), machine: machine(), ...(result as object) }, null, 2)}\n`,
  );
  return file;
}

/** The median of `xs` (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function rate(rows: number, ms: number): number {
  return Math.round(rows / (ms / 1000));
}

/**
 * The readers' fuzz test in its long mode: `npm run bench -- fuzz [--runs=N] [--seed=S]`
 * runs test/sources/fuzz.test.ts (random CSV, NDJSON and JSON arrays against reference
 * results) with N cases per format (default 20,000) instead of npm test's 150.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { saveResult } from './lib.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(arg.indexOf('=') + 1);
}

export async function benchFuzz(): Promise<Record<string, unknown>> {
  const runs = Number(flag('runs') ?? (process.env.BENCH_SMOKE ? 20 : 20_000));
  const seed = Number(flag('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const t0 = Date.now();
  const r = spawnSync('npx', ['vitest', 'run', 'test/sources/fuzz.test.ts'], {
    cwd: ROOT,
    env: { ...process.env, TRIBUTARY_FUZZ_RUNS: String(runs), TRIBUTARY_FUZZ_SEED: String(seed) },
    encoding: 'utf8',
  });
  const passed = r.status === 0;
  const result = { seed, runsPerFormat: runs, passed, seconds: (Date.now() - t0) / 1000 };
  if (!passed) process.exitCode = 1;
  if (!passed) console.log(r.stdout.slice(-6000));
  saveResult('fuzz', result);
  return result;
}

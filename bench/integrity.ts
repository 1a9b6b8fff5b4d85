/**
 * The invariant's long mode: `npm run bench -- integrity [--seed=S] [--cases=N]
 * [--dialects=sqlite,mariadb,postgres]`. The property of test/e2e/invariant-property.test.ts — random
 * files and edit sequences, every write disposition, each table compared with a full refresh
 * of the current files after every run — with thousands of cases instead of a few dozen,
 * on each dialect with 0 and 2 worker threads (a quarter of the cases: a run with threads
 * starts them). Prints the seed first; a failure prints its shrunk counterexample and replays
 * with `--seed=S`. Results: bench/results/integrity.json.
 */
import { assertInvariant } from '../test/helpers/invariant.js';
import { mysqlAvailable } from '../test/helpers/mysql.js';
import { postgresAvailable } from '../test/helpers/postgres.js';
import { saveResult } from './lib.js';

type Dialect = 'sqlite' | 'mariadb' | 'postgres';

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(arg.indexOf('=') + 1);
}

export async function benchIntegrity(): Promise<{
  seed: number;
  failed: number;
  results: Array<Record<string, unknown>>;
}> {
  const seed = Number(flag('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const cases = Number(flag('cases') ?? (process.env.BENCH_SMOKE ? 4 : 2000));
  const wanted = (flag('dialects') ?? 'sqlite,mariadb,postgres').split(',') as Dialect[];
  console.log(
    `integrity: seed ${seed}, ${cases} cases per dialect (replay: npm run bench -- integrity --seed=${seed})`,
  );
  const results: Array<Record<string, unknown>> = [];
  for (const dialect of wanted) {
    if (dialect === 'mariadb' && !(await mysqlAvailable())) continue;
    if (dialect === 'postgres' && !(await postgresAvailable())) continue;
    for (const workers of [0, 2] as const) {
      const numRuns = workers === 0 ? cases : Math.max(1, Math.round(cases / 4));
      const t0 = Date.now();
      let failure: string | undefined;
      try {
        await assertInvariant({ dialect, workers, seed, numRuns });
      } catch (err) {
        failure = (err as Error).message;
      }
      const r = {
        dialect,
        workers,
        seed,
        cases: numRuns,
        seconds: (Date.now() - t0) / 1000,
        failure: failure ?? null,
      };
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  const failed = results.filter((r) => r.failure !== null).length;
  saveResult('integrity', { seed, results });
  if (failed > 0) process.exitCode = 1;
  return { seed, failed, results: results as Array<Record<string, unknown>> };
}

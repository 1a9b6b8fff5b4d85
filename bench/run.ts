// `npm run bench [-- NAME...] [--rows N]`: run benchmarks, print and save results (bench/results/*.json).
import { benchBigfile, benchPostgresBigfile, benchWide } from './bigfile.js';
import { benchCrash } from './crash.js';
import { benchDistributed } from './distributed.js';
import { benchFuzz } from './fuzz.js';
import { benchIntegrity } from './integrity.js';
import { benchMysql } from './mysql.js';
import { benchNoop } from './noop.js';
import { benchParse } from './parse.js';
import { benchPostgres } from './postgres.js';
import { benchScaling } from './scaling.js';
import { benchSqlite } from './sqlite.js';
import { benchStartup } from './startup.js';
import { formatTargets, targetLines } from './targets.js';
import { benchTransforms } from './transforms.js';
import { benchUi } from './ui.js';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
const names = args.filter((a, i) => !a.startsWith('--') && (rowsArg < 0 || i !== rowsArg + 1));
/** Each benchmark, and whether it takes `--rows` (the others have sizes of their own). */
const all: Record<string, { fn: (rows: number) => Promise<Record<string, unknown>>; rows?: true }> = {
  sqlite: { fn: benchSqlite, rows: true },
  mysql: { fn: benchMysql, rows: true },
  postgres: { fn: benchPostgres, rows: true },
  distributed: { fn: benchDistributed, rows: true },
  noop: { fn: () => benchNoop() },
  parse: { fn: () => benchParse() },
  scaling: { fn: () => benchScaling() },
  bigfile: { fn: async () => ({ ...(await benchBigfile()), wide: await benchWide() }) },
  wide: { fn: () => benchWide() },
  'postgres-bigfile': { fn: () => benchPostgresBigfile() },
  transforms: { fn: benchTransforms, rows: true },
  crash: { fn: () => benchCrash() },
  integrity: { fn: () => benchIntegrity() },
  fuzz: { fn: () => benchFuzz() },
  startup: { fn: () => benchStartup() },
  ui: { fn: () => benchUi({ keep: process.env.BENCH_UI_KEEP === '1' }) },
};
const results: Record<string, Record<string, unknown>> = {};
for (const name of names.length ? names : Object.keys(all)) {
  const bench = all[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}`);
  const size = bench.rows ? ` (${rows} rows)` : rowsArg >= 0 ? ' (its own sizes: --rows does not apply)' : '';
  console.log(`== ${name}${size}`);
  results[name] = await bench.fn(rows);
  console.log(JSON.stringify(results[name], null, 2));
}
// The targets (docs/performance.md), each against its baseline of this run.
const table = formatTargets(targetLines(results));
if (table) console.log(`\n== targets\n${table}`);

// `npm run bench [-- NAME...] [--rows N]`: run benchmarks, print and save results (bench/results/*.json).
import { benchBigfile, benchPostgresBigfile, benchWide } from './bigfile.js';
import { benchCrash } from './crash.js';
import { benchFuzz } from './fuzz.js';
import { benchIntegrity } from './integrity.js';
import { benchMysql } from './mysql.js';
import { benchNoop } from './noop.js';
import { benchParse } from './parse.js';
import { benchPostgres } from './postgres.js';
import { benchScaling } from './scaling.js';
import { benchSqlite } from './sqlite.js';
import { benchTransforms } from './transforms.js';

const args = process.argv.slice(2);
const rowsArg = args.indexOf('--rows');
const rows = rowsArg >= 0 ? Number(args[rowsArg + 1]) : 1_000_000;
const names = args.filter((a, i) => !a.startsWith('--') && (rowsArg < 0 || i !== rowsArg + 1));
const all: Record<string, (rows: number) => Promise<Record<string, unknown>>> = {
  sqlite: benchSqlite,
  mysql: benchMysql,
  postgres: benchPostgres,
  noop: () => benchNoop(),
  parse: () => benchParse(),
  scaling: () => benchScaling(),
  bigfile: async () => ({ ...(await benchBigfile()), wide: await benchWide() }),
  wide: () => benchWide(),
  'postgres-bigfile': () => benchPostgresBigfile(),
  transforms: benchTransforms,
  crash: () => benchCrash(),
  integrity: () => benchIntegrity(),
  fuzz: () => benchFuzz(),
};
for (const name of names.length ? names : Object.keys(all)) {
  const fn = all[name];
  if (!fn) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(all).join(', ')}`);
  console.log(`== ${name} (${rows} rows)`);
  console.log(JSON.stringify(await fn(rows), null, 2));
}

/**
 * The crash-consistency long mode: `npm run crash [-- --seed=S] [--points=50]
 * [--dialects=sqlite,mariadb] [--trial=I] [--keep]` (or `npm run bench -- crash …`).
 *
 * Per dialect: one reference run of the generated data set (test/faults/dataset.ts: 35 files
 * in 7 batch folders, 104k records), then `points` seeded trials — the real CLI killed with
 * SIGKILL at a crash point (a random hit of scan, load, after_ddl, after_commit,
 * before_finish) or after a random delay, one trial in four killed again during its
 * recovery — each followed by a plain rerun and compared with the reference: every table by
 * checksum, the rejects, the ledger, the schema history, and after each kill the state
 * against a run over the files it had committed (test/faults/harness.ts). It prints the
 * seed first, so a failure can be replayed: `--seed=S --trial=I` runs trial I alone.
 * Results: bench/results/crash.json.
 */
import fs from 'node:fs';
import { generateDataset } from '../test/faults/dataset.js';
import { CrashLab, describeTrial, randomTrials, targetFor } from '../test/faults/harness.js';
import { checksums } from '../test/faults/state.js';
import { mysqlAvailable } from '../test/helpers/mysql.js';
import { saveResult, tempDir } from './lib.js';

type Dialect = 'sqlite' | 'mariadb';

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : '';
}

export async function benchCrash(): Promise<Record<string, unknown>> {
  const seed = Number(flag('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const points = Number(flag('points') ?? 50);
  const only = flag('trial') === undefined ? undefined : Number(flag('trial'));
  const keep = flag('keep') !== undefined;
  const wanted = (flag('dialects') ?? 'sqlite,mariadb').split(',') as Dialect[];
  console.log(
    `crash: seed ${seed}, ${points} kill points per dialect (replay: npm run crash -- --seed=${seed})`,
  );

  const dir = tempDir('trib-crash-');
  const data = generateDataset(dir);
  console.log(`crash: data set ${data.files.length} files, ${data.records} records in ${dir}`);
  const out: Record<string, unknown> = {
    seed,
    points,
    command: `npm run crash -- --seed=${seed} --points=${points} --dialects=${wanted.join(',')}`,
    dataset: { files: data.files.length, records: data.records },
    dialects: {},
  };
  try {
    for (const dialect of wanted) {
      if (dialect === 'mariadb' && !(await mysqlAvailable())) {
        console.log('crash: MariaDB is not reachable; skipping it');
        continue;
      }
      const t0 = performance.now();
      const lab = new CrashLab(targetFor(dialect), data, { keepFailed: keep, log: (l) => console.log(l) });
      try {
        const ref = await lab.prepare();
        console.log(
          `crash: ${dialect} reference in ${(ref.ms / 1000).toFixed(1)} s; crash points reached: ${JSON.stringify(ref.hits)}`,
        );
        const trials = randomTrials(seed, points, ref);
        const failures: Array<{ trial: number; kills: string; problems: string[] }> = [];
        let exact = 0;
        let kills = 0;
        for (const [i, trial] of trials.entries()) {
          if (only !== undefined && i + 1 !== only) continue;
          const r = await lab.trial(trial);
          kills += r.killed.filter(Boolean).length;
          const what = `${describeTrial(trial)}${r.killed.every(Boolean) ? '' : ` (killed: ${r.killed.join(', ')})`}`;
          if (r.problems.length === 0) {
            exact++;
            console.log(`  ${dialect} ${i + 1}/${points} ${what}: exact (${(r.ms / 1000).toFixed(1)} s)`);
          } else {
            failures.push({ trial: i + 1, kills: describeTrial(trial), problems: r.problems });
            console.log(
              `  ${dialect} ${i + 1}/${points} ${what}: FAILED (replay: --seed=${seed} --trial=${i + 1})`,
            );
            for (const p of r.problems) console.log(`    ${p.replaceAll('\n', '\n    ')}`);
          }
        }
        const ran = only === undefined ? trials.length : 1;
        console.log(`crash: ${dialect}: ${exact} of ${ran} exact recoveries (${kills} kills)`);
        (out.dialects as Record<string, unknown>)[dialect] = {
          trials: ran,
          exact,
          kills,
          seconds: Math.round((performance.now() - t0) / 1000),
          reference: checksums(ref.state),
          failures,
        };
      } finally {
        await lab.close();
      }
    }
  } finally {
    if (!keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (only === undefined) saveResult('crash', out);
  return out;
}

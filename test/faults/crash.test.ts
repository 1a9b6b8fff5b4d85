/**
 * kill -9 at any instant: the real CLI, killed with SIGKILL at every crash point and at
 * seeded random moments, then run again to completion, must leave exactly the tables,
 * rejects, ledger and schema history of an uninterrupted run — and, right after each kill,
 * exactly the state of an uninterrupted run over the files it had committed (harness.ts).
 * The long mode runs 50 seeded trials per dialect: `npm run crash` (bench/crash.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { type Dataset, generateDataset, prng } from './dataset.js';
import { CrashLab, describeTrial, type Kill, type Reference, type Trial, targetFor } from './harness.js';
import { compareStates, type State } from './state.js';

const SEED = Number(process.env.TRIBUTARY_CRASH_SEED ?? 20240601);
const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;
/** A server dialect whose server is not reachable (outside CI: skipped, see test/helpers). */
const unreachable = (d: string) => (d === 'mariadb' && !mariadb) || (d === 'postgres' && !postgres);

let data: Dataset;
beforeAll(() => {
  data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-crash-')));
  expect(data.files.length).toBeGreaterThanOrEqual(30);
  expect(data.records).toBeGreaterThanOrEqual(100_000);
  console.log(
    `crash suite: seed ${SEED} (replay with TRIBUTARY_CRASH_SEED=${SEED}); ${data.files.length} files, ${data.records} records`,
  );
});
afterAll(() => {
  if (data) fs.rmSync(data.dir, { recursive: true, force: true });
});

/**
 * Every named crash point, each at a hit chosen from the seed, plus kills at random moments
 * (uniform over 30–90 % of the reference run's wall time), one of them followed by a second
 * kill during the recovery.
 */
type Recipe = (ref: Reference, n: (max: number) => number, delay: () => number) => Trial;
const kill = (k: Kill): Trial => ({ kills: [k] });
const RECIPES: Array<[string, Recipe]> = [
  ['while parsing (scan)', (r, n) => kill({ at: 'point', point: 'scan', n: n(r.hits.scan) })],
  ['while staging rows (load)', (r, n) => kill({ at: 'point', point: 'load', n: n(r.hits.load) })],
  [
    'after creating the tables, before any data (after_ddl:1)',
    () => kill({ at: 'point', point: 'after_ddl', n: 1 }),
  ],
  [
    'after widening a column, before its data (last after_ddl)',
    (r) => kill({ at: 'point', point: 'after_ddl', n: r.hits.after_ddl }),
  ],
  [
    'after a data commit, before the run record (after_commit)',
    (r, n) => kill({ at: 'point', point: 'after_commit', n: n(r.hits.after_commit) }),
  ],
  [
    'with every file loaded, before the run is closed (before_finish)',
    () => kill({ at: 'point', point: 'before_finish', n: 1 }),
  ],
  ['at a random moment', (_r, _n, delay) => kill({ at: 'delay', ms: delay() })],
  [
    'while staging, then again at a random moment of the recovery',
    (r, n, delay) => ({
      kills: [
        { at: 'point', point: 'load', n: n(r.hits.load) },
        { at: 'delay', ms: delay() },
      ],
    }),
  ],
];

const references = new Map<string, State>();

describe.each(DIALECTS)('kill -9 on %s', (dialect) => {
  const skip = unreachable(dialect);
  let lab: CrashLab;
  let rand: () => number;
  beforeAll(async () => {
    if (skip) return;
    lab = new CrashLab(targetFor(dialect), data);
    const ref = await lab.prepare();
    references.set(dialect, ref.state);
    expect(ref.hits.after_ddl).toBe(6); // creates (3 files, one with a child table), add column ×2, widen
    rand = prng(SEED + (dialect === 'sqlite' ? 0 : 1));
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it.skipIf(skip).each(RECIPES)(
    'recovers exactly when killed %s',
    { timeout: 120_000 },
    async (_name, recipe) => {
      const ref = lab.reference as Reference;
      const trial = recipe(
        ref,
        (max) => 1 + Math.floor(rand() * max),
        () => Math.round(ref.ms * (0.3 + 0.6 * rand())),
      );
      const r = await lab.trial(trial);
      expect(r.killed[0], `${describeTrial(trial)}: the first run must be killed`).toBe(true);
      expect(r.problems, `${dialect}, ${describeTrial(trial)}, seed ${SEED}`).toEqual([]);
    },
  );

  it.skipIf(skip)(
    'recovers exactly when killed while the models run (transform)',
    { timeout: 120_000 },
    async () => {
      const ref = lab.reference as Reference;
      // The transform step (src/transforms) reaches the point once per model.
      expect(ref.hits.transform).toBeGreaterThan(0);
      const trial: Trial = {
        kills: [{ at: 'point', point: 'transform', n: 1 + Math.floor(rand() * ref.hits.transform) }],
      };
      const r = await lab.trial(trial);
      expect(r.killed[0]).toBe(true);
      expect(r.problems, `${dialect}, ${describeTrial(trial)}, seed ${SEED}`).toEqual([]);
    },
  );
});

describe.skipIf(!DIALECTS.includes('sqlite') || !mariadb)('both dialects', () => {
  it('load the same tables, rejects, ledger and schema history from the same files', () => {
    const a = references.get('sqlite') as State;
    const b = references.get('mariadb') as State;
    expect(a && b).toBeTruthy();
    expect(compareStates(a, b, { history: true, ignoreTables: data.models })).toEqual([]);
    // Model tables: same values, compared as numbers — SQLite's CREATE TABLE … AS SELECT
    // declares no column types, so their canonical text differs (`49949` vs `49949.00`).
    expect(compareStates(a, b, { ddlAhead: true })).toEqual([]);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { benchDistributed } from '../../bench/distributed.js';
import { benchIntegrity } from '../../bench/integrity.js';
import { benchMysql } from '../../bench/mysql.js';
import { benchNoop } from '../../bench/noop.js';
import { benchParse } from '../../bench/parse.js';
import { benchPostgres } from '../../bench/postgres.js';
import { benchScaling } from '../../bench/scaling.js';
import { benchSqlite } from '../../bench/sqlite.js';
import { formatTargets, targetLines } from '../../bench/targets.js';
import { benchUi } from '../../bench/ui.js';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { redisAvailable } from '../helpers/queue.js';
import { DIALECTS } from '../helpers/workspace.js';

/**
 * The benchmark suite at a small scale: correctness only (each benchmark checks the row
 * counts it loaded before it reports a speed), never speed. `npm run bench` runs it for real.
 */
describe('benchmark smoke run', () => {
  beforeAll(() => {
    process.env.BENCH_SMOKE = '1'; // do not overwrite bench/results
  });

  it('ui: the dashboard pages over a generated history (every page answers 200)', async () => {
    const r = await benchUi({ runs: 300, files: 600, rejects: 20_000, rounds: 1 });
    expect(r).toMatchObject({ runs: 300, files: 600, rejects: 20_000 });
    expect(Object.keys(r.medianMs as object)).toContain('rejectsByReason');
    expect(r.slowestMs).toBeGreaterThan(0);
  });

  it('sqlite: end to end vs a bare better-sqlite3 loop', async () => {
    const r = await benchSqlite(20_000);
    expect(r).toMatchObject({ rows: 20_000 });
    expect(r.ratio).toBeGreaterThan(0);
  });

  it.runIf(DIALECTS.includes('mariadb'))(
    'mysql: end to end vs bare LOAD DATA, then an all-updates rerun',
    async () => {
      expect(await mysqlAvailable()).toBe(true);
      const r = await benchMysql(20_000);
      expect(r).toMatchObject({ rows: 20_000 });
      expect(r.updateRatio).toBeGreaterThan(0);
      // Its three target lines, each against a baseline of the same run.
      const lines = targetLines({ mysql: r });
      expect(lines.map((l) => l.goal)).toEqual(['≥ 0.8×', '≥ 0.4×', '≤ 1.5×']);
      for (const l of lines) expect(Number.isFinite(l.value) && l.value > 0).toBe(true);
      expect(formatTargets(lines)).toContain('MariaDB, new table');
    },
  );

  it.runIf(DIALECTS.includes('postgres'))(
    'postgres: end to end vs bare COPY, then an all-updates rerun',
    async () => {
      expect(await postgresAvailable()).toBe(true); // under CI=true a missing server throws: a failure, not a skip
      const r = await benchPostgres(20_000);
      expect(r).toMatchObject({ rows: 20_000, rounds: 1 });
      expect(r.initialRatio).toBeGreaterThan(0);
      expect(r.updateRatio).toBeGreaterThan(0);
    },
  );

  it.runIf(DIALECTS.includes('mariadb'))(
    'distributed: a local run vs 1, 2 and 3 worker processes on a queue, and tiny files',
    { timeout: 300_000 },
    async () => {
      expect(await mysqlAvailable()).toBe(true);
      expect(await redisAvailable()).toBe(true);
      const r = await benchDistributed(2_000, { files: 1, tiny: 10, dialects: ['mariadb'] });
      const m = r.mariadb as Record<string, { rowsPerSec?: number; filesPerWorker?: number[] }>;
      expect(m.local?.rowsPerSec).toBeGreaterThan(0);
      expect(m.workers3?.filesPerWorker?.reduce((a, b) => a + b)).toBe(4);
      expect(m.tinyFiles).toMatchObject({ files: 10 });
    },
  );

  it('integrity: the invariant property, a few cases', { timeout: 120_000 }, async () => {
    const r = await benchIntegrity();
    expect(r.failed).toBe(0);
    expect(r.results.length).toBeGreaterThanOrEqual(2);
  });

  it('parse: our reader and normalizer vs bare papaparse', async () => {
    const r = await benchParse(30_000);
    expect(r.ratio).toBeGreaterThan(0);
  });

  it('scaling: the first pass on 1 vs 2 worker threads', async () => {
    const r = await benchScaling(30_000);
    expect(r.speedup).toBeGreaterThan(0);
    expect(r.ofMachine).toBeGreaterThan(0);
  });

  it('no-op rerun over unchanged files', async () => {
    const r = await benchNoop(300);
    expect(r).toMatchObject({ files: 300 });
  });
});

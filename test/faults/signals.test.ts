/**
 * SIGINT and SIGTERM on a real child process in the middle of a file: the file in progress
 * commits or rolls back as a whole (checked: the database holds exactly what an
 * uninterrupted run over the files the ledger says are loaded holds), the run is recorded
 * `interrupted`, the exit code is 130, and the next run finishes to the reference. A second
 * SIGINT exits at once, still without anything half-written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { Cli, describeExit, tributary } from './cli.js';
import { type Dataset, generateDataset } from './dataset.js';
import { CrashLab, freshPipeline, targetFor } from './harness.js';
import { compareStates, readState } from './state.js';

const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;
/** A server dialect whose server is not reachable (outside CI: skipped, see test/helpers). */
const unreachable = (d: string) => (d === 'mariadb' && !mariadb) || (d === 'postgres' && !postgres);

let data: Dataset;
beforeAll(() => {
  // Files of 12,000 records (six read batches each) so a signal lands inside a file.
  data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-signals-')), {
    batches: 2,
    rowsPerFile: 12_000,
  });
});
afterAll(() => {
  if (data) fs.rmSync(data.dir, { recursive: true, force: true });
});

describe.each(DIALECTS)('signals on %s', (dialect) => {
  const skip = unreachable(dialect);
  let lab: CrashLab;
  beforeAll(async () => {
    if (skip) return;
    lab = new CrashLab(targetFor(dialect), data);
    await lab.prepare();
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  /**
   * Start a run, send `signals` once it is writing the rows of `data.files[at]`, return how
   * it ended and what it left.
   */
  async function interrupt(signals: NodeJS.Signals[], at: number, env: NodeJS.ProcessEnv = {}) {
    const p = await freshPipeline(lab.target, data.dir, `signals-${signals.join('-')}`);
    try {
      const run = new Cli(['run', '--json', '-c', p.config], { env });
      await run.waitFor((e) => e.type === 'file_progress' && e.file === data.files[at]);
      for (const s of signals) {
        // A signal sent while the same one is still pending is merged with it by the kernel:
        // send the next only once the process has reacted to this one.
        const seen = run.stderr.length;
        run.signal(s);
        await run.waitForStderr(new RegExp(`tributary: ${s}`), seen);
      }
      const x = await run.exited;
      const killedState = await readState(p.config);
      const problems = await lab.checkKilledState(killedState);
      const rerun = await tributary(['run', '--json', '-c', p.config]);
      const final = await readState(p.config);
      return { x, killedState, problems, rerun, final };
    } finally {
      await p.drop();
    }
  }

  it.skipIf(skip).each(['SIGINT', 'SIGTERM'] as const)(
    '%s: the file in progress commits or rolls back, the run is interrupted (exit 130), the next run completes',
    { timeout: 120_000 },
    async (sig) => {
      const r = await interrupt([sig], 2);
      expect(r.x.code, describeExit(r.x)).toBe(130);
      expect(r.x.stderr).toContain(
        `tributary: ${sig}: stopping now: the file in progress is rolled back (or kept, if it had just finished), never half-written`,
      );
      expect(r.x.summary?.status).toBe('interrupted');
      expect(r.killedState.runs).toEqual(['interrupted']);
      const loaded = r.killedState.ledger.filter((l) => l.status === 'loaded').length;
      expect(loaded, 'stopped before the last file').toBeLessThan(data.files.length);
      expect(loaded, 'the files before the interrupted one are loaded').toBeGreaterThanOrEqual(2);
      expect(r.problems).toEqual([]);
      expect(r.rerun.code, describeExit(r.rerun)).toBe(0);
      expect(r.rerun.summary?.files).toMatchObject({ loaded: data.files.length - loaded, unchanged: loaded });
      expect(compareStates(lab.reference!.state, r.final, { history: true })).toEqual([]);
      expect(r.final.runs).toEqual(['interrupted', 'succeeded']);
    },
  );

  it.skipIf(skip)('a second SIGINT aborts at once, still safe', { timeout: 120_000 }, async () => {
    // Each batch of a file waits 400 ms (src/core/faults.ts): the file in progress cannot
    // finish between the two signals, however fast the machine.
    const r = await interrupt(['SIGINT', 'SIGINT'], 2, { TRIBUTARY_DELAY_AT: 'load:400' });
    expect(r.x.code, describeExit(r.x)).toBe(130);
    expect(r.x.stderr).toContain('tributary: SIGINT again, aborting at once');
    expect(r.x.summary).toBeUndefined(); // no summary: it did not finish the run
    expect(r.problems).toEqual([]);
    expect(r.rerun.code, describeExit(r.rerun)).toBe(0);
    expect(compareStates(lab.reference!.state, r.final, { history: true })).toEqual([]);
    // The aborted run could not close its record: the next run marks it crashed.
    expect(r.final.runs).toEqual(['crashed', 'succeeded']);
  });
});

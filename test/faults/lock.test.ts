/**
 * One run per pipeline at a time, with two real processes: the first is frozen (SIGSTOP)
 * in the middle of a file, so it holds the run lock — and on SQLite the database's write
 * lock too — for as long as the test wants. SQLite keeps the holder in a row with its pid;
 * MySQL uses GET_LOCK on a connection of the holder, freed by the server when it dies.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { DIALECTS } from '../helpers/workspace.js';
import { Cli, describeExit, tributary } from './cli.js';
import { type Dataset, generateDataset } from './dataset.js';
import { freshPipeline, targetFor } from './harness.js';
import { sleep } from './mariadb-server.js';
import { openDestination, readState } from './state.js';

const mariadb = DIALECTS.includes('mariadb') ? await mysqlAvailable() : false;
const postgres = DIALECTS.includes('postgres') ? await postgresAvailable() : false;
/** A server dialect whose server is not reachable (outside CI: skipped, see test/helpers). */
const unreachable = (d: string) => (d === 'mariadb' && !mariadb) || (d === 'postgres' && !postgres);

describe.each(DIALECTS)('one run per pipeline on %s', (dialect) => {
  let data: Dataset;
  let pipeline: Awaited<ReturnType<typeof freshPipeline>>;
  const alive: Cli[] = [];
  beforeEach(async () => {
    if (unreachable(dialect)) return;
    data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-lock-')), { batches: 2 });
    pipeline = await freshPipeline(targetFor(dialect), data.dir, 'lock');
  });
  afterEach(async () => {
    for (const c of alive.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.signal('SIGKILL');
      await c.exited;
    }
    await pipeline?.drop();
    if (data) fs.rmSync(data.dir, { recursive: true, force: true });
  });
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const c = new Cli(['run', '--json', ...args, '-c', pipeline.config], { env });
    alive.push(c);
    return c;
  };

  it.skipIf(unreachable(dialect))(
    'a second run exits at once with exit code 3, naming the holder and since when; with --wait it waits, then runs',
    { timeout: 120_000 },
    async () => {
      const before = new Date();
      const first = start([]);
      await first.waitFor((e) => e.type === 'file_progress'); // inside a file's transaction
      first.signal('SIGSTOP');

      const t0 = Date.now();
      const second = await tributary(['run', '-c', pipeline.config]);
      expect(second.code, describeExit(second)).toBe(3);
      expect(Date.now() - t0).toBeLessThan(8_000); // at once, not after a database timeout
      const m = /pipeline test is being run by (\S+):(\d+) since (\S+); wait for it \(--wait SECONDS\)/.exec(
        second.stderr,
      );
      expect(m, second.stderr).not.toBeNull();
      const [, host, pid, since] = m as RegExpExecArray;
      expect(host).toBe(os.hostname());
      expect(Number(pid)).toBe(first.pid);
      expect(Date.parse(since as string)).toBeGreaterThanOrEqual(before.getTime() - 1000);
      expect(Date.parse(since as string)).toBeLessThanOrEqual(Date.now());
      expect(second.stderr).not.toMatch(/\n\s+at /);

      // A file that lands meanwhile is for the waiting run; the frozen one discovered before it.
      fs.copyFileSync(
        path.join(data.dir, 'landing/b02/orders-1.csv'),
        path.join(data.dir, 'landing/b02/orders-3.csv'),
      );
      const third = start(['--wait', '60']);
      await sleep(2_000);
      expect(third.child.exitCode, 'the third run waits for the lock').toBeNull();
      expect(third.events.some((e) => e.type === 'run_started')).toBe(false);
      first.signal('SIGCONT');
      const a = await first.exited;
      expect(a.code, describeExit(a)).toBe(0);
      const c = await third.exited;
      expect(c.code, describeExit(c)).toBe(0);
      expect(c.summary?.files).toMatchObject({ loaded: 1, unchanged: data.files.length, failed: 0 });
      expect(c.summary?.runId).toBe((a.summary?.runId as number) + 1); // the refused run recorded nothing
      expect((await readState(pipeline.config)).runs).toEqual(['succeeded', 'succeeded']);
      // The waiting run started after the first had closed its run record.
      const dest = await openDestination(pipeline.config);
      try {
        const runs = await dest.query<{ started_at: string; finished_at: string }>(
          'SELECT started_at, finished_at FROM _tributary_runs ORDER BY id',
        );
        expect(String(runs[1]?.started_at) >= String(runs[0]?.finished_at)).toBe(true);
      } finally {
        await dest.close();
      }
    },
  );

  it.skipIf(unreachable(dialect))(
    'a holder killed with SIGKILL does not block the next run',
    { timeout: 120_000 },
    async () => {
      // The holder kills itself (SIGKILL) inside the first file's transaction, lock held: a
      // crash point rather than a kill from here, which could land after that file committed.
      const first = start([], { TRIBUTARY_CRASH_AT: 'load:1' });
      const x = await first.exited;
      expect(x.signal, describeExit(x)).toBe('SIGKILL');
      expect(x.events.some((e) => e.type === 'file_started')).toBe(true);
      const next = await tributary(['run', '--json', '-c', pipeline.config]);
      expect(next.code, describeExit(next)).toBe(0);
      expect(next.summary?.files.loaded).toBe(data.files.length);
      expect((await readState(pipeline.config)).runs).toEqual(['crashed', 'succeeded']);
    },
  );
});

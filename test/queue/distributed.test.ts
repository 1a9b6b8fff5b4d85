/**
 * A run's files loaded by `tributary worker` processes on a BullMQ queue (docs/distributed.md):
 * the same tables, rejects, schema history and models as a local run over the same files,
 * whatever happens to a worker — killed before or after its commit, paused past its lock and
 * back (a zombie: fenced by the database), killed on every try (a poison file) — and
 * whatever happens to the coordinator or to Redis. Real processes, real Redis, real
 * databases (MariaDB and PostgreSQL; SQLite cannot be shared and is refused).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli, describeExit, type Exit, fileTrail, tributary } from '../faults/cli.js';
import { type Dataset, generateDataset } from '../faults/dataset.js';
import { freshPipeline, targetFor } from '../faults/harness.js';
import { compareStates, readState, type State } from '../faults/state.js';
import { mysqlAvailable } from '../helpers/mysql.js';
import { postgresAvailable } from '../helpers/postgres.js';
import { REDIS_TEST_URL, redisAvailable } from '../helpers/queue.js';
import { DIALECTS } from '../helpers/workspace.js';

const redis = await redisAvailable();
const SERVERS = DIALECTS.filter((d) => d !== 'sqlite');
const reachable = async (d: string) => (d === 'mariadb' ? mysqlAvailable() : postgresAvailable());
const available = new Map<string, boolean>();
for (const d of SERVERS) available.set(d, redis && (await reachable(d)));

/** A short lock: a worker that stops answering loses its file after about 2 s, not 30. */
const LOCK = ['--lock-seconds', '2', '--workers', '0'];

describe.each(SERVERS)('a run loaded by workers on a queue (%s)', (dialect) => {
  const skip = !available.get(dialect);
  // What depends on the database (the fences' SQL, the ledger, DDL) runs on every server;
  // what is the queue's own doing (stalled jobs, a dead coordinator, Redis restarted) on the
  // first one selected, to keep `npm test` within its time.
  const queueIt: (name: string, options: { timeout: number }, fn: () => Promise<void>) => void =
    dialect === SERVERS[0] ? it.skipIf(skip) : () => {};
  let data: Dataset;
  let reference: State;
  const drops: Array<() => Promise<void>> = [];
  const alive: Cli[] = [];

  beforeAll(async () => {
    if (skip) return;
    data = generateDataset(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-queue-')), {
      batches: 2,
      rowsPerFile: 500,
      customersPerFile: 200,
    });
    const ref = await pipeline('reference', null);
    const x = await tributary(['run', '--json', '--workers', '0', '-c', ref]);
    expect(x.code, describeExit(x)).toBe(0);
    reference = await readState(ref);
  }, 120_000);

  afterAll(async () => {
    for (const c of alive.splice(0)) {
      if (c.child.exitCode === null && c.child.signalCode === null) c.signal('SIGKILL');
      await c.exited.catch(() => {});
    }
    for (const drop of drops.splice(0)) await drop();
    if (data) fs.rmSync(data.dir, { recursive: true, force: true });
  });

  /** A fresh pipeline whose runs go to `queue` (null: loaded locally). */
  async function pipeline(name: string, queue: string | null = REDIS_TEST_URL): Promise<string> {
    const p = await freshPipeline(targetFor(dialect), data.dir, `${name}-${dialect}`);
    drops.push(p.drop);
    if (queue) fs.appendFileSync(p.config, `queue: ${queue}\n`);
    return p.config;
  }

  function worker(config: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Cli {
    const c = new Cli(['worker', '-c', config, ...LOCK, ...args], { env });
    alive.push(c);
    return c;
  }

  const ready = (w: Cli) => w.waitForStderr(/waiting for files/);

  function run(config: string, env: NodeJS.ProcessEnv = {}): Cli {
    const c = new Cli(['run', '--json', '-c', config], { env });
    alive.push(c);
    return c;
  }

  async function stopAll(...workers: Cli[]) {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.signal('SIGTERM');
    for (const w of workers) await w.exited;
  }

  function expectExact(config: string, x: Exit, got: State, workers: Cli[]) {
    const problems = compareStates(reference, got, { history: true });
    const trail = `${fileTrail('run', x)}\n${workers.map((w, i) => `--- worker ${i} ---\n${w.stderr.slice(-3000)}`).join('\n')}`;
    expect(problems, `${config}\n${trail}`).toEqual([]);
  }

  it.skipIf(skip)(
    'three worker processes give the tables, rejects, schema history and models of a local run',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('three');
      const workers = [worker(config), worker(config), worker(config)];
      for (const w of workers) await ready(w);
      const x = await run(config).exited;
      expect(x.code, describeExit(x)).toBe(0);
      const loaded = x.events.filter((e) => e.type === 'file_loaded');
      expect(loaded.length).toBe(data.files.length);
      // Files went to more than one worker, and each file to one.
      const by = new Set(loaded.map((e) => (e.type === 'file_loaded' ? e.worker : undefined)));
      expect(by.size).toBeGreaterThan(1);
      expectExact(config, x, await readState(config), workers);
      // A rerun with nothing new loads nothing.
      const again = await run(config).exited;
      expect(again.code, describeExit(again)).toBe(0);
      expect(again.summary?.files.loaded).toBe(0);
      await stopAll(...workers);
    },
  );

  queueIt(
    'a worker killed before its file commits: the queue gives the file to another worker, loaded once',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('killed');
      const doomed = worker(config, { TRIBUTARY_CRASH_AT: 'load:1' });
      await ready(doomed);
      const r = run(config);
      const died = await doomed.exited;
      expect(died.signal, describeExit(died)).toBe('SIGKILL');
      const rescuer = worker(config);
      const x = await r.exited;
      expect(x.code, describeExit(x)).toBe(0);
      expectExact(config, x, await readState(config), [doomed, rescuer]);
      await stopAll(rescuer);
    },
  );

  it.skipIf(skip)(
    'a worker killed after its commit, before the queue heard of it: the redo finds the ledger row and loads nothing',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('acked');
      const doomed = worker(config, { TRIBUTARY_CRASH_AT: 'after_commit:1' });
      await ready(doomed);
      const r = run(config);
      const died = await doomed.exited;
      expect(died.signal, describeExit(died)).toBe('SIGKILL');
      const rescuer = worker(config);
      const x = await r.exited;
      expect(x.code, describeExit(x)).toBe(0);
      expect(rescuer.stderr).toMatch(/already loaded by an earlier attempt/);
      expect(x.summary?.warnings.join('\n')).toMatch(/whose report the queue lost/);
      expectExact(config, x, await readState(config), [doomed, rescuer]);
      await stopAll(rescuer);
    },
  );

  it.skipIf(skip)(
    'a zombie — paused past its lock while it held a file, back after another worker loaded it — adds nothing and is reported fenced',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('zombie');
      const zombie = worker(config, { TRIBUTARY_STOP_AT: 'claimed:1' });
      await ready(zombie);
      const r = run(config);
      await waitUntilStopped(zombie.child);
      const file = /run \d+: (\S+) →/.exec(zombie.stderr)?.[1] ?? '';
      expect(file, zombie.stderr).not.toBe('');
      const rescuer = worker(config);
      // The zombie's lock runs out, the queue gives its file to the rescuer, which loads it.
      await rescuer.waitForStderr(new RegExp(`${escapeRegExp(file)}: \\d+ rows`), 0, 60_000);
      zombie.signal('SIGCONT');
      await zombie.waitForStderr(/fenced, nothing loaded/, 0, 60_000);
      const x = await r.exited;
      expect(x.code, describeExit(x)).toBe(0);
      expectExact(config, x, await readState(config), [zombie, rescuer]);
      await stopAll(zombie, rescuer);
    },
  );

  queueIt(
    'a file that kills every worker that takes it fails the run after one retry, never loops; the next run loads it',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('poison');
      const poison = 'b01/orders-1';
      // Two workers kept alive: each one that takes the poison file dies, and is replaced.
      const deaths: Exit[] = [];
      let supervising = true;
      const spawned: Cli[] = [];
      const keepAlive = async () => {
        while (supervising) {
          const w = worker(config, { TRIBUTARY_CRASH_FILE: poison });
          spawned.push(w);
          const end = await w.exited;
          if (supervising) deaths.push(end);
        }
      };
      const supervisors = [keepAlive(), keepAlive()];
      const x = await run(config).exited;
      supervising = false;
      await stopAll(...spawned);
      await Promise.all(supervisors);
      expect(x.code, describeExit(x)).toBe(1); // partial: a failed file, retried next run
      expect(x.summary?.failures.map((f) => f.file)).toEqual([expect.stringContaining(poison)]);
      expect(x.summary?.failures[0]?.message).toMatch(/stalled/);
      // Taken twice: BullMQ gives a job whose worker died back once (maxStalledCount 1).
      expect(deaths.map((d) => d.signal)).toEqual(['SIGKILL', 'SIGKILL']);
      // The table's later files waited for it (path order); the next run loads them all.
      const healthy = worker(config);
      const again = await run(config).exited;
      expect(again.code, describeExit(again)).toBe(0);
      expectExact(config, again, await readState(config), [healthy]);
      await stopAll(healthy);
    },
  );

  queueIt(
    'the coordinator killed mid-run leaves nothing half-done; the next run --queue finishes the work',
    { timeout: 180_000 },
    async () => {
      const config = await pipeline('coordinator');
      const workers = [worker(config), worker(config)];
      for (const w of workers) await ready(w);
      const first = run(config);
      await first.waitFor((e) => e.type === 'file_loaded', 60_000);
      first.signal('SIGKILL');
      await first.exited;
      const x = await run(config).exited;
      expect(x.code, describeExit(x)).toBe(0);
      expectExact(config, x, await readState(config), workers);
      await stopAll(...workers);
    },
  );

  queueIt(
    'Redis restarted with nothing kept, mid-run: the run enqueues again what the ledger does not have, and ends exact',
    { timeout: 180_000 },
    async () => {
      const port = await freePort();
      let server = startRedis(port);
      try {
        const url = `redis://127.0.0.1:${port}/0`;
        await waitForPort(port);
        const config = await pipeline('redis-restart', url);
        const workers = [worker(config, {}, ['--queue', url]), worker(config, {}, ['--queue', url])];
        for (const w of workers) await ready(w);
        const r = run(config);
        await r.waitFor((e) => e.type === 'file_loaded', 60_000);
        server.kill('SIGKILL');
        await new Promise((res) => server.once('exit', res));
        await new Promise((res) => setTimeout(res, 1_000));
        server = startRedis(port);
        const x = await r.exited;
        expect(x.code, describeExit(x)).toBe(0);
        expectExact(config, x, await readState(config), workers);
        await stopAll(...workers);
      } finally {
        server.kill('SIGKILL');
      }
    },
  );
});

describe.skipIf(!redis || !DIALECTS.includes('sqlite'))('a queue with SQLite', () => {
  it('is a config error that says SQLite cannot be shared between machines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-queue-sqlite-'));
    try {
      const p = await freshPipeline(targetFor('sqlite'), dir, 'q');
      for (const cmd of [['run'], ['worker']]) {
        const x = await tributary([...cmd, '-c', p.config, '--queue', REDIS_TEST_URL]);
        expect(x.code, describeExit(x)).toBe(2);
        expect(x.stderr).toMatch(/SQLite cannot be shared between machines/);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a queue URL that is not redis:// is a config error, its password masked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-queue-url-'));
    try {
      const p = await freshPipeline(targetFor('sqlite'), dir, 'q');
      const x = await tributary(['run', '-c', p.config, '--queue', 'http://u:s3cret-pw@host:6379']);
      expect(x.code, describeExit(x)).toBe(2);
      expect(x.stderr).toMatch(/only redis:\/\/ and rediss:\/\//);
      expect(x.stderr).not.toMatch(/s3cret-pw/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Resolves once the process is stopped (SIGSTOP: state `T` in /proc). */
async function waitUntilStopped(child: ChildProcess, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const stat = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) T /.test(stat)) return;
    if (Date.now() - t0 > ms) throw new Error(`process ${child.pid} did not stop: ${stat}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A private Redis that keeps nothing on disk, like the test machine's. */
function startRedis(port: number): ChildProcess {
  return spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > ms) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!SERVERS.some((d) => available.get(d)))('a queue that does not answer', () => {
  it('fails the run and the worker at once (exit 4), the queue password masked, nothing loaded', {
    timeout: 120_000,
  }, async () => {
    const dialect = SERVERS.find((d) => available.get(d)) as (typeof SERVERS)[number];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-queue-down-'));
    const p = await freshPipeline(targetFor(dialect), dir, 'q');
    try {
      const url = `redis://tributary:s3cret-queue-pw@127.0.0.1:${await freePort()}/0`;
      for (const cmd of [['run'], ['worker']]) {
        const x = await tributary([...cmd, '-c', p.config, '--queue', url]);
        expect(x.code, describeExit(x)).toBe(4);
        expect(x.stderr).toMatch(/cannot reach the queue at redis:\/\/tributary:\*\*\*@127\.0\.0\.1/);
        expect(x.stderr + x.stdout).not.toMatch(/s3cret-queue-pw/);
      }
      const state = await readState(p.config);
      expect([...state.tables.keys()].filter((t) => !t.startsWith('_tributary'))).toEqual([]);
    } finally {
      await p.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { Redis } from 'ioredis';
import { readConfig } from '../../src/cli/context.js';
import { createDestination } from '../../src/destinations/index.js';
import { QueueCoordinator } from '../../src/queue/coordinator.js';
import { serveQueue, type WorkerEvent } from '../../src/queue/worker.js';
import type { RunEvent, RunSummary } from '../../src/runner/events.js';
import { type RunOptions, runPipeline } from '../../src/runner/run.js';

/**
 * The test queue: `TRIBUTARY_TEST_REDIS_URL`, by default the local Redis. Every test
 * pipeline has its own queue (its name and its database's pipeline id), so test files
 * share it safely.
 */
export const REDIS_TEST_URL = process.env.TRIBUTARY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

const inCI = () => process.env.CI === 'true' || process.env.CI === '1';
let availability: Promise<boolean> | undefined;

/**
 * Whether Redis answers. Under `CI=true` an unreachable one throws: a missing service is a
 * failure there, never a silent skip.
 */
export function redisAvailable(url = REDIS_TEST_URL): Promise<boolean> {
  availability ??= (async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      await client.ping();
      return true;
    } catch (err) {
      const why = `Redis is not reachable at ${url}: ${(err as Error).message}`;
      if (inCI())
        throw new Error(`${why}. CI=true: a missing service fails the run instead of skipping tests.`);
      console.warn(
        `${why}. Skipping the queue tests (set TRIBUTARY_TEST_REDIS_URL, or CI=true to fail instead).`,
      );
      return false;
    } finally {
      client.disconnect();
    }
  })();
  return availability;
}

export interface Workers {
  events: WorkerEvent[];
  stop(): Promise<void>;
}

/**
 * `n` workers in this process, each with its own connection to the destination, serving the
 * queue of the pipeline `configFile` describes (what `tributary worker` does, minus the
 * process): for the property tests, which run hundreds of cases.
 */
export async function inProcessWorkers(
  configFile: string,
  n: number,
  options: { url?: string; threads?: number; lockSeconds?: number } = {},
): Promise<Workers> {
  const config = readConfig(configFile);
  const events: WorkerEvent[] = [];
  const stop = new AbortController();
  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const dest = await createDestination(config.destination);
    await dest.open();
    let resolveReady: () => void = () => {};
    ready.push(new Promise<void>((r) => (resolveReady = r)));
    done.push(
      serveQueue(config, dest, {
        url: options.url ?? REDIS_TEST_URL,
        threads: options.threads ?? 0,
        lockSeconds: options.lockSeconds ?? 30,
        signal: stop.signal,
        emit: (e) => {
          events.push(e);
          if (e.type === 'worker_ready') resolveReady();
        },
      }).finally(() => dest.close()),
    );
  }
  await Promise.race([Promise.all(ready), Promise.all(done)]);
  return {
    events,
    async stop() {
      stop.abort();
      await Promise.all(done);
    },
  };
}

/**
 * `run --queue` in this process (runPipeline with a QueueCoordinator): the files go to
 * whatever workers serve the pipeline's queue.
 */
export async function runQueued(
  configFile: string,
  options: Omit<RunOptions, 'remote' | 'emit'> = {},
): Promise<{ summary: RunSummary; events: RunEvent[] }> {
  const config = readConfig(configFile);
  const dest = await createDestination(config.destination);
  await dest.open();
  const events: RunEvent[] = [];
  const emit = (e: RunEvent) => events.push(e);
  try {
    const remote = await QueueCoordinator.open(config, dest, REDIS_TEST_URL, emit);
    let runId: number | undefined;
    try {
      const summary = await runPipeline(config, dest, {
        ...options,
        remote,
        emit: (e) => {
          if (e.type === 'run_started') runId = e.runId;
          emit(e);
        },
      });
      return { summary, events };
    } finally {
      await remote.close(runId);
    }
  } finally {
    await dest.close();
  }
}

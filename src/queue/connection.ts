import { Redis, type RedisOptions } from 'ioredis';
import { maskUrl } from '../config/destination.js';
import { queueProblem } from '../config/resolve.js';
import { messageOf, TributaryError } from '../core/errors.js';
import type { Destination } from '../destinations/types.js';

/** How long a first contact with Redis may take before the command gives up. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connection to the queue's Redis: `redis://[user:password@]host[:port][/db]`, or
 * `rediss://…` for TLS. BullMQ blocks on its connections, so every command waits for a
 * reconnection instead of failing (`maxRetriesPerRequest: null`): a Redis restart pauses the
 * queue, it does not end the run.
 */
export function redisConnection(url: string, extra: RedisOptions = {}): Redis {
  checkQueueUrl(url);
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: true, ...extra });
}

export function checkQueueUrl(url: string): void {
  const problem = queueProblem(url);
  if (problem) throw new TributaryError('CONFIG_INVALID', `queue: ${problem}`);
}

/** Connect, or fail with QUEUE_UNAVAILABLE within a few seconds (the URL masked). */
export async function connectRedis(
  client: Redis,
  url: string,
  timeoutMs = CONNECT_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), timeout]);
  } catch (err) {
    client.disconnect();
    throw new TributaryError(
      'QUEUE_UNAVAILABLE',
      `cannot reach the queue at ${maskUrl(url)}: ${maskUrl(messageOf(err))}`,
      { cause: err },
    );
  } finally {
    clearTimeout(timer);
  }
}

/** `--queue` with a destination only this machine can write (SQLite). */
export function notShared(dest: Destination): TributaryError {
  return new TributaryError(
    'CONFIG_INVALID',
    `a queue needs a database every worker can reach, and ${dest.description} is a file on this machine (SQLite cannot be shared between machines): use a MySQL/MariaDB or PostgreSQL destination, or run without a queue`,
  );
}

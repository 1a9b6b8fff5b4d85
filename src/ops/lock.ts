import os from 'node:os';
import { TributaryError } from '../core/errors.js';
import type { Destination } from '../destinations/types.js';

/**
 * Run `fn` holding the pipeline's run lock, as `tributary run` does: a retry or a reset
 * never interleaves with a run's files. Fails at once (LOCK_HELD) when another process
 * holds it.
 */
export async function withPipelineLock<T>(
  dest: Destination,
  pipeline: string,
  fn: () => Promise<T>,
): Promise<T> {
  const held = await dest.tryLock(pipeline, `${os.hostname()}:${process.pid}`);
  if (held) {
    throw new TributaryError(
      'LOCK_HELD',
      `pipeline ${pipeline} is being run by ${held.holder} since ${held.since}; try again when it is done`,
    );
  }
  try {
    return await fn();
  } finally {
    await dest.unlock(pipeline);
  }
}

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { TributaryError } from '../core/errors.js';

/** SHA-256 of a file's bytes as stored (the ledger's content hash). */
export async function hashFile(abs: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    const stream = createReadStream(abs, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => hash.update(chunk as Buffer));
    await once(stream, 'end');
  } catch (err) {
    throw new TributaryError('SOURCE_UNREADABLE', `cannot read ${abs}: ${(err as Error).message}`, {
      cause: err,
      context: { file: abs },
    });
  }
  return hash.digest('hex');
}

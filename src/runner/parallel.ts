/**
 * Parallel first and second passes on a pool of worker threads (piscina). A big CSV or
 * NDJSON file is split at record boundaries into parts read concurrently (src/sources/
 * split.ts); other files (gzip, JSON arrays, small files) are read whole by one worker, so
 * parsing still runs beside the writer on the main thread. Results are the same as reading
 * on the main thread: parts merge in file order, line and record numbers are exact, and a
 * file whose column names depend on first-seen order (a collision) is read in one piece.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type ErrorCode, TributaryError } from '../core/errors.js';
import type { ColumnType, Format } from '../core/types.js';
import { mergeObservation, TableObserver } from '../schema/observe.js';
import { detectFormat, type ReadOptions } from '../sources/open.js';
import { type FileSplit, splitFile } from '../sources/split.js';
import type { ScanInput, ScanResult } from './scan.js';
import { type EncodedBatch, type EncodeInput, fromWire } from './stream.js';
import type { SerializedError, WorkerMessage, WorkerTask } from './worker.js';

/** Batches a worker may run ahead of the writer. */
const WINDOW = 4;

/** A lazily started pool; `size` threads (0: everything on the main thread). */
export class WorkerPool {
  #pool: Piscina | undefined;
  /**
   * @param size threads
   * @param minPartBytes smallest part a file is split into (default 8 MiB: below it, a
   *   part costs more to coordinate than it saves)
   */
  constructor(
    readonly size: number,
    readonly minPartBytes = 8 << 20,
  ) {}

  run<T>(task: WorkerTask, transferList?: MessagePort[]): Promise<T> {
    this.#pool ??= new Piscina(workerOptions(this.size));
    return this.#pool.run(task, transferList ? { transferList } : undefined) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.#pool?.destroy();
    this.#pool = undefined;
  }
}

/** The compiled worker next to this module; under the TypeScript sources (tests), the .ts one through tsx. */
function workerOptions(size: number): ConstructorParameters<typeof Piscina>[0] {
  const here = import.meta.url;
  const ts = here.endsWith('.ts');
  return {
    filename: new URL(ts ? './worker.ts' : './worker.js', here).href,
    minThreads: 0,
    maxThreads: size,
    idleTimeout: 1000,
    ...(ts ? { execArgv: ['--import', import.meta.resolve('tsx')] } : {}),
  };
}

/** How a file is read in parts, shared by its two passes. */
export interface FileParts {
  /** Undefined: the reader detects it (a `.json` file). */
  format: Format | undefined;
  split: FileSplit | undefined;
  /** Items (records and problems) before each part: the record number offsets. */
  offsets: number[];
}

export interface ReadTarget {
  abs: string;
  format: Format | undefined;
  delimiter: string | undefined;
}

/** Pass 1 on the pool: the merged scan of every part, and the file's hash. */
export async function scanInPool(
  pool: WorkerPool,
  target: ReadTarget,
  input: ScanInput,
): Promise<{ hash: string; scan: ScanResult; parts: FileParts }> {
  const hashing = hashFile(target.abs);
  hashing.catch(() => {}); // its error, if any, surfaces where it is awaited
  // `.json` may hold an array or NDJSON: the reader decides (after gunzip); it is not split.
  const known = target.format ?? detectFormat(target.abs);
  const format = target.format ?? (known === 'json' ? undefined : known);
  let split =
    format === 'csv' || format === 'ndjson'
      ? await splitFile(target.abs, format, pool.size * 2, pool.minPartBytes)
      : undefined;
  let results = await Promise.all(
    readSpecs(target, format, split, [0]).map((read) => scanTask(pool, read, input)),
  );
  if (split && format === 'ndjson' && results.some((r) => r.orderSensitive)) {
    split = undefined; // names depend on first-seen order: read the file in one piece
    results = [await scanTask(pool, readSpecs(target, format, undefined, [0])[0] as ReadSpecOptions, input)];
  }
  const scan = mergeScans(results, input);
  const offsets: number[] = [];
  let items = 0;
  for (const r of results) {
    offsets.push(items);
    items += r.items;
  }
  return { hash: await hashing, scan, parts: { format, split, offsets } };
}

type ReadSpecOptions = { abs: string; options: ReadOptions };

function readSpecs(
  target: ReadTarget,
  format: Format | undefined,
  split: FileSplit | undefined,
  offsets: number[],
): ReadSpecOptions[] {
  const base: ReadOptions = {
    ...(format ? { format } : {}),
    ...(target.delimiter ? { delimiter: target.delimiter } : {}),
  };
  if (!split) return [{ abs: target.abs, options: base }];
  return split.chunks.map((c, i) => ({
    abs: target.abs,
    options: {
      ...base,
      range: {
        start: c.start,
        end: c.end,
        firstLine: c.firstLine,
        header: split.header,
        recordOffset: offsets[i] ?? 0,
      },
    },
  }));
}

async function scanTask(pool: WorkerPool, read: ReadSpecOptions, input: ScanInput): Promise<ScanResult> {
  const r = await pool.run<{ ok: ScanResult } | { error: SerializedError }>({ kind: 'scan', read, input });
  if ('error' in r) throw rehydrate(r.error);
  return r.ok;
}

function mergeScans(results: ScanResult[], input: ScanInput): ScanResult {
  const observers = new Map<string, TableObserver>();
  const established = (t: string): ReadonlyMap<string, ColumnType> => input.established.get(t) ?? new Map();
  for (const r of results) {
    for (const [table, obs] of r.observations) {
      let into = observers.get(table);
      if (!into) {
        into = new TableObserver(established(table), table === input.source.table ? input.fixed : new Set());
        observers.set(table, into);
      }
      mergeObservation(into, obs, established(table));
    }
  }
  return {
    observations: new Map(
      [...observers].map(([t, o]) => [t, { types: o.types, incompatible: o.incompatible }]),
    ),
    records: results.reduce((n, r) => n + r.records, 0),
    items: results.reduce((n, r) => n + r.items, 0),
    orderSensitive: results.some((r) => r.orderSensitive),
  };
}

/**
 * Pass 2 on the pool: encoded batches in file order (every part starts at once; each
 * waits, at most WINDOW batches ahead, until the writer reaches it), and the file's hash.
 */
export function encodeInPool(
  pool: WorkerPool,
  target: ReadTarget,
  parts: FileParts,
  input: EncodeInput,
): { batches: AsyncGenerator<{ batch: EncodedBatch; bytes: number }>; hash: () => Promise<string> } {
  const hash = hashFile(target.abs);
  hash.catch(() => {});
  const specs = readSpecs(target, parts.format, parts.split, parts.offsets);
  async function* batches(): AsyncGenerator<{ batch: EncodedBatch; bytes: number }> {
    const channels = specs.map(() => new MessageChannel());
    const tasks = specs.map((read, i) => {
      const port = (channels[i] as MessageChannel).port2;
      return pool.run<undefined>({ kind: 'encode', read, input, port, window: WINDOW }, [port]);
    });
    const failures: unknown[] = [];
    let wake: (() => void) | undefined;
    tasks.forEach((t, i) => {
      // A worker that dies (or never starts) may not close its port: wake the reader.
      t.catch((err) => {
        failures[i] = err;
        wake?.();
      });
    });
    let before = 0;
    try {
      for (const [i, channel] of channels.entries()) {
        let received = 0;
        let bytes = 0;
        const messages = channel.port1;
        const queue: WorkerMessage[] = [];
        let closed = false;
        messages.on('message', (m: WorkerMessage) => {
          queue.push(m);
          wake?.();
        });
        messages.on('close', () => {
          closed = true;
          wake?.();
        });
        for (;;) {
          while (queue.length === 0 && !closed && failures[i] === undefined) {
            await new Promise<void>((r) => {
              wake = r;
            });
          }
          const m = queue.shift();
          if (!m) {
            if (failures[i] !== undefined) throw failures[i];
            throw new Error(`worker for part ${i + 1} of ${target.abs} stopped without finishing`);
          }
          if ('error' in m) throw rehydrate(m.error);
          if ('done' in m) {
            before += m.bytes - bytes;
            break;
          }
          yield { batch: fromWire(m.batch), bytes: before + m.bytes };
          bytes = m.bytes;
          messages.postMessage(++received);
        }
        before += bytes;
      }
    } finally {
      for (const c of channels) c.port1.close();
    }
  }
  return { batches: batches(), hash: () => hash };
}

function rehydrate(e: SerializedError): Error {
  if (!e.code) return new Error(e.message);
  return new TributaryError(e.code as ErrorCode, e.message, {
    transient: e.transient ?? false,
    context: e.context ?? {},
  });
}

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

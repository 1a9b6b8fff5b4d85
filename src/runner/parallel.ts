/**
 * Parallel first and second passes on a pool of worker threads (piscina). A big CSV or
 * NDJSON file is split at record boundaries into parts read concurrently (src/sources/
 * split.ts); other files (gzip, JSON arrays, small files) are read whole by one worker, so
 * parsing still runs beside the writer on the main thread. Results are the same as reading
 * on the main thread: parts merge in file order, line and record numbers are exact, and a
 * file whose column names depend on first-seen order (a collision) is read in one piece.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { type ErrorCode, TributaryError } from '../core/errors.js';
import type { ColumnType, Format } from '../core/types.js';
import type { CsvShape, RowFormat } from '../destinations/types.js';
import type { ScanInput, ScanResult } from '../normalize/scan.js';
import { type EncodedBatch, type EncodeInput, fromWire } from '../normalize/stream.js';
import { mergeObservation, TableObserver } from '../schema/observe.js';
import { detectFormat, type ReadOptions } from '../sources/open.js';
import { type FileSplit, splitFile } from '../sources/split.js';
import type { SerializedError, WorkerMessage, WorkerTask } from './worker.js';

/** A batch for the writer: rows as values, or (with a row format) as text with `rows` empty. */
export interface StreamBatch extends EncodedBatch {
  text?: { text: string; rows: number } | { text: Uint8Array; rows: number; csv: CsvShape };
}

/** Batches a worker may run ahead of the writer. */
const WINDOW = 4;

/** A lazily started pool; `size` threads (0: everything on the main thread). */
export class WorkerPool {
  #pool: Piscina | undefined;
  /**
   * @param size threads
   * @param minPartBytes smallest part a file is split into (default 8 MiB: below it, a
   *   part costs more to coordinate than it saves)
   * @param minFileBytes smallest file parsed on the pool (default 1 MiB: below it, a worker
   *   round trip costs more than it saves); tests lower both to send small files through it
   */
  constructor(
    readonly size: number,
    readonly minPartBytes = 8 << 20,
    readonly minFileBytes = 1 << 20,
  ) {}

  /**
   * Start every thread now rather than at the first task (a thread takes ~0.1 s to load
   * its modules): for a run that will parse big files, while it reads the catalog.
   */
  warm(): void {
    this.#pool ??= new Piscina({ ...workerOptions(this.size), minThreads: this.size });
  }

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
}

export interface ReadTarget {
  abs: string;
  format: Format | undefined;
  delimiter: string | undefined;
  /** JSON: where the records are in the file's one object (ReadOptions.records). */
  records?: string;
  /** The source's `encoding` (ReadOptions.encoding). */
  encoding?: string;
}

/**
 * How to read a file on the pool: big CSV and NDJSON files in parts cut at record
 * boundaries, anything else whole. `.json` may hold an array or NDJSON: the reader decides
 * (after gunzip), and it is not split.
 */
export async function partsOf(pool: WorkerPool, target: ReadTarget): Promise<FileParts> {
  const known = target.format ?? detectFormat(target.abs);
  const format = target.format ?? (known === 'json' ? undefined : known);
  const split =
    format === 'csv' || format === 'ndjson'
      ? await splitFile(target.abs, format, pool.size * 2, pool.minPartBytes, target.encoding)
      : undefined;
  return { format, split };
}

/** Pass 1 on the pool: the merged scan of every part, and the file's hash. */
export async function scanInPool(
  pool: WorkerPool,
  target: ReadTarget,
  input: ScanInput,
): Promise<{ hash: string; scan: ScanResult; parts: FileParts }> {
  let { format, split } = await partsOf(pool, target);
  const scanning = Promise.all(readSpecs(target, format, split).map((read) => scanTask(pool, read, input)));
  const hashing = hashInPool(pool, target.abs); // queued after the parts: off the main thread
  hashing.catch(() => {}); // its error, if any, surfaces where it is awaited
  let results = await scanning;
  if (split && format === 'ndjson' && results.some((r) => r.orderSensitive)) {
    split = undefined; // names depend on first-seen order: read the file in one piece
    results = [await scanTask(pool, readSpecs(target, format, undefined)[0] as ReadSpecOptions, input)];
  }
  return { hash: await hashing, scan: mergeScans(results, input), parts: { format, split } };
}

type ReadSpecOptions = { abs: string; options: ReadOptions };

/** What each worker reads. Record numbers count from each part's start (see encodeInPool). */
function readSpecs(
  target: ReadTarget,
  format: Format | undefined,
  split: FileSplit | undefined,
): ReadSpecOptions[] {
  const base: ReadOptions = {
    ...(format ? { format } : {}),
    ...(target.delimiter ? { delimiter: target.delimiter } : {}),
    ...(target.records === undefined ? {} : { records: target.records }),
    ...(target.encoding === undefined ? {} : { encoding: target.encoding }),
  };
  if (!split) return [{ abs: target.abs, options: base }];
  return split.chunks.map((c) => ({
    abs: target.abs,
    options: {
      ...base,
      range: {
        start: c.start,
        end: c.end,
        firstLine: c.firstLine,
        header: split.header,
        recordOffset: 0,
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
 * A part numbers its records from 1; the records of the parts before it are added here, as
 * they are counted (every record or problem becomes a row, a reject or a discarded row), so
 * this pass needs nothing from the first and can run without it.
 */
export function encodeInPool(
  pool: WorkerPool,
  target: ReadTarget,
  parts: FileParts,
  input: EncodeInput,
  rowFormat?: RowFormat,
  observe?: ScanInput,
): {
  batches: AsyncGenerator<{ batch: StreamBatch; bytes: number }>;
  hash: () => Promise<string>;
  /** With `observe`, after the last batch: the merged scan of every part. */
  scan: () => ScanResult | undefined;
} {
  const specs = readSpecs(target, parts.format, parts.split);
  let hash: Promise<string> | undefined;
  const scans: ScanResult[] = [];
  async function* batches(): AsyncGenerator<{ batch: StreamBatch; bytes: number }> {
    const channels = specs.map(() => new MessageChannel());
    const queues: WorkerMessage[][] = specs.map(() => []);
    const closed: boolean[] = specs.map(() => false);
    const failures: unknown[] = [];
    let wake: (() => void) | undefined;
    // A part waits in its thread while it is WINDOW batches ahead of the writer, so a part
    // may only hold a thread once the parts before it have: part i+1 is submitted when part
    // i has started. Otherwise (the pool does not start tasks strictly in order) later parts
    // of several files could fill every thread, waiting for writers that wait for earlier
    // parts still queued behind them: a deadlock. This way each file's running parts are
    // a prefix of its parts, the first unfinished one is the one its writer reads, and
    // every file moves on.
    const submit = (i: number) => {
      if (i === specs.length) {
        hash = hashInPool(pool, target.abs); // after the parts: off the writer's thread
        hash.catch(() => {}); // its error, if any, surfaces where it is awaited
        return;
      }
      const port = (channels[i] as MessageChannel).port2;
      pool
        .run<undefined>(
          {
            kind: 'encode',
            read: specs[i] as ReadSpecOptions,
            input,
            port,
            window: WINDOW,
            ...(rowFormat ? { rowFormat } : {}),
            ...(observe ? { observe } : {}),
          },
          [port],
        )
        .catch((err) => {
          // A worker that dies (or never starts) may not close its port: wake the reader.
          failures[i] = err;
          wake?.();
        });
    };
    for (const [i, channel] of channels.entries()) {
      channel.port1.on('message', (m: WorkerMessage) => {
        if ('started' in m) {
          submit(i + 1);
          return;
        }
        queues[i]?.push(m);
        wake?.();
      });
      channel.port1.on('close', () => {
        closed[i] = true;
        wake?.();
      });
    }
    submit(0);
    let before = 0;
    let records = 0; // items of the parts before this one
    try {
      for (const [i, channel] of channels.entries()) {
        let received = 0;
        let partItems = 0;
        let bytes = 0;
        const messages = channel.port1;
        const queue = queues[i] as WorkerMessage[];
        for (;;) {
          while (queue.length === 0 && !closed[i] && failures[i] === undefined) {
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
          if ('started' in m) continue; // not queued (see submit)
          if ('done' in m) {
            if (m.scan) scans.push(m.scan);
            before += m.bytes - bytes;
            break;
          }
          let batch: StreamBatch;
          if ('text' in m) {
            const { text, rows, csv, ...rest } = m.text;
            batch = {
              rows: [],
              ...rest,
              text: csv ? { text: text as Uint8Array, rows, csv } : { text: text as string, rows },
            };
          } else {
            batch = fromWire(m.batch);
          }
          if (records > 0) for (const r of batch.rejects) r.record += records;
          partItems += (batch.text?.rows ?? batch.rows.length) + batch.rejects.length + batch.discardedRows;
          yield { batch, bytes: before + m.bytes };
          bytes = m.bytes;
          messages.postMessage(++received);
        }
        before += bytes;
        records += partItems;
      }
    } finally {
      for (const c of channels) c.port1.close();
    }
  }
  return {
    batches: batches(),
    hash: () => hash ?? hashInPool(pool, target.abs),
    scan: () => (observe && scans.length === specs.length ? mergeScans(scans, observe) : undefined),
  };
}

function rehydrate(e: SerializedError): Error {
  if (!e.code) return new Error(e.message);
  return new TributaryError(e.code as ErrorCode, e.message, {
    transient: e.transient ?? false,
    context: e.context ?? {},
  });
}

/** SHA-256 of a file's bytes (the ledger's content hash), computed on a worker thread. */
async function hashInPool(pool: WorkerPool, abs: string): Promise<string> {
  const r = await pool.run<{ ok: string } | { error: SerializedError }>({ kind: 'hash', abs });
  if ('error' in r) throw rehydrate(r.error);
  return r.ok;
}

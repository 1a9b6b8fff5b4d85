import { createHash } from 'node:crypto';
import { crashPoint } from '../../core/faults.js';
import type { SourceItem } from '../../core/types.js';
import { type ScanInput, scanItems } from '../../normalize/scan.js';
import type { Observation } from '../../schema/observe.js';
import { readFile } from '../../sources/open.js';
import { type ReadTarget, scanInPool } from '../parallel.js';
import { BATCH, checkAbort, type FileJob } from './job.js';

export interface Scan {
  hash: string;
  observed: Map<string, Observation>;
  records: number;
}

/** The file's records in batches (a retry's stored ones instead: FileJob.retry). */
export function reader(
  job: FileJob,
  onRawChunk: (chunk: Buffer) => void,
  /** Keep the text of CSV batches for the fast path (ReadOptions.spans). */
  spans = false,
): AsyncIterable<SourceItem[]> {
  if (job.retry) return job.retry.items();
  return readFile(job.file.abs, {
    ...(spans ? { spans } : {}),
    format: job.source.format,
    delimiter: job.source.delimiter,
    ...(job.source.records === undefined ? {} : { records: job.source.records }),
    ...(job.source.encoding === undefined ? {} : { encoding: job.source.encoding }),
    batchSize: BATCH,
    onRawChunk,
  });
}

/** Pass 1: fold every value into the types each table needs; hash the bytes on the way. */
export async function scanFile(job: FileJob, children: boolean): Promise<Scan> {
  const input = scanInput(job, children);
  if (job.pool && !job.retry && job.file.size >= job.pool.minFileBytes) {
    const pending = scanInPool(job.pool, target(job), input);
    pending.catch(() => {});
    crashPoint('scan');
    const { hash, scan, parts } = await pending;
    checkAbort(job);
    job.parts = parts;
    return { hash, observed: scan.observations, records: scan.records };
  }
  const hash = createHash('sha256');
  const scan = await scanItems(
    reader(job, (chunk) => hash.update(chunk)),
    input,
    () => {
      checkAbort(job);
      crashPoint('scan');
    },
  );
  return { hash: hash.digest('hex'), observed: scan.observations, records: scan.records };
}

/** What the first pass needs: the source, and the types of the tables as they are now. */
export function scanInput(job: FileJob, children: boolean): ScanInput {
  return {
    source: job.source,
    captures: job.file.captures,
    children,
    established: new Map(
      [...job.catalog].map(([t, live]) => [t, new Map(live.columns.map((c) => [c.name, c.type]))]),
    ),
    fixed: new Set(job.hints.keys()),
  };
}

/** The file as the worker threads read it. */
export function target(job: FileJob): ReadTarget {
  return {
    abs: job.file.abs,
    format: job.source.format,
    delimiter: job.source.delimiter,
    ...(job.source.records === undefined ? {} : { records: job.source.records }),
    ...(job.source.encoding === undefined ? {} : { encoding: job.source.encoding }),
  };
}

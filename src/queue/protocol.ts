/**
 * What travels on the queue between `run --queue` (the coordinator) and `tributary worker`:
 * paths, sizes, ids and counts — never row data, never credentials (each side reads its own
 * config for those). docs/distributed.md.
 */
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../config/resolve.js';
import type { FileResult } from '../runner/attempt.js';

/** Bumped when a job's shape changes: a worker refuses a job of another version. */
export const JOB_VERSION = 1;

/** One file of one run to load. */
export interface LoadJobData {
  v: number;
  pipeline: string;
  runId: number;
  /** The file, relative to the config's folder (the ledger's identity of the file). */
  path: string;
  size: number;
  mtimeMs: number;
  captures: Record<string, string>;
  /** `sources[source]` of the config, whose table is `table`. */
  source: number;
  table: string;
  /** The config's sources, hashed: a worker whose config differs refuses the job. */
  config: string;
  /** Decided by the coordinator's reconcile step (src/runner/reconcile.ts). */
  shadowed: boolean;
  retried: boolean;
  /** Columns whose before-images the models need, per table (TableWritePlan.beforeImages). */
  beforeImages: Array<[string, string[]]>;
  index: number;
  total: number;
}

/** What a worker returns for a job. */
export interface LoadJobResult {
  v: number;
  /** `host:pid` of the worker process. */
  worker: string;
  /** Set when the attempt was refused by the database (src/state/claims.ts): nothing was loaded. */
  fenced?: string;
  result?: FileResult;
  ms: number;
}

/** Progress a worker reports while a job runs (job.updateProgress). */
export interface LoadJobProgress {
  worker: string;
  rows: number;
  bytes: number;
}

/**
 * The queue of a pipeline: its name and its id in the database (src/state/claims.ts
 * pipelineId), so the same name in two databases makes two queues. BullMQ keys it under
 * `bull:<name>:…` and a name may not hold `:`.
 */
export function queueName(pipeline: string, id: string): string {
  return `tributary.${pipeline}.${id}`;
}

/** The sources as this process understands them: what decides how a file loads. */
export function configFingerprint(config: ResolvedConfig): string {
  return createHash('sha256').update(JSON.stringify(config.sources)).digest('hex').slice(0, 16);
}

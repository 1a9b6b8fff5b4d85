import type { ResolvedSource } from '../../config/resolve.js';
import { TributaryError } from '../../core/errors.js';
import type { ColumnType, SchemaChange, SourceItem } from '../../core/types.js';
import type { Destination, LiveTable, Transaction, WriteStats } from '../../destinations/types.js';
import type { DiscoveredFile } from '../../sources/discover.js';
import type { Reject } from '../../state/rejects.js';
import type { EventSink } from '../events.js';
import type { FileParts, WorkerPool } from '../parallel.js';

/** Everything a file load needs from the run. */
export interface FileJob {
  dest: Destination;
  pipeline: string;
  runId: number;
  source: ResolvedSource;
  hints: ReadonlyMap<string, ColumnType>;
  file: DiscoveredFile;
  /** Live tables; updated in place after this file's DDL. */
  catalog: Map<string, LiveTable>;
  /** Hash stored in the ledger when the file loaded before (skip when equal). */
  knownHash: string | null;
  emit: EventSink;
  signal?: AbortSignal;
  /**
   * Stored rejects loaded again (`tributary rejects retry`) instead of the file itself: they
   * go through the same scan → evolve → encode → write → commit path as a file of a run.
   */
  retry?: RetryLoad;
  /** Before-images the writer records for incremental models (TableWritePlan.beforeImages). Default none. */
  beforeImages?: ReadonlyMap<string, readonly string[]>;
  /** Worker threads for parsing; without it, both passes run on the main thread. */
  pool?: WorkerPool;
  /** How the first pass split the file (set by it, read by the second pass). */
  parts?: FileParts;
  /**
   * A later current file of a replace table holds the table (src/runner/reconcile.ts): the
   * file is read for its schema changes and rejects, and its rows are not written.
   */
  shadowed?: boolean;
  /** Try one pass first (loadInOnePass, loadNewInOnePass). Default true. */
  onePass?: boolean;
  /**
   * Asked where the run lock is confirmed (before DDL outside the transaction, and inside the
   * file's transaction before its ledger row) instead of the lock: a worker on a queue holds
   * no lock, its claim on the file must still be the last (src/state/claims.ts). Throws to
   * refuse.
   */
  fence?: (db: Transaction | Destination) => Promise<void>;
}

/**
 * What a retry changes in a file's load (FileJob.retry): where the records come from, where
 * their rejects go, and how the transaction ends — the stored rejects resolved or revised
 * instead of the ledger row marked loaded (the file loaded already).
 */
export interface RetryLoad {
  /** The records, in batches, instead of reading `file.abs`. */
  items: () => AsyncIterable<SourceItem[]>;
  /** At the start of each attempt of the transaction: forget what a rolled-back one reported. */
  begin: () => void;
  /** Where rejects go instead of the rejects store. */
  onReject: (r: Reject) => Promise<void>;
  /** The file id the rows are written under. */
  writeId: number;
  /** In the file's transaction, after its rows are written and the run lock confirmed. */
  settle: (tx: Transaction) => Promise<void>;
}

export type FileOutcome =
  | { kind: 'unchanged'; hash: string }
  | {
      kind: 'loaded';
      hash: string;
      rows: number;
      rejects: Reject[];
      rejectCount: number;
      stats: WriteStats;
      changes: SchemaChange[];
      discardedRows: number;
      discardedValues: number;
      warnings: string[];
      /** How often the file was read: 1 when it fit its table as it was (loadInOnePass) or was discarded, else 2. */
      passes: 1 | 2;
    };

export const BATCH = 2_000;
export const KEEP_REJECTS = 1_000; // rejects kept in memory for the run summary; all are stored

/** The one-pass load met something the first pass would have planned a schema change for. */
export class OnePassMiss extends Error {}

export function sourceChanged(path: string): TributaryError {
  return new TributaryError(
    'SOURCE_CHANGED',
    `${path} changed while it was being loaded; it will be loaded again next run`,
    { context: { file: path } },
  );
}

export function checkAbort(job: FileJob): void {
  if (job.signal?.aborted) {
    throw new TributaryError(
      'INTERRUPTED',
      `interrupted while loading ${job.file.path}; it will be loaded next run`,
    );
  }
}

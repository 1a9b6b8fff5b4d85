/**
 * Worker-thread side of the parallel first and second passes (src/runner/parallel.ts):
 * read a file or one part of it, and scan it or encode it. Encoded batches stream back
 * over a MessagePort with a credit window, so a worker never runs more than `window`
 * batches ahead of the writer: memory stays bounded whatever the file size.
 */
import type { MessagePort } from 'node:worker_threads';
import { TributaryError } from '../core/errors.js';
import type { DbValue } from '../core/types.js';
import { jsonRows, tsvRow } from '../destinations/rowtext.js';
import type { CsvShape, RowFormat } from '../destinations/types.js';
import { csvBytes } from '../normalize/native.js';
import { observing, type ScanInput, Scanner, type ScanResult, scanItems } from '../normalize/scan.js';
import {
  type EncodedBatch,
  type EncodeInput,
  encodeBatches,
  toWire,
  type WireBatch,
} from '../normalize/stream.js';
import { hashFile } from '../sources/hash.js';
import { type ReadOptions, readFile } from '../sources/open.js';

export interface ReadSpec {
  abs: string;
  options: ReadOptions;
}

export type WorkerTask =
  | { kind: 'scan'; read: ReadSpec; input: ScanInput }
  | { kind: 'hash'; abs: string }
  | {
      kind: 'encode';
      read: ReadSpec;
      input: EncodeInput;
      port: MessagePort;
      window: number;
      /** Encode rows as text in this format (`Capabilities.rowFormat`) instead of values. */
      rowFormat?: RowFormat;
      /** Also scan what is encoded, as the first pass would; the result comes with `done`. */
      observe?: ScanInput;
    };

export type WorkerMessage =
  | { batch: WireBatch; bytes: number }
  | { text: TextBatch; bytes: number }
  | { started: true }
  | { done: true; bytes: number; scan?: ScanResult }
  | { error: SerializedError };

/**
 * Rows already in the destination's text format: the main thread hands the text to the
 * writer as it is, instead of parsing values and formatting them itself.
 */
export interface TextBatch {
  /** A Uint8Array: the file's own CSV (with `csv`), moved to the receiving thread, not copied. */
  text: string | Uint8Array;
  rows: number;
  /** The text is the file's own CSV (src/normalize/native.ts), not `rowFormat`. */
  csv?: CsvShape;
  rejects: EncodedBatch['rejects'];
  discardedRows: number;
  discardedValues: number;
  unknownColumns?: number;
}

/** A batch's rows as lines of a text row format (or as the file's own CSV, when it came so). */
export function toText(batch: EncodedBatch, format: RowFormat): TextBatch {
  if (batch.csv) {
    const { texts, rows, ...shape } = batch.csv;
    return { text: csvBytes(texts), rows, csv: shape, rejects: [], discardedRows: 0, discardedValues: 0 };
  }
  let text = '';
  if (format === 'json') text = jsonRows(batch.rows.map((r) => r.values as DbValue[]));
  else for (const row of batch.rows) text += `${tsvRow(row.values as DbValue[])}\n`;
  return {
    text,
    rows: batch.rows.length,
    rejects: batch.rejects,
    discardedRows: batch.discardedRows,
    discardedValues: batch.discardedValues,
    ...(batch.unknownColumns ? { unknownColumns: batch.unknownColumns } : {}),
  };
}

/** An error as it crosses threads (structured clone keeps only message and name). */
export interface SerializedError {
  message: string;
  code?: string;
  transient?: boolean;
  context?: Record<string, unknown>;
}

export function serializeError(err: unknown): SerializedError {
  const e = err as Partial<TributaryError> & { message?: string };
  return {
    message: e?.message ?? String(err),
    ...(e instanceof TributaryError
      ? { code: e.code, transient: e.transient, context: { ...e.context } }
      : {}),
  };
}

export default async function run(
  task: WorkerTask,
): Promise<{ ok: ScanResult | string } | { error: SerializedError } | undefined> {
  if (task.kind === 'hash') {
    try {
      return { ok: await hashFile(task.abs) };
    } catch (err) {
      return { error: serializeError(err) };
    }
  }
  if (task.kind === 'scan') {
    try {
      return { ok: await scanItems(readFile(task.read.abs, task.read.options), task.input) };
    } catch (err) {
      return { error: serializeError(err) };
    }
  }
  await encode(task);
  return undefined;
}

async function encode(task: Extract<WorkerTask, { kind: 'encode' }>): Promise<void> {
  const { port, window } = task;
  let bytes = 0;
  let sent = 0;
  let acked = 0;
  let wake: (() => void) | undefined;
  let closed = false;
  port.on('message', (n: number) => {
    acked = n;
    wake?.();
  });
  port.on('close', () => {
    closed = true; // the reader gave up (its file failed): stop
    wake?.();
  });
  port.postMessage({ started: true } satisfies WorkerMessage); // the next part may take a thread now
  const read = readFile(task.read.abs, {
    ...task.read.options,
    ...(task.input.native ? { spans: true } : {}),
    onRawChunk: (chunk) => {
      bytes += chunk.length;
    },
  });
  const scanner = task.observe ? new Scanner(task.observe) : undefined;
  const items = scanner ? observing(read, scanner) : read;
  try {
    for await (const batch of encodeBatches(items, task.input)) {
      if (task.rowFormat) {
        const text = toText(batch, task.rowFormat);
        const moved = typeof text.text === 'string' ? [] : [text.text.buffer as ArrayBuffer];
        port.postMessage({ text, bytes } satisfies WorkerMessage, moved);
      } else {
        port.postMessage({
          batch: toWire(batch, task.input.table.columns.length),
          bytes,
        } satisfies WorkerMessage);
      }
      sent++;
      while (sent - acked >= window && !closed) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (closed) return;
    }
    port.postMessage({
      done: true,
      bytes,
      ...(scanner ? { scan: scanner.result() } : {}),
    } satisfies WorkerMessage);
  } catch (err) {
    if (!closed) port.postMessage({ error: serializeError(err) } satisfies WorkerMessage);
  } finally {
    port.close();
  }
}

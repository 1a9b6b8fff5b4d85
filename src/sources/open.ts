/** Opening a source file: format detection, gunzip, decoding, batching. */
import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { messageOf, TributaryError } from '../core/errors.js';
import type { Format, SourceItem } from '../core/types.js';
import { undecodableMessage } from './bad-bytes.js';
import { csvSpan, parseCsv, setCsvSpan } from './csv.js';
import { decodeText, UndecodableText } from './decode.js';
import { parseJsonArray } from './json-array.js';
import { parseJsonDocument } from './json-document.js';
import { parseNdjson } from './ndjson.js';
import { MAX_RECORD_CHARS } from './text.js';

/** Options of {@link readFile}. */
export interface ReadOptions {
  /** Default: {@link detectFormat}. */
  format?: Format;
  /** CSV delimiter; default: detected from the header line among `,` `;` tab `|`. */
  delimiter?: string;
  /**
   * The text's encoding, a canonical WHATWG name (`windows-1252`, `utf-16le`; see
   * `encodingName` in decode.ts). Default UTF-8; a byte order mark wins either way.
   */
  encoding?: string;
  /**
   * CSV: keep the file's text of each batch's records where it can go to the server as it is
   * (`csvSpan`, the fast path); only when the reader's batches may take it, since holding the
   * text costs memory.
   */
  spans?: boolean;
  /** Most items per yielded batch; default 2,000. */
  batchSize?: number;
  /**
   * Called with every chunk of the file as stored on disk (before gunzip), in order, each
   * byte once, so the caller can hash the file in the same pass. An exception it throws
   * fails the read as SOURCE_UNREADABLE.
   */
  onRawChunk?: (chunk: Buffer) => void;
  /**
   * JSON: the records are the array at this dotted path of keys inside the file's one object
   * (`data`, `result.items`); `.`: the object itself is one record. See json-document.ts.
   */
  records?: string;
  /** Bytes read from disk at a time; default 64 KiB. Small values are for tests. */
  chunkSize?: number;
  /**
   * Read only this part of an uncompressed file (from `splitFile`): bytes `[start, end)`;
   * a CSV part after the first is read after `header`; `line` and `record` of its items
   * count from `firstLine` and `recordOffset + 1`.
   */
  range?: { start: number; end: number; firstLine: number; header?: Buffer; recordOffset: number };
}

const SUPPORTED = '.csv, .tsv, .txt, .json, .jsonl, .ndjson (optionally gzipped)';

/**
 * Reads a CSV, NDJSON or JSON-array file, optionally gzipped (detected by its magic bytes
 * 1f 8b, whatever the name), yielding batches of records and per-record problems. Memory
 * is bounded: the file is streamed with back-pressure (a batch is produced only when the
 * previous one has been taken) and no record may exceed 16 Mi characters.
 *
 * @throws TributaryError `SOURCE_UNREADABLE` (open/read/gunzip failed: missing file,
 *   permissions, truncated gzip) and `SOURCE_FORMAT` (unknown extension, not valid text in
 *   its encoding — the message then names the first bad byte's line and offset, and for
 *   UTF-8 the encoding the bytes look like —, a JSON array that is truncated or damaged
 *   beyond one element), with `context.file`.
 *   They may come after some batches were yielded: a failed file's rows must be dropped.
 */
export async function* readFile(path: string, options: ReadOptions = {}): AsyncGenerator<SourceItem[]> {
  const batchSize = options.batchSize ?? 2000;
  let format = options.format ?? extensionFormat(path);
  // Batches are bounded by bytes as well as by records: a batch ends once the records read
  // since the last one span BATCH_CHARS characters of text (wide rows: 10 KB rows make batches
  // of ~100, one 10 MB row a batch of one), so memory downstream does not grow with row width.
  let chars = 0;
  let since = 0;
  try {
    let text = counting(decodeText(fileBytes(path, options), options.encoding), (n) => {
      chars += n;
    });
    let document = options.records !== undefined && format !== 'csv' && format !== 'ndjson';
    if (format === 'json-or-ndjson' && document) format = 'json';
    if (format === 'json-or-ndjson') {
      const peeked = await peekText(text);
      text = peeked.rest;
      format = jsonFlavour(peeked.head);
      // `{` first: one object per line (NDJSON), or one object over several lines.
      if (format === 'ndjson' && !document) document = !firstLineIsJson(peeked.head);
    }
    const items = document
      ? parseJsonDocument(text, options.records === undefined ? {} : { records: options.records })
      : format === 'csv'
        ? parseCsv(text, {
            ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
            ...(options.spans ? { spans: true } : {}),
          })
        : format === 'ndjson'
          ? parseNdjson(text)
          : parseJsonArray(text);
    let batch: SourceItem[] = [];
    const range = options.range;
    // Items of a part count lines from the part's start: 1 (NDJSON) or 2 (CSV, after its header).
    const lineShift = range && range.start > 0 ? range.firstLine - (format === 'csv' ? 2 : 1) : 0;
    const recordShift = range?.recordOffset ?? 0;
    // The file's own text of the batch's records, while every chunk of it has one (csvSpan).
    let spans: string[] | undefined = [];
    let counts: number[] = [];
    let delimiter = '';
    const cut = (): SourceItem[] => {
      const out = batch;
      if (spans && spans.length > 0) setCsvSpan(out, { texts: spans, counts, delimiter });
      batch = [];
      spans = [];
      counts = [];
      since = chars;
      return out;
    };
    for await (const chunkItems of items) {
      if (lineShift !== 0 || recordShift !== 0) {
        for (const item of chunkItems) {
          item.line += lineShift;
          item.record += recordShift;
        }
      }
      const span = csvSpan(chunkItems);
      // A batch is all chunks with their text, or none (cut where that changes), so that only
      // the first chunk of a file — the one with the header — loses the fast path.
      if (batch.length > 0 && (span === undefined) !== (spans === undefined)) yield cut();
      // Nor made bigger than `batchSize` by a whole chunk, where a cut before it avoids that.
      if (span && batch.length > 0 && batch.length + chunkItems.length > batchSize) yield cut();
      if (span) {
        // A chunk with its text is never cut in two: the batch keeps the whole text.
        for (const item of chunkItems) batch.push(item);
        spans?.push(...span.texts);
        counts.push(...span.counts);
        delimiter = span.delimiter;
        if (batch.length >= batchSize) yield cut();
      } else {
        for (const item of chunkItems) {
          batch.push(item);
          spans = undefined;
          if (batch.length >= batchSize) yield cut();
        }
      }
      if (batch.length > 0 && chars - since >= BATCH_CHARS) yield cut();
    }
    if (batch.length > 0) yield cut();
  } catch (err) {
    if (err instanceof UndecodableText) throw await undecodable(path, err);
    if (err instanceof TributaryError && err.context.file === undefined) {
      throw new TributaryError(err.code, `${path}: ${err.message}`, {
        cause: err.cause,
        transient: err.transient,
        context: { ...err.context, file: path },
      });
    }
    throw err;
  }
}

/**
 * The error of a file its decoder refused: the file is read again from its start (a part
 * of a file read on a worker thread included) to find the first bad byte.
 */
async function undecodable(path: string, err: UndecodableText): Promise<TributaryError> {
  let gzip = false;
  let message: string;
  try {
    const bytes = fileBytes(path, {}, () => {
      gzip = true;
    });
    message = await undecodableMessage(bytes, err.encoding);
    if (gzip) message += ' (offsets count the bytes after gunzip)';
  } catch {
    message = err.message; // the file went away since: say what was known
  }
  return new TributaryError('SOURCE_FORMAT', `${path}: ${message}`, { cause: err, context: { file: path } });
}

/** Text a batch of records may span before it is handed on (see readFile): 256 Ki characters. */
export const BATCH_CHARS = 1 << 18;

async function* counting(text: AsyncGenerator<string>, add: (n: number) => void): AsyncGenerator<string> {
  for await (const chunk of text) {
    add(chunk.length);
    yield chunk;
  }
}

/**
 * The format of a file: by extension after stripping `.gz` — `.csv` `.tsv` `.txt` → csv,
 * `.jsonl` `.ndjson` → ndjson; `.json` → json (an array) unless the first non-whitespace
 * character of the (decompressed) `firstBytes` is `{`, which means NDJSON.
 * @throws TributaryError `SOURCE_FORMAT` for any other extension.
 */
export function detectFormat(path: string, firstBytes?: Buffer): Format {
  const format = extensionFormat(path);
  if (format !== 'json-or-ndjson') return format;
  return firstBytes ? jsonFlavour(firstBytes.toString('utf8')) : 'json';
}

function extensionFormat(path: string): Format | 'json-or-ndjson' {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  const ext = name.slice(name.lastIndexOf('.') + 1);
  if (name.includes('.')) {
    if (ext === 'csv' || ext === 'tsv' || ext === 'txt') return 'csv';
    if (ext === 'jsonl' || ext === 'ndjson') return 'ndjson';
    if (ext === 'json') return 'json-or-ndjson';
  }
  throw new TributaryError('SOURCE_FORMAT', `${path}: unknown file type; supported: ${SUPPORTED}`, {
    context: { file: path },
  });
}

function jsonFlavour(head: string): Format {
  const first = /[^ \t\r\n\uFEFF]/.exec(head)?.[0];
  return first === '{' ? 'ndjson' : 'json';
}

/**
 * Whether the text's first line (after leading white space) is one object: a whole JSON
 * value, or a line that opens and closes braces (an NDJSON file whose first record is
 * damaged: that record is rejected, the rest load). A pretty-printed object's first line
 * (`{`) is neither.
 */
function firstLineIsJson(head: string): boolean {
  const start = head.search(/[^ \t\r\n\uFEFF]/);
  const end = head.indexOf('\n', start);
  const line = head.slice(start, end === -1 ? undefined : end).trim();
  if (line.length > 1 && line.endsWith('}')) return true;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads text until its first line with content is complete (or 16 Mi characters) and gives
 * it back with the rest.
 */
async function peekText(
  text: AsyncGenerator<string>,
): Promise<{ head: string; rest: AsyncGenerator<string> }> {
  let head = '';
  let done = false;
  // Only the text added since the last look is searched (no rescanning a long first line).
  let start = -1;
  let searched = 0;
  const lineDone = () => {
    if (start === -1) {
      start = head.slice(searched).search(/[^ \t\r\n\uFEFF]/);
      if (start === -1) {
        searched = head.length;
        return false;
      }
      start += searched;
      searched = start + 1;
      if (head[start] !== '{') return true;
    }
    const found = head.indexOf('\n', searched) !== -1;
    searched = head.length;
    return found;
  };
  while (!done && head.length < MAX_RECORD_CHARS && !lineDone()) {
    const next = await text.next();
    if (next.done) done = true;
    else head += next.value;
  }
  async function* rest(): AsyncGenerator<string> {
    if (head !== '') yield head;
    if (!done) yield* text;
  }
  return { head, rest: rest() };
}

/**
 * Bytes read at a time: 64 KiB, or `TRIBUTARY_READ_CHUNK_BYTES` — a testing knob, so that
 * small files are read in many chunks as big ones are (the fast path takes whole chunks
 * after the header's: test/e2e/fast-path.test.ts).
 */
function readChunkBytes(): number {
  const n = Number(process.env.TRIBUTARY_READ_CHUNK_BYTES);
  return Number.isSafeInteger(n) && n > 0 ? n : 64 * 1024;
}

/** The file's bytes, gunzipped when they start with the gzip magic bytes. */
async function* fileBytes(path: string, options: ReadOptions, onGzip?: () => void): AsyncGenerator<Buffer> {
  let handle: FileHandle | undefined;
  let raw: Readable | undefined;
  try {
    handle = await open(path, 'r');
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    const gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    if (gzip) onGzip?.();
    // The stream closes the handle when it ends or is destroyed (autoClose).
    const range = options.range;
    if (range && range.start > 0 && range.header) yield range.header;
    raw = handle.createReadStream({
      start: range?.start ?? 0,
      ...(range ? { end: range.end - 1 } : {}),
      highWaterMark: options.chunkSize ?? readChunkBytes(),
    });
    let stream = raw;
    const { onRawChunk } = options;
    if (onRawChunk) {
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          try {
            onRawChunk(chunk);
          } catch (err) {
            return callback(err as Error);
          }
          callback(null, chunk);
        },
      });
      stream = pipeline(stream, tap, () => {});
    }
    if (gzip) stream = pipeline(stream, createGunzip(), () => {});
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw new TributaryError('SOURCE_UNREADABLE', `cannot read ${path}: ${messageOf(err)}`, {
      cause: err,
      context: { file: path },
    });
  } finally {
    // Also reached when the consumer stops early or a parser throws: wait for the handle
    // to be closed so that a finished read never leaves the file open.
    if (raw) {
      if (!raw.closed) await new Promise((resolve) => raw!.destroy().once('close', resolve));
    } else if (handle) await handle.close();
  }
}

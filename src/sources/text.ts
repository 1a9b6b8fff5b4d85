/** Helpers shared by the readers: UTF-8 decoding and limits. */
import { TributaryError } from '../core/errors.js';

/**
 * Longest record (CSV row, NDJSON line, JSON array element) a reader buffers, in UTF-16
 * characters. It is what bounds memory on a malformed file (an unterminated quote would
 * otherwise buffer the rest of the file). 16 Mi characters ≈ 32 MB of string.
 */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/** `SourceProblem.raw` is cut to this many UTF-8 bytes. */
const MAX_RAW_BYTES = 64 * 1024;

/**
 * Decodes UTF-8 chunks to text. A decoder that keeps state between chunks is what keeps a
 * multi-byte character split across two chunks intact (papaparse fed raw Buffers corrupts
 * them, see STACK.md). A leading BOM is dropped. Bytes that are not UTF-8 fail the file
 * with SOURCE_FORMAT rather than loading U+FFFD replacement characters into the tables.
 * (TextDecoder in fatal mode measured ~1 GB/s here, twice StringDecoder.)
 */
export async function* decodeUtf8(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let offset = 0;
  const decode = (chunk?: Buffer): string => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch (err) {
      const end = offset + (chunk?.length ?? 0);
      throw new TributaryError(
        'SOURCE_FORMAT',
        `not valid UTF-8 (between bytes ${offset} and ${end}); convert the file to UTF-8`,
        { cause: err },
      );
    }
  };
  for await (const chunk of chunks) {
    const text = decode(chunk);
    offset += chunk.length;
    if (text !== '') yield text;
  }
  const rest = decode();
  if (rest !== '') yield rest;
}

/** Cuts `raw` to at most 64 KiB of UTF-8 without splitting a character. */
export function clipRaw(raw: string): string {
  // A UTF-16 unit never takes more than 3 UTF-8 bytes, so short strings need no encoding.
  if (raw.length * 3 <= MAX_RAW_BYTES) return raw;
  const bytes = Buffer.from(raw, 'utf8');
  if (bytes.length <= MAX_RAW_BYTES) return raw;
  let end = MAX_RAW_BYTES;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.toString('utf8', 0, end);
}

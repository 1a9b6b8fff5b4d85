/** Helpers shared by the readers: limits. */

/**
 * Longest record (CSV row, NDJSON line, JSON array element) a reader buffers, in UTF-16
 * characters. It is what bounds memory on a malformed file (an unterminated quote would
 * otherwise buffer the rest of the file). 16 Mi characters ≈ 32 MB of string.
 */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

/** `SourceProblem.raw` is cut to this many UTF-8 bytes. */
const MAX_RAW_BYTES = 64 * 1024;

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

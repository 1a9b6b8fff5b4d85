/**
 * Bytes to text: UTF-8 by default, a source's `encoding` (a WHATWG label: latin1,
 * windows-1252, utf-16le, shift_jis, …) otherwise, and whatever a byte order mark says
 * first. Decoding is streamed: a decoder that keeps state between chunks is what keeps a
 * character split across two chunks intact (papaparse fed raw Buffers corrupts them,
 * STACK.md).
 */
import { TributaryError } from '../core/errors.js';

/**
 * Encodings of one byte per character whose bytes below 0x80 are ASCII: a line feed, a
 * quote or a delimiter byte is always that character, so a file in one of them can be
 * split at its line feeds like a UTF-8 file (src/sources/split.ts). Canonical WHATWG names.
 */
const SINGLE_BYTE = new Set([
  'ibm866',
  'iso-8859-2',
  'iso-8859-3',
  'iso-8859-4',
  'iso-8859-5',
  'iso-8859-6',
  'iso-8859-7',
  'iso-8859-8',
  'iso-8859-8-i',
  'iso-8859-10',
  'iso-8859-13',
  'iso-8859-14',
  'iso-8859-15',
  'iso-8859-16',
  'koi8-r',
  'koi8-u',
  'macintosh',
  'windows-874',
  'windows-1250',
  'windows-1251',
  'windows-1252',
  'windows-1253',
  'windows-1254',
  'windows-1255',
  'windows-1256',
  'windows-1257',
  'windows-1258',
  'x-mac-cyrillic',
]);

/** Whether text in `encoding` (a canonical name) can be cut at any line feed byte. */
export function splittable(encoding: string | undefined): boolean {
  return encoding === undefined || encoding === 'utf-8' || SINGLE_BYTE.has(encoding);
}

/** Whether `encoding` (a canonical name) has one byte per character. */
export function singleByte(encoding: string): boolean {
  return SINGLE_BYTE.has(encoding);
}

/**
 * The canonical name of a WHATWG encoding label (`latin1` → `windows-1252`, `UTF8` →
 * `utf-8`, `utf-16` → `utf-16le`), or undefined when TextDecoder does not know it.
 */
export function encodingName(label: string): string | undefined {
  try {
    return new TextDecoder(label.trim()).encoding;
  } catch {
    return undefined;
  }
}

/** The encoding a byte order mark at the start of `head` names, and the mark's length. */
export function byteOrderMark(head: Uint8Array): { encoding: string; length: number } | undefined {
  const [a, b, c] = head;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', length: 2 };
  return undefined;
}

/**
 * Text that is not valid in its encoding. It says only which encoding: the reader (which
 * knows the file) reads it again to say where and what it looks like (src/sources/bad-bytes.ts).
 */
export class UndecodableText extends TributaryError {
  constructor(
    readonly encoding: string,
    cause: unknown,
  ) {
    super('SOURCE_FORMAT', `not valid ${encoding}`, { cause });
  }
}

/** Bytes read before deciding the encoding: a byte order mark, and UTF-16 without one. */
const SNIFF_BYTES = 8;

/**
 * Decodes a file's chunks to text. The encoding is the one a byte order mark at the start
 * names (UTF-8, UTF-16LE or UTF-16BE, whatever `encoding` says — as the WHATWG "decode"
 * algorithm does), else `encoding` (a canonical name, see {@link encodingName}), else UTF-8.
 * The mark itself is dropped. Bytes that are not valid in the encoding throw
 * {@link UndecodableText} rather than loading U+FFFD replacement characters into tables.
 * A file with no mark and no `encoding` whose first bytes have every other byte 0 is UTF-16
 * without its mark: it fails with SOURCE_FORMAT naming the encoding to set.
 *
 * UTF-8 costs what it did before encodings existed: each chunk goes straight to one fatal
 * TextDecoder (~1 GB/s here, twice StringDecoder), no copy. windows-1252 (also what the
 * labels latin1, iso-8859-1 and ascii mean) is decoded here, not by TextDecoder: Node 20
 * decodes it as ISO-8859-1, turning 0x80–0x9F (€, curly quotes, dashes) into C1 control
 * characters (nodejs/node#56542, #60888).
 */
export async function* decodeText(
  chunks: AsyncIterable<Uint8Array>,
  encoding?: string,
): AsyncGenerator<string> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    let head: Uint8Array | undefined;
    let ended = false;
    // Usually the first chunk holds the bytes needed; only tiny chunks are joined.
    while (!ended && (head === undefined || head.length < SNIFF_BYTES)) {
      const next = await it.next();
      if (next.done) ended = true;
      else head = head === undefined ? next.value : Buffer.concat([head, next.value]);
    }
    if (head === undefined) return;
    const bom = byteOrderMark(head);
    if (bom === undefined && encoding === undefined) {
      const utf16 = utf16WithoutMark(head);
      if (utf16) {
        throw new TributaryError(
          'SOURCE_FORMAT',
          `the file looks like ${utf16.toUpperCase()} without a byte order mark (every other byte of its start is 0): set \`encoding: ${utf16}\` on the source`,
        );
      }
    }
    const name = bom?.encoding ?? encoding ?? 'utf-8';
    const decode = name === 'windows-1252' ? windows1252 : textDecoder(name);
    let text = decode(head);
    if (text !== '') yield text;
    while (!ended) {
      const next = await it.next();
      if (next.done) break;
      text = decode(next.value);
      if (text !== '') yield text;
    }
    text = decode(undefined);
    if (text !== '') yield text;
  } finally {
    // As `for await` would: a consumer that stops early, or a decoding error, closes the file.
    await it.return?.();
  }
}

/**
 * A chunk's text, `undefined` at the end (what a split character left is then an error). A
 * chunk may be a plain Uint8Array: a part's header crosses to a worker thread as one.
 */
type Decode = (chunk: Uint8Array | undefined) => string;

function textDecoder(encoding: string): Decode {
  // ignoreBOM false: the decoder drops the mark of its own encoding.
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: false });
  return (chunk) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch (err) {
      throw new UndecodableText(decoder.encoding, err);
    }
  };
}

/**
 * windows-1252 per the WHATWG index: ISO-8859-1 except 0x80–0x9F, where 27 bytes are
 * letters and punctuation (0x80 €, 0x92 ’, 0x96 –) and the other five (0x81, 0x8D, 0x8F,
 * 0x90, 0x9D) stay the C1 controls they are in ISO-8859-1. Every byte is a character, so it
 * never fails; no state crosses chunks.
 */
const windows1252: Decode = (chunk) => {
  if (chunk === undefined) return '';
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
  if (!C1.test(text)) return text; // a regular expression scan: the common case costs little
  // Measured here: ~2.5x a replace() with a callback, ~1.5x ICU's converter.
  let out = '';
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80 && c <= 0x9f) {
      out += text.slice(last, i) + (WINDOWS_1252[c - 0x80] as string);
      last = i + 1;
    }
  }
  return out + text.slice(last);
};

const C1 = /[\x80-\x9f]/;
const WINDOWS_1252 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
].map((c) => String.fromCharCode(c));

/**
 * `utf-16le` or `utf-16be` when the first 8 bytes are four ASCII characters (not NUL) in
 * UTF-16: a text file's first characters (a header, a `[` or `{`) are ASCII, and no UTF-8
 * text starts with NUL bytes in every other place.
 */
function utf16WithoutMark(head: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (head.length < SNIFF_BYTES) return undefined;
  let le = true;
  let be = true;
  for (let i = 0; i < SNIFF_BYTES; i += 2) {
    const a = head[i] as number;
    const b = head[i + 1] as number;
    le &&= a !== 0 && a < 0x80 && b === 0;
    be &&= a === 0 && b !== 0 && b < 0x80;
  }
  return le ? 'utf-16le' : be ? 'utf-16be' : undefined;
}

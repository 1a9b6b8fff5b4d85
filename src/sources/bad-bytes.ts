/**
 * Where a file stops being valid text in its encoding, and what it looks like instead: the
 * message a file that cannot be decoded fails with. Reading is done on the failure path
 * only (the reader's decoder says *that* a file is invalid, at no cost to valid files; this
 * reads it again to say *where*), so it favours exact answers over speed.
 */
import { singleByte } from './decode.js';

/** The first bad byte, 0-based offset in the (decompressed) text, and its 1-based line. */
export interface BadSpot {
  offset: number;
  line: number;
  /** The bytes of the bad sequence (at most 4). */
  bytes: number[];
  /** The text ends inside a character: `bytes` are its start. */
  truncated: boolean;
}

/** What a UTF-8 check found: the first bad spot, and what the bad bytes look like. */
export interface Utf8Report {
  first: BadSpot | undefined;
  /** A likely encoding: `windows-1252`, `latin1`, `utf-16le` or `utf-16be`. */
  likely: string;
  /** A byte of 0x80–0x9F outside UTF-8 characters, if any (what makes windows-1252 likely). */
  c1?: number;
}

/** How far past the first bad byte the bytes are looked at to guess the encoding. */
const LOOK_PAST = 16 << 20;

/**
 * Checks bytes as UTF-8 (the strict form the WHATWG decoder accepts: no overlong forms, no
 * surrogates, nothing past U+10FFFF) and finds the first ill-formed sequence — the lead byte
 * of a sequence broken off, or a byte that cannot start one. Bytes 0x80–0x9F outside
 * sequences are what Windows-1252 writes for € and curly quotes (in ISO-8859-1 they are
 * unused control codes), so they make windows-1252 the likely encoding; otherwise latin1;
 * and a NUL in every other byte, UTF-16.
 */
export async function checkUtf8(chunks: AsyncIterable<Uint8Array>): Promise<Utf8Report> {
  let offset = 0;
  let line = 1;
  let need = 0; // continuation bytes the current sequence still needs
  let lo = 0x80; // the range its next continuation byte must be in
  let hi = 0xbf;
  let seq: number[] = [];
  let seqStart = 0;
  let seqLine = 1;
  let first: BadSpot | undefined;
  let c1: number | undefined;
  let nulEven = 0;
  let nulOdd = 0;
  const bad = (at: number, atLine: number, bytes: number[], truncated: boolean) => {
    first ??= { offset: at, line: atLine, bytes, truncated };
    for (const b of bytes) if (b >= 0x80 && b <= 0x9f) c1 ??= b;
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      const at = offset + i;
      if (need > 0) {
        if (b >= lo && b <= hi) {
          seq.push(b);
          need--;
          lo = 0x80;
          hi = 0xbf;
          continue;
        }
        bad(seqStart, seqLine, seq, false);
        need = 0;
        lo = 0x80;
        hi = 0xbf;
        // `b` itself may start a character: read on as a fresh byte.
      }
      if (b < 0x80) {
        if (b === 0x0a) line++;
        else if (b === 0) {
          if (at % 2 === 0) nulEven++;
          else nulOdd++;
        }
        continue;
      }
      if (b >= 0xc2 && b <= 0xdf) need = 1;
      else if (b === 0xe0) {
        need = 2;
        lo = 0xa0; // no overlong forms
      } else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
      else if (b === 0xed) {
        need = 2;
        hi = 0x9f; // no surrogates
      } else if (b === 0xf0) {
        need = 3;
        lo = 0x90;
      } else if (b >= 0xf1 && b <= 0xf3) need = 3;
      else if (b === 0xf4) {
        need = 3;
        hi = 0x8f; // nothing past U+10FFFF
      } else {
        bad(at, line, [b], false);
        continue;
      }
      seq = [b];
      seqStart = at;
      seqLine = line;
    }
    offset += chunk.length;
    if (first !== undefined && offset - first.offset > LOOK_PAST) break;
  }
  if (need > 0 && (first === undefined || offset - first.offset <= LOOK_PAST))
    bad(seqStart, seqLine, seq, true);
  const looked = first === undefined ? offset : Math.min(offset, first.offset + LOOK_PAST);
  const likely =
    nulOdd * 4 > looked
      ? 'utf-16le'
      : nulEven * 4 > looked
        ? 'utf-16be'
        : c1 !== undefined
          ? 'windows-1252'
          : 'latin1';
  return { first, likely, ...(c1 === undefined ? {} : { c1 }) };
}

/**
 * The first bad spot of UTF-16 text (`le`: little-endian): a surrogate without its other
 * half, or an odd number of bytes. Lines count U+000A.
 */
export async function checkUtf16(
  chunks: AsyncIterable<Uint8Array>,
  le: boolean,
): Promise<BadSpot | undefined> {
  let offset = 0;
  let line = 1;
  let odd: number | undefined; // a byte left from the previous chunk
  let high: { at: number; line: number; bytes: number[] } | undefined; // a lead surrogate waiting
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    let i = 0;
    const unitAt = (k: number): [number, number, number] => {
      const a = k < 0 ? (odd as number) : (chunk[k] as number);
      const b = chunk[k + 1] as number;
      return [le ? a | (b << 8) : (a << 8) | b, a, b];
    };
    if (odd !== undefined) i = -1;
    for (; i + 1 < chunk.length; i += 2) {
      const [u, a, b] = unitAt(i);
      const at = offset + i;
      if (high !== undefined) {
        if (u >= 0xdc00 && u <= 0xdfff) {
          high = undefined;
          continue;
        }
        return { offset: high.at, line: high.line, bytes: high.bytes, truncated: false };
      }
      if (u >= 0xd800 && u <= 0xdbff) high = { at, line, bytes: [a, b] };
      else if (u >= 0xdc00 && u <= 0xdfff) return { offset: at, line, bytes: [a, b], truncated: false };
      else if (u === 0x0a) line++;
    }
    odd = i < chunk.length ? (chunk[i] as number) : undefined;
    offset += chunk.length;
  }
  if (high !== undefined) return { offset: high.at, line: high.line, bytes: high.bytes, truncated: true };
  if (odd !== undefined) return { offset: offset - 1, line, bytes: [odd], truncated: true };
  return undefined;
}

/**
 * The first bad spot of text in another encoding whose line feeds are always byte 0x0A (the
 * single-byte encodings and the ASCII-compatible multi-byte ones: Shift_JIS, EUC, GBK,
 * Big5): each line is decoded alone, and in the first that fails, the shortest prefix that
 * fails (read as a stream, so a character cut at the prefix's end is not an error) ends at
 * the bad byte.
 */
export async function checkLines(
  chunks: AsyncIterable<Uint8Array>,
  encoding: string,
): Promise<BadSpot | undefined> {
  let offset = 0; // of the line's first byte
  let line = 1;
  let parts: Uint8Array[] = [];
  const check = (bytes: Uint8Array, last: boolean): BadSpot | undefined => {
    if (decodes(encoding, bytes, false)) return undefined;
    let lo = 0;
    let hi = bytes.length; // bytes[0, hi) fails as a stream, or hi is the whole line
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (decodes(encoding, bytes.subarray(0, mid + 1), true)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === bytes.length) {
      // Every prefix decodes as a stream: the line ends inside a character.
      const at = Math.max(0, bytes.length - (singleByte(encoding) ? 1 : 2));
      return { offset: offset + at, line, bytes: [...bytes.subarray(at)], truncated: last };
    }
    // A multi-byte character broken off shows with its lead byte, the byte before.
    const from = !singleByte(encoding) && lo > 0 && (bytes[lo - 1] as number) >= 0x80 ? lo - 1 : lo;
    return { offset: offset + from, line, bytes: [...bytes.subarray(from, lo + 1)], truncated: false };
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let lf = chunk.indexOf(0x0a); lf !== -1; lf = chunk.indexOf(0x0a, from)) {
      parts.push(chunk.subarray(from, lf + 1));
      const bytes = parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
      const spot = check(bytes, false);
      if (spot) return spot;
      offset += bytes.length;
      line++;
      parts = [];
      from = lf + 1;
    }
    if (from < chunk.length) parts.push(chunk.subarray(from));
  }
  return parts.length === 0 ? undefined : check(Buffer.concat(parts), true);
}

function decodes(encoding: string, bytes: Uint8Array, stream: boolean): boolean {
  try {
    new TextDecoder(encoding, { fatal: true }).decode(bytes, { stream });
    return true;
  } catch {
    return false;
  }
}

const hex = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * The message of a file that is not valid text in `encoding` (a canonical name, the one
 * its decoder used), from its whole (decompressed) bytes: where the first bad byte is and,
 * for UTF-8, which encoding to set instead.
 */
export async function undecodableMessage(
  chunks: AsyncIterable<Uint8Array>,
  encoding: string,
): Promise<string> {
  if (encoding === 'utf-8') {
    const report = await checkUtf8(chunks);
    const where = report.first ? ` ${describe(report.first)}` : '';
    const why =
      report.likely === 'windows-1252'
        ? ` (bytes such as ${hex(report.c1 as number)} appear, which windows-1252 uses for € and curly quotes)`
        : report.likely === 'latin1'
          ? ' (ISO-8859-1)'
          : ' (every other byte is 0)';
    return `not valid UTF-8${where}; it looks like ${report.likely}${why}: set \`encoding: ${report.likely}\` on the source, or convert the file to UTF-8`;
  }
  const name = encoding.toUpperCase();
  const spot =
    encoding === 'utf-16le' || encoding === 'utf-16be'
      ? await checkUtf16(chunks, encoding === 'utf-16le')
      : await checkLines(chunks, encoding);
  const where = spot ? ` ${describe(spot)}` : '';
  return `not valid ${name}${where}; check the source's \`encoding\` (or convert the file to UTF-8)`;
}

/** `at line 2 (byte offset 12, byte 0xE9)`. */
function describe(spot: BadSpot): string {
  const bytes = spot.bytes.map(hex).join(' ');
  const what = spot.truncated
    ? `: the text ends inside a character, ${bytes}`
    : `, ${spot.bytes.length === 1 ? 'byte' : 'bytes'} ${bytes}`;
  return `at line ${spot.line} (byte offset ${spot.offset}${what})`;
}

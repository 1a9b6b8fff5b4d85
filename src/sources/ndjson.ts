/** Newline-delimited JSON: one object per line. */
import { isLosslessNumber, isSafeNumber, LosslessNumber, parse as parseLossless } from 'lossless-json';
import split2 from 'split2';
import { TributaryError } from '../core/errors.js';
import type { SourceItem } from '../core/types.js';
import { clipRaw, MAX_RECORD_CHARS } from './text.js';

/**
 * A number with 16+ significant digits (a decimal point may sit inside the run) or a
 * 3-digit exponent may not survive a double. Digits inside strings match too; that only
 * costs a slower parse.
 */
const MAYBE_UNSAFE_NUMBER = /\d(?:\.?\d){15}|[eE][+-]?\d{3}/;

const losslessOptions = {
  // Safe numbers stay plain numbers, so both parse paths give the same result.
  parseNumber: (text: string): unknown => (isSafeNumber(text) ? Number(text) : new LosslessNumber(text)),
  // Last duplicate key wins, as with JSON.parse (lossless-json throws by default).
  onDuplicateKey: ({ newValue }: { newValue: unknown }): unknown => newValue,
};

/**
 * Parses one JSON text. Numbers that do not survive a JS double (integers beyond 2^53,
 * more than ~15 significant digits, exponent overflow/underflow) come out as lossless-json
 * `LosslessNumber` objects (`isLosslessNumber: true`, `.value` = the exact text); all
 * other numbers are plain numbers. `JSON.parse` is used unless a cheap pre-check finds a
 * long digit run, because lossless-json's parser is several times slower.
 * @throws SyntaxError for invalid JSON.
 */
export function parseJsonText(text: string): unknown {
  return MAYBE_UNSAFE_NUMBER.test(text) ? parseLossless(text, null, losslessOptions) : JSON.parse(text);
}

/** Turns the text of one JSON record into a record or a `JSON_SYNTAX` / `JSON_NOT_OBJECT` problem. */
export function jsonItem(text: string, line: number, record: number): SourceItem {
  let value: unknown;
  try {
    value = parseJsonText(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return problem('JSON_SYNTAX', `invalid JSON: ${reason}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isLosslessNumber(value)) {
    return problem('JSON_NOT_OBJECT', `expected a JSON object, got ${describe(value)}`);
  }
  return { kind: 'record', data: value as Record<string, unknown>, line, record };

  function problem(code: 'JSON_SYNTAX' | 'JSON_NOT_OBJECT', message: string): SourceItem {
    return { kind: 'problem', code, message, line, record, raw: clipRaw(text) };
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isLosslessNumber(value)) return 'a number';
  return `a ${typeof value}`;
}

/** Options of {@link parseNdjson}. */
export interface NdjsonOptions {
  /** Longest line accepted, in characters; default {@link MAX_RECORD_CHARS}. */
  maxLineChars?: number;
}

/**
 * Parses NDJSON text (already decoded, BOM removed), yielding the items of each chunk.
 * Lines end with LF or CRLF. Blank (whitespace-only) lines are skipped but counted in
 * `line`. A line longer than `maxLineChars` throws `SOURCE_FORMAT`.
 */
export async function* parseNdjson(
  text: AsyncIterable<string> | Iterable<string>,
  options: NdjsonOptions = {},
): AsyncGenerator<SourceItem[]> {
  const maxLineChars = options.maxLineChars ?? MAX_RECORD_CHARS;
  let items: SourceItem[] = [];
  let line = 0;
  let record = 0;
  // The mapper collects items instead of pushing them downstream: split2 is driven with
  // write() and its readable side stays empty, so there is no per-line stream hop.
  const splitter = split2(
    (lineText: string) => {
      line++;
      if (lineText.trim() === '') return undefined;
      record++;
      items.push(jsonItem(lineText, line, record));
      return undefined;
    },
    // decodeStrings: false hands our already-decoded strings straight to split2.
    { maxLength: maxLineChars, decodeStrings: false },
  );
  splitter.on('error', () => {}); // errors reach us through the write/end callbacks
  const overlong = () =>
    new TributaryError('SOURCE_FORMAT', `line ${line + 1} is longer than ${maxLineChars} characters`, {
      context: { line: line + 1 },
    });
  const settle = (resolve: () => void, reject: (err: unknown) => void) => (err?: Error | null) =>
    err ? reject(err.message === 'maximum buffer reached' ? overlong() : err) : resolve();

  for await (const chunk of text) {
    await new Promise<void>((resolve, reject) => splitter.write(chunk, settle(resolve, reject)));
    if (items.length > 0) {
      yield items;
      items = [];
    }
  }
  await new Promise<void>((resolve, reject) => splitter.end(settle(resolve, reject)));
  if (items.length > 0) yield items;
}

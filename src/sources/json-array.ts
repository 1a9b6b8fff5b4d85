/**
 * A top-level JSON array of objects, streamed: a small scanner finds where each element
 * ends (tracking strings, escapes and nesting depth) and `JSON.parse`s that element alone.
 * ~95 MB/s measured here (STACK.md: ~25 MB/s for streaming JSON parsers).
 */
import { TributaryError } from '../core/errors.js';
import type { SourceItem } from '../core/types.js';
import { jsonItem } from './ndjson.js';
import { MAX_RECORD_CHARS } from './text.js';

/** Options of {@link parseJsonArray}. */
export interface JsonArrayOptions {
  /** Largest element accepted, in characters; default {@link MAX_RECORD_CHARS}. */
  maxElementChars?: number;
  /** Line of the file the text starts on (an array inside an object); default 1. */
  firstLine?: number;
  /** Text after the closing `]` is the rest of an enclosing object: not read. Default: an error. */
  ignoreAfterClose?: boolean;
}

/**
 * Parses the text (already decoded, BOM removed) of a JSON array, yielding the items of
 * each chunk. `line` is where an element starts, `record` its 1-based index. Numbers keep
 * their exact text when a double would lose it, as in {@link parseJsonText}.
 *
 * An element that is not valid JSON becomes a `JSON_SYNTAX` problem and the scan goes on
 * at the next top-level comma; a missing comma merges two elements into one problem.
 * Damage the scanner cannot get past throws `SOURCE_FORMAT`: content not starting with `[`,
 * content after the closing `]`, an element over `maxElementChars`, and a truncated array
 * ("unexpected end of input"; it throws instead of yielding the last, partial element).
 * Empty or whitespace-only content yields nothing.
 */
export async function* parseJsonArray(
  text: AsyncIterable<string> | Iterable<string>,
  options: JsonArrayOptions = {},
): AsyncGenerator<SourceItem[]> {
  const scanner = new ArrayScanner(options.maxElementChars ?? MAX_RECORD_CHARS, options);
  for await (const chunk of text) {
    // After the array, the rest is still read (the file's hash covers all of it), not scanned.
    const items = scanner.push(chunk);
    if (items.length > 0) yield items;
  }
  scanner.end();
}

/**
 * open: before the `[`; first: after `[`, before the first element or `]`; comma: after a
 * `,`, an element must follow; element: inside one; closed: after the `]`, only
 * whitespace may follow.
 */
type State = 'open' | 'first' | 'comma' | 'element' | 'closed';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

class ArrayScanner {
  private buf = '';
  /** Scan position in `buf`. */
  private pos = 0;
  private state: State = 'open';
  private depth = 0;
  private inString = false;
  private start = 0;
  private startLine = 0;
  private record = 0;
  /** `line` is the line number of `buf[lineAt]`. */
  private line = 1;
  private lineAt = 0;

  private readonly ignoreAfterClose: boolean;

  constructor(
    private readonly maxElementChars: number,
    options: JsonArrayOptions = {},
  ) {
    this.line = options.firstLine ?? 1;
    this.ignoreAfterClose = options.ignoreAfterClose ?? false;
  }

  push(text: string): SourceItem[] {
    this.buf += text;
    const out: SourceItem[] = [];
    this.scan(out);
    // Keep only the unfinished element (or nothing) so memory stays bounded.
    const keep = this.state === 'element' ? this.start : this.pos;
    this.lineOf(keep);
    this.buf = this.buf.slice(keep);
    this.pos -= keep;
    this.start -= keep;
    this.lineAt = 0;
    if (this.state === 'element' && this.buf.length > this.maxElementChars) {
      throw this.error(`element ${this.record + 1} is larger than ${this.maxElementChars} characters`);
    }
    return out;
  }

  end(): void {
    if (this.state === 'closed' || (this.state === 'open' && this.buf.trim() === '')) return;
    const inElement = this.state === 'element';
    const line = inElement ? this.startLine : this.lineOf(this.buf.length);
    const where = inElement
      ? `element ${this.record + 1} starting at line ${line} is incomplete`
      : `the array is not closed after line ${line}`;
    throw this.error(`unexpected end of input: ${where} (is the file truncated?)`, line);
  }

  private scan(out: SourceItem[]): void {
    const buf = this.buf;
    while (this.pos < buf.length) {
      if (this.state === 'element') {
        const end = this.findElementEnd();
        if (end === -1) return;
        this.record++;
        out.push(jsonItem(buf.slice(this.start, end), this.startLine, this.record));
        this.state = buf.charCodeAt(end) === CLOSE_BRACKET ? 'closed' : 'comma';
        this.pos = end + 1;
        continue;
      }
      const c = buf.charCodeAt(this.pos);
      if (isJsonSpace(c)) {
        this.pos++;
        continue;
      }
      switch (this.state) {
        case 'open':
          if (c !== OPEN_BRACKET) throw this.error(`expected '[' at line ${this.lineOf(this.pos)}`);
          this.state = 'first';
          this.pos++;
          break;
        case 'closed':
          if (this.ignoreAfterClose) {
            this.pos = buf.length;
            return;
          }
          throw this.error(`unexpected content after the closing ']' at line ${this.lineOf(this.pos)}`);
        default:
          if (c === CLOSE_BRACKET && this.state === 'first') {
            this.state = 'closed';
            this.pos++;
          } else if (c === COMMA || c === CLOSE_BRACKET) {
            // `[,`, `,,` or a trailing `,]`: report the missing element, keep the rest.
            this.record++;
            out.push({
              kind: 'problem',
              code: 'JSON_SYNTAX',
              message: `invalid JSON: empty array element before '${String.fromCharCode(c)}'`,
              line: this.lineOf(this.pos),
              record: this.record,
              raw: '',
            });
            this.state = c === COMMA ? 'comma' : 'closed';
            this.pos++;
          } else {
            this.state = 'element';
            this.start = this.pos;
            this.startLine = this.lineOf(this.pos);
            this.depth = 0;
            this.inString = false;
          }
      }
    }
  }

  /**
   * Scans from `pos` for the `,` or `]` that ends the current element at depth 0 and
   * returns its index, or -1 when the buffer ends first (state is kept for the next push).
   */
  private findElementEnd(): number {
    const buf = this.buf;
    let p = this.pos;
    for (; p < buf.length; p++) {
      if (this.inString) {
        let q = buf.indexOf('"', p);
        while (q !== -1 && isEscaped(buf, q)) q = buf.indexOf('"', q + 1);
        if (q === -1) break;
        this.inString = false;
        p = q;
        continue;
      }
      const c = buf.charCodeAt(p);
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth > 0) this.depth--;
        else if (c === CLOSE_BRACKET) return p;
        // A stray `}` at depth 0 stays in the element; JSON.parse then rejects it.
      } else if (c === COMMA && this.depth === 0) return p;
    }
    this.pos = buf.length;
    return -1;
  }

  /** Line number of `buf[index]`; indexes must be asked in increasing order. */
  private lineOf(index: number): number {
    let nl = this.buf.indexOf('\n', this.lineAt);
    while (nl !== -1 && nl < index) {
      this.line++;
      nl = this.buf.indexOf('\n', nl + 1);
    }
    this.lineAt = index;
    return this.line;
  }

  private error(message: string, line = this.line): TributaryError {
    return new TributaryError('SOURCE_FORMAT', `JSON array: ${message}`, { context: { line } });
  }
}

/** A quote is escaped when an odd number of backslashes precede it. */
function isEscaped(buf: string, quote: number): boolean {
  let n = 0;
  for (let i = quote - 1; i >= 0 && buf.charCodeAt(i) === BACKSLASH; i--) n++;
  return n % 2 === 1;
}

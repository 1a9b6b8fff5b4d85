/** CSV (RFC 4180) with papaparse's core parser, fed chunk by chunk. */
import Papa from 'papaparse';
import { TributaryError } from '../core/errors.js';
import type { SourceItem, SourceRecord } from '../core/types.js';
import { clipRaw, MAX_RECORD_CHARS } from './text.js';

/** Options of {@link parseCsv}. */
export interface CsvOptions {
  /**
   * Field delimiter. Default: detected from the header line among `,` `;` tab `|` (the
   * most frequent outside quotes; ties go to the earlier in that list, so to the comma).
   */
  delimiter?: string;
  /** A record still open after this many characters is an unterminated quote; default {@link MAX_RECORD_CHARS}. */
  maxRecordChars?: number;
  /** Keep the text of each chunk's records (`csvSpan`). */
  spans?: boolean;
}

/**
 * The text of a batch of CSV records exactly as the file holds them, when the server's own
 * CSV reader can be handed it instead of rows encoded again (the fast path,
 * src/normalize/native.ts): one record per line, each line ending in LF (no CR anywhere, no
 * blank line, no header, no line the reader skipped), fields split by `delimiter`, quoted
 * RFC 4180 style, no white space after a closing quote. Whether each value is also in a form
 * the server reads as Tributary would store it is for the encoder to decide, value by value.
 */
export interface CsvSpan {
  /** The text, in pieces: the records of a chunk each (joined by `csvBytes`). */
  texts: readonly string[];
  /** Records of each piece. */
  counts: readonly number[];
  delimiter: string;
}

const SPANS = new WeakMap<readonly SourceItem[], CsvSpan>();

/** The text of `items` as the file holds it (see {@link CsvSpan}), when known. */
export function csvSpan(items: readonly SourceItem[]): CsvSpan | undefined {
  return SPANS.get(items);
}

/** Says that `items` are exactly the records of `span` (readers that re-batch pass spans on). */
export function setCsvSpan(items: readonly SourceItem[], span: CsvSpan): void {
  SPANS.set(items, span);
}

/**
 * Parses CSV text (already decoded, BOM removed), yielding the items of each chunk.
 *
 * The first non-blank row is the header; names are kept as written, and exact repeats are
 * renamed `name_2`, `name_3`... Line breaks: LF and CRLF, mixed freely (a CR before the LF
 * ends the row, so an unquoted last field never keeps it — nor a quoted one ending in CR, the
 * one value this reads differently); a file whose header line ends in a lone CR is read as a
 * CR file throughout. Blank lines are skipped but counted in `line`; an
 * empty field is `null`. A row with the wrong field count is a `CSV_FIELD_COUNT` problem.
 *
 * Quotes, as papaparse handles them: a quote inside an unquoted field (`ab"c`) is literal
 * text. A closing quote followed by anything but a delimiter or line break (`"ab"c`) is
 * reported ("InvalidQuotes") and papaparse keeps reading to the next quote that closes
 * properly, which may merge the following lines into that row: the merged row becomes one
 * `CSV_QUOTE` problem, with the merged text in `raw`. A quote never closed would swallow
 * the rest of the file into one field ("MissingQuotes"); we instead report a `CSV_QUOTE`
 * problem for the line where that record starts and resume on the next line, both at end
 * of input and when an open record passes `maxRecordChars` (which also bounds memory).
 */
export async function* parseCsv(
  text: AsyncIterable<string> | Iterable<string>,
  options: CsvOptions = {},
): AsyncGenerator<SourceItem[]> {
  const reader = new CsvReader(options);
  for await (const chunk of text) {
    const items = reader.push(chunk);
    if (items.length > 0) yield items;
  }
  const items = reader.end();
  if (items.length > 0) yield items;
}

type Newline = '\n' | '\r\n' | '\r';

/** The subset of papaparse's `Parser.parse` result that we read. */
interface ParseOutput {
  data: string[][];
  errors: { code: string; row?: number }[];
  meta: { cursor: number };
}

const CANDIDATES = [',', ';', '\t', '|'];

class CsvReader {
  private parser: Papa.Parser | undefined;
  private delimiter: string;
  private newline: Newline = '\n';
  /** The character counted for `line`: `\r` in CR files, else `\n`. */
  private lineChar = '\n';
  /** Unparsed text; always starts at a row boundary. */
  private pending = '';
  /** Parse again only once `pending` reaches this length (see push). */
  private parseAt = 0;
  private line = 1;
  private record = 0;
  private headers: readonly string[] | undefined;
  private readonly maxRecordChars: number;
  private readonly spans: boolean;

  constructor(options: CsvOptions) {
    const { delimiter } = options;
    if (
      delimiter !== undefined &&
      (delimiter === '' || Papa.BAD_DELIMITERS.some((c) => delimiter.includes(c)))
    ) {
      throw new TributaryError('CONFIG_INVALID', `CSV delimiter ${JSON.stringify(delimiter)} is not usable`);
    }
    this.delimiter = delimiter ?? '';
    this.maxRecordChars = options.maxRecordChars ?? MAX_RECORD_CHARS;
    this.spans = options.spans === true;
  }

  push(text: string): SourceItem[] {
    this.pending += text;
    if (!this.parser && !this.start(false)) {
      if (this.pending.length > this.maxRecordChars) {
        throw this.formatError(`no line break in the first ${this.maxRecordChars} characters`);
      }
      return [];
    }
    // papaparse re-parses the unfinished last row with each chunk. Waiting until the
    // buffer has doubled keeps a row spanning many chunks linear instead of quadratic.
    if (this.pending.length < this.parseAt) return [];
    return this.drain(false);
  }

  end(): SourceItem[] {
    if (!this.parser) this.start(true);
    return this.drain(true);
  }

  /** Detects the dialect from the header line; false while that line is incomplete. */
  private start(atEnd: boolean): boolean {
    const dialect = sniff(this.pending, atEnd);
    if (!dialect) return false;
    this.delimiter ||= dialect.delimiter;
    // LF and CRLF files are both split at LF, and a CR left at the end of a row is dropped
    // (emitRow): any line ending per record, as RFC 4180 readers accept (a file written
    // by several tools mixes them). Only a file whose header ends in a lone CR splits at CR.
    this.newline = dialect.newline === '\r' ? '\r' : '\n';
    this.lineChar = dialect.newline === '\r' ? '\r' : '\n';
    this.parser = new Papa.Parser({ delimiter: this.delimiter, newline: this.newline, quoteChar: '"' });
    // Blank lines before the header are dropped here, whatever their line breaks.
    const lead = /^[\r\n]*/.exec(this.pending)![0];
    this.line += lead.match(/\r\n?|\n/g)?.length ?? 0;
    this.pending = this.pending.slice(lead.length);
    return true;
  }

  private drain(atEnd: boolean): SourceItem[] {
    const parser = this.parser!;
    const out: SourceItem[] = [];
    // The text the records of `out` were parsed from, while it is a CsvSpan's.
    let span: string | undefined = this.spans && this.lineChar === '\n' ? '' : undefined;
    const spanned = (text: string) => {
      if (span === undefined) return;
      if (!this.headers || !serverReadsAsWe(text, this.delimiter)) span = undefined;
      else span += text;
    };
    for (;;) {
      // ignoreLastRow: the last row may continue in the next chunk; cursor ends before it.
      const complete: ParseOutput = parser.parse(this.pending, 0, true);
      spanned(this.pending.slice(0, complete.meta.cursor));
      this.emitRows(complete, out);
      this.pending = this.pending.slice(complete.meta.cursor);
      if (!atEnd) {
        if (this.pending.length > this.maxRecordChars) {
          span = undefined;
          this.skipLine(out, `record not complete after ${this.maxRecordChars} characters`, false);
          continue;
        }
        this.parseAt = this.pending.length * 2;
        return this.withSpan(out, span);
      }
      if (this.pending === '') return this.withSpan(out, span);
      const last: ParseOutput = parser.parse(this.pending, 0, false);
      if (last.errors.some((e) => e.code === 'MissingQuotes')) {
        span = undefined;
        this.skipLine(out, 'quoted field never closed', true);
        continue;
      }
      spanned(this.pending.endsWith('\n') ? this.pending : `${this.pending}\n`);
      this.emitRows(last, out);
      this.pending = '';
      return this.withSpan(out, span);
    }
  }

  private withSpan(out: SourceItem[], span: string | undefined): SourceItem[] {
    if (span && out.length > 0)
      SPANS.set(out, { texts: [span], counts: [out.length], delimiter: this.delimiter });
    return out;
  }

  /** `result` is a parse of `this.pending`. */
  private emitRows(result: ParseOutput, out: SourceItem[]): void {
    const rows = result.data;
    // Errors of the unfinished row (index rows.length) are dropped: it is parsed again.
    const bad = new Set<number>();
    for (const e of result.errors) if (e.row !== undefined && e.row < rows.length) bad.add(e.row);
    // A field holds a line break only if quoted, or, in a CRLF file, a lone LF: without a
    // quote in the text (papaparse's fast mode) and with a one-character line break, rows
    // are one line each and their fields need no counting.
    const breaks = this.newline.length > 1 || this.pending.includes('"');
    for (let i = 0; i < rows.length; i++) this.emitRow(rows[i]!, bad.has(i), breaks, out);
  }

  private emitRow(row: string[], quoteError: boolean, breaks: boolean, out: SourceItem[]): void {
    if (this.newline === '\n') {
      // The CR of a CRLF line ending (papaparse drops it after a closing quote itself).
      const last = row.length - 1;
      const field = row[last]!;
      if (field.endsWith('\r')) row[last] = field.slice(0, -1);
    }
    const line = this.line;
    this.line += breaks ? 1 + countChar(row, this.lineChar) : 1;
    if (row.length === 1 && row[0] === '') return; // blank line
    const headers = this.headers;
    if (!headers) {
      if (quoteError) throw this.formatError(`malformed quotes in the header (line ${line})`);
      this.setHeaders(row);
      return;
    }
    const record = ++this.record;
    if (quoteError) {
      const message = 'malformed quotes: a quote inside a quoted field must be doubled ("")';
      out.push({ kind: 'problem', code: 'CSV_QUOTE', message, line, record, raw: this.unparse(row) });
    } else if (row.length !== headers.length) {
      const message = `expected ${headers.length} fields, got ${row.length}`;
      out.push({ kind: 'problem', code: 'CSV_FIELD_COUNT', message, line, record, raw: this.unparse(row) });
    } else {
      // The row is ours (papaparse made it for this parse): it becomes the record's values.
      const values = row as (string | null)[];
      for (let i = 0; i < values.length; i++) if (values[i] === '') values[i] = null;
      out.push(new CsvRecord(headers, values, line, record));
    }
  }

  /** Reports the first line of the pending record as CSV_QUOTE and resumes after it. */
  private skipLine(out: SourceItem[], reason: string, atEnd: boolean): void {
    const cut = this.pending.indexOf(this.newline);
    if (cut === -1 && !atEnd) {
      throw this.formatError(`line ${this.line} is longer than ${this.maxRecordChars} characters`);
    }
    let raw = cut === -1 ? this.pending : this.pending.slice(0, cut);
    if (this.newline === '\n' && raw.endsWith('\r')) raw = raw.slice(0, -1); // a CRLF line ending
    if (!this.headers) throw this.formatError(`the header (line ${this.line}) has a quote never closed`);
    const line = this.line;
    this.line += 1 + countChar([raw], this.lineChar);
    this.record++;
    const message = `${reason}: skipped line ${line} and resumed on the next line`;
    out.push({ kind: 'problem', code: 'CSV_QUOTE', message, line, record: this.record, raw: clipRaw(raw) });
    this.pending = cut === -1 ? '' : this.pending.slice(cut + this.newline.length);
  }

  private setHeaders(row: string[]): void {
    // A repeated empty header is named by its position (`col_4`), as the first one will be
    // (src/schema/naming.ts), never `_2` (which normalizes to a column named `2`).
    let empty = false;
    const names = row.map((raw, i) => {
      if (raw !== '') return raw;
      if (!empty) {
        empty = true;
        return raw;
      }
      return `col_${i + 1}`;
    });
    const taken = new Set(names);
    const seen = new Set<string>();
    this.headers = names.map((name): string => {
      if (!seen.has(name)) {
        seen.add(name);
        return name;
      }
      let n = 2;
      while (taken.has(`${name}_${n}`)) n++;
      const unique = `${name}_${n}`;
      taken.add(unique);
      return unique;
    });
    Object.freeze(this.headers);
  }

  private unparse(row: string[]): string {
    return clipRaw(Papa.unparse([row], { delimiter: this.delimiter, newline: this.newline }));
  }

  private formatError(message: string): TributaryError {
    return new TributaryError('SOURCE_FORMAT', `CSV: ${message}`, { context: { line: this.line } });
  }
}

/** A CSV record: `data` is built from the values when first read (see `SourceRecord.values`). */
class CsvRecord implements SourceRecord {
  readonly kind = 'record';
  #data: Record<string, unknown> | undefined;

  constructor(
    readonly header: readonly string[],
    readonly values: readonly (string | null)[],
    public line: number,
    public record: number,
  ) {}

  get data(): Record<string, unknown> {
    if (this.#data === undefined) {
      const data: Record<string, unknown> = {};
      const { header, values } = this;
      for (let i = 0; i < header.length; i++) {
        const name = header[i]!;
        // Assigning `__proto__` would set the prototype: define it as an own property.
        if (name !== '__proto__') data[name] = values[i];
        else
          Object.defineProperty(data, name, {
            value: values[i],
            enumerable: true,
            writable: true,
            configurable: true,
          });
      }
      this.#data = data;
    }
    return this.#data;
  }

  set data(data: Record<string, unknown>) {
    this.#data = data;
  }
}

/**
 * Finds the header line (skipping leading blank lines) and detects the delimiter and line
 * break from it. Undefined while the line is incomplete and more text may come.
 */
function sniff(text: string, atEnd: boolean): { delimiter: string; newline: Newline } | undefined {
  const counts = [0, 0, 0, 0];
  let inQuotes = false;
  let content = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      inQuotes = !inQuotes; // a doubled quote toggles twice
      content = true;
    } else if (inQuotes) {
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && i + 1 === text.length && !atEnd) return undefined; // CR or CRLF?
      if (content) {
        const newline = c === '\n' ? '\n' : text[i + 1] === '\n' ? '\r\n' : '\r';
        return { delimiter: pickDelimiter(counts), newline };
      }
    } else {
      content = true;
      const k = CANDIDATES.indexOf(c);
      if (k !== -1) counts[k]!++;
    }
  }
  return atEnd ? { delimiter: pickDelimiter(counts), newline: '\n' } : undefined;
}

function pickDelimiter(counts: number[]): string {
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k]! > counts[best]!) best = k;
  return CANDIDATES[best]!;
}

/** A line the reader skips as blank: empty, or `""` (papaparse's one empty field). */
const BLANK_LINE = /(?:^|\n)(?:"")?\n/;
/** A quote then white space: papaparse allows spaces between a closing quote and the delimiter. */
const QUOTE_SPACE = /"[^\S\n]/;
const QUOTE_SPACE_TAB = /"[^\S\n\t]/;

/**
 * Whether a server's CSV reader takes `text` (complete records, after the header) as the
 * records papaparse made of it, one per line: no CR anywhere, no line the reader skips as
 * blank, and no closing quote followed by white space before the delimiter (papaparse drops
 * that space; MariaDB reads on to the next quote, PostgreSQL keeps it). A quote followed by
 * white space inside a field counts too: the test is on the text, not the fields.
 */
function serverReadsAsWe(text: string, delimiter: string): boolean {
  if (text.includes('\r') || BLANK_LINE.test(text)) return false;
  return !text.includes('"') || !(delimiter === '\t' ? QUOTE_SPACE_TAB : QUOTE_SPACE).test(text);
}

/** Occurrences of `char` in the fields: the line breaks inside quoted fields. */
function countChar(fields: string[], char: string): number {
  let n = 0;
  for (const field of fields) {
    for (let i = field.indexOf(char); i !== -1; i = field.indexOf(char, i + 1)) n++;
  }
  return n;
}

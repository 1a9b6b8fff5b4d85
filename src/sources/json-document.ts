/**
 * A `.json` file holding one JSON object (pretty-printed, or anything that is not one object
 * per line): either the object is one record, or — with the source's `records: <path>` — it
 * wraps the records in an array at that path (`{"data": [...], "meta": {...}}`, `records:
 * data`; dotted for nesting, `records: result.items`), which is streamed element by element
 * like a top-level array, whatever the file's size.
 */
import { TributaryError } from '../core/errors.js';
import type { SourceItem } from '../core/types.js';
import { parseJsonArray } from './json-array.js';
import { parseJsonText } from './ndjson.js';
import { MAX_RECORD_CHARS } from './text.js';

export interface JsonDocumentOptions {
  /** Where the records are: a dotted path of keys to an array, or `.` for the whole object as one record. */
  records?: string;
  /** Largest document read whole (without `records`), in characters; default {@link MAX_RECORD_CHARS}. */
  maxChars?: number;
}

export async function* parseJsonDocument(
  text: AsyncIterable<string>,
  options: JsonDocumentOptions = {},
): AsyncGenerator<SourceItem[]> {
  const { records } = options;
  if (records !== undefined && records !== '.') {
    yield* recordsAt(text, records);
    return;
  }
  const max = options.maxChars ?? MAX_RECORD_CHARS;
  let all = '';
  for await (const chunk of text) {
    all += chunk;
    if (all.length > max) {
      throw formatError(
        `the file holds one JSON object larger than ${max} characters; if it wraps the records in an array, name its key with the source's \`records:\` option (e.g. \`records: data\`)`,
      );
    }
  }
  let doc: unknown;
  try {
    doc = parseJsonText(all);
  } catch (err) {
    throw formatError(`not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw formatError('expected a JSON object, an array of objects, or one object per line');
  }
  if (records === undefined) {
    const wrapped = Object.entries(doc).find(
      ([, v]) =>
        Array.isArray(v) &&
        v.length > 0 &&
        v.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e)),
    );
    if (wrapped) {
      const [key, list] = wrapped as [string, unknown[]];
      throw formatError(
        `the file holds one JSON object whose ${JSON.stringify(key)} is an array of ${list.length} object(s): to load those as rows, set \`records: ${/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key)}\` on the source; to load the whole object as one row, set \`records: .\``,
      );
    }
  }
  yield [{ kind: 'record', data: doc as Record<string, unknown>, line: 1, record: 1 }];
}

/** Streams the array at `path`: the text before it is scanned (and dropped), the array handed to the array reader. */
async function* recordsAt(text: AsyncIterable<string>, path: string): AsyncGenerator<SourceItem[]> {
  const seeker = new PathSeeker(path.split('.'));
  const it = text[Symbol.asyncIterator]();
  let found: { rest: string; line: number } | undefined;
  while (!found) {
    const next = await it.next();
    if (next.done) throw formatError(seeker.missing());
    found = seeker.push(next.value);
  }
  const { rest, line } = found;
  async function* remaining(): AsyncGenerator<string> {
    yield rest;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  yield* parseJsonArray(remaining(), { firstLine: line, ignoreAfterClose: true });
}

type SeekState =
  | 'begin'
  | 'key_or_close'
  | 'key'
  | 'colon'
  | 'value'
  | 'string'
  | 'nested'
  | 'literal'
  | 'after';

/**
 * Walks a JSON object's text chunk by chunk to the array at a path of keys, skipping every
 * other value (strings, nesting and escapes tracked) without keeping it.
 */
class PathSeeker {
  private state: SeekState = 'begin';
  private depth = 0; // which segment is looked for
  private key = '';
  private escaped = false;
  private nest = 0;
  private inString = false;
  private line = 1;

  constructor(private readonly path: readonly string[]) {}

  /** The text from the array's `[` on, once found, with the line it starts on. */
  push(chunk: string): { rest: string; line: number } | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as string;
      if (c === '\n') this.line++;
      switch (this.state) {
        case 'begin':
          if (isSpace(c) || c === '\uFEFF') break;
          if (c !== '{') throw formatError('`records:` needs a JSON object around the records');
          this.state = 'key_or_close';
          break;
        case 'key_or_close':
          if (isSpace(c) || c === ',') break;
          if (c === '"') {
            this.state = 'key';
            this.key = '';
            this.escaped = false;
          } else if (c === '}') throw formatError(this.missing());
          else throw formatError(`unexpected ${JSON.stringify(c)} at line ${this.line}`);
          break;
        case 'key':
          if (this.escaped) {
            this.key += c;
            this.escaped = false;
          } else if (c === '\\') {
            this.key += c;
            this.escaped = true;
          } else if (c === '"') {
            this.key = JSON.parse(`"${this.key}"`) as string;
            this.state = 'colon';
          } else this.key += c;
          break;
        case 'colon':
          if (isSpace(c)) break;
          if (c !== ':') throw formatError(`expected ':' at line ${this.line}`);
          this.state = 'value';
          break;
        case 'value': {
          if (isSpace(c)) break;
          if (this.key === this.path[this.depth]) {
            const last = this.depth === this.path.length - 1;
            if (last && c === '[') return { rest: chunk.slice(i), line: this.line };
            if (!last && c === '{') {
              this.depth++;
              this.state = 'key_or_close';
              break;
            }
            throw formatError(
              `records: ${this.path.join('.')}: ${this.path.slice(0, this.depth + 1).join('.')} holds ${last ? 'no array' : 'no object'} (it starts with ${JSON.stringify(c)} at line ${this.line})`,
            );
          }
          if (c === '"') {
            this.state = 'string';
            this.escaped = false;
          } else if (c === '{' || c === '[') {
            this.state = 'nested';
            this.nest = 1;
            this.inString = false;
            this.escaped = false;
          } else this.state = 'literal';
          break;
        }
        case 'string':
          if (this.escaped) this.escaped = false;
          else if (c === '\\') this.escaped = true;
          else if (c === '"') this.state = 'after';
          break;
        case 'nested':
          if (this.inString) {
            if (this.escaped) this.escaped = false;
            else if (c === '\\') this.escaped = true;
            else if (c === '"') this.inString = false;
          } else if (c === '"') this.inString = true;
          else if (c === '{' || c === '[') this.nest++;
          else if (c === '}' || c === ']') {
            this.nest--;
            if (this.nest === 0) this.state = 'after';
          }
          break;
        case 'literal':
          if (c === ',') this.state = 'key_or_close';
          else if (c === '}') throw formatError(this.missing());
          break;
        case 'after':
          if (isSpace(c)) break;
          if (c === ',') this.state = 'key_or_close';
          else if (c === '}') throw formatError(this.missing());
          else throw formatError(`unexpected ${JSON.stringify(c)} at line ${this.line}`);
          break;
      }
    }
    return undefined;
  }

  missing(): string {
    const at = this.path.slice(0, this.depth + 1).join('.');
    return `records: ${this.path.join('.')}: the object has no key ${JSON.stringify(at)}`;
  }
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}

function formatError(message: string): TributaryError {
  return new TributaryError('SOURCE_FORMAT', `JSON: ${message}`);
}

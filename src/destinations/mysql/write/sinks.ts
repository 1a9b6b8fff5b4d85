/**
 * The two ways rows reach a MySQL table (the transports under every write strategy): one
 * streaming LOAD DATA LOCAL INFILE (`LoadSink`), or multi-row prepared INSERTs when the
 * server has `local_infile` OFF (`InsertSink`); `sink` picks one.
 */
import type { DbValue } from '../../../core/types.js';
import { csvLoads, tsvRow } from '../../rowtext.js';
import type { CsvShape, TableWriter } from '../../types.js';
import { q } from '../dialect.js';
import type { LoadTarget, Session } from '../session.js';

/** TSV text handed to LOAD DATA per call (UTF-16 units; at most ~1 MiB of UTF-8). */
export const CHUNK = 256 * 1024;
/** Child TSV buffered before it is loaded (each switch ends the parent's LOAD DATA). */
export const CHILD_BUFFER = 4 << 20;
/** Rows per multi-row INSERT when LOAD DATA is not available (≤ 65,535 placeholders). */
const INSERT_ROWS = 1000;

function bind(v: DbValue): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** No leading values: rows that carry only their column values. */
export const NO_LEAD: readonly number[] = [];

/**
 * A table rows are written to: streamed through LOAD DATA, or multi-row prepared INSERTs.
 * `add` only buffers (no promise per row) and says when `send` is due.
 */
export interface RowSink {
  /** Buffer one row: its leading values (sequence numbers) and its column values. */
  add(lead: readonly number[], values: readonly DbValue[]): boolean;
  /** Send what is buffered (a LOAD DATA stays open for the next rows). */
  send(): Promise<void>;
  /** Send what is buffered and end the statement. */
  flush(): Promise<void>;
  /** Rows the server stored. */
  stored(): number;
}

/** LOAD DATA LOCAL INFILE into `table`, fed across `send` calls (the bulk path). */
export class LoadSink implements RowSink {
  readonly #session: Session;
  readonly #limit: number;
  readonly #into: SinkSpec;
  readonly target: LoadTarget;
  /** The statements reading the file's own CSV (writeCsv), one per shape met. */
  readonly #csv = new Map<string, LoadTarget>();
  #text = '';
  #rows = 0;

  constructor(session: Session, into: SinkSpec, limit: number) {
    this.#session = session;
    this.#limit = limit;
    this.#into = into;
    const assigned = setClauses(into);
    const set = assigned.length ? ` SET ${assigned.join(', ')}` : '';
    this.target = {
      label: into.label,
      sql:
        `LOAD DATA LOCAL INFILE 'tributary.tsv' INTO TABLE ${q(into.table)} CHARACTER SET utf8mb4 ` +
        `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ` +
        `(${into.columns.map(q).join(', ')})${set}`,
      rename: new Map(into.columns.map((c, i) => [c, into.names[i] ?? c])),
      loaded: 0,
      sent: 0,
      ...(into.skips ? { skipped: 0 } : {}),
    };
  }

  add(lead: readonly number[], values: readonly DbValue[]): boolean {
    let line = '';
    for (const n of lead) line += n + '\t';
    this.#text += line + tsvRow(values) + '\n';
    this.#rows++;
    return this.#text.length >= this.#limit;
  }

  /** Rows already encoded as TSV lines (no leading columns): handed to the statement as they are. */
  async sendText(text: string, rows: number): Promise<void> {
    await this.send();
    if (rows > 0) await this.#session.load(this.target, text, rows);
  }

  /**
   * Rows as the file's own CSV text (TableWriter.writeCsv), read by a LOAD DATA of its own:
   * fields `OPTIONALLY ENCLOSED BY '"'` with no escape character (RFC 4180: a quote inside
   * a quoted field is doubled), each into its column — through a variable set to NULL when
   * empty (`LENGTH(@f) = 0`: under a PAD SPACE collation `' ' = ''` holds) when some field
   * is empty, so that an empty field is NULL as the encoder makes it.
   * Whatever is buffered goes first: rows keep their order.
   */
  async sendCsv(text: Uint8Array, rows: number, shape: CsvShape): Promise<void> {
    await this.send();
    if (rows === 0) return;
    const key = `${shape.delimiter}\u0000${shape.nulls}\u0000${shape.columns.join('\u0000')}`;
    let target = this.#csv.get(key);
    if (!target) {
      target = csvTarget(this.#into, shape, this.target.skipped !== undefined);
      this.#csv.set(key, target);
    }
    await this.#session.load(target, text, rows);
    csvLoads.batches++;
    csvLoads.rows += rows;
  }

  /** Rows a direct load skipped for a key already there, over every statement. */
  skipped(): number {
    let n = this.target.skipped ?? 0;
    for (const t of this.#csv.values()) n += t.skipped ?? 0;
    return n;
  }

  async send(): Promise<void> {
    if (this.#rows === 0) return;
    const text = this.#text;
    const rows = this.#rows;
    this.#text = '';
    this.#rows = 0;
    await this.#session.load(this.target, text, rows);
  }

  async flush(): Promise<void> {
    await this.send();
    await this.#session.flush();
  }

  stored(): number {
    let n = this.target.loaded;
    for (const t of this.#csv.values()) n += t.loaded;
    return n;
  }
}

/** The LOAD DATA of the file's own CSV text of one shape into `into` (LoadSink.sendCsv). */
function csvTarget(into: SinkSpec, shape: CsvShape, skips: boolean): LoadTarget {
  const column = new Map(into.names.map((name, k) => [name, into.columns[k] as string]));
  const fields: string[] = [];
  const set: string[] = [];
  for (const [k, name] of shape.columns.entries()) {
    const c = column.get(name);
    if (c === undefined) throw new Error(`internal: no column ${name} in ${into.label}`);
    if (shape.nulls) {
      fields.push(`@f${k}`);
      // Not NULLIF(@f, ''): under a PAD SPACE collation ' ' = '' is true.
      set.push(`${q(c)} = IF(LENGTH(@f${k}) = 0, NULL, @f${k})`);
    } else fields.push(q(c));
  }
  set.push(...setClauses(into));
  const delimiter = shape.delimiter === '\t' ? '\\t' : shape.delimiter;
  if (!/^(?:,|;|\||\\t)$/.test(delimiter)) throw new Error('internal: unexpected CSV delimiter');
  return {
    label: into.label,
    sql:
      `LOAD DATA LOCAL INFILE 'tributary.csv' INTO TABLE ${q(into.table)} CHARACTER SET utf8mb4 ` +
      `FIELDS TERMINATED BY '${delimiter}' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' ` +
      `LINES TERMINATED BY '\\n' (${fields.join(', ')})${set.length ? ` SET ${set.join(', ')}` : ''}`,
    rename: new Map(into.columns.map((c, i) => [c, into.names[i] ?? c])),
    loaded: 0,
    sent: 0,
    exact: true,
    ...(skips ? { skipped: 0 } : {}),
  };
}

/** Multi-row prepared INSERTs into `table`: the path when `local_infile` is OFF. */
class InsertSink implements RowSink {
  readonly #session: Session;
  readonly #head: string;
  readonly #tuple: string;
  readonly #batch: number;
  #params: unknown[] = [];
  #rows = 0;
  #stored = 0;

  constructor(session: Session, into: SinkSpec) {
    this.#session = session;
    const extra = assigned(into);
    const columns = [...into.columns, ...extra.map(([c]) => c)];
    this.#head = `INSERT INTO ${q(into.table)} (${columns.map(q).join(', ')}) VALUES `;
    const width = into.columns.length;
    // A multi-row VALUES list is evaluated row after row: the counter follows the rows' order.
    const slots = [...into.columns.map(() => '?'), ...extra.map(([, v]) => String(v))];
    this.#tuple = `(${slots.join(', ')})`;
    this.#batch = Math.max(1, Math.min(INSERT_ROWS, Math.floor(60_000 / Math.max(1, width))));
  }

  add(lead: readonly number[], values: readonly DbValue[]): boolean {
    for (const n of lead) this.#params.push(n);
    for (const v of values) this.#params.push(bind(v));
    return ++this.#rows >= this.#batch;
  }

  async send(): Promise<void> {
    if (this.#rows === 0) return;
    const sql = this.#head + Array.from({ length: this.#rows }, () => this.#tuple).join(', ');
    const params = this.#params;
    this.#params = [];
    this.#rows = 0;
    this.#stored += (await this.#session.execute(sql, params)).affectedRows;
  }

  async flush(): Promise<void> {
    await this.send();
  }

  stored(): number {
    return this.#stored;
  }
}

interface SinkSpec {
  table: string;
  /** The user's table, for messages. */
  label: string;
  /** Columns the rows fill, in order (leading sequence columns first). */
  columns: readonly string[];
  /** Names for messages, parallel to `columns`. */
  names: readonly string[];
  /** Columns set to the same integer in every row (run id, file id). */
  constants: ReadonlyArray<readonly [string, number]>;
  /**
   * A column numbered 1, 2, 3, … in the order the rows arrive, across all the sink's
   * statements, by the server: the session's user variable `variable`, which the caller sets
   * to 0 first (`SET @variable = 0`). LOAD DATA (and a multi-row INSERT) stores its rows one
   * after the other in the order they come, evaluating the assignment once per row.
   */
  counter?: { column: string; variable: string };
  /** LOAD DATA: count rows skipped for a duplicate key instead of failing (LoadTarget.skipped). */
  skips?: boolean;
}

/** The columns the server sets in every row, with their SQL: the constants, then the counter. */
function assigned(into: SinkSpec): ReadonlyArray<readonly [string, string | number]> {
  const { counter } = into;
  return [
    ...into.constants,
    ...(counter ? [[counter.column, `(@${counter.variable} := @${counter.variable} + 1)`] as const] : []),
  ];
}

/** The `SET` assignments of a LOAD DATA for the sink's constants and counter. */
function setClauses(into: SinkSpec): string[] {
  return assigned(into).map(([c, v]) => `${q(c)} = ${v}`);
}

export function sink(session: Session, bulk: boolean, into: SinkSpec, limit = CHUNK): RowSink {
  for (const [, v] of into.constants) if (!Number.isSafeInteger(v)) throw new Error(`internal: bad id ${v}`);
  if (into.counter && !/^_tributary_[a-z0-9_]+$/.test(into.counter.variable))
    throw new Error(`internal: bad counter variable ${into.counter.variable}`);
  return bulk ? new LoadSink(session, into, limit) : new InsertSink(session, into);
}

/** `writeText` and `writeCsv` for a sink that is a LOAD DATA (none for multi-row INSERTs: no row format then). */
export function textInput(
  out: RowSink,
  count: (rows: number) => void,
): Pick<TableWriter, 'writeText' | 'writeCsv'> {
  if (!(out instanceof LoadSink)) return {};
  return {
    async writeText(text: string, rows: number) {
      count(rows);
      await out.sendText(text, rows);
    },
    async writeCsv(text: Uint8Array, rows: number, shape: CsvShape) {
      count(rows);
      await out.sendCsv(text, rows, shape);
    },
  };
}

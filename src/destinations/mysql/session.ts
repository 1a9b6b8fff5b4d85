import { once } from 'node:events';
import { PassThrough, type Writable } from 'node:stream';
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { TributaryError } from '../../core/errors.js';
import type { ExecResult, SqlClient } from '../types.js';
import { isFatalDriverError, redactServerMessage, translateMysqlError } from './errors.js';

/** Socket bytes queued before `write` waits: mysql2 writes LOAD DATA chunks without back-pressure. */
const SOCKET_HIGH_WATER = 8 << 20;
/** Largest piece of LOAD DATA text handed to the driver at once (one packet each). */
const PACKET_BYTES = 1 << 20;

/**
 * One `LOAD DATA LOCAL INFILE` target. Rows are pushed as TSV text; the session keeps one
 * statement open per target and feeds it from a stream across `write` calls.
 */
export interface LoadTarget {
  /** The user's table the rows are for (staging tables are an implementation detail). */
  label: string;
  /** The LOAD DATA statement (the file name in it is ignored: the stream is the file). */
  sql: string;
  /** Column names shown in warnings instead of the staging table's positional ones (`c0` → `amount`). */
  rename: ReadonlyMap<string, string>;
  /** Rows the server reported loaded, summed over the statements. */
  loaded: number;
  /** Rows sent before the current statement (to turn a warning's "row N" into a row number). */
  sent: number;
  /**
   * Rows the server skipped, summed over the statements, when the target expects them: with
   * LOCAL, a row whose key is already stored is skipped with a warning (IGNORE semantics). A
   * statement that skipped rows is not checked for other warnings: its load is void (a direct
   * load that met a key twice is rolled back and done again through staging). Undefined: a
   * skipped row fails the load like any other warning.
   */
  skipped?: number;
  /**
   * The server must report reading exactly the rows sent ("Records: N"): set for the file's
   * own CSV text (the fast path), where a line read differently from papaparse — two records
   * read as one — must fail the file, not pass as a row skipped or unchanged.
   */
  exact?: boolean;
}

interface OpenLoad {
  target: LoadTarget;
  stream: PassThrough;
  /** Settles when the statement finished (never rejects; see `failure`). */
  settled: Promise<void>;
  result?: ResultSetHeader;
  failure?: unknown;
  rows: number;
}

/**
 * One connection as a `SqlClient`, with at most one streaming LOAD DATA in flight.
 *
 * A LOAD DATA occupies its connection until its stream ends, so any other statement
 * (a rejects insert between two row batches, the merge in `finish`) first ends the open
 * one; the next `load` opens a new statement. Commands run one at a time in call order.
 */
export class Session implements SqlClient {
  readonly #conn: Connection;
  readonly #secrets: readonly string[];
  #chain: Promise<unknown> = Promise.resolve();
  #open: OpenLoad | undefined;
  /** Temporary tables to drop when the transaction ends, whatever its outcome. */
  readonly temps = new Set<string>();
  /** The connection failed fatally: destroy it rather than return it to the pool. */
  broken = false;

  constructor(conn: Connection, secrets: readonly string[]) {
    this.#conn = conn;
    this.#secrets = secrets;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #fail(err: unknown, sql: string): unknown {
    if (isFatalDriverError(err)) this.broken = true;
    return translateMysqlError(err, sql, { secrets: this.#secrets });
  }

  /** A statement with no LOAD DATA in flight; `?` parameters go to a server-side prepared statement. */
  async #run(sql: string, params?: readonly unknown[]): Promise<unknown> {
    await this.#endOpen();
    try {
      if (params && params.length > 0) {
        // Prepared, not client-side formatted: a `?` inside a quoted identifier stays an identifier.
        const [result] = await this.#conn.execute(
          sql,
          params.map((p) => (p === undefined ? null : p)) as never[],
        );
        return result;
      }
      const [result] = await this.#conn.query(sql);
      return result;
    } catch (err) {
      throw this.#fail(err, sql);
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#serial(async () => {
      const r = await this.#run(sql, params);
      return (Array.isArray(r) ? r : []) as T[];
    });
  }

  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    return this.#serial(async () => header(await this.#run(sql, params)));
  }

  insertRow(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.#serial(async () => {
      const r = await this.#run(sql, params);
      return Number((r as ResultSetHeader | null)?.insertId ?? 0);
    });
  }

  /** `execute` plus the OK packet's info text ("Records: 3  Duplicates: 1  Warnings: 0"). */
  command(sql: string, params?: readonly unknown[]): Promise<ExecResult & { info: string }> {
    return this.#serial(async () => {
      const r = await this.#run(sql, params);
      return { ...header(r), info: String((r as { info?: unknown } | null)?.info ?? '') };
    });
  }

  /**
   * Push text (TSV, or the file's own CSV as bytes) into `target`'s LOAD DATA, opening the
   * statement (and ending another target's) when needed. Resolves once the text is handed to the socket and the socket's
   * queue is below 8 MiB: that is the caller's back-pressure.
   */
  load(target: LoadTarget, text: string | Uint8Array, rows: number): Promise<void> {
    return this.#serial(async () => {
      if (this.#open?.target !== target) {
        await this.#endOpen();
        this.#open = this.#start(target);
      }
      const open = this.#open;
      if (!open) throw new Error('internal: no open LOAD DATA');
      if (open.failure !== undefined) {
        this.#open = undefined;
        throw this.#fail(open.failure, target.sql);
      }
      open.rows += rows;
      const ac = new AbortController();
      try {
        // mysql2 sends each chunk of the stream as one packet: pieces of at most 1 MiB keep
        // every packet under max_allowed_packet (16 MiB by default) however wide the rows.
        // Cut as bytes: a row may span packets, a character is never split in two.
        let ready = true;
        if (typeof text === 'string' && text.length <= PACKET_BYTES / 4) ready = open.stream.write(text);
        else {
          const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
          for (let i = 0; i < bytes.length; i += PACKET_BYTES) {
            ready = open.stream.write(bytes.subarray(i, i + PACKET_BYTES));
          }
        }
        if (!ready) {
          await Promise.race([once(open.stream, 'drain', { signal: ac.signal }), open.settled]);
        }
        const socket = this.#socket();
        if (socket && socket.writableLength > SOCKET_HIGH_WATER) {
          await Promise.race([once(socket, 'drain', { signal: ac.signal }), open.settled]);
        }
      } finally {
        ac.abort();
      }
      if (open.failure !== undefined) {
        this.#open = undefined;
        throw this.#fail(open.failure, target.sql);
      }
    });
  }

  /** End any open LOAD DATA and check what the server said about it. */
  flush(): Promise<void> {
    return this.#serial(() => this.#endOpen());
  }

  /**
   * Stop an open LOAD DATA without checking it (the transaction is being rolled back). The
   * statement must end before anything else can use the connection, ROLLBACK included.
   */
  async abort(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (!open) return;
    open.stream.end();
    await open.settled;
  }

  #start(target: LoadTarget): OpenLoad {
    const stream = new PassThrough({ highWaterMark: 1 << 20 });
    stream.on('error', () => {}); // a failed statement destroys the stream; its error is `failure`
    const open: OpenLoad = { target, stream, settled: Promise.resolve(), rows: 0 };
    open.settled = this.#conn.query({ sql: target.sql, infileStreamFactory: () => stream }).then(
      ([r]) => {
        open.result = r as ResultSetHeader;
      },
      (err: unknown) => {
        open.failure = err;
        stream.destroy();
      },
    );
    return open;
  }

  async #endOpen(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    open.stream.end();
    await open.settled;
    const { target } = open;
    if (open.failure !== undefined) throw this.#fail(open.failure, target.sql);
    const result = open.result as ResultSetHeader;
    if (target.exact) {
      const records = /Records:\s*(\d+)/.exec(String((result as { info?: unknown }).info ?? ''));
      if (!records || Number(records[1]) !== open.rows) {
        throw new Error(
          `internal: LOAD DATA read ${records?.[1] ?? 'an unknown number of'} records of ${target.label} where ${open.rows} were sent as the file's own text (TRIBUTARY_FAST_PATH=off loads it the usual way)`,
        );
      }
    }
    const before = target.sent;
    target.sent += open.rows;
    target.loaded += result.affectedRows;
    if (target.skipped !== undefined && result.affectedRows < open.rows) {
      target.skipped += open.rows - result.affectedRows;
      return;
    }
    // LOAD DATA LOCAL turns data errors into warnings even in strict mode (the server cannot
    // stop the client mid-file): a truncated or defaulted value must fail the load instead.
    if (result.warningStatus > 0) await this.#rejectWarnings(target, before);
  }

  async #rejectWarnings(target: LoadTarget, before: number): Promise<void> {
    let rows: Array<{ Level: string; Code: number; Message: string }>;
    try {
      const [r] = await this.#conn.query('SHOW WARNINGS LIMIT 5');
      rows = r as typeof rows;
    } catch (err) {
      throw this.#fail(err, 'SHOW WARNINGS');
    }
    const real = rows.filter((w) => w.Level !== 'Note');
    if (real.length === 0) return;
    const named = real.map((w) => {
      const msg = redactServerMessage(w.Message)
        .replace(/(['`])(\w+)\1/g, (whole, qt: string, id: string) => {
          const name = target.rename.get(id);
          return name === undefined ? whole : `${qt}${name}${qt}`;
        })
        .replace(/ at row (\d+)/, (_m, n: string) => ` (row ${before + Number(n)} written to this table)`);
      return `${w.Code} ${msg}`;
    });
    throw new TributaryError(
      'DEST_QUERY',
      `MySQL refused values while loading ${target.label}: ${named.join('; ')}`,
    );
  }

  #socket(): Writable | undefined {
    // The promise wrapper keeps the core connection, whose `stream` is the socket.
    return (this.#conn as unknown as { connection?: { stream?: Writable } }).connection?.stream;
  }
}

function header(r: unknown): ExecResult {
  if (r && typeof r === 'object' && !Array.isArray(r) && 'affectedRows' in r) {
    const h = r as ResultSetHeader;
    return { affectedRows: h.affectedRows };
  }
  return { affectedRows: 0 };
}

import { once } from 'node:events';
import pg, { type CustomTypesConfig, type PoolClient, type QueryResult } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { TributaryError } from '../../core/errors.js';
import type { ExecResult, SqlClient } from '../types.js';
import { fullName, numberedParams } from './dialect.js';
import { isFatalPgError, isUnqueryableClient, translatePgError } from './errors.js';

/** Text handed to a COPY stream before `copy` waits for it to drain. */
const COPY_HIGH_WATER = 1 << 20;

/**
 * One `COPY … FROM STDIN` target: the session keeps one statement open per target and feeds
 * it across `copy` calls.
 */
export interface CopyTarget {
  /** The user's table the rows are for (staging tables are an implementation detail). */
  label: string;
  /** The COPY statement. */
  sql: string;
  /** Rows the server reported copied, summed over the statements. */
  loaded: number;
  /** An error of its own for a driver error of the COPY (undefined: the usual translation). */
  mapError?: (err: unknown) => Error | undefined;
}

interface OpenCopy {
  target: CopyTarget;
  stream: ReturnType<typeof copyFrom>;
  /** Settles when the statement finished or failed (never rejects; see `failure`). */
  settled: Promise<void>;
  failure?: unknown;
}

/**
 * One pooled connection as a `SqlClient` (`?` placeholders, numbered for PostgreSQL), with at
 * most one streaming COPY in flight.
 *
 * A COPY occupies its connection until its stream ends, so any other statement (a rejects
 * insert between two row batches, the merge in `finish`) first ends the open one; the next
 * `copy` opens a new statement. Commands run one at a time in call order.
 */
export class PgSession implements SqlClient {
  readonly #client: PoolClient;
  readonly #secrets: readonly string[];
  readonly #connectionError: () => unknown;
  #chain: Promise<unknown> = Promise.resolve();
  #open: OpenCopy | undefined;
  /** The connection failed fatally: destroy it rather than return it to the pool. */
  broken = false;

  /**
   * `connectionError`: the error the connection met between two statements, if any (the
   * server's reason it closed, which pg emits as an 'error' event and never again).
   */
  constructor(
    client: PoolClient,
    secrets: readonly string[],
    connectionError: () => unknown = () => undefined,
  ) {
    this.#client = client;
    this.#secrets = secrets;
    this.#connectionError = connectionError;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #fail(err: unknown, sql: string): unknown {
    if (isFatalPgError(err)) this.broken = true;
    // A connection that closed while no statement ran fails the next one with pg's "not
    // queryable", which says nothing of why: the reason it closed is reported instead.
    const reason = isUnqueryableClient(err) ? this.#connectionError() : undefined;
    const why = reason === undefined ? undefined : translatePgError(reason, sql, { secrets: this.#secrets });
    return why instanceof TributaryError ? why : translatePgError(err, sql, { secrets: this.#secrets });
  }

  async #run(sql: string, params?: readonly unknown[]): Promise<QueryResult> {
    await this.#endOpen();
    try {
      return await runSql(this.#client, sql, params);
    } catch (err) {
      throw this.#fail(err, sql);
    }
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.#serial(async () => (await this.#run(sql, params)).rows as T[]);
  }

  execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
    return this.#serial(async () => ({ affectedRows: (await this.#run(sql, params)).rowCount ?? 0 }));
  }

  insertRow(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.#serial(async () => returnedId(await this.#run(`${sql} RETURNING id`, params)));
  }

  /**
   * Push text rows into `target`'s COPY, opening the statement (and ending another target's)
   * when needed. Resolves once the stream has taken the text below its high-water mark: that
   * is the caller's back-pressure.
   */
  copy(target: CopyTarget, text: string | Uint8Array): Promise<void> {
    return this.#serial(async () => {
      if (this.#open?.target !== target) {
        await this.#endOpen();
        this.#open = this.#start(target);
      }
      const open = this.#open;
      if (!open) throw new Error('internal: no open COPY');
      if (open.failure === undefined && !open.stream.write(text)) {
        await Promise.race([once(open.stream, 'drain'), open.settled]);
      }
      if (open.failure !== undefined) {
        this.#open = undefined;
        throw this.#copyFailed(open);
      }
    });
  }

  /** End any open COPY and check what the server said about it. */
  flush(): Promise<void> {
    return this.#serial(() => this.#endOpen());
  }

  /**
   * Stop an open COPY without checking it (the transaction is being rolled back): `destroy`
   * sends CopyFail, after which the connection takes the ROLLBACK.
   */
  async abort(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    if (!open) return;
    if (open.failure === undefined) open.stream.destroy(new Error('the load was abandoned'));
    await open.settled;
  }

  #copyFailed(open: OpenCopy): unknown {
    return open.target.mapError?.(open.failure) ?? this.#fail(open.failure, open.target.sql);
  }

  #start(target: CopyTarget): OpenCopy {
    const stream = copyFrom(target.sql, { highWaterMark: COPY_HIGH_WATER });
    const open: OpenCopy = { target, stream, settled: Promise.resolve() };
    open.settled = new Promise<void>((resolve) => {
      // 'finish' comes once the server has confirmed the COPY and the connection is ready for
      // the next statement ('end' would be too early); 'close' after an error or destroy.
      stream.on('finish', () => resolve());
      stream.on('error', (err) => {
        open.failure = err;
        resolve();
      });
      stream.on('close', () => resolve());
    });
    this.#client.query(stream);
    return open;
  }

  async #endOpen(): Promise<void> {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    if (open.failure === undefined) open.stream.end();
    await open.settled;
    if (open.failure !== undefined) throw this.#copyFailed(open);
    open.target.loaded += open.stream.rowCount;
  }
}

/**
 * One statement on a client: with parameters through the extended protocol (`?` numbered
 * `$1…`), without through the simple one, so that SQL without parameters (a model's) is sent
 * exactly as written — `?` is a jsonb operator there.
 */
export async function runSql(
  client: Pick<PoolClient, 'query'>,
  sql: string,
  params?: readonly unknown[],
): Promise<QueryResult> {
  if (params && params.length > 0) {
    return withFullNames(
      await client.query({
        text: numberedParams(sql),
        values: params.map((p) => (p === undefined ? null : p)),
      }),
    );
  }
  const r = (await client.query(sql)) as QueryResult | QueryResult[];
  // Several statements in one text give one result each: the last one is the answer.
  return withFullNames(Array.isArray(r) ? (r[r.length - 1] as QueryResult) : r);
}

/** Result columns under the full names of shortened identifiers (dialect.ts physicalName). */
function withFullNames(r: QueryResult): QueryResult {
  const renames = (r.fields ?? []).flatMap((f) => {
    const name = fullName(f.name);
    return name === undefined ? [] : [[f.name, name] as const];
  });
  if (renames.length === 0) return r;
  for (const row of r.rows as Record<string, unknown>[]) {
    for (const [from, to] of renames) {
      row[to] = row[from];
      delete row[from];
    }
  }
  return r;
}

/** The `id` an `INSERT … RETURNING id` gave back. */
export function returnedId(r: QueryResult): number {
  const id = Number((r.rows[0] as { id?: unknown } | undefined)?.id);
  if (!Number.isSafeInteger(id)) throw new Error('internal: INSERT … RETURNING id gave no id');
  return id;
}

/** OIDs of the types whose text Tributary reads itself (pg_type.oid; fixed since PostgreSQL 9). */
const OID = { int8: 20, json: 114, date: 1082, timestamp: 1114, timestamptz: 1184, jsonb: 3802 } as const;

/**
 * How column values come back, per pool (never pg's global parsers, which other code in the
 * process may rely on), the same as on the other destinations:
 * - BIGINT (and COUNT(*)): a number when it is a safe integer, else its decimal text.
 * - NUMERIC: its text, every digit (pg's default).
 * - DATE: `YYYY-MM-DD`; TIMESTAMPTZ: `YYYY-MM-DD HH:MM:SS[.f]` in UTC — the session's time zone
 *   is UTC, so the text ends in `+00`, which is cut — exactly the canonical text the loads wrote.
 * - JSON/JSONB: compact JSON text (jsonb prints `{"a": 1}`; the spaces go).
 * - BOOLEAN: true/false (pg's default).
 */
export const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
    switch (oid) {
      case OID.int8:
        return (t: string) => {
          const n = Number(t);
          return Number.isSafeInteger(n) ? n : t;
        };
      case OID.date:
      case OID.timestamp:
        return (t: string) => t;
      case OID.timestamptz:
        return (t: string) => t.replace(/\+00(?::00)?$/, '');
      case OID.json:
      case OID.jsonb:
        return compactJson;
      default:
        return pg.types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown;
    }
  },
} as unknown as CustomTypesConfig;

/** JSON text without the whitespace between tokens (strings untouched). */
export function compactJson(text: string): string {
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 32 || c === 10 || c === 9 || c === 13) {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}

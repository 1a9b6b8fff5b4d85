import { createHash } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import type { LockInfo } from '../types.js';
import { translateMysqlError } from './errors.js';

const LOCKS = '_tributary_locks';
/** MySQL refuses user-lock names longer than 64 characters. */
const MAX_LOCK_NAME = 64;
/** A held lock's connection is pinged so `wait_timeout` never closes it (and frees the lock) mid-run. */
const KEEPALIVE_MS = 60_000;

interface Held {
  conn: Connection;
  name: string;
  timer: NodeJS.Timeout;
  /** The connection closed (a server restart, a network cut): the server has freed the lock. */
  lost: boolean;
}

/** The server-side name of a pipeline's lock: `tributary:<db>:<pipeline>`, hashed when too long. */
export function lockName(database: string, pipeline: string): string {
  const plain = `tributary:${database}:${pipeline}`;
  if (plain.length <= MAX_LOCK_NAME) return plain;
  return `tributary:${createHash('sha256').update(`${database}\0${pipeline}`).digest('hex').slice(0, 40)}`;
}

/**
 * Pipeline run locks with `GET_LOCK`, each on a dedicated connection (not the pool) held
 * for the run: the server frees the lock when that connection ends, so a killed process
 * never leaves a stale lock. The holder and the time it took the lock are written to
 * `_tributary_locks` so a second caller can say who runs the pipeline and since when.
 */
export class RunLocks {
  readonly #held = new Map<string, Held>();
  #tableReady = false;

  constructor(
    private readonly connect: () => Promise<Connection>,
    private readonly database: string,
    private readonly keyTextSql: string,
    private readonly secrets: readonly string[],
    private readonly onLost: (pipeline: string) => void,
  ) {}

  async tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined> {
    const current = this.#held.get(pipeline);
    if (current && !current.lost) return undefined; // this destination already holds it
    if (current) {
      this.#held.delete(pipeline); // lost with its connection: take it again
      current.conn.destroy();
    }
    const name = lockName(this.database, pipeline);
    const conn = await this.connect();
    let sql = '';
    const run = async <T>(text: string, params?: unknown[]): Promise<T[]> => {
      sql = text;
      const [rows] = params ? await conn.execute(text, params as never[]) : await conn.query(text);
      return rows as T[];
    };
    try {
      // Created once per destination; a waiting run polls tryLock every half second.
      if (!this.#tableReady) {
        await run(
          `CREATE TABLE IF NOT EXISTS ${LOCKS} (pipeline ${this.keyTextSql} NOT NULL PRIMARY KEY, holder ${this.keyTextSql} NOT NULL, since VARCHAR(40) NOT NULL, connection_id BIGINT NOT NULL) ENGINE=InnoDB`,
        );
        this.#tableReady = true;
      }
      const [got] = await run<{ got: number | null }>('SELECT GET_LOCK(?, 0) AS got', [name]);
      if (got?.got === 1) {
        await run(
          `REPLACE INTO ${LOCKS} (pipeline, holder, since, connection_id) VALUES (?, ?, ?, CONNECTION_ID())`,
          [pipeline, holder, new Date().toISOString()],
        );
        const timer = setInterval(() => {
          conn.query('SELECT 1').catch(() => lose());
        }, KEEPALIVE_MS);
        timer.unref();
        const held: Held = { conn, name, timer, lost: false };
        // Noticed at once, not at the next keepalive: the runner checks `lost` before each file.
        const lose = () => {
          if (held.lost || this.#held.get(pipeline) !== held) return; // unlock() ends it on purpose
          held.lost = true;
          clearInterval(timer);
          this.onLost(pipeline);
        };
        conn.on('error', lose);
        conn.on('end', lose);
        this.#held.set(pipeline, held);
        return undefined;
      }
      if (got?.got !== 0) throw new Error(`GET_LOCK(${name}) failed`);
      const [row] = await run<{
        holder: string | null;
        since: string | null;
        connection_id: number | null;
        owner: number | null;
      }>(
        `SELECT l.holder, l.since, l.connection_id, IS_USED_LOCK(?) AS owner FROM (SELECT 1 AS one) x LEFT JOIN ${LOCKS} l ON l.pipeline = ?`,
        [name, pipeline],
      );
      await conn.end();
      // The row is only trusted when its connection still owns the lock (a holder that died
      // leaves its row behind, and the next holder may not have written its own yet).
      if (row?.holder && row.owner !== null && Number(row.owner) === Number(row.connection_id)) {
        return { pipeline, holder: row.holder, since: row.since ?? 'unknown' };
      }
      return {
        pipeline,
        holder: row?.owner ? `MySQL connection ${row.owner}` : 'another session',
        since: 'unknown',
      };
    } catch (err) {
      conn.destroy();
      throw translateMysqlError(err, sql, { secrets: this.secrets });
    }
  }

  async unlock(pipeline: string): Promise<void> {
    const held = this.#held.get(pipeline);
    if (!held) return;
    this.#held.delete(pipeline);
    clearInterval(held.timer);
    try {
      await held.conn.execute(`DELETE FROM ${LOCKS} WHERE pipeline = ? AND connection_id = CONNECTION_ID()`, [
        pipeline,
      ]);
      await held.conn.execute('SELECT RELEASE_LOCK(?)', [held.name]);
      await held.conn.end();
    } catch {
      // Closing the connection frees the lock on the server whatever failed above.
      held.conn.destroy();
    }
  }

  /**
   * Asked on `db` (a file's transaction, just before it commits): whether the server says
   * the lock of `pipeline` is still held by our lock connection. Closes the window between
   * the runner's check before a file and the commit, in which a restart could free the lock
   * and another run take it without this process having noticed yet.
   */
  async holds(
    db: { query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> },
    pipeline: string,
  ): Promise<boolean> {
    const held = this.#held.get(pipeline);
    if (!held || held.lost) return false;
    // Asked on the lock's own connection: after a server restart connection ids start again,
    // so another run's lock connection may have the id ours had — comparing IS_USED_LOCK with
    // the id remembered would then say "ours" (two runs loading at once). On our connection,
    // CONNECTION_ID() is its id now, and a connection the restart closed fails the query.
    void db;
    let mine = false;
    try {
      const [rows] = await held.conn.query('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', [held.name]);
      mine = Number((rows as Array<{ mine: number | null }>)[0]?.mine) === 1;
    } catch {
      mine = false;
    }
    if (mine) return true;
    // The server says the lock is not ours: its connection died (a restart) before the
    // keepalive noticed. Lost from now on, so that tryLock takes it again if it is free.
    if (this.#held.get(pipeline) === held && !held.lost) {
      held.lost = true;
      clearInterval(held.timer);
      held.conn.destroy();
      this.onLost(pipeline);
    }
    return false;
  }

  /** Whether the lock of `pipeline` was taken here and its connection has closed since. */
  lost(pipeline: string): boolean {
    return this.#held.get(pipeline)?.lost ?? false;
  }

  async unlockAll(): Promise<void> {
    for (const pipeline of [...this.#held.keys()]) await this.unlock(pipeline);
  }
}

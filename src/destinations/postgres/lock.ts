import { createHash } from 'node:crypto';
import type { Client } from 'pg';
import type { LockInfo } from '../types.js';
import { translatePgError } from './errors.js';
import { runSql } from './session.js';

const LOCKS = '_tributary_locks';
/** A held lock's connection is pinged so that a dead connection (and a freed lock) is noticed between files. */
const KEEPALIVE_MS = 60_000;

interface Held {
  conn: Client;
  key: LockKey;
  timer: NodeJS.Timeout;
  /** The connection closed (a server restart, a network cut): the server has freed the lock. */
  lost: boolean;
  /** The lock connection's last statement: the next waits for it (one statement at a time). */
  busy: Promise<unknown>;
}

/**
 * `fn` on the lock's connection once its previous statement is done: the keepalive, the
 * check before a commit and the unlock may come at the same moment, and a pg client takes
 * one query at a time (a second one while the first runs is deprecated, an error in pg 9).
 */
function onLockConn<T>(held: Held, fn: () => Promise<T>): Promise<T> {
  const next = held.busy.then(fn, fn);
  held.busy = next.catch(() => undefined);
  return next;
}

/** A 64-bit advisory lock key, and its halves as pg_locks shows them (classid, objid). */
interface LockKey {
  key: string;
  classid: string;
  objid: string;
}

/**
 * The advisory lock key of a pipeline: the first 64 bits of SHA-256 over the database, the
 * schema and the pipeline name (advisory locks are per database; two schemas of one database
 * are two sets of pipelines).
 */
export function lockKey(database: string, schema: string, pipeline: string): LockKey {
  const digest = createHash('sha256').update(`tributary\0${database}\0${schema}\0${pipeline}`).digest();
  const hi = digest.readUInt32BE(0);
  const lo = digest.readUInt32BE(4);
  const key = BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
  return { key: key.toString(), classid: String(hi), objid: String(lo) };
}

/** pg_locks rows of a bigint advisory lock: classid the high half, objid the low, objsubid 1. */
const ADVISORY = `locktype = 'advisory' AND classid = ?::oid AND objid = ?::oid AND objsubid = 1 AND granted`;

/**
 * Pipeline run locks with `pg_try_advisory_lock`, each on a dedicated connection (not the
 * pool) held for the run: a session-level advisory lock lives as long as its session, so the
 * server frees it when that connection ends — a killed process, or a restarted server, never
 * leaves a stale lock. The holder and the time it took the lock are written to
 * `_tributary_locks` so a second caller can say who runs the pipeline and since when.
 */
export class RunLocks {
  readonly #held = new Map<string, Held>();

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly database: string,
    private readonly schema: string,
    private readonly secrets: readonly string[],
    private readonly onLost: (pipeline: string) => void,
  ) {}

  async tryLock(pipeline: string, holder: string): Promise<LockInfo | undefined> {
    const current = this.#held.get(pipeline);
    if (current && !current.lost) return undefined; // this destination already holds it
    if (current) {
      this.#held.delete(pipeline); // lost with its connection: take it again
      await current.conn.end().catch(() => undefined);
    }
    const key = lockKey(this.database, this.schema, pipeline);
    const conn = await this.connect();
    conn.on('error', () => undefined); // until `lose` listens: an idle connection's error must not crash the process
    let sql = '';
    const run = async <T>(text: string, params?: unknown[]): Promise<T[]> => {
      sql = text;
      return (await runSql(conn, text, params)).rows as T[];
    };
    try {
      const [got] = await run<{ got: boolean }>('SELECT pg_try_advisory_lock(?::bigint) AS got', [key.key]);
      if (got?.got) {
        // Only a holder writes the table (and creates it), so two runs starting at once never
        // race on CREATE TABLE IF NOT EXISTS (which PostgreSQL does not make atomic).
        await run(
          `CREATE TABLE IF NOT EXISTS ${LOCKS} (pipeline TEXT PRIMARY KEY, holder TEXT NOT NULL, since TEXT NOT NULL, pid INTEGER NOT NULL)`,
        ).catch(async (err: { code?: string }) => {
          if (err.code !== '23505' && err.code !== '42P07') throw err; // another pipeline's holder made it
        });
        await run(
          `INSERT INTO ${LOCKS} (pipeline, holder, since, pid) VALUES (?, ?, ?, pg_backend_pid())
           ON CONFLICT (pipeline) DO UPDATE SET holder = EXCLUDED.holder, since = EXCLUDED.since, pid = EXCLUDED.pid`,
          [pipeline, holder, new Date().toISOString()],
        );
        const timer = setInterval(() => {
          onLockConn(held, () => conn.query('SELECT 1')).catch(() => lose());
        }, KEEPALIVE_MS);
        timer.unref();
        const held: Held = { conn, key, timer, lost: false, busy: Promise.resolve() };
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
      const [row] = await run<{
        holder: string | null;
        since: string | null;
        pid: number | null;
        owner: number | null;
      }>(
        `SELECT l.holder, l.since, l.pid, o.pid AS owner
           FROM (SELECT 1 AS one) x
           LEFT JOIN (SELECT pid FROM pg_locks WHERE ${ADVISORY} LIMIT 1) o ON TRUE
           LEFT JOIN ${LOCKS} l ON l.pipeline = ?`,
        [key.classid, key.objid, pipeline],
      ).catch(async () =>
        // No lock table yet (its creator has not committed it): only the owner is known.
        run<{ holder: null; since: null; pid: null; owner: number | null }>(
          `SELECT NULL AS holder, NULL AS since, NULL AS pid, (SELECT pid FROM pg_locks WHERE ${ADVISORY} LIMIT 1) AS owner`,
          [key.classid, key.objid],
        ),
      );
      await conn.end();
      // The row is only trusted when its session still owns the lock (a holder that died
      // leaves its row behind, and the next holder may not have written its own yet).
      if (row?.holder && row.owner !== null && Number(row.owner) === Number(row.pid)) {
        return { pipeline, holder: row.holder, since: row.since ?? 'unknown' };
      }
      return {
        pipeline,
        holder: row?.owner ? `PostgreSQL backend ${row.owner}` : 'another session',
        since: 'unknown',
      };
    } catch (err) {
      await conn.end().catch(() => undefined);
      throw translatePgError(err, sql, { secrets: this.secrets });
    }
  }

  async unlock(pipeline: string): Promise<void> {
    const held = this.#held.get(pipeline);
    if (!held) return;
    this.#held.delete(pipeline);
    clearInterval(held.timer);
    try {
      await onLockConn(held, async () => {
        await runSql(held.conn, `DELETE FROM ${LOCKS} WHERE pipeline = ? AND pid = pg_backend_pid()`, [
          pipeline,
        ]);
        await runSql(held.conn, 'SELECT pg_advisory_unlock(?::bigint)', [held.key.key]);
      });
    } catch {
      // Closing the session frees the lock on the server whatever failed above.
    }
    await held.conn.end().catch(() => undefined);
  }

  /**
   * Asked inside a file's transaction, just before it commits: whether the server says the
   * lock of `pipeline` is still held by our lock session. Closes the window between the
   * runner's check before a file and the commit, in which a restart could free the lock and
   * another run take it before this process noticed. Asked on the lock's own connection:
   * a connection the restart closed fails the query.
   */
  async holds(pipeline: string): Promise<boolean> {
    const held = this.#held.get(pipeline);
    if (!held || held.lost) return false;
    let mine = false;
    try {
      const r = await onLockConn(held, () =>
        runSql(
          held.conn,
          `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE ${ADVISORY} AND pid = pg_backend_pid()) AS mine`,
          [held.key.classid, held.key.objid],
        ),
      );
      mine = (r.rows[0] as { mine?: boolean } | undefined)?.mine === true;
    } catch {
      mine = false;
    }
    if (mine) return true;
    if (this.#held.get(pipeline) === held && !held.lost) {
      held.lost = true;
      clearInterval(held.timer);
      await held.conn.end().catch(() => undefined);
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

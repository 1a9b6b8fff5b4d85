import { randomUUID } from 'node:crypto';
import { TributaryError } from '../core/errors.js';
import type { Destination, SqlClient } from '../destinations/types.js';
import { now, pathKey, T } from './tables.js';

/**
 * Fences for loads done by other processes (workers on a queue, docs/distributed.md). A queue
 * delivers a job at least once, and a worker that stopped answering (paused, cut off) may come
 * back after its job was given to another: the database, where the file's rows commit, must
 * refuse its commit. Two rows of `_tributary_claims` decide, both read with a shared lock
 * inside the file's transaction, right before its ledger row is written:
 *
 * - the pipeline's **epoch** (`path_key` ''): the id of the newest run. Every run sets it when
 *   it starts, under the run lock; a job of an older run is refused. The shared lock makes
 *   the two serialize: a run cannot start (and plan) while an older run's file is committing.
 * - the file's **claim**: a counter each attempt of a job increments before it reads the
 *   file. An attempt commits only if the counter is still its own: a later attempt of the
 *   same file (the job given to another worker) fences the earlier one out.
 */

const EPOCH = '';
/** The row holding the pipeline's id in this database (`holder`); never a path's key (hex). */
const ID = '#id';

/**
 * A random id of the pipeline in this database, made by the first process that asks: a
 * pipeline is its name *and* its database, so two configs with one name and two databases
 * never share a queue (src/queue/protocol.ts), whatever host name each machine reaches the
 * database by.
 */
export async function pipelineId(db: SqlClient, pipeline: string): Promise<string> {
  const read = async () => {
    const [row] = await db.query<{ holder: string }>(
      `SELECT holder FROM ${T.claims} WHERE pipeline = ? AND path_key = ?`,
      [pipeline, ID],
    );
    return row?.holder;
  };
  const found = await read();
  if (found) return found;
  try {
    await db.execute(
      `INSERT INTO ${T.claims} (pipeline, path_key, run_id, token, holder, claimed_at) VALUES (?, ?, 0, 0, ?, ?)`,
      [pipeline, ID, randomUUID().replaceAll('-', '').slice(0, 12), now()],
    );
  } catch (err) {
    // Another process made it first: its id stands.
    if (!(await read())) throw err;
  }
  return (await read()) as string;
}

/** A job that may not commit: its run is over, or a later attempt claimed its file. */
export function fenced(message: string): TributaryError {
  return new TributaryError('FENCED', message);
}

/** Set the pipeline's epoch to `runId`: jobs of earlier runs commit nothing from now on. */
export async function openEpoch(db: SqlClient, pipeline: string, runId: number): Promise<void> {
  const r = await db.execute(
    `UPDATE ${T.claims} SET run_id = ?, claimed_at = ? WHERE pipeline = ? AND path_key = ?`,
    [runId, now(), pipeline, EPOCH],
  );
  if (r.affectedRows > 0) return;
  // First run of the pipeline (or the row is already `runId`, which MySQL counts as 0 rows):
  // under the run lock, no other process writes the epoch.
  const [row] = await db.query<{ run_id: number }>(
    `SELECT run_id FROM ${T.claims} WHERE pipeline = ? AND path_key = ?`,
    [pipeline, EPOCH],
  );
  if (row) return;
  await db.execute(
    `INSERT INTO ${T.claims} (pipeline, path_key, run_id, token, holder, claimed_at) VALUES (?, ?, ?, 0, '', ?)`,
    [pipeline, EPOCH, runId, now()],
  );
}

export interface Claim {
  pipeline: string;
  path: string;
  runId: number;
  token: number;
}

/**
 * Claim `path` for an attempt of a job of run `runId`: its counter goes up by one and the
 * attempt keeps the new value. Refused (FENCED) when the run is no longer the newest.
 */
export async function claimFile(
  dest: Destination,
  pipeline: string,
  path: string,
  runId: number,
  holder: string,
): Promise<Claim> {
  const key = pathKey(path);
  for (let tries = 0; ; tries++) {
    try {
      return await dest.transaction(async (tx) => {
        const epoch = await readEpoch(tx, pipeline, dest.dialect.shareLockSql);
        if (epoch !== runId) throw staleRun(path, runId, epoch);
        const up = await tx.execute(
          `UPDATE ${T.claims} SET token = token + 1, run_id = ?, holder = ?, claimed_at = ? WHERE pipeline = ? AND path_key = ?`,
          [runId, holder, now(), pipeline, key],
        );
        if (up.affectedRows === 0) {
          await tx.execute(
            `INSERT INTO ${T.claims} (pipeline, path_key, run_id, token, holder, claimed_at) VALUES (?, ?, ?, 1, ?, ?)`,
            [pipeline, key, runId, holder, now()],
          );
        }
        const [row] = await tx.query<{ token: number }>(
          `SELECT token FROM ${T.claims} WHERE pipeline = ? AND path_key = ?`,
          [pipeline, key],
        );
        return { pipeline, path, runId, token: Number(row?.token) };
      });
    } catch (err) {
      // Two first claims of one file inserted at once: one met the other's key; again.
      if (tries < 3 && !(err instanceof TributaryError && err.code === 'FENCED')) {
        const exists = await dest.query(`SELECT 1 FROM ${T.claims} WHERE pipeline = ? AND path_key = ?`, [
          pipeline,
          key,
        ]);
        if (exists.length > 0) continue;
      }
      throw err;
    }
  }
}

/**
 * Inside the file's transaction, right before its ledger row: the run is still the newest
 * and the claim still the file's last. The rows are read with a shared lock, so a new run
 * (openEpoch) or a new claim (claimFile) waits until this transaction has ended.
 */
export async function checkClaim(tx: SqlClient, shareLockSql: string, claim: Claim): Promise<void> {
  const epoch = await readEpoch(tx, claim.pipeline, shareLockSql);
  if (epoch !== claim.runId) throw staleRun(claim.path, claim.runId, epoch);
  const [row] = await tx.query<{ run_id: number; token: number; holder: string }>(
    `SELECT run_id, token, holder FROM ${T.claims} WHERE pipeline = ? AND path_key = ? ${shareLockSql}`,
    [claim.pipeline, pathKey(claim.path)],
  );
  if (row && Number(row.run_id) === claim.runId && Number(row.token) === claim.token) return;
  throw fenced(
    `${claim.path}: this attempt was fenced out: the job was given to another worker${row?.holder ? ` (${row.holder})` : ''} after this one stopped answering; its rows were rolled back`,
  );
}

async function readEpoch(db: SqlClient, pipeline: string, shareLockSql: string): Promise<number | undefined> {
  const [row] = await db.query<{ run_id: number }>(
    `SELECT run_id FROM ${T.claims} WHERE pipeline = ? AND path_key = ? ${shareLockSql}`,
    [pipeline, EPOCH],
  );
  return row ? Number(row.run_id) : undefined;
}

function staleRun(path: string, runId: number, epoch: number | undefined): TributaryError {
  return fenced(
    `${path}: the job belongs to run ${runId}, which is over${epoch !== undefined ? ` (run ${epoch} started since)` : ''}; it was not loaded by this job`,
  );
}

/**
 * Which worker holds each file claimed by run `runId` (the dashboard's run page): the
 * claim's holder (`host:pid`) and its counter (above 1: the job was given to another worker
 * at least once), by path key. Empty for a run without a queue.
 */
export async function claimsOfRun(
  db: SqlClient,
  pipeline: string,
  runId: number,
): Promise<Map<string, { holder: string; token: number; claimedAt: string }>> {
  const rows = await db.query<{ path_key: string; holder: string; token: number; claimed_at: string }>(
    `SELECT path_key, holder, token, claimed_at FROM ${T.claims} WHERE pipeline = ? AND run_id = ? AND path_key <> ? AND path_key <> ?`,
    [pipeline, runId, EPOCH, ID],
  );
  return new Map(
    rows.map((r) => [r.path_key, { holder: r.holder, token: Number(r.token), claimedAt: r.claimed_at }]),
  );
}

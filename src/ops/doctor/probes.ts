import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { messageOf } from '../../core/errors.js';
import type { Destination } from '../../destinations/types.js';
import type { DiscoveredFile } from '../../sources/discover.js';
import { readFile } from '../../sources/open.js';
import { PRIVILEGE_STEPS, type Privilege } from './checks.js';

/**
 * The doctor's measurements (I/O). Server facts have no common SQL, so the few statements
 * are looked up by dialect here — a diagnostic asks each server in its own words, while
 * the load path itself branches only on capabilities.
 */
const SERVER_SQL = {
  sqlite: {
    version: 'SELECT sqlite_version() AS v',
    localInfile: undefined,
    datadir: undefined,
    encoding: undefined,
  },
  mysql: {
    version: 'SELECT VERSION() AS v',
    localInfile: 'SELECT @@GLOBAL.local_infile AS v',
    datadir: 'SELECT @@datadir AS v',
    encoding: undefined, // utf8mb4 is set on every table Tributary creates
  },
  // data_directory is readable only by superusers and pg_read_all_settings: not asked.
  postgres: {
    version: "SELECT current_setting('server_version') AS v",
    localInfile: undefined,
    datadir: undefined,
    encoding: 'SELECT pg_encoding_to_char(encoding) AS v FROM pg_database WHERE datname = current_database()',
  },
} as const;

/** The error code of a TCP connection attempt (`ECONNREFUSED`, …), or undefined when it connects. */
export function tcpProbe(host: string, port: number, timeoutMs = 3_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (code: string | undefined) => {
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? 'ECONNRESET'));
  });
}

/** Free bytes on the file system holding `target` (or its nearest existing parent folder). */
export async function freeBytes(target: string): Promise<{ where: string; free: number } | undefined> {
  let dir = path.resolve(target);
  while (!fs.existsSync(dir)) {
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  const st = await fs.promises.statfs(dir);
  return { where: dir, free: st.bavail * st.bsize };
}

/** The nearest existing folder of `file` is writable (SQLite creates the file on the first run). */
export function folderWritable(file: string): string | undefined {
  let dir = path.dirname(path.resolve(file));
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return undefined;
  } catch (err) {
    return `${dir} is not writable: ${messageOf(err)}`;
  }
}

export async function serverVersion(dest: Destination): Promise<string> {
  const [row] = await dest.query<{ v: string }>(SERVER_SQL[dest.dialect.name].version);
  return String(row?.v ?? 'unknown');
}

/** `@@GLOBAL.local_infile`, or undefined where the dialect has no bulk path to check. */
export async function localInfile(dest: Destination): Promise<string | number | null | undefined> {
  const sql = SERVER_SQL[dest.dialect.name].localInfile;
  if (!sql) return undefined;
  const [row] = await dest.query<{ v: string | number | null }>(sql);
  return row?.v ?? null;
}

/** The database's text encoding, where the database (not each table) decides it. */
export async function dbEncoding(dest: Destination): Promise<string | undefined> {
  const sql = SERVER_SQL[dest.dialect.name].encoding;
  if (!sql) return undefined;
  const [row] = await dest.query<{ v: string }>(sql);
  return row?.v ?? undefined;
}

/** The server's data folder, when the dialect has one to ask for. */
export async function dataDir(dest: Destination): Promise<string | undefined> {
  const sql = SERVER_SQL[dest.dialect.name].datadir;
  if (!sql) return undefined;
  const [row] = await dest.query<{ v: string }>(sql);
  return row?.v ?? undefined;
}

const PROBE = '_tributary_doctor_probe';
const PROBE_TMP = '_tributary_doctor_tmp';

/**
 * Do what a run does to tables, on a scratch table: create, alter, insert, update, read,
 * delete, a temporary table (MySQL's staging), drop. When CREATE fails the steps that need
 * the table are not tried, so only CREATE is reported.
 */
export async function probePrivileges(
  dest: Destination,
): Promise<Array<{ privilege: Privilege; error: string }>> {
  const q = dest.dialect.quote;
  const int = dest.dialect.typeSql({ kind: 'integer' }, false);
  const text = dest.dialect.typeSql({ kind: 'text' }, false);
  const sql: Record<Privilege, string[]> = {
    CREATE: [`CREATE TABLE IF NOT EXISTS ${q(PROBE)} (id ${int})`],
    ALTER: [`ALTER TABLE ${q(PROBE)} ADD COLUMN ${q(`c${Date.now()}`)} ${text}`],
    INSERT: [`INSERT INTO ${q(PROBE)} (id) VALUES (1)`],
    UPDATE: [`UPDATE ${q(PROBE)} SET id = 2 WHERE id = 1`],
    SELECT: [`SELECT count(*) AS n FROM ${q(PROBE)}`],
    DELETE: [`DELETE FROM ${q(PROBE)}`],
    'CREATE TEMPORARY TABLES': [
      `CREATE TEMPORARY TABLE ${q(PROBE_TMP)} (id ${int})`,
      `DROP TABLE ${q(PROBE_TMP)}`,
    ],
    DROP: [`DROP TABLE ${q(PROBE)}`],
  };
  const missing: Array<{ privilege: Privilege; error: string }> = [];
  for (const step of PRIVILEGE_STEPS) {
    try {
      for (const s of sql[step.privilege]) await dest.execute(s);
    } catch (err) {
      missing.push({ privilege: step.privilege, error: messageOf(err) });
      if (step.privilege === 'CREATE') break;
    }
  }
  return missing;
}

/** Read the head of a file with the run's reader: undefined when it reads, else why not. */
export async function readHead(
  file: DiscoveredFile,
  source: { format?: 'csv' | 'json' | 'ndjson'; delimiter?: string; records?: string; encoding?: string },
): Promise<string | undefined> {
  try {
    for await (const _batch of readFile(file.abs, {
      format: source.format,
      delimiter: source.delimiter,
      ...(source.records === undefined ? {} : { records: source.records }),
      ...(source.encoding === undefined ? {} : { encoding: source.encoding }),
      batchSize: 50,
    })) {
      break; // one batch proves the file opens, decompresses and parses
    }
    return undefined;
  } catch (err) {
    return messageOf(err).replace(`${file.abs}: `, '');
  }
}

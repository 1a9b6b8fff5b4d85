/**
 * `tributary doctor`'s verdicts: pure functions from what the probes measured to a check
 * with its fix. No I/O here (probes.ts measures), so every verdict is tested with plain data.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** Stable name: `config`, `files`, `destination`, `version`, `privileges`, `bulk_load`, `lock`, `disk`, `state`. */
  name: string;
  status: CheckStatus;
  message: string;
  /** What to do about it; present whenever the status is `warn` or `fail`. */
  fix?: string;
}

export const ok = (name: string, message: string): Check => ({ name, status: 'ok', message });
export const skip = (name: string, message: string): Check => ({ name, status: 'skip', message });
export const warn = (name: string, message: string, fix: string): Check => ({
  name,
  status: 'warn',
  message,
  fix,
});
export const fail = (name: string, message: string, fix: string): Check => ({
  name,
  status: 'fail',
  message,
  fix,
});

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export function bytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

/** Why a TCP connection to the database failed, in words, with the fix. */
export function unreachable(target: string, host: string, port: number, code: string): Check {
  const why: Record<string, string> = {
    ECONNREFUSED: `nothing listens on ${host}:${port} (connection refused): the database server is not running, or not on this port`,
    ETIMEDOUT: `no answer from ${host}:${port} (timed out): a firewall, or the wrong host`,
    ENOTFOUND: `the host name ${host} does not resolve`,
    EAI_AGAIN: `the host name ${host} could not be resolved (DNS not answering)`,
    EHOSTUNREACH: `${host} is unreachable from here`,
    ENETUNREACH: `no network route to ${host}`,
  };
  return fail(
    'destination',
    `cannot reach ${target}: ${why[code] ?? `${code} connecting to ${host}:${port}`}`,
    code === 'ENOTFOUND' || code === 'EAI_AGAIN'
      ? 'correct the host in `destination:` (or the DNS)'
      : 'start the database server (e.g. `systemctl start mariadb`), or correct the host and port in `destination:`',
  );
}

/** The destination answered TCP but refused to open: a login or database problem. */
export function refused(target: string, message: string): Check {
  const fix = /access denied|1045|1698/i.test(message)
    ? 'check the user and password: in the URL, or in TRIBUTARY_DB_PASSWORD when the URL has none'
    : /1044|1049|database/i.test(message)
      ? 'create the database, or grant the user CREATE on it so Tributary creates it'
      : /SQLITE_CANTOPEN|SQLITE_READONLY|EACCES|EROFS/i.test(message)
        ? 'make the database file and its folder writable by this user'
        : 'see the message; `tributary doctor --log-level debug` shows each step';
  return fail('destination', `${target} refused to open: ${message}`, fix);
}

/** Minimum versions: what Tributary is tested on (older ones may work, unchecked). */
const MINIMUM = {
  sqlite: { version: [3, 43, 0], why: 'compensated SUM of decimals, exact to the cent' },
  mysql: { version: [8, 0, 0], why: 'the version Tributary is tested on' },
  mariadb: { version: [10, 6, 0], why: 'the oldest MariaDB Tributary is tested on (10.11 is the reference)' },
  postgres: { version: [13, 0, 0], why: 'the oldest PostgreSQL Tributary supports (15 is the reference)' },
} as const;

/** `10.11.19-MariaDB-0+deb12u1`, `8.0.36`, `3.45.1` against the minimum for its kind. */
export function versionCheck(dialect: 'sqlite' | 'mysql' | 'postgres', version: string): Check {
  const kind = dialect !== 'mysql' ? dialect : /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  const label = { sqlite: 'SQLite', mysql: 'MySQL', mariadb: 'MariaDB', postgres: 'PostgreSQL' }[kind];
  const min = MINIMUM[kind];
  const have = (version.match(/\d+/g) ?? []).slice(0, 3).map(Number);
  if (compare(have, min.version) >= 0) return ok('version', `${label} ${version}`);
  return warn(
    'version',
    `${label} ${version} is older than ${min.version.join('.')} (${min.why})`,
    `upgrade the server to ${label} ${min.version.join('.')} or newer`,
  );
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The statements the privileges probe runs, with the privilege each one needs. */
export const PRIVILEGE_STEPS = [
  { privilege: 'CREATE', what: 'create a table' },
  { privilege: 'ALTER', what: 'add a column' },
  { privilege: 'INSERT', what: 'insert a row' },
  { privilege: 'UPDATE', what: 'update a row' },
  { privilege: 'SELECT', what: 'read a row' },
  { privilege: 'DELETE', what: 'delete a row' },
  { privilege: 'CREATE TEMPORARY TABLES', what: 'create a temporary table' },
  { privilege: 'DROP', what: 'drop a table' },
] as const;

export type Privilege = (typeof PRIVILEGE_STEPS)[number]['privilege'];

/**
 * The probe's outcome: every step passed, or the privileges that failed with the first
 * error. `grant` is who needs them, for the GRANT statement of a server (MySQL's, or
 * PostgreSQL's on the database and the schema); absent for SQLite.
 */
export function privilegesCheck(
  missing: ReadonlyArray<{ privilege: Privilege; error: string }>,
  grant?:
    | { user: string; database: string }
    | { user: string; database: string; schema: string; dialect: 'postgres' },
): Check {
  if (missing.length === 0) {
    return ok('privileges', 'can create, alter, write, read and drop tables (probed with a scratch table)');
  }
  const names = missing.map((m) => m.privilege);
  const first = missing[0] as { privilege: Privilege; error: string };
  return fail(
    'privileges',
    `cannot ${names.map((n) => PRIVILEGE_STEPS.find((s) => s.privilege === n)?.what).join(', ')}: ${first.error}`,
    !grant
      ? 'make the database file and its folder writable by this user'
      : 'schema' in grant
        ? postgresGrant(grant)
        : `GRANT ${names.join(', ')} ON \`${grant.database}\`.* TO '${grant.user}'@'%'; (as an administrator)`,
  );
}

/**
 * On PostgreSQL a table's creator owns it and may alter, write and drop it: what a run needs
 * is CREATE and USAGE on its schema, and TEMPORARY (staging tables) and CONNECT on the database.
 */
function postgresGrant(g: { user: string; database: string; schema: string }): string {
  const id = (s: string) => `"${s.replaceAll('"', '""')}"`;
  return `GRANT CREATE, USAGE ON SCHEMA ${id(g.schema)} TO ${id(g.user)}; GRANT CONNECT, TEMPORARY ON DATABASE ${id(g.database)} TO ${id(g.user)}; (as an administrator or the owner)`;
}

/** PostgreSQL's database encoding: text is stored as UTF-8 only in a UTF8 database. */
export function encodingCheck(encoding: string): Check {
  if (encoding.toUpperCase() === 'UTF8') return ok('encoding', 'the database stores text as UTF-8');
  return fail(
    'encoding',
    `the database encoding is ${encoding}: text outside it cannot be stored, and loads of such values fail`,
    "create the database as UTF8: CREATE DATABASE <name> ENCODING 'UTF8' TEMPLATE template0, then run `tributary run --full-refresh`",
  );
}

/** MySQL's `local_infile`: off means the slower multi-row INSERT path, not a failure. */
export function bulkLoadCheck(value: string | number | null | undefined): Check {
  if (Number(value) === 1 || String(value).toUpperCase() === 'ON') {
    return ok('bulk_load', 'local_infile is ON: rows load with LOAD DATA LOCAL INFILE');
  }
  return warn(
    'bulk_load',
    'local_infile is OFF on the server: rows load with multi-row INSERTs, about half as fast',
    'SET GLOBAL local_infile = 1; and `local_infile = 1` under [mysqld] in the server config to keep it after a restart',
  );
}

/**
 * Free space where the data goes against what the files still to load need: their size
 * twice over (rows plus indexes, and the journal or undo log while a file commits).
 */
export function diskCheck(where: string, free: number, pendingBytes: number): Check {
  const need = 2 * pendingBytes;
  const detail = `${bytes(free)} free at ${where}; the files still to load are ${bytes(pendingBytes)}`;
  if (free < need) {
    return fail(
      'disk',
      `${detail}, which needs about ${bytes(need)}`,
      `free space at ${where}, or move the destination`,
    );
  }
  if (free < need + GiB) {
    return warn(
      'disk',
      `${detail}: less than 1 GiB to spare`,
      `free space at ${where} before the data grows`,
    );
  }
  return ok('disk', detail);
}

/** Sources that match no file, and files a reader cannot open. */
export function filesCheck(
  sources: ReadonlyArray<{ label: string; files: number; bytes: number }>,
  unreadable: ReadonlyArray<{ file: string; error: string }>,
): Check[] {
  const out: Check[] = [];
  for (const s of sources) {
    out.push(
      s.files === 0
        ? warn(
            'files',
            `${s.label} matches no file`,
            'check the glob: it is relative to the config file, and `{name}` matches one folder level',
          )
        : ok('files', `${s.label}: ${s.files} file(s), ${bytes(s.bytes)}`),
    );
  }
  if (unreadable.length > 0) {
    const list = unreadable
      .slice(0, 5)
      .map((u) => `${u.file} (${u.error})`)
      .join('; ');
    out.push(
      fail(
        'files',
        `${unreadable.length} file(s) cannot be read: ${list}${unreadable.length > 5 ? '; …' : ''}`,
        'fix the permissions or replace the damaged files; until then they are marked failed and retried every run',
      ),
    );
  }
  return out;
}

/** Exit status of a doctor run: a failed check makes it non-zero (warnings do not). */
export function healthy(checks: readonly Check[]): boolean {
  return checks.every((c) => c.status !== 'fail');
}

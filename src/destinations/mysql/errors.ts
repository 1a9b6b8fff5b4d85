import { maskUrl } from '../../config/destination.js';
import { TributaryError } from '../../core/errors.js';

/** What mysql2 puts on its errors (server errors carry errno/sqlState; socket errors only a code). */
interface DriverError {
  message?: string;
  code?: string;
  errno?: number;
  sqlState?: string;
  sqlMessage?: string;
  fatal?: boolean;
}

/**
 * Worth retrying: the connection went away or the server chose us as a deadlock victim.
 * Access denied, unknown database, syntax and data errors are terminal.
 */
const TRANSIENT_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const TRANSIENT_ERRNOS = new Set([
  1020, // ER_CHECKREAD: record changed since last read (snapshot isolation)
  1040, // ER_CON_COUNT_ERROR: too many connections
  1053, // ER_SERVER_SHUTDOWN
  1205, // ER_LOCK_WAIT_TIMEOUT
  1213, // ER_LOCK_DEADLOCK
  1927, // ER_CONNECTION_KILLED (MariaDB)
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
]);
/** mysql2 raises these without a code when a command is queued on a dead connection. */
const TRANSIENT_MESSAGES = [/connection is in closed state/i, /Connection lost/i, /socket hang up/i];

/**
 * ER_TOO_BIG_ROWSIZE (1118) and its InnoDB form (139): a table too wide for one row (also
 * ER_CANT_CREATE_TABLE 1005 "Too many columns", past InnoDB's 1,017).
 */
const ROW_SIZE_ERRNOS = new Set([1118, 139]);
const ROW_SIZE_HINT =
  ' — the table has more columns than a MariaDB/MySQL row can hold (InnoDB keeps about 8 KB of each row in its page: about 400 text columns, fewer with numbers and dates). Text columns are already LONGTEXT, so no type change helps: load fewer columns (split the file into several sources feeding different tables, or drop columns at the source), or use a destination without this limit (SQLite)';

/** Errors met while connecting: reported as DEST_CONNECT, the rest as DEST_QUERY. */
const CONNECT_ERRNOS = new Set([1044, 1045, 1049, 1040, 1698]);

/**
 * Words after which a quoted server-message fragment names a schema object and is kept;
 * any other quoted fragment may be a row value ("Duplicate entry 'x' for key", "Incorrect
 * decimal value: 'x'") and is replaced by `'…'`.
 */
const NAME_BEFORE_QUOTE =
  /\b(?:key|column|table|database|index|constraint|field|function|procedure|user|variable|in)\s*$/i;

/** Server message without row values: quoted fragments that are not object names become `'…'`. */
export function redactServerMessage(message: string): string {
  return message.replace(/'((?:[^'\\]|\\.|'')*)'/g, (whole, _inner: string, offset: number) =>
    NAME_BEFORE_QUOTE.test(message.slice(Math.max(0, offset - 20), offset)) ? whole : "'…'",
  );
}

function cut(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/**
 * Text without credentials: the password of any `scheme://user:password@` URL, and each secret
 * — as written and URL-encoded. Before any cut: a cut inside a password would leave its start,
 * which no pattern recognises afterwards.
 */
function scrub(text: string, secrets: readonly string[]): string {
  let out = maskUrl(text);
  // Very short secrets would mangle ordinary words; the driver never echoes passwords anyway.
  for (const s of secrets) {
    if (s.length < 3) continue;
    out = out.replaceAll(s, '***');
    const encoded = encodeURIComponent(s);
    if (encoded !== s) out = out.replaceAll(encoded, '***');
  }
  return out;
}

export interface TranslateOptions {
  /** Strings (the password) that must never appear in a message. */
  secrets?: readonly string[];
  /** The error happened while connecting (DEST_CONNECT rather than DEST_QUERY). */
  connecting?: boolean;
}

/** Whether a driver error means the connection itself is unusable (destroy, do not reuse). */
export function isFatalDriverError(err: unknown): boolean {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.fatal) return true;
  if (e.code && TRANSIENT_CODES.has(e.code)) return true;
  return typeof e.errno === 'number' && [1053, 1927, 2006, 2013, 4031].includes(e.errno);
}

/**
 * The one place mysql2 errors become Tributary errors. The message keeps the driver code,
 * the server message with row values redacted, and the SQL cut to 300 characters — never
 * the bound values (`err.sql` of a client-side formatted query holds them, so it is not
 * used) nor the password. `cause` is a sanitized copy for the same reason.
 */
export function translateMysqlError(err: unknown, what: string, options: TranslateOptions = {}): unknown {
  if (err instanceof TributaryError) return err;
  const e = err as DriverError | null;
  // Only driver errors: anything else (a reader's error inside a transaction) passes through.
  if (
    !e ||
    typeof e !== 'object' ||
    (e.code === undefined && e.errno === undefined && e.fatal === undefined)
  ) {
    return err;
  }
  const secrets = options.secrets ?? [];
  const raw = e.sqlMessage ?? e.message ?? String(err);
  const text = scrub(e.sqlMessage ? redactServerMessage(raw) : raw, secrets);
  const id = [e.code, e.errno].filter((x) => x !== undefined).join(' ');
  const transient =
    (e.code !== undefined && TRANSIENT_CODES.has(e.code)) ||
    (e.errno !== undefined && TRANSIENT_ERRNOS.has(e.errno)) ||
    (e.code === undefined && TRANSIENT_MESSAGES.some((re) => re.test(raw)));
  const connecting = options.connecting || (e.errno !== undefined && CONNECT_ERRNOS.has(e.errno));
  const where = what ? ` (in: ${cut(scrub(what, secrets))})` : '';
  // The server's own hint ("change some columns to TEXT or BLOB") does not apply: they are.
  const tooWide =
    (e.errno !== undefined && ROW_SIZE_ERRNOS.has(e.errno)) ||
    (e.errno === 1005 && /too many columns/i.test(raw));
  const hint = tooWide ? ROW_SIZE_HINT : '';
  const cause = Object.assign(new Error(text), { code: e.code, errno: e.errno, sqlState: e.sqlState });
  return new TributaryError(
    connecting ? 'DEST_CONNECT' : 'DEST_QUERY',
    `MySQL ${id || 'error'}: ${text}${hint}${where}`,
    {
      cause,
      transient,
    },
  );
}

import { maskUrl } from '../../config/destination.js';
import { TributaryError } from '../../core/errors.js';

/** What pg puts on its errors: server errors carry a SQLSTATE `code`; socket errors a Node code. */
interface DriverError {
  message?: string;
  code?: string;
  severity?: string;
  routine?: string;
}

/** Socket-level codes: the connection went away or could not be made (worth retrying). */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs worth retrying: class 08 (connection exception) below, serialization failure,
 * deadlock victim, the server shutting down or starting up, too many connections, and a lock
 * wait that timed out (lock_timeout; MySQL's lock wait timeout is transient too). Syntax,
 * data, constraint and privilege errors are terminal.
 */
const TRANSIENT_STATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '57P01', // admin_shutdown (the server is stopping, or pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up)
  '53300', // too_many_connections
]);

/** pg raises these without a code when the socket closes under a query or a client is reused after. */
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /timeout exceeded when trying to connect/i,
  /socket hang up/i,
];

/** pg's error for a statement on a client whose connection already failed or was closed. */
export function isUnqueryableClient(err: unknown): boolean {
  const e = err as DriverError | null;
  return !!e && typeof e === 'object' && e.code === undefined && /is not queryable/i.test(e.message ?? '');
}

/** Errors met while connecting: reported as DEST_CONNECT, the rest as DEST_QUERY. */
const CONNECT_STATES = new Set(['28P01', '28000', '3D000', '53300', '57P03']);

/**
 * Words after which a double-quoted fragment of a server message names a schema object and is
 * kept; any other quoted fragment may be a row value (`invalid input syntax for type bigint:
 * "abc"`) and becomes `"…"`. The `DETAIL` of an error (`Key (id)=(7) already exists.`) is never
 * used: it holds values.
 */
const NAME_BEFORE_QUOTE =
  /\b(?:column|relation|table|constraint|index|schema|database|type|role|user|function|sequence|view|operator|extension|trigger|parameter|cursor|savepoint|statement|setting)\s*$/i;

/**
 * A server message translated (`lc_messages` is the server's to choose) quotes with other
 * marks — German »…«, French « … », „…“, “…”, 「…」 — and the words before a name are not the
 * English ones: every such fragment may be a value, and goes.
 */
const OTHER_QUOTES = /»[^«»\n]*«|«[^«»\n]*»|„[^“”\n]*[“”]|“[^”\n]*”|「[^」\n]*」/g;

/** Server message without row values: quoted fragments that are not object names become `"…"`. */
export function redactServerMessage(message: string): string {
  return message
    .replace(/"((?:[^"]|"")*)"/g, (whole, _inner: string, offset: number) =>
      NAME_BEFORE_QUOTE.test(message.slice(Math.max(0, offset - 20), offset)) ? whole : '"…"',
    )
    .replace(OTHER_QUOTES, '"…"');
}

function cut(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/**
 * Text without credentials: the password of any `scheme://user:password@` URL (a model's
 * dblink connection string, a name that holds one), and each secret — as written and
 * URL-encoded, as the destination's URL holds it. Before any cut: a cut inside a password
 * would leave its start, which no pattern recognises afterwards.
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

/** A SQLSTATE: five characters of digits and capitals (not a Node code: EPIPE has five letters too). */
const isSqlState = (code: string | undefined): code is string =>
  !!code && /^[0-9A-Z]{5}$/.test(code) && !TRANSIENT_SOCKET_CODES.has(code);

/** Whether a driver error is transient: the connection failed or the server asks to try again. */
export function isTransientPgError(err: unknown): boolean {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (isSqlState(e.code)) return e.code.startsWith('08') || TRANSIENT_STATES.has(e.code);
  if (e.code && TRANSIENT_SOCKET_CODES.has(e.code)) return true;
  return TRANSIENT_MESSAGES.some((re) => re.test(e.message ?? ''));
}

/** Whether the connection that raised it can no longer be used (destroy, do not reuse). */
export function isFatalPgError(err: unknown): boolean {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.severity === 'FATAL' || e.severity === 'PANIC') return true;
  if (isSqlState(e.code)) return e.code.startsWith('08') || e.code.startsWith('57P');
  return isTransientPgError(err);
}

/** Whether `err` came from pg (a server error, a socket error or a connection-state error). */
function isDriverError(err: unknown): err is DriverError {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code !== undefined) return isSqlState(e.code) || TRANSIENT_SOCKET_CODES.has(e.code);
  return TRANSIENT_MESSAGES.some((re) => re.test(e.message ?? ''));
}

/**
 * The one place pg errors become Tributary errors. The message keeps the SQLSTATE, the server
 * message with row values redacted, and the SQL cut to 300 characters — never the bound
 * values, the error's DETAIL, the password, nor the credentials of a URL in the SQL or the
 * message (masked before the cut). `cause` is a sanitized copy for the same reason.
 */
export function translatePgError(err: unknown, what: string, options: TranslateOptions = {}): unknown {
  if (err instanceof TributaryError) return err;
  if (!isDriverError(err)) return err; // a reader's error inside a transaction passes through
  const secrets = options.secrets ?? [];
  const server = isSqlState(err.code);
  const raw = err.message ?? String(err);
  const text = scrub(server ? redactServerMessage(raw) : raw, secrets);
  const connecting = options.connecting || (server && CONNECT_STATES.has(err.code as string));
  const where = what ? ` (in: ${cut(scrub(what, secrets))})` : '';
  const cause = Object.assign(new Error(text), { code: err.code });
  return new TributaryError(
    connecting ? 'DEST_CONNECT' : 'DEST_QUERY',
    `PostgreSQL ${err.code ?? 'error'}: ${text}${where}`,
    { cause, transient: isTransientPgError(err) },
  );
}

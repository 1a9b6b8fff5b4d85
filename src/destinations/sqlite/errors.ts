import { TributaryError } from '../../core/errors.js';

const TRANSIENT = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_TIMEOUT']);

/** The one place SQLite errors become Tributary errors (transient: the database was busy). */
export function translateSqliteError(err: unknown, what: string): unknown {
  if (err instanceof TributaryError) return err;
  const code = (err as { code?: string }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const sql = what.length > 300 ? `${what.slice(0, 300)}…` : what;
  return new TributaryError('DEST_QUERY', `SQLite ${code}: ${(err as Error).message} (in: ${sql})`, {
    cause: err,
    transient: TRANSIENT.has(code),
  });
}

import path from 'node:path';
import { TributaryError } from '../core/errors.js';
import { showValue } from './quote.js';

export type DestinationConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** Extra `?key=value` options from the URL. */
      options: Record<string, string>;
    }
  | {
      kind: 'postgres';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** The schema the pipeline's tables live in (`?schema=`, default `public`). */
      schema: string;
      /** Extra `?key=value` options from the URL (`schema` taken out). */
      options: Record<string, string>;
    };

/**
 * Parse a destination string. `sqlite:PATH` is relative to `baseDir`; `mysql://` (or
 * `mariadb://`) and `postgres://` (or `postgresql://`) take their password from the URL or,
 * when absent, `TRIBUTARY_DB_PASSWORD`.
 */
export function parseDestination(text: string, baseDir: string, env: NodeJS.ProcessEnv): DestinationConfig {
  if (text.startsWith('sqlite:')) {
    let file = text.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '') throw new Error('sqlite: needs a file path, e.g. sqlite:.tributary/pipeline.db');
    return { kind: 'sqlite', path: path.resolve(baseDir, file) };
  }
  if (/^(mysql|mariadb):\/\//.test(text)) {
    const { url, database, options } = parseUrl(
      text.replace(/^mariadb:/, 'mysql:'),
      text,
      'mysql://host:3306/db',
    );
    return {
      kind: 'mysql',
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username || 'root'),
      password: url.password ? decodeURIComponent(url.password) : (env.TRIBUTARY_DB_PASSWORD ?? ''),
      database,
      options,
    };
  }
  if (/^postgres(ql)?:\/\//.test(text)) {
    const { url, database, options } = parseUrl(
      text.replace(/^postgresql:/, 'postgres:'),
      text,
      'postgres://host:5432/db',
    );
    const { schema = 'public', ...rest } = options;
    if (schema === '')
      throw new Error(`empty ?schema= in ${showValue(maskUrl(text))} (leave it out for public)`);
    return {
      kind: 'postgres',
      host: url.hostname || '127.0.0.1',
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username || 'postgres'),
      password: url.password ? decodeURIComponent(url.password) : (env.TRIBUTARY_DB_PASSWORD ?? ''),
      database,
      schema,
      options: rest,
    };
  }
  // Only the scheme is shown: the rest of a connection string not understood may hold a password.
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]{0,19}:/.exec(text)?.[0];
  throw new Error(
    `got ${scheme ? `${showValue(scheme)}… (the rest not shown)` : 'a value with no scheme (not shown)'}; expected sqlite:PATH, mysql://user:password@host:3306/db or postgres://user:password@host:5432/db`,
  );
}

/**
 * A server URL: its parts, the database from its path (required) and its `?` options.
 * `example` has no `user:password@`: the masking of printed lines (URL_CREDENTIALS) runs from a
 * URL's `user:` to the last `@` of the line, so a second `@` after the URL would swallow its
 * host and port, and the example with them.
 */
function parseUrl(
  text: string,
  original: string,
  example: string,
): { url: URL; database: string; options: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a valid URL: ${showValue(maskUrl(original))}`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database)
    throw new Error(
      `no database name in ${showValue(maskUrl(original))} (expected one after the port, as in ${example})`,
    );
  const options: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    options[k] = v;
  });
  return { url, database, options };
}

/**
 * `scheme://user:` and the password after it, which runs to the last `@` of the line within
 * 256 characters: a password may hold `@`, quotes or a space (`u:Secr3t@Pw@host`, a YAML
 * error quoting `u:my pass@host`), and masking a little more than the password is safe. The
 * cap keeps a line of many `a://b:` linear to scan and the rest of a long line readable.
 */
export const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^\n]{0,256})@/gi;

/** The URL with its password replaced by `***`: the only form a destination is ever printed in. */
export function maskUrl(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@');
}

/** A printable description of a destination, never containing a password. */
export function describeDestination(d: DestinationConfig): string {
  if (d.kind === 'sqlite') return `sqlite:${d.path}`;
  if (d.kind === 'postgres') {
    const schema = d.schema === 'public' ? '' : `?schema=${encodeURIComponent(d.schema)}`;
    return `postgres://${d.user}${d.password ? ':***' : ''}@${d.host}:${d.port}/${d.database}${schema}`;
  }
  return `mysql://${d.user}${d.password ? ':***' : ''}@${d.host}:${d.port}/${d.database}`;
}

export function destinationError(message: string, cause?: unknown): TributaryError {
  return new TributaryError('DEST_CONNECT', message, { cause });
}

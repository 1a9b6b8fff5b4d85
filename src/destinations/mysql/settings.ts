/**
 * The options a mysql:// URL takes after `?` (`connectionLimit`, `ssl`, `localInfile`,
 * `createDatabase`, `connectTimeout`), checked: an unknown one or a bad value is a config
 * error that lists what is accepted.
 */
import type { ConnectionOptions } from 'mysql2/promise';
import { showValue } from '../../config/quote.js';
import { TributaryError } from '../../core/errors.js';

/** Options accepted after `?` in a mysql:// URL. */
const OPTIONS = {
  connectionLimit: 'concurrent file loads, 1 to 32 (default 4); the pool holds one more connection',
  ssl: 'true | skip-verify | false (default false)',
  localInfile: 'false to never use LOAD DATA LOCAL INFILE (default: when the server allows it)',
  createDatabase: 'false to never create the database (default true)',
  connectTimeout: 'milliseconds (default 10000)',
} as const;

export interface Settings {
  loads: number;
  ssl: ConnectionOptions['ssl'];
  localInfile: boolean;
  createDatabase: boolean;
  connectTimeout: number;
}

export function settings(options: Record<string, string>): Settings {
  for (const key of Object.keys(options)) {
    if (!(key in OPTIONS)) {
      const known = Object.entries(OPTIONS)
        .map(([k, v]) => `${k} (${v})`)
        .join('; ');
      throw new TributaryError(
        'CONFIG_INVALID',
        `destination option ${showValue(key)} is unknown; known options: ${known}`,
      );
    }
  }
  const int = (key: keyof typeof OPTIONS, def: number, min: number, max: number) => {
    const raw = options[key];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new TributaryError(
        'CONFIG_INVALID',
        `destination option ${key}: got ${showValue(raw)}; expected ${OPTIONS[key]}`,
      );
    }
    return n;
  };
  const bool = (key: keyof typeof OPTIONS, def: boolean) => {
    const raw = options[key];
    if (raw === undefined) return def;
    if (raw !== 'true' && raw !== 'false') {
      throw new TributaryError(
        'CONFIG_INVALID',
        `destination option ${key}: got ${showValue(raw)}; expected ${OPTIONS[key]}`,
      );
    }
    return raw === 'true';
  };
  const ssl = options.ssl;
  if (ssl !== undefined && !['true', 'false', 'skip-verify'].includes(ssl)) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `destination option ssl: got ${showValue(ssl)}; expected ${OPTIONS.ssl}`,
    );
  }
  return {
    loads: int('connectionLimit', 4, 1, 32),
    ssl:
      ssl === 'true'
        ? { rejectUnauthorized: true }
        : ssl === 'skip-verify'
          ? { rejectUnauthorized: false }
          : undefined,
    localInfile: bool('localInfile', true),
    createDatabase: bool('createDatabase', true),
    connectTimeout: int('connectTimeout', 10_000, 100, 600_000),
  };
}

/**
 * The last line of defence for secrets: every line the CLI prints or logs goes through
 * `redact`. Credentials in any `scheme://user:password@host` text are masked, and so is
 * every known secret value (the destination's password, `TRIBUTARY_DB_PASSWORD`) wherever
 * it appears — a driver message, a YAML error excerpt, a reject's raw text.
 */
import { URL_CREDENTIALS } from '../config/destination.js';

const known = new Set<string>();

/** Secrets shorter than this are not masked by value: masking `ab` would garble ordinary text. */
const MIN_LENGTH = 3;
/** `${TRIBUTARY_DB_PASSWORD}` in a URL names where the password comes from: not a secret. */
const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/;

export function rememberSecret(value: string | undefined): void {
  if (!value || value.length < MIN_LENGTH) return;
  known.add(value);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) known.add(encoded);
}

/** The password of a URL given on the command line or in the config (a queue's). */
export function rememberUrlSecret(text: string): void {
  try {
    const url = new URL(text);
    if (url.password) rememberSecret(decodeURIComponent(url.password));
  } catch {
    // not a URL: the command says so, masked by URL_CREDENTIALS
  }
}

export function redact(text: string): string {
  let out = text.replace(URL_CREDENTIALS, (whole, head: string, password: string) =>
    ENV_REFERENCE.test(password) && !password.includes(':-') ? whole : `${head}***@`,
  );
  for (const s of known) if (out.includes(s)) out = out.replaceAll(s, '***');
  return out;
}

/** A JSON log line with every string in it redacted, so masking never breaks the JSON. */
export function redactJson(line: string): string {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return redact(line);
  }
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return JSON.stringify(walk(rec));
}

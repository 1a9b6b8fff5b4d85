import { URL_CREDENTIALS } from '../config/destination.js';
import { escapeText } from './html.js';

/**
 * Masking for the dashboard: a password must never reach a page or a JSON answer, not even
 * inside an error message or a rejected record that quotes a connection string. Every value
 * read for a page goes through {@link Masker.value} (deeply, before rendering); every body
 * sent goes through {@link Masker.body}, which catches a known secret in whatever form a page
 * could hold it (as is, HTML-escaped, URL-encoded).
 */
export interface Masker {
  /** A value read from the database or the config: URL credentials and known secrets as `***`. */
  value(text: string): string;
  /** A whole response body: every known secret (in any of its forms) as `***`. */
  body(text: string): string;
}

/** Secrets shorter than this are not masked by value: masking `ab` would garble ordinary text. */
const MIN_LENGTH = 3;
/** `${TRIBUTARY_DB_PASSWORD}` in a URL names where the password comes from: not a secret. */
const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$/;

/** A masker for these secrets (the destination's password, the UI token, …); `extra` runs first (the CLI's redact). */
export function masker(secrets: ReadonlyArray<string | undefined>, extra?: (text: string) => string): Masker {
  const known = new Set<string>();
  for (const s of secrets) {
    if (!s || s.length < MIN_LENGTH) continue;
    known.add(s);
    known.add(encodeURIComponent(s));
    known.add(escapeText(s));
    known.add(escapeText(encodeURIComponent(s)));
  }
  // Longest first: a secret that contains another is masked whole.
  const forms = [...known].sort((a, b) => b.length - a.length);
  const scrub = (text: string) => {
    let out = text;
    for (const s of forms) if (out.includes(s)) out = out.replaceAll(s, '***');
    return out;
  };
  return {
    value: (text) => {
      const t = extra ? extra(text) : text;
      return scrub(
        t.replace(URL_CREDENTIALS, (whole, head: string, password: string) =>
          ENV_REFERENCE.test(password) && !password.includes(':-') ? whole : `${head}***@`,
        ),
      );
    },
    body: scrub,
  };
}

/** `data` with every string in it masked (objects and arrays copied, other values kept). */
export function maskDeep<T>(data: T, mask: (text: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return mask(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype)
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(data) as T;
}

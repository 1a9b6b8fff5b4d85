import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { TributaryError } from '../core/errors.js';

/**
 * Who may see the dashboard. Bound to a loopback address (the default, 127.0.0.1) it is
 * reachable from this machine only, and needs no token; any other address needs one, or the
 * server refuses to start. A token is taken from the `Authorization: Bearer` header (or
 * `X-Tributary-Token`), or from the cookie that opening any page with `?token=` sets.
 */

/**
 * The cookie that keeps the token for a browser session, on the server at `port`. Cookies
 * ignore ports (RFC 6265 §8.5): every service on the host receives it. Hence a name per port
 * (two dashboards on one host do not overwrite each other's), and a value derived from the
 * token for that port ({@link cookieValue}), never the token itself: a service that receives
 * it learns nothing it could use as the token.
 */
export function cookieName(port: number): string {
  return `tributary_token_${port}`;
}

/** HMAC-SHA256 of the port keyed with the token, hex: what the cookie holds instead of the token. */
export function cookieValue(token: string, port: number): string {
  return createHmac('sha256', token).update(`tributary-ui-cookie:${port}`).digest('hex');
}

/** Whether `host` (a name or an address to bind) is this machine's loopback. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(h);
  return false;
}

/** Refuse a non-loopback bind without a token: anyone on the network could read the pipeline. */
export function checkBind(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < 8) {
    throw new TributaryError(
      'CONFIG_INVALID',
      'the dashboard token is too short: use at least 8 characters (e.g. `openssl rand -hex 16`)',
    );
  }
  if (!isLoopback(host) && !token) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `--host ${host} is not a loopback address: the dashboard would be open to every machine that reaches it. Pass --token T (or set TRIBUTARY_UI_TOKEN) so that only those who have the token see it, or leave --host out to bind 127.0.0.1`,
    );
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison (of digests, so the lengths are equal). */
export function sameToken(given: string | undefined, token: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/**
 * Whether a request carries the token of the server at `port`: in a header (the header wins
 * when both are sent), else as that port's cookie ({@link cookieName}, {@link cookieValue}).
 */
export function hasToken(req: IncomingMessage, token: string, port: number): boolean {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return sameToken(auth.replace(/^Bearer\s+/i, '').trim(), token);
  const header = req.headers['x-tributary-token'];
  if (typeof header === 'string') return sameToken(header, token);
  const name = cookieName(port);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return sameToken(v.join('='), cookieValue(token, port));
  }
  return false;
}

/** The Set-Cookie value that keeps the dashboard open for this browser session. */
export function tokenCookie(token: string, port: number): string {
  return `${cookieName(port)}=${cookieValue(token, port)}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * Where `?token=` redirects to: this page without the token, as a path on this server.
 * `GET /.//evil.example?token=T` has the pathname `//evil.example`, which a browser reads as
 * another host (an open redirect): leading slashes collapse to one.
 */
export function redirectTarget(url: URL): string {
  const rest = new URLSearchParams(url.search);
  rest.delete('token');
  const query = rest.toString();
  return `/${url.pathname.replace(/^[/\\]+/, '')}${query ? `?${query}` : ''}`;
}

/**
 * Without a token, a loopback server answers only requests addressed to a loopback name: a
 * web page elsewhere cannot rebind its own host name to 127.0.0.1 and read the dashboard
 * through the visitor's browser (DNS rebinding).
 */
export function loopbackHostHeader(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return isLoopback(name);
}

import { TributaryError } from '../core/errors.js';

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * The time `status` judges freshness at: `TRIBUTARY_NOW` (an ISO date, or date-time with `Z` or an
 * offset) when set — the tests set it, so they need not wait a day; also a way to ask what
 * `status --check` would say at another time — else the clock. Nothing else reads it.
 */
export function clockNow(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.TRIBUTARY_NOW;
  if (text === undefined || text === '') return Date.now();
  const ms = ISO.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `TRIBUTARY_NOW: got "${text.slice(0, 60)}"; expected an ISO date or date-time with a zone, such as 2024-06-02T08:00:00Z (or unset it: the clock)`,
    );
  }
  return ms;
}

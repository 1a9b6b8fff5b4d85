/**
 * Freshness: has a table's source delivered as often as it usually does? Pure, from the
 * modification times of the table's newest files (the ledger's `mtime_ms`, when each file
 * landed). Files landing within {@link BATCH_MS} of each other are one delivery (a day's
 * folder of files); the usual interval is the median gap between the latest deliveries, and a
 * table is late when its last delivery is older than twice that (and ten minutes more, so a
 * source delivering every minute is not late after two).
 */
export interface Freshness {
  table: string;
  /** Epoch ms of the newest delivery; null: no file yet. */
  lastDelivery: number | null;
  /** Median gap between deliveries, ms; null with fewer than {@link MIN_DELIVERIES} deliveries. */
  usualMs: number | null;
  deliveries: number;
  /** `late`: longer since the last delivery than usual; `unknown`: too few deliveries to say. */
  status: 'ok' | 'late' | 'unknown';
  /** How long since the last delivery, ms (null: none). */
  sinceMs: number | null;
}

export const BATCH_MS = 10 * 60_000;
export const MIN_DELIVERIES = 3;
const SLACK_MS = 10 * 60_000;

/** `times`: file modification times in ms, any order. */
export function freshness(table: string, times: readonly number[], now: number): Freshness {
  const sorted = [...times].filter(Number.isFinite).sort((a, b) => b - a);
  if (sorted.length === 0)
    return { table, lastDelivery: null, usualMs: null, deliveries: 0, status: 'unknown', sinceMs: null };
  // Newest first; a delivery starts where the gap to the file before exceeds BATCH_MS.
  const deliveries: number[] = [sorted[0] as number];
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i - 1] as number) - (sorted[i] as number) > BATCH_MS) deliveries.push(sorted[i] as number);
  }
  const last = sorted[0] as number;
  const since = Math.max(0, now - last);
  if (deliveries.length < MIN_DELIVERIES)
    return {
      table,
      lastDelivery: last,
      usualMs: null,
      deliveries: deliveries.length,
      status: 'unknown',
      sinceMs: since,
    };
  const gaps = deliveries
    .slice(1)
    .map((d, i) => (deliveries[i] as number) - d)
    .sort((a, b) => a - b);
  const mid = Math.floor(gaps.length / 2);
  const usual =
    gaps.length % 2 ? (gaps[mid] as number) : ((gaps[mid - 1] as number) + (gaps[mid] as number)) / 2;
  return {
    table,
    lastDelivery: last,
    usualMs: usual,
    deliveries: deliveries.length,
    status: since > 2 * usual + SLACK_MS ? 'late' : 'ok',
    sinceMs: since,
  };
}

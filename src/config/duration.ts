/**
 * Durations as a config writes them (`expect_every: 24h`): one or more whole numbers, each with
 * a unit — `s`, `m` (minutes), `h`, `d` (24 hours), `w` (7 days) — as in `30m`, `6h`, `2d`,
 * `1h30m`. No months or years: their length varies.
 */
export const DURATION = /^(?:\d+[smhdw])+$/;

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds of a duration matching {@link DURATION}; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** A duration for people, to the minute: `2d 3h`, `45m`, `under a minute` (of its size: no sign). */
export function formatDuration(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  if (minutes === 0) return 'under a minute';
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const parts = [d ? `${d}d` : '', h ? `${h}h` : '', m && !d ? `${m}m` : ''].filter(Boolean);
  return parts.join(' ') || `${d}d`;
}

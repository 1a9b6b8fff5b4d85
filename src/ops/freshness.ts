import type { ResolvedConfig, ResolvedSource } from '../config/resolve.js';
import { captureRegex } from '../sources/discover.js';
import type { LedgerEntry } from '../state/ledger.js';

/** One source with `expect_every`, as `tributary status` judges it. */
export interface SourceFreshness {
  /** Position in `sources:`. */
  source: number;
  table: string;
  files: string;
  /** `expect_every` as written. */
  expectEvery: string;
  /** The newest file of the source a run has recorded (by modification time), or null: none yet. */
  newestFile: string | null;
  /** Its modification time (ISO, UTC). */
  modifiedAt: string | null;
  /** How long before `now` it was modified. */
  ageMs: number | null;
  /** Older than `expect_every`, or no file recorded at all. */
  late: boolean;
}

/**
 * Freshness of each source that has `expect_every`: the newest of its files in the ledger —
 * whatever their status, a file that failed to load still arrived — by the modification time
 * recorded for it, compared with `now`. A file belongs to the first source of its table whose
 * glob matches its path (as a run assigns it). Files a run has not recorded (not run yet, or left
 * by `run --table`) do not count: freshness is that of what the destination knows. Pure.
 */
export function sourceFreshness(
  config: ResolvedConfig,
  ledger: Iterable<LedgerEntry>,
  now: number,
): SourceFreshness[] {
  const watched = config.sources.filter((s) => s.expectEvery !== undefined);
  if (watched.length === 0) return [];
  const matchers = config.sources.map((s) => ({ s, re: captureRegex(s.files) }));
  const newest = new Map<number, LedgerEntry>();
  for (const e of ledger) {
    const owner = matchers.find((m) => m.s.table === e.table && m.re.test(e.path))?.s;
    if (!owner) continue;
    const best = newest.get(owner.index);
    if (!best || e.mtimeMs > best.mtimeMs) newest.set(owner.index, e);
  }
  return watched.map((s: ResolvedSource) => {
    const every = s.expectEvery as { text: string; ms: number };
    const e = newest.get(s.index);
    const age = e ? now - e.mtimeMs : null;
    return {
      source: s.index,
      table: s.table,
      files: s.files,
      expectEvery: every.text,
      newestFile: e?.path ?? null,
      modifiedAt: e ? new Date(e.mtimeMs).toISOString() : null,
      ageMs: age,
      late: age === null || age > every.ms,
    };
  });
}

import type { ResolvedConfig, ResolvedSource } from '../../config/resolve.js';
import type { RejectCode } from '../../core/types.js';
import { captureRegex } from '../../sources/discover.js';
import type { LedgerEntry } from '../../state/ledger.js';
import type { StoredReject } from '../../state/rejects.js';

/**
 * Reasons whose stored `raw` is the parsed record (JSON of its fields): a config change — a
 * type hint, a rename, a contract — may let it pass. The others (`CSV_FIELD_COUNT`,
 * `CSV_QUOTE`, `JSON_SYNTAX`, `JSON_NOT_OBJECT`) stored text that could not be parsed: only a
 * corrected file fixes those.
 */
export const RETRYABLE: ReadonlySet<RejectCode> = new Set<RejectCode>([
  'TYPE_MISMATCH',
  'MISSING_PRIMARY_KEY',
  'MISSING_CURSOR',
  'CONTRACT_FROZEN',
]);

/** The stored rejects of one file, to go through the load path again with its source. */
export interface RetryGroup {
  file: string;
  fileId: number;
  source: ResolvedSource;
  /** `{name}` values of the file's path under the source's glob. */
  captures: Record<string, string>;
  records: Array<{ reject: StoredReject; data: Record<string, unknown> }>;
}

export interface NotRetried {
  reject: StoredReject;
  reason: string;
}

export interface RetryPlan {
  groups: RetryGroup[];
  notRetried: NotRetried[];
}

/**
 * Which stored rejects can be re-processed under the current config, grouped by file in
 * path order (the order a run loads them), and why the others cannot. Pure.
 *
 * A file belongs to the first source whose glob matches it, as in a run. For a `replace`
 * table only the rejects of the file that last replaced the table are retried: an older
 * snapshot's rows no longer belong in it.
 */
export function planRetry(
  config: ResolvedConfig,
  rejects: readonly StoredReject[],
  ledger: ReadonlyMap<string, LedgerEntry>,
): RetryPlan {
  const matchers = config.sources.map((s) => ({ source: s, re: captureRegex(s.files) }));
  const current = currentSnapshots(ledger);
  const groups = new Map<number, RetryGroup>();
  const notRetried: NotRetried[] = [];
  const skip = (reject: StoredReject, reason: string) => notRetried.push({ reject, reason });
  for (const r of rejects) {
    if (!RETRYABLE.has(r.code)) {
      skip(r, `the record could not be read (${r.code}); correct the file and send it again`);
      continue;
    }
    const data = parseRecord(r.raw);
    if (!data) {
      skip(r, 'the stored record is incomplete (cut at 64 KiB); send the file again');
      continue;
    }
    const match = matchers.map((m) => ({ ...m, m: m.re.exec(r.file) })).find((m) => m.m !== null);
    if (!match) {
      skip(r, `no source in the config matches ${r.file} any more`);
      continue;
    }
    if (match.source.table !== r.table) {
      skip(r, `${r.file} now feeds table ${match.source.table}, not ${r.table}`);
      continue;
    }
    const latest = current.get(r.table);
    if (match.source.write === 'replace' && latest !== undefined && latest !== r.file) {
      skip(r, `${latest} replaced table ${r.table} since; its rows are the table now`);
      continue;
    }
    let g = groups.get(r.fileId);
    if (!g) {
      g = {
        file: r.file,
        fileId: r.fileId,
        source: match.source,
        captures: { ...match.m?.groups },
        records: [],
      };
      groups.set(r.fileId, g);
    }
    g.records.push({ reject: r, data });
  }
  const ordered = [...groups.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { groups: ordered, notRetried };
}

function parseRecord(raw: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Per table, the loaded file of the latest run (the last in path order within it). */
function currentSnapshots(ledger: ReadonlyMap<string, LedgerEntry>): Map<string, string> {
  const best = new Map<string, LedgerEntry>();
  for (const e of ledger.values()) {
    if (e.status !== 'loaded') continue;
    const b = best.get(e.table);
    if (!b || (e.runId ?? 0) > (b.runId ?? 0) || ((e.runId ?? 0) === (b.runId ?? 0) && e.path > b.path)) {
      best.set(e.table, e);
    }
  }
  return new Map([...best].map(([t, e]) => [t, e.path]));
}

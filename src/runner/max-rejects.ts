import type { MaxRejects } from '../config/resolve.js';
import { TributaryError } from '../core/errors.js';
import type { Reject } from '../state/rejects.js';

/**
 * `max_rejects`: a file whose records are mostly bad fails as a whole instead of loading a
 * sliver of it. A count is checked as rejects come (the file stops at the first reject past
 * the limit); a ratio only once the file's records are all counted. Pure.
 */
export function overLimit(limit: MaxRejects | undefined, rejected: number, records?: number): boolean {
  if (!limit) return false;
  if (limit.kind === 'count') return rejected > limit.max;
  return records !== undefined && records > 0 && rejected > limit.max * records;
}

/**
 * The error that fails the file: how many were rejected, the limit, and the most common
 * reasons with one example each, so the fix is clear without opening the rejects store
 * (the file's rejects roll back with it).
 */
export function tooManyRejects(
  file: string,
  limit: MaxRejects,
  rejected: number,
  records: number | undefined,
  sample: readonly Reject[],
): TributaryError {
  const share = records ? ` of ${records} records (${((100 * rejected) / records).toFixed(1)}%)` : '';
  const max = limit.kind === 'count' ? String(limit.max) : `${+(limit.max * 100).toFixed(4)}%`;
  const reasons = topReasons(sample)
    .map((r) => `${r.code}${r.column ? ` ${r.column}` : ''} × ${r.count} (e.g. line ${r.line}: ${r.message})`)
    .join('; ');
  return new TributaryError(
    'LOAD_TOO_MANY_REJECTS',
    `${file}: ${limit.kind === 'count' ? 'more than ' : ''}${rejected} rejected${share}, over max_rejects ${max}; nothing of the file was loaded. ${reasons ? `Reasons: ${reasons}. ` : ''}Fix the file or the config (it is retried next run), or raise max_rejects.`,
    { context: { file } },
  );
}

interface Reason {
  code: string;
  column: string | null;
  count: number;
  line: number;
  message: string;
}

function topReasons(sample: readonly Reject[]): Reason[] {
  const groups = new Map<string, Reason>();
  for (const r of sample) {
    const key = `${r.code}|${r.column ?? ''}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { code: r.code, column: r.column, count: 1, line: r.line, message: r.message });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, 3);
}

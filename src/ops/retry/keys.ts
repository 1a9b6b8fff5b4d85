import type { ResolvedSource } from '../../config/resolve.js';
import type { Destination, LiveTable } from '../../destinations/types.js';
import { makeShaper } from '../../normalize/shape.js';
import { coerce } from '../../schema/coerce.js';
import type { RetryGroup } from './plan.js';

type Records = RetryGroup['records'];

/**
 * A merge table without a cursor keeps "the later row wins", and a retried row's place in
 * that order is lost: the stored row of its key may come from an earlier file or a later
 * one. So a retried row only goes in when its key is not in the table yet; the others are
 * kept as rejects (the report says how to settle them: a cursor, or a full refresh).
 */
export async function splitByStoredKey(
  dest: Destination,
  source: ResolvedSource,
  live: LiveTable | undefined,
  captures: Record<string, string>,
  records: Records,
): Promise<{ fresh: Records; stored: Records }> {
  const keyCols = source.primaryKey.map((k) => live?.columns.find((c) => c.name === k));
  if (!live || keyCols.some((c) => c === undefined)) return { fresh: records, stored: [] };
  const q = dest.dialect.quote;
  const sql = `SELECT 1 AS found FROM ${q(live.name)} WHERE ${source.primaryKey.map((k) => `${q(k)} = ?`).join(' AND ')} LIMIT 1`;
  const shape = makeShaper(source, captures, true);
  const fresh: Records = [];
  const stored: Records = [];
  for (const rec of records) {
    const root = shape(rec.data).root;
    const key = keyCols.map((c) => (c ? coerce(root.get(c.name), c.type) : undefined));
    // A key that does not coerce, or is empty, is the encoder's to reject with its reason.
    if (key.some((k) => !k?.ok || k.value === null)) {
      fresh.push(rec);
      continue;
    }
    const params = key.map((k) =>
      k?.ok ? (typeof k.value === 'boolean' ? Number(k.value) : k.value) : null,
    );
    const found = await dest.query(sql, params);
    (found.length > 0 ? stored : fresh).push(rec);
  }
  return { fresh, stored };
}

import fs from 'node:fs';
import path from 'node:path';
import type { RejectCode } from '../core/types.js';
import type { Destination, SqlClient } from '../destinations/types.js';
import {
  groupRejects,
  listRejects,
  type RejectFilter,
  type RejectGroup,
  rejectPages,
  type StoredReject,
} from '../state/rejects.js';
import { ensureStateTables } from '../state/tables.js';

export type { RejectFilter, RejectGroup, StoredReject } from '../state/rejects.js';

/** `tributary rejects`: the matching rejects grouped by table, reason and column, with `examples` each. */
export async function rejectGroups(
  dest: Destination,
  pipeline: string,
  filter: RejectFilter & { examples: number },
): Promise<RejectGroup[]> {
  await ensureStateTables(dest, dest.dialect);
  return groupRejects(dest, pipeline, filter);
}

/** `tributary rejects --json`: the matching rejects themselves, at most `limit`. */
export async function rejectRows(
  dest: Destination,
  pipeline: string,
  filter: RejectFilter & { limit: number },
): Promise<StoredReject[]> {
  await ensureStateTables(dest, dest.dialect);
  return listRejects(dest, pipeline, filter);
}

/** `tributary rejects --export FILE`: every matching reject to a CSV file; how many were written. */
export async function exportRejectsFile(
  dest: Destination,
  pipeline: string,
  filter: RejectFilter,
  file: string,
): Promise<number> {
  await ensureStateTables(dest, dest.dialect);
  return exportRejects(dest, pipeline, filter, file);
}

/** What to do about a reject, by reason: the line `tributary rejects` prints under each group. */
export function fixFor(code: RejectCode | string): string {
  switch (code) {
    case 'TYPE_MISMATCH':
      return 'correct the value at the source, or widen the column with a type hint or accept it with a contract (docs/schema-evolution.md), or say how the column is written (`decimal_separator`, `date_format`: docs/loading.md, "Locale formats"); then `tributary rejects retry`';
    case 'CONTRACT_FROZEN':
      return 'the contract keeps this change out: relax the contract or add the column/type to the table, then `tributary rejects retry`';
    case 'MISSING_PRIMARY_KEY':
      return 'the key is empty: if the header was renamed, add `rename:` to the source and `tributary rejects retry`; otherwise correct the file';
    case 'MISSING_CURSOR':
      return 'the cursor is empty: correct the file, or rename its header (`rename:`) and `tributary rejects retry`';
    case 'CSV_FIELD_COUNT':
    case 'CSV_QUOTE':
      return 'the line is not valid CSV: correct the file and send it again (a changed file is loaded again)';
    case 'DEST_LIMIT':
      return 'the value is beyond what the destination can store (the message names the limit): shorten it at the source, or keep it out of the key (a text key column is sized to fit the index)';
    case 'JSON_SYNTAX':
    case 'JSON_NOT_OBJECT':
      return 'the record is not a JSON object: correct the file and send it again (a changed file is loaded again)';
    default:
      return 'see docs/loading.md, "Rejects"';
  }
}

/** RFC 4180 field: quoted when it holds a delimiter, a quote or a line break. */
function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const EXPORT_COLUMNS = [
  'id',
  'run_id',
  'table',
  'file',
  'line',
  'record',
  'code',
  'column',
  'message',
  'raw',
  'resolved_run_id',
] as const;

function csvLine(r: StoredReject, mask: (text: string) => string): string {
  return [
    r.id,
    r.runId,
    r.table,
    r.file,
    r.line,
    r.record,
    r.code,
    r.column,
    r.message,
    r.raw,
    r.resolvedRunId,
  ]
    .map((v) => csvField(typeof v === 'string' ? mask(v) : v))
    .join(',');
}

/**
 * The matching rejects as CSV (UTF-8, header row, CRLF as RFC 4180 says), handed to `write`
 * page by page (awaited: back-pressure), whatever their number. Returns how many rows were
 * written. `mask`: applied to every field (the dashboard masks secrets a raw record quotes).
 */
export async function writeRejectsCsv(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter,
  write: (chunk: string) => void | Promise<void>,
  mask: (text: string) => string = (t) => t,
): Promise<number> {
  let n = 0;
  await write(`${EXPORT_COLUMNS.join(',')}\r\n`);
  for await (const page of rejectPages(db, pipeline, filter)) {
    await write(page.map((r) => `${csvLine(r, mask)}\r\n`).join(''));
    n += page.length;
  }
  return n;
}

/** Write the matching rejects to a CSV file (see writeRejectsCsv). Returns how many rows were written. */
export async function exportRejects(
  db: SqlClient,
  pipeline: string,
  filter: RejectFilter,
  file: string,
): Promise<number> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    return await writeRejectsCsv(db, pipeline, filter, (chunk) => {
      fs.writeSync(fd, chunk);
    });
  } finally {
    fs.closeSync(fd);
  }
}

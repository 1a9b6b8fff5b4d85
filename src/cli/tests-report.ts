import { escapeText } from '../config/quote.js';
import type { DataTestResult, SampleValue } from '../transforms/result.js';
import { duration, table } from './render.js';

/** Characters of a sample value shown before it is cut (`--json` has them whole). */
const CELL = 40;
/** Columns of a sample row shown (the tested ones come first; `--json` has all). */
const COLUMNS = 8;

const STATUS: Record<DataTestResult['status'], string> = {
  passed: 'PASS',
  failed: 'FAIL',
  error: 'ERROR',
  skipped: 'SKIP',
};

/**
 * Data test results as `tributary test` and `run --test` print them: one line per test, then
 * each failure with what breaks it and a sample of the offending rows, then the counts.
 */
export function testsText(results: readonly DataTestResult[]): string {
  if (results.length === 0) return 'No data tests (see docs/transformations.md, "Data tests").';
  const out = [
    table(
      ['test', 'status', 'failing rows', 'took'],
      results.map((r) => [
        r.name,
        STATUS[r.status],
        r.failures ?? '',
        r.status === 'skipped' ? '' : duration(r.durationMs),
      ]),
    ),
  ];
  const skipped = results.filter((r) => r.status === 'skipped');
  if (skipped.length > 0) {
    out.push('', 'Skipped (nothing to test yet):', ...skipped.map((r) => `  ${r.name}: ${r.reason}`));
  }
  for (const r of results) {
    if (r.status === 'error') out.push('', `ERROR ${r.name} (${r.origin}): ${r.error}`);
    if (r.status !== 'failed') continue;
    out.push('', `FAIL ${r.name} (${r.origin}): ${failureText(r)}`);
    if (r.sample && r.sample.rows.length > 0) {
      const shown = r.sample.columns.slice(0, COLUMNS);
      const more = r.sample.columns.length - shown.length;
      out.push(
        `  ${sampleTitle(r, r.sample.rows.length)}${more > 0 ? ` (${more} more column(s) with --json)` : ''}:`,
        indent(
          table(
            shown.map(cell),
            r.sample.rows.map((row) => row.slice(0, COLUMNS).map(sampleCell)),
          ),
        ),
      );
    }
  }
  const count = (s: DataTestResult['status']) => results.filter((r) => r.status === s).length;
  const parts = [`${count('passed')} passed`, `${count('failed')} failed`];
  if (count('error') > 0) parts.push(`${count('error')} error(s)`);
  if (count('skipped') > 0) parts.push(`${count('skipped')} skipped`);
  out.push('', `${results.length} data test(s): ${parts.join(', ')}.`);
  return out.join('\n');
}

const plural = (n: number | undefined, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a failed test found, in words. */
function failureText(r: DataTestResult): string {
  const rows = plural(r.failures, 'row');
  const have = r.failures === 1 ? 'has' : 'have';
  const kind = r.test.slice(0, r.test.indexOf('('));
  switch (kind) {
    case 'unique':
      return `${rows} share ${plural(r.values, 'value')} of ${r.test.slice(kind.length)}`;
    case 'accepted_values':
      return `${rows} ${have} ${plural(r.values, 'value')} not accepted`;
    case 'not_null':
      return `${rows} ${have} a NULL`;
    default:
      return `${rows} ${have} no match`;
  }
}

/** `the 2 values`, `first 5 of 12 rows`, `the row`. */
function sampleTitle(r: DataTestResult, shown: number): string {
  const grouped = r.values !== undefined;
  const total = (grouped ? r.values : r.failures) ?? shown;
  const word = grouped ? 'value' : 'row';
  if (shown < total) return `first ${shown} of ${plural(total, word)}`;
  return shown === 1 ? `the ${word}` : `the ${plural(shown, word)}`;
}

/** A sample value for the terminal: escaped (values are untrusted), cut, NULL as `NULL`. */
function sampleCell(v: SampleValue): string | number {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return v;
  return cell(String(v));
}

function cell(text: string): string {
  const safe = escapeText(text);
  const chars = [...safe];
  return chars.length <= CELL ? safe : `${chars.slice(0, CELL - 1).join('')}…`;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

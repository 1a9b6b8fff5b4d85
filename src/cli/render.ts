import { escapeControls as safe } from '../config/quote.js';
import type { ModelResult, RunEvent, RunSummary } from '../runner/events.js';
import type { FilePreview, RunPreview } from '../runner/preview.js';
import { plain, type Style } from './style.js';

/**
 * Plain text table: columns padded, numbers right-aligned. Cells are untrusted text (file
 * names, values): their controls are escaped first (`escapeControls`), then `paint` colours
 * the cells of a column (by header) after the padding is measured, so colours never shift
 * the columns and are the only escapes that reach the terminal.
 */
export function table(
  headers: string[],
  rows: Array<Array<string | number | null | undefined>>,
  paint: Readonly<Record<string, (cell: string) => string>> = {},
): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : safe(String(c)))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[], painted: boolean) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat((widths[i] as number) - c.length);
        const p = painted ? paint[headers[i] as string] : undefined;
        const text = p && c !== '' ? p(c) : c;
        return numeric[i] ? pad + text : text + pad;
      })
      .join('  ')
      .trimEnd();
  return [
    line(headers.map(safe), false),
    line(
      widths.map((w) => '-'.repeat(w)),
      false,
    ),
    ...cells.map((r) => line(r, true)),
  ].join('\n');
}

/**
 * How long ago `iso` was, for people: `just now`, `42 s ago`, `5 min ago`, `2 h ago` (up to
 * 48 hours), `3 d ago`. A time ahead of `now` by more than a second (clocks apart) is `in 5 s`.
 */
export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const secs = Math.floor((now - t) / 1000);
  const span = Math.abs(secs);
  const text =
    span < 60
      ? `${span} s`
      : span < 3600
        ? `${Math.floor(span / 60)} min`
        : span < 48 * 3600
          ? `${Math.floor(span / 3600)} h`
          : `${Math.floor(span / 86_400)} d`;
  if (secs === 0 || secs === -1) return 'just now';
  return secs > 0 ? `${text} ago` : `in ${text}`;
}

export function duration(ms: number): string {
  return ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60_000)} min`;
}

/** The report a run prints when it ends (and `history --run N`); `st` colours it on a terminal. */
export function summaryText(s: RunSummary, st: Style = plain): string {
  const out: string[] = [];
  const f = s.files;
  out.push(
    `Run ${s.runId} of ${s.pipeline}${s.trigger ? ` (${s.trigger})` : ''}: ${st.status(s.status)} in ${duration(s.durationMs)} — files: ${st.count(f.loaded, st.ok)} loaded, ${f.unchanged} unchanged, ${st.count(f.failed, st.bad)} failed (of ${f.discovered}).`,
  );
  if (f.discovered > 0 && f.loaded === 0 && f.failed === 0 && s.status === 'succeeded')
    out.push(st.dim('Nothing new to load.'));
  if (s.filesLeft) out.push(leftText(s.filesLeft, 'are left'));
  if (s.tables.length > 0) {
    out.push(
      '',
      table(
        ['table', 'files', 'inserted', 'updated', 'unchanged', 'deleted', 'rejected', 'child rows'],
        s.tables.map((t) => [
          t.table,
          t.files,
          t.inserted,
          t.updated,
          t.unchanged,
          t.deleted,
          t.rejected,
          t.childRows,
        ]),
        { rejected: nonZero(st.warn) },
      ),
    );
  }
  if (s.schemaChanges.length > 0) {
    out.push('', 'Schema changes:');
    for (const c of s.schemaChanges) {
      const what =
        c.kind === 'create_table'
          ? `created table ${c.table}`
          : c.kind === 'add_column'
            ? `added ${c.table}.${c.column} ${c.to}`
            : `widened ${c.table}.${c.column} ${c.from} → ${c.to}`;
      out.push(`  ${safe(what)}  (${safe(c.file)})`);
    }
  }
  const discarded = s.tables.filter((t) => t.discardedRows > 0 || t.discardedValues > 0);
  if (discarded.length > 0) {
    out.push('', 'Discarded by schema contract (counted, not stored):');
    for (const t of discarded)
      out.push(`  ${safe(t.table)}: ${t.discardedRows} row(s), ${t.discardedValues} value(s)`);
  }
  if (s.reconciled && s.reconciled.length > 0) {
    out.push('', 'Put back in line with the current files (docs/loading.md, "Edited and late files"):');
    for (const r of s.reconciled)
      out.push(`  ${safe(r.table)}: ${r.action.replace('_', ' ')} — ${safe(r.reason)}`);
  }
  if (s.warnings.length > 0) {
    out.push('', st.warn('Warnings:'));
    for (const w of s.warnings) out.push(`  ${safe(w)}`);
  }
  if (s.rejectsByReason.length > 0) {
    out.push('', st.warn('Rejected rows by reason (see `tributary rejects`):'));
    for (const r of s.rejectsByReason)
      out.push(`  ${safe(r.table)}: ${r.code} × ${st.warn(String(r.count))}`);
  }
  if (s.failures.length > 0) {
    out.push('', st.bad('Failed files (they will be retried next run):'));
    for (const x of s.failures) out.push(`  ${safe(x.file)}: ${st.bad(x.code)}: ${safe(x.message)}`);
  }
  if (s.models && s.models.length > 0) {
    out.push('', 'Models:', modelsTable(s.models, st));
    for (const m of s.models) if (m.error) out.push(`  ${m.name}: ${st.bad(safe(m.error))}`);
  }
  if (s.error) out.push('', `${st.bad('Run error:')} ${safe(s.error)}`);
  return out.join('\n');
}

/**
 * One plain line per notable event, for logs and terminals without live progress; `st`
 * colours the word that matters when the line goes straight to a terminal (never in logs).
 */
export function eventLine(e: RunEvent, st: Style = plain): string | undefined {
  switch (e.type) {
    case 'run_started':
      return `run ${e.runId} started → ${e.destination}`;
    case 'files_discovered':
      return `${e.total} file(s) found: ${e.toLoad} to read, ${e.unchanged} unchanged`;
    case 'file_loaded':
      return `loaded ${safe(e.file)} → ${safe(e.table)}: ${e.rows} rows (${e.stats.inserted} new, ${e.stats.updated} updated), ${e.rejects} rejected, ${duration(e.ms)}${e.passes === 1 ? ', one pass' : ''}`;
    case 'file_unchanged':
      return `unchanged ${safe(e.file)} (same content)`;
    case 'file_failed':
      return `${st.bad('FAILED')} ${safe(e.file)}: ${e.code}: ${safe(e.message)}`;
    case 'file_retry':
      return `retrying ${safe(e.file)} (attempt ${e.attempt} failed, ${e.retriesLeft} retr${e.retriesLeft === 1 ? 'y' : 'ies'} left): ${e.code}: ${safe(e.message)}`;
    case 'table_reconciled':
      return `${e.action === 'rebuild' ? 'rebuilding' : e.action === 'empty' ? 'emptying' : 'removing rows of a deleted file from'} ${safe(e.table)}: ${safe(e.reason)}`;
    case 'warning':
      return `${st.warn('warning:')} ${safe(e.message)}`;
    case 'model_finished': {
      const m = e.result;
      const what = `model ${m.name} (${m.materialized}): ${st.status(m.status)}, ${refreshText(m)}, ${duration(m.durationMs)}`;
      return m.error ? `${what}: ${safe(m.error)}` : what;
    }
    default:
      return undefined;
  }
}

/** What each model did in a run: refresh, rows, time (run report, `history --run`, `transform`). */
export function modelsTable(models: readonly ModelResult[], st: Style = plain): string {
  return table(
    ['model', 'materialized', 'status', 'refresh', 'rows', 'took'],
    models.map((m) => [
      m.name,
      m.materialized,
      m.status,
      refreshText(m),
      m.rows ?? '',
      duration(m.durationMs),
    ]),
    { status: st.status },
  );
}

/** `3 ok, 1 failed`: a run's model results in one cell of `tributary history`. */
export function modelCounts(models: readonly ModelResult[]): string {
  const n = (status: ModelResult['status']) => models.filter((m) => m.status === status).length;
  const parts = [`${n('succeeded')} ok`, `${n('failed')} failed`, `${n('skipped')} skipped`];
  return models.length === 0 ? '' : parts.filter((p) => !p.startsWith('0 ')).join(', ');
}

/** Colours `modelCounts`' text: `failed` red, else `skipped` yellow. */
export function paintModelCounts(st: Style): (cell: string) => string {
  return (cell) => (/ failed/.test(cell) ? st.bad(cell) : / skipped/.test(cell) ? st.warn(cell) : cell);
}

/** A cell painter that leaves `0` plain: `rejected` 0 is not news, 3 is. */
export function nonZero(paint: (text: string) => string): (cell: string) => string {
  return (cell) => (cell.trim() === '0' ? cell : paint(cell));
}

function refreshText(m: ModelResult): string {
  if (m.refresh === 'incremental') return `incremental: ${m.keys} key(s), -${m.deleted} +${m.inserted} rows`;
  return m.refresh === 'full' ? `full${m.reason ? `: ${m.reason}` : ''}` : (m.reason ?? '');
}

/** `run --dry-run`: what a run would do, file by file, with the DDL it would run. */
export function previewText(p: RunPreview, st: Style = plain): string {
  const out: string[] = [];
  out.push(`Dry run of ${p.pipeline} → ${p.destination}: nothing was changed.`);
  if (p.absent) out.push('The destination does not exist yet: the run would create it.');
  for (const w of p.warnings) out.push(`${st.warn('warning:')} ${safe(w)}`);
  if (p.reconcile.length > 0) {
    out.push('', 'Put back in line before loading (a table equals a full refresh of its current files):');
    for (const r of p.reconcile)
      out.push(`  ${safe(r.table)}: ${r.action.replace('_', ' ')} — ${safe(r.reason)}`);
  }
  const todo = p.files.filter((f) => f.action !== 'unchanged');
  if (todo.length > 0) {
    out.push('');
    for (const f of todo) {
      const records = f.records === undefined ? '' : `, ${f.records} record(s)`;
      const shadowed = f.shadowed ? ' (a newer file holds the table: its rows are not written)' : '';
      out.push(`${safe(f.path)} → ${safe(f.table)}: ${f.action} (${safe(f.reason)}${records})${shadowed}`);
      if (f.error) out.push(`  ${st.bad('would fail:')} ${f.error.code}: ${safe(f.error.message)}`);
      for (const c of f.changes) {
        out.push(`  ${safe(c.text)}`);
        for (const sql of c.sql) out.push(...sql.split('\n').map((l) => `    ${l}`));
      }
      for (const r of f.rejects) out.push(`  kept out: ${safe(r)}`);
      for (const w of f.warnings) out.push(`  ${st.warn('warning:')} ${safe(w)}`);
    }
  }
  const count = (a: FilePreview['action']) => p.files.filter((f) => f.action === a).length;
  const load = count('load') + count('reload');
  out.push(
    '',
    `Files: ${st.count(load, st.ok)} would load, ${count('unchanged')} unchanged, ${st.count(count('fail'), st.bad)} would fail (of ${p.files.length}).`,
  );
  if (p.filesLeft) out.push(leftText(p.filesLeft, 'would be left'));
  return out.join('\n');
}

/** `--table` / `--source`: what waits for a run of the whole pipeline. */
function leftText(n: number, verb: string): string {
  return `${n} new or changed file(s) of other sources ${verb} pending, not recorded: a run that includes their sources loads them (\`tributary run\`).`;
}

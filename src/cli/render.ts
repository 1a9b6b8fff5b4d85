import type { ModelResult, RunEvent, RunSummary } from '../runner/events.js';
import type { FilePreview, RunPreview } from '../runner/preview.js';

/** Plain text table: columns padded, numbers right-aligned. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function duration(ms: number): string {
  return ms < 1000
    ? `${ms} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60_000)} min`;
}

export function summaryText(s: RunSummary): string {
  const out: string[] = [];
  const f = s.files;
  out.push(
    `Run ${s.runId} of ${s.pipeline}${s.trigger ? ` (${s.trigger})` : ''}: ${s.status} in ${duration(s.durationMs)} — files: ${f.loaded} loaded, ${f.unchanged} unchanged, ${f.failed} failed (of ${f.discovered}).`,
  );
  if (f.discovered > 0 && f.loaded === 0 && f.failed === 0 && s.status === 'succeeded')
    out.push('Nothing new to load.');
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
      out.push(`  ${what}  (${c.file})`);
    }
  }
  const discarded = s.tables.filter((t) => t.discardedRows > 0 || t.discardedValues > 0);
  if (discarded.length > 0) {
    out.push('', 'Discarded by schema contract (counted, not stored):');
    for (const t of discarded)
      out.push(`  ${t.table}: ${t.discardedRows} row(s), ${t.discardedValues} value(s)`);
  }
  if (s.reconciled && s.reconciled.length > 0) {
    out.push('', 'Put back in line with the current files (docs/loading.md, "Edited and late files"):');
    for (const r of s.reconciled) out.push(`  ${r.table}: ${r.action.replace('_', ' ')} — ${r.reason}`);
  }
  if (s.warnings.length > 0) {
    out.push('', 'Warnings:');
    for (const w of s.warnings) out.push(`  ${w}`);
  }
  if (s.rejectsByReason.length > 0) {
    out.push('', 'Rejected rows by reason (see `tributary rejects`):');
    for (const r of s.rejectsByReason) out.push(`  ${r.table}: ${r.code} × ${r.count}`);
  }
  if (s.failures.length > 0) {
    out.push('', 'Failed files (they will be retried next run):');
    for (const x of s.failures) out.push(`  ${x.file}: ${x.code}: ${x.message}`);
  }
  if (s.models && s.models.length > 0) {
    out.push('', 'Models:', modelsTable(s.models));
    for (const m of s.models) if (m.error) out.push(`  ${m.name}: ${m.error}`);
  }
  if (s.error) out.push('', `Run error: ${s.error}`);
  return out.join('\n');
}

/** One plain line per notable event, for logs and terminals without live progress. */
export function eventLine(e: RunEvent): string | undefined {
  switch (e.type) {
    case 'run_started':
      return `run ${e.runId} started → ${e.destination}`;
    case 'files_discovered':
      return `${e.total} file(s) found: ${e.toLoad} to read, ${e.unchanged} unchanged`;
    case 'file_loaded':
      return `loaded ${e.file} → ${e.table}: ${e.rows} rows (${e.stats.inserted} new, ${e.stats.updated} updated), ${e.rejects} rejected, ${duration(e.ms)}${e.passes === 1 ? ', one pass' : ''}`;
    case 'file_unchanged':
      return `unchanged ${e.file} (same content)`;
    case 'file_failed':
      return `FAILED ${e.file}: ${e.code}: ${e.message}`;
    case 'file_retry':
      return `retrying ${e.file} (attempt ${e.attempt} failed, ${e.retriesLeft} retr${e.retriesLeft === 1 ? 'y' : 'ies'} left): ${e.code}: ${e.message}`;
    case 'table_reconciled':
      return `${e.action === 'rebuild' ? 'rebuilding' : e.action === 'empty' ? 'emptying' : 'removing rows of a deleted file from'} ${e.table}: ${e.reason}`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'model_finished': {
      const m = e.result;
      const what = `model ${m.name} (${m.materialized}): ${m.status}, ${refreshText(m)}, ${duration(m.durationMs)}`;
      return m.error ? `${what}: ${m.error}` : what;
    }
    default:
      return undefined;
  }
}

/** What each model did in a run: refresh, rows, time (run report, `history --run`, `transform`). */
export function modelsTable(models: readonly ModelResult[]): string {
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
  );
}

/** `3 ok, 1 failed`: a run's model results in one cell of `tributary history`. */
export function modelCounts(models: readonly ModelResult[]): string {
  const n = (status: ModelResult['status']) => models.filter((m) => m.status === status).length;
  const parts = [`${n('succeeded')} ok`, `${n('failed')} failed`, `${n('skipped')} skipped`];
  return models.length === 0 ? '' : parts.filter((p) => !p.startsWith('0 ')).join(', ');
}

function refreshText(m: ModelResult): string {
  if (m.refresh === 'incremental') return `incremental: ${m.keys} key(s), -${m.deleted} +${m.inserted} rows`;
  return m.refresh === 'full' ? `full${m.reason ? `: ${m.reason}` : ''}` : (m.reason ?? '');
}

/** `run --dry-run`: what a run would do, file by file, with the DDL it would run. */
export function previewText(p: RunPreview): string {
  const out: string[] = [];
  out.push(`Dry run of ${p.pipeline} → ${p.destination}: nothing was changed.`);
  if (p.absent) out.push('The destination does not exist yet: the run would create it.');
  for (const w of p.warnings) out.push(`warning: ${w}`);
  if (p.reconcile.length > 0) {
    out.push('', 'Put back in line before loading (a table equals a full refresh of its current files):');
    for (const r of p.reconcile) out.push(`  ${r.table}: ${r.action.replace('_', ' ')} — ${r.reason}`);
  }
  const todo = p.files.filter((f) => f.action !== 'unchanged');
  if (todo.length > 0) {
    out.push('');
    for (const f of todo) {
      const records = f.records === undefined ? '' : `, ${f.records} record(s)`;
      const shadowed = f.shadowed ? ' (a newer file holds the table: its rows are not written)' : '';
      out.push(`${f.path} → ${f.table}: ${f.action} (${f.reason}${records})${shadowed}`);
      if (f.error) out.push(`  would fail: ${f.error.code}: ${f.error.message}`);
      for (const c of f.changes) {
        out.push(`  ${c.text}`);
        for (const sql of c.sql) out.push(...sql.split('\n').map((l) => `    ${l}`));
      }
      for (const r of f.rejects) out.push(`  kept out: ${r}`);
      for (const w of f.warnings) out.push(`  warning: ${w}`);
    }
  }
  const count = (a: FilePreview['action']) => p.files.filter((f) => f.action === a).length;
  const load = count('load') + count('reload');
  out.push(
    '',
    `Files: ${load} would load, ${count('unchanged')} unchanged, ${count('fail')} would fail (of ${p.files.length}).`,
  );
  return out.join('\n');
}

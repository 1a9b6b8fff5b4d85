import { escapeControls } from '../config/quote.js';
import type { RunRecord } from '../ops/history.js';
import type { RunSummary } from '../runner/events.js';
import { summaryText } from './render.js';
import { plain, type Style } from './style.js';

/**
 * One past run in full (`tributary history --run N`): the report the run printed when it
 * ended, from the summary stored with it. A run that never finished (crashed, or still
 * running) has no summary: its counts and status say what is known.
 */
export function runReport(run: RunRecord, st: Style = plain): string {
  const when = `Started ${run.startedAt}${run.finishedAt ? `, finished ${run.finishedAt}` : ''}.`;
  const summary = run.summary as Partial<RunSummary> | null;
  if (!summary || typeof summary !== 'object' || !summary.files) {
    const crashed =
      run.status === 'crashed'
        ? ' (the process died; the next run went on with the files it had not committed)'
        : '';
    const lines = [
      `Run ${run.id} of ${run.pipeline}: ${st.status(run.status)}${crashed}.`,
      when,
      `Files: ${run.filesLoaded} loaded, ${run.filesSkipped} unchanged, ${st.count(run.filesFailed, st.bad)} failed; rows: ${run.rowsInserted} inserted, ${run.rowsUpdated} updated, ${st.count(run.rowsRejected, st.warn)} rejected.`,
    ];
    if (run.error) lines.push(`${st.bad('Error:')} ${escapeControls(run.error)}`);
    return lines.join('\n');
  }
  // Summaries written by older versions may lack newer fields.
  const full = {
    ...(summary as RunSummary),
    schemaChanges: summary.schemaChanges ?? [],
    failures: summary.failures ?? [],
    rejectsByReason: summary.rejectsByReason ?? [],
    warnings: summary.warnings ?? [],
    durationMs: summary.durationMs ?? 0,
  };
  const tables = (summary.tables ?? []).map((t) => ({
    ...t,
    discardedRows: t.discardedRows ?? 0,
    discardedValues: t.discardedValues ?? 0,
  }));
  return `${summaryText({ ...full, tables }, st)}\n\n${when}`;
}

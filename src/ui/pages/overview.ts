import { runChart } from '../chart.js';
import type { OverviewData } from '../data.js';
import { ago, count, duration, when } from '../format.js';
import { type Html, html, seg } from '../html.js';
import { badge, card } from '../layout.js';

/** The overview's content (what the live refresh swaps in): last run, chart, failures, freshness. */
export function overviewContent(d: OverviewData): Html {
  if (d.database === 'absent') {
    return html`<div class="panel"><p>No database yet at <code>${d.destination}</code>: nothing has run. Run <code>tributary run</code> (or <code>npm start</code> for the demo); this page updates by itself.</p></div>`;
  }
  const r = d.lastRun;
  const last = r
    ? html`<div class="cards">
${card('Last run', html`<a href="/runs/${seg(r.id)}">#${r.id}</a> ${badge(r.status)}`)}
${card('Started', html`<span class="mid">${when(r.startedAt)}</span>`)}
${card('Files', d.progress ? html`${count(d.progress.files)}<span class="muted sub"> so far</span>` : html`${count(r.filesLoaded)}<span class="muted sub"> loaded · ${count(r.filesSkipped)} unchanged</span>`)}
${card('Rows', d.progress ? count(d.progress.rows) : html`${count(r.rowsInserted + r.rowsUpdated)}<span class="muted sub"> ${count(r.rowsInserted)} new · ${count(r.rowsUpdated)} upd</span>`)}
${card('Rejected', html`<a href="/rejects">${count(d.progress ? d.progress.rejected : r.rowsRejected)}</a>`)}
${card('Failed files', r.filesFailed > 0 ? html`<span class="error">${count(r.filesFailed)}</span>` : '0')}
${card('Duration', r.durationMs === null ? (r.status === 'running' ? 'running…' : '') : duration(r.durationMs))}
${card('Runs', html`<a href="/runs">${count(d.runs)}</a>`)}
</div>${r.error ? html`<p class="error">Error: ${r.error}</p>` : ''}`
    : html`<div class="panel"><p>No runs yet. Run <code>tributary run</code>; this page updates by itself.</p></div>`;
  const failed = d.failedFiles.length
    ? html`<table><thead><tr><th>file</th><th>table</th><th>run</th><th>when</th><th>error</th></tr></thead><tbody>
${d.failedFiles.map((f) => html`<tr><td class="mono">${f.path}</td><td><a href="/tables/${seg(f.table)}">${f.table}</a></td><td>${f.runId === null ? '' : html`<a href="/runs/${seg(f.runId)}">#${f.runId}</a>`}</td><td>${when(f.at)}</td><td class="error">${f.error ?? ''}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No failed files.</p>`;
  const now = Date.now();
  const fresh = d.freshness.length
    ? html`<table><thead><tr><th>table</th><th>status</th><th>last delivery</th><th>usually every</th><th class="n">deliveries seen</th></tr></thead><tbody>
${d.freshness.map((f) => html`<tr><td><a href="/tables/${seg(f.table)}">${f.table}</a></td><td>${badge(f.status)}</td><td>${f.lastDelivery === null ? html`<span class="muted">no file yet</span>` : html`${new Date(f.lastDelivery).toISOString().slice(0, 16).replace('T', ' ')} <span class="muted">(${ago(f.lastDelivery, now)})</span>`}</td><td>${f.usualMs === null ? html`<span class="muted">not enough deliveries</span>` : duration(f.usualMs)}</td><td class="n">${f.deliveries}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No sources.</p>`;
  const late = d.freshness.filter((f) => f.status === 'late');
  return html`${last}
<h2>Rows loaded and duration per run</h2>
<div class="panel" id="chart">${runChart(d.chart)}</div>
<p class="muted">The last ${d.chart.length} run(s); a bar links to its run. JSON: <a href="/api/chart/runs">/api/chart/runs</a>.</p>
<div class="two"><div>
<h2>Failed files</h2>${failed}</div><div>
<h2>Freshness${late.length ? html` <span class="badge late">${late.length} late</span>` : ''}</h2>${fresh}
<p class="muted">Late: no new file for more than twice the usual interval between deliveries (by the files' modification times).</p></div></div>`;
}

export function overviewBody(d: OverviewData): Html {
  return html`<h1>Overview <span id="live-mark" class="live"></span></h1>
<div id="live" data-version="${d.version}" data-every="4000">${overviewContent(d)}</div>
<noscript><p class="muted">JavaScript is off: reload the page to see new runs.</p></noscript>`;
}

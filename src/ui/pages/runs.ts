import type { RunDetail, RunsPage } from '../data.js';
import { count, duration, when } from '../format.js';
import { type Html, href, html, seg } from '../html.js';
import { badge } from '../layout.js';

export function runsBody(d: RunsPage): Html {
  const rows = d.runs.map(
    (
      r,
    ) => html`<tr><td><a href="/runs/${seg(r.id)}">#${r.id}</a></td><td>${badge(r.status)}</td><td>${when(r.startedAt)}</td>
<td class="n">${r.durationMs === null ? '' : duration(r.durationMs)}</td><td class="n">${count(r.filesLoaded)}</td><td class="n">${count(r.filesSkipped)}</td>
<td class="n">${r.filesFailed ? html`<span class="error">${count(r.filesFailed)}</span>` : '0'}</td><td class="n">${count(r.rowsInserted)}</td><td class="n">${count(r.rowsUpdated)}</td>
<td class="n">${r.rowsRejected ? html`<a href="${href('/rejects', { run: r.id })}">${count(r.rowsRejected)}</a>` : '0'}</td></tr>`,
  );
  return html`<h1>Runs <span class="muted sub">${count(d.total)} in all</span></h1>
${
  d.runs.length === 0
    ? html`<p class="muted">No runs yet.</p>`
    : html`<table><thead><tr><th>run</th><th>status</th><th>started (UTC)</th><th class="n">took</th><th class="n">files</th><th class="n">unchanged</th><th class="n">failed</th><th class="n">inserted</th><th class="n">updated</th><th class="n">rejected</th></tr></thead>
<tbody>${rows}</tbody></table>`
}
<div class="pager"><a class="button light" href="/runs">Newest</a>${d.next !== null ? html`<a class="button" rel="next" href="${href('/runs', { before: d.next })}">Older runs →</a>` : html`<span class="muted">The oldest run is on this page.</span>`}</div>`;
}

export function runBody(d: RunDetail): Html {
  const r = d.run;
  const workers = d.files.some((f) => f.worker);
  const files = d.files.map(
    (
      f,
    ) => html`<tr><td class="mono">${f.file}</td><td><a href="/tables/${seg(f.table)}">${f.table}</a></td><td>${badge(f.status)}</td>
<td class="n">${f.inserted === undefined ? '' : count(f.inserted)}</td><td class="n">${f.updated === undefined ? '' : count(f.updated)}</td><td class="n">${f.unchanged === undefined ? '' : count(f.unchanged)}</td>
<td class="n">${f.rejected ? html`<a href="${href('/rejects', { file: f.file })}">${count(f.rejected)}</a>` : f.rejected === undefined ? '' : '0'}</td>
<td class="n">${f.passes ?? ''}</td><td class="n">${f.ms === undefined ? '' : duration(f.ms)}</td>${workers ? html`<td class="mono">${f.worker ?? ''}${f.attempts && f.attempts > 1 ? html` <span class="muted">(${f.attempts} attempts)</span>` : ''}</td>` : ''}<td class="error">${f.code ? `${f.code}: ` : ''}${f.status === 'failed' ? (f.message ?? '') : ''}</td></tr>`,
  );
  const changes = d.schemaChanges.map(
    (c) =>
      html`<tr><td><a href="/tables/${seg(c.table)}#history">${c.table}</a></td><td class="change ${c.change}">${c.change.replace('_', ' ')}</td><td>${c.column ?? ''}</td><td class="mono">${c.oldType ?? ''}${c.oldType || c.newType ? ' → ' : ''}${c.newType ?? ''}</td><td class="mono">${c.file ?? ''}</td></tr>`,
  );
  const models = d.models.map(
    (
      m,
    ) => html`<tr><td><a href="/tables/${seg(m.name)}">${m.name}</a></td><td>${m.materialized}</td><td>${badge(m.status)}</td><td>${m.refresh ?? ''}</td>
<td class="n">${m.rows === undefined ? '' : count(m.rows)}</td><td class="n">${m.keys === undefined ? '' : count(m.keys)}</td><td class="n">${duration(m.durationMs)}</td><td class="${m.error ? 'error' : 'muted'}">${m.error ?? m.reason ?? ''}</td></tr>`,
  );
  return html`<h1>Run #${r.id} ${badge(r.status)}${d.trigger ? html` <span class="muted sub">${d.trigger}</span>` : ''}</h1>
<div class="cards">
<div class="card"><div class="k">Started (UTC)</div><div class="v mid">${when(r.startedAt)}</div></div>
<div class="card"><div class="k">Took</div><div class="v">${r.durationMs === null ? 'running…' : duration(r.durationMs)}</div></div>
<div class="card"><div class="k">Files</div><div class="v">${count(r.filesLoaded)} <span class="muted sub">loaded · ${count(r.filesSkipped)} unchanged · ${count(r.filesFailed)} failed</span></div></div>
<div class="card"><div class="k">Rows</div><div class="v">${count(r.rowsInserted)} <span class="muted sub">new · ${count(r.rowsUpdated)} updated · ${count(r.rowsUnchanged)} unchanged</span></div></div>
<div class="card"><div class="k">Rejected</div><div class="v">${r.rowsRejected ? html`<a href="${href('/rejects', { run: r.id })}">${count(r.rowsRejected)}</a>` : '0'}</div></div>
</div>
${r.error ? html`<p class="error">Error: ${r.error}</p>` : ''}
${d.warnings.length ? html`<h2>Warnings</h2><ul class="warnings">${d.warnings.map((w) => html`<li>${w}</li>`)}</ul>` : ''}
<h2>Files</h2>
${
  d.files.length === 0
    ? html`<p class="muted">No file loaded or failed in this run.</p>`
    : html`${d.filesFrom === 'ledger' ? html`<p class="muted">This run's summary predates per-file reports: the files whose ledger row it last wrote.</p>` : ''}
<table><thead><tr><th>file</th><th>table</th><th>status</th><th class="n">new</th><th class="n">updated</th><th class="n">unchanged</th><th class="n">rejected</th><th class="n">passes</th><th class="n">time</th>${workers ? html`<th>worker</th>` : ''}<th>error</th></tr></thead><tbody>${files}</tbody></table>
${d.filesOmitted ? html`<p class="muted">… and ${count(d.filesOmitted)} more file(s) not listed one by one.</p>` : ''}`
}
<h2>Schema changes</h2>
${changes.length ? html`<table><thead><tr><th>table</th><th>change</th><th>column</th><th>type</th><th>file</th></tr></thead><tbody>${changes}</tbody></table>` : html`<p class="muted">None.</p>`}
<h2>Models</h2>
${models.length ? html`<table><thead><tr><th>model</th><th>materialized</th><th>status</th><th>refresh</th><th class="n">rows</th><th class="n">keys</th><th class="n">took</th><th>note</th></tr></thead><tbody>${models}</tbody></table>` : html`<p class="muted">No model ran.</p>`}
${
  d.rejectsByReason.length
    ? html`<h2>Rejects by reason</h2><table><thead><tr><th>table</th><th>reason</th><th class="n">rows</th></tr></thead><tbody>${d.rejectsByReason.map(
        (x) =>
          html`<tr><td>${x.table}</td><td><a href="${href('/rejects', { table: x.table, reason: x.code === 'MORE' ? undefined : x.code })}">${x.code}</a></td><td class="n">${count(x.count)}</td></tr>`,
      )}</tbody></table>`
    : ''
}
<p><a href="/api/runs/${seg(r.id)}">JSON</a> · <a href="/runs">All runs</a></p>`;
}

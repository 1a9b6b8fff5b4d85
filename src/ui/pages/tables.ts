import type { TableDetail, TableListEntry } from '../data.js';
import { ago, bytes, count, duration, when } from '../format.js';
import { type Html, href, html, seg } from '../html.js';
import { badge } from '../layout.js';

export function tablesBody(d: { tables: TableListEntry[]; modelProblem: string | null }): Html {
  const rows = d.tables.map(
    (
      t,
    ) => html`<tr><td><a href="/tables/${seg(t.table)}">${t.table}</a></td><td>${t.kind === 'table' ? '' : html`<span class="muted">${t.kind === 'child' ? 'child table' : 'model'}</span>`}</td>
<td class="n">${t.rows === null ? html`<span class="muted">not created yet</span>` : count(t.rows)}</td><td class="n">${t.columns}</td><td class="mono">${t.primaryKey.join(', ')}</td>
<td class="n">${t.files ? count(t.files) : ''}</td><td class="n">${t.failed ? html`<span class="error">${count(t.failed)}</span>` : ''}</td><td>${when(t.lastChange)}</td></tr>`,
  );
  return html`<h1>Tables</h1>
${d.modelProblem ? html`<div class="error">The models cannot be read:<pre>${d.modelProblem}</pre></div>` : ''}
${
  d.tables.length === 0
    ? html`<p class="muted">No tables yet.</p>`
    : html`<table><thead><tr><th>table</th><th></th><th class="n">rows</th><th class="n">columns</th><th>primary key</th><th class="n">files</th><th class="n">failed</th><th>last file change (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`
}`;
}

export function tableBody(d: TableDetail): Html {
  const kind = d.kind === 'model' ? 'model' : d.kind === 'child' ? 'child table' : 'table';
  const columns = d.columns.map(
    (c) =>
      html`<tr><td class="mono">${c.name}</td><td class="mono">${c.type}</td><td>${d.primaryKey.includes(c.name) ? 'key' : ''}${d.cursor === c.name ? 'cursor' : ''}</td></tr>`,
  );
  const history = d.history.map(
    (
      h,
    ) => html`<tr><td><a href="/runs/${seg(h.runId)}">#${h.runId}</a></td><td>${when(h.at)}</td><td class="change ${h.change}">${h.change.replace('_', ' ')}</td><td class="mono">${h.column ?? ''}</td>
<td class="mono">${h.oldType ?? ''}${h.oldType && h.newType ? ' → ' : ''}${h.newType ?? ''}</td><td class="mono">${h.file ? html`<a href="${href('/rejects', { file: h.file })}" title="rejects of this file">${h.file}</a>` : ''}</td></tr>`,
  );
  const sources = d.sources.map(
    (s) =>
      html`<tr><td class="mono">${s.files}</td><td>${s.format ?? 'by extension'}</td><td>${s.write}</td><td class="mono">${s.primaryKey.join(', ')}</td><td class="mono">${s.cursor ?? ''}</td></tr>`,
  );
  const files = d.recentFiles.map(
    (
      f,
    ) => html`<tr><td class="mono">${f.path}</td><td>${badge(f.status)}</td><td>${f.runId === null ? '' : html`<a href="/runs/${seg(f.runId)}">#${f.runId}</a>`}</td>
<td class="n">${count(f.rowsLoaded)}</td><td class="n">${f.rowsRejected ? html`<a href="${href('/rejects', { file: f.path })}">${count(f.rowsRejected)}</a>` : '0'}</td><td class="n">${bytes(f.size)}</td><td>${when(f.updatedAt)}</td><td class="error">${f.status === 'failed' ? (f.error ?? '') : ''}</td></tr>`,
  );
  const m = d.model;
  const fr = d.freshness;
  return html`<h1>${d.table} <span class="muted sub">${kind}</span></h1>
<div class="cards">
<div class="card"><div class="k">Rows</div><div class="v">${d.rows === null ? html`<span class="muted mid">not created yet</span>` : count(d.rows)}</div></div>
<div class="card"><div class="k">Columns</div><div class="v">${d.columns.length}</div></div>
<div class="card"><div class="k">Primary key</div><div class="v mid mono">${d.primaryKey.length ? d.primaryKey.join(', ') : html`<span class="muted">none</span>`}</div></div>
<div class="card"><div class="k">Cursor</div><div class="v mid mono">${d.cursor ?? html`<span class="muted">none</span>`}</div></div>
${fr ? html`<div class="card"><div class="k">Freshness</div><div class="v mid">${badge(fr.status)} ${fr.lastDelivery === null ? '' : html`<span class="muted sub">last file ${ago(fr.lastDelivery, Date.now())}${fr.usualMs === null ? '' : `, usually every ${duration(fr.usualMs)}`}</span>`}</div></div>` : ''}
</div>
${d.parent ? html`<p>Child table of <a href="/tables/${seg(d.parent)}">${d.parent}</a>: one row per element of its nested array, keyed by the parent's key and <code>_tributary_idx</code>.</p>` : ''}
${d.children.length ? html`<p>Child tables: ${d.children.map((c, i) => html`${i ? ', ' : ''}<a href="/tables/${seg(c)}">${c}</a>`)}</p>` : ''}
${
  m
    ? html`<h2>Model</h2><div class="panel"><p><b>${m.materialized ?? ''}</b> model from <code>${m.file ?? ''}</code>${m.uniqueKey?.length ? html`, unique key <code>${m.uniqueKey.join(', ')}</code>` : ''}.</p>
<p>Reads: ${[...m.dependsOn.tables, ...m.dependsOn.models].map((t, i) => html`${i ? ', ' : ''}<a href="/tables/${seg(t)}">${t}</a>`)}</p>
<p>Last build: ${m.lastBuild ? html`<a href="/runs/${seg(m.lastBuild.runId)}">run #${m.lastBuild.runId}</a>${m.lastBuild.rows === null ? '' : html`, ${count(m.lastBuild.rows)} rows`}` : 'never'}</p></div>`
    : ''
}
${
  d.beforeImages
    ? html`<p class="muted">Before-images kept for incremental models: ${count(d.beforeImages.images)} row(s)${d.beforeImages.resets ? html`, ${count(d.beforeImages.resets)} reset(s)` : ''}, from run #${d.beforeImages.firstRun ?? ''} to #${d.beforeImages.lastRun ?? ''} (pruned once every model reading the table has caught up).</p>`
    : ''
}
<h2>Columns</h2>
${columns.length ? html`<table><thead><tr><th>column</th><th>type</th><th></th></tr></thead><tbody>${columns}</tbody></table>` : html`<p class="muted">The table is not in the database yet.</p>`}
<h2 id="history">Schema history</h2>
${history.length ? html`<table><thead><tr><th>run</th><th>when (UTC)</th><th>change</th><th>column</th><th>old → new type</th><th>file</th></tr></thead><tbody>${history}</tbody></table>` : html`<p class="muted">No schema change recorded.</p>`}
${
  d.sources.length
    ? html`<h2 id="sources">Sources</h2><table><thead><tr><th>files (glob)</th><th>format</th><th>write</th><th>primary key</th><th>cursor</th></tr></thead><tbody>${sources}</tbody></table>`
    : ''
}
${
  d.recentFiles.length
    ? html`<h2>Recent files</h2><table><thead><tr><th>file</th><th>status</th><th>run</th><th class="n">rows</th><th class="n">rejected</th><th class="n">size</th><th>changed (UTC)</th><th>error</th></tr></thead><tbody>${files}</tbody></table>`
    : ''
}
<p><a href="${href('/rejects', { table: d.table })}">Rejects of ${d.table}</a> · <a href="/api/tables/${seg(d.table)}">JSON</a> · <a href="/lineage">Lineage</a></p>`;
}

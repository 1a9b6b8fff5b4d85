import type { StoredReject } from '../../state/rejects.js';
import type { RejectsView } from '../data.js';
import { clip, count } from '../format.js';
import { type Html, href, html, seg } from '../html.js';

/** The `column` filter value meaning "rejects of no column" (a whole record): never a column's name. */
export const NO_COLUMN = '(none)';

/** The filter as query parameters (the page's links, the CSV export). */
export function filterParams(f: RejectsView['filter']): Record<string, string | number | undefined> {
  return {
    table: f.table,
    reason: f.code,
    column: f.column === null ? NO_COLUMN : f.column,
    file: f.file,
    run: f.run,
  };
}

const option = (value: string, label: string, selected: boolean) =>
  html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;

export function rejectsBody(d: RejectsView): Html {
  const f = d.filter;
  const params = filterParams(f);
  const form = html`<form class="filters" method="get" action="/rejects">
<label>table<select name="table">${option('', 'all tables', !f.table)}${d.tables.map((t) => option(t, t, f.table === t))}${f.table && !d.tables.includes(f.table) ? option(f.table, f.table, true) : ''}</select></label>
<label>reason<select name="reason">${option('', 'all reasons', !f.code)}${d.codes.map((c) => option(c, c, f.code === c))}${f.code && !d.codes.includes(f.code) ? option(f.code, f.code, true) : ''}</select></label>
<label>file<select name="file">${option('', 'all files', !f.file)}${d.files.map((x) => option(x.path, `${clip(x.path, 70)} (${x.rejected})`, f.file === x.path))}${f.file && !d.files.some((x) => x.path === f.file) ? option(f.file, clip(f.file, 70), true) : ''}</select></label>
<label>column<input name="column" value="${f.column === null ? NO_COLUMN : (f.column ?? '')}" placeholder="any column"></label>
${f.run !== undefined ? html`<label>run<input name="run" value="${f.run}" size="6"></label>` : ''}
<button type="submit">Filter</button> <a class="button light" href="/rejects">Clear</a>
<a class="button light" href="${href('/rejects.csv', params)}" download>Export CSV</a>
</form>`;
  const groups = d.groups.map(
    (
      g,
    ) => html`<tr><td><a href="/tables/${seg(g.table)}">${g.table}</a></td><td><a href="${href('/rejects', { ...params, table: g.table, reason: g.code, column: g.column ?? NO_COLUMN })}">${g.code}</a></td>
<td class="mono">${g.column ?? html`<span class="muted">(record)</span>`}</td><td class="n">${count(g.count)}</td><td class="n">${count(g.files)}</td><td class="muted">${g.fix}</td></tr>`,
  );
  const rows = d.rejects.map(
    (
      r,
    ) => html`<tr><td><a href="/rejects/${seg(r.id)}">${r.id}</a></td><td><a href="/runs/${seg(r.runId)}">#${r.runId}</a></td><td>${r.table}</td>
<td class="mono"><a href="${href('/rejects', { ...params, file: r.file })}">${r.file}</a></td><td class="n">${r.line}</td><td>${r.code}</td><td class="mono">${r.column ?? ''}</td><td>${clip(r.message, 200)}</td>
<td><pre>${clip(r.raw, 300)}</pre></td></tr>`,
  );
  return html`<h1>Rejects <span class="muted sub">${count(d.total)} open${f.run !== undefined ? ` from run #${f.run}` : ''}</span></h1>
<p class="muted">Rows that did not load, kept with their reason and raw record. Fix the cause, then <code>tributary rejects retry</code>.</p>
${form}
${d.unknownFile ? html`<p class="error">No file ${f.file} in the ledger.</p>` : ''}
<h2>By reason and column</h2>
${groups.length ? html`<table><thead><tr><th>table</th><th>reason</th><th>column</th><th class="n">rows</th><th class="n">files</th><th>what to do</th></tr></thead><tbody>${groups}</tbody></table>` : html`<p class="muted">No open rejects${f.table || f.code || f.file || f.run !== undefined || f.column !== undefined ? ' match the filter' : ''}.</p>`}
${
  rows.length
    ? html`<h2>Rejected rows</h2><table class="rejects"><thead><tr><th>id</th><th>run</th><th>table</th><th>file</th><th class="n">line</th><th>reason</th><th>column</th><th>message</th><th>raw record</th></tr></thead><tbody>${rows}</tbody></table>
<div class="pager"><a class="button light" href="${href('/rejects', params)}">First page</a>${d.next !== null ? html`<a class="button" rel="next" href="${href('/rejects', { ...params, after: d.next })}">Next ${50} →</a>` : html`<span class="muted">Last page.</span>`}</div>`
    : ''
}`;
}

export function rejectBody(r: StoredReject & { fix: string }): Html {
  return html`<h1>Reject ${r.id} <span class="muted sub">${r.code}</span></h1>
<table><tbody>
<tr><th>table</th><td><a href="/tables/${seg(r.table)}">${r.table}</a></td></tr>
<tr><th>file</th><td class="mono"><a href="${href('/rejects', { file: r.file })}">${r.file}</a></td></tr>
<tr><th>line</th><td>${r.line}</td></tr><tr><th>record</th><td>${r.record}</td></tr>
<tr><th>run</th><td><a href="/runs/${seg(r.runId)}">#${r.runId}</a></td></tr>
<tr><th>reason</th><td><a href="${href('/rejects', { reason: r.code, table: r.table })}">${r.code}</a></td></tr>
<tr><th>column</th><td class="mono">${r.column ?? ''}</td></tr>
<tr><th>message</th><td>${r.message}</td></tr>
<tr><th>status</th><td>${r.resolvedRunId === null ? 'open' : html`resolved by <a href="/runs/${seg(r.resolvedRunId)}">run #${r.resolvedRunId}</a>`}</td></tr>
<tr><th>what to do</th><td>${r.fix}</td></tr>
</tbody></table>
<h2>Raw record</h2><pre class="raw">${r.raw}</pre>
<p><a href="/rejects">All rejects</a> · <a href="/api/rejects/${seg(r.id)}">JSON</a></p>`;
}

export function lineageBody(svg: Html, problem: string | null): Html {
  return html`<h1>Lineage</h1>
<div class="legendrow"><span class="source">source files (glob)</span><span class="table">table</span><span class="child">child table</span><span class="model">model</span></div>
${problem ? html`<div class="error">The models are left out: they cannot be read.<pre>${problem}</pre></div>` : ''}
<div class="panel">${svg}</div>
<p class="muted">Each box links to its page. JSON: <a href="/api/lineage">/api/lineage</a>.</p>`;
}

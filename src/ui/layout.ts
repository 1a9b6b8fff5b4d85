import { type Html, html, type Part } from './html.js';

export type Section = 'overview' | 'runs' | 'tables' | 'rejects' | 'lineage';

const NAV: Array<[Section, string, string]> = [
  ['overview', '/', 'Overview'],
  ['runs', '/runs', 'Runs'],
  ['tables', '/tables', 'Tables'],
  ['rejects', '/rejects', 'Rejects'],
  ['lineage', '/lineage', 'Lineage'],
];

/** A whole page: the header with the pipeline, the navigation and the (masked) destination. */
export function page(opts: {
  title: string;
  section: Section;
  pipeline: string;
  destination: string;
  body: Part;
  scripts?: string[];
}): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · ${opts.pipeline} · Tributary</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body><header><a class="brand" href="/">Tributary</a><span>pipeline <b>${opts.pipeline}</b></span>
<nav>${NAV.map(([s, path, label]) => html`<a href="${path}"${s === opts.section ? html` class="current" aria-current="page"` : ''}>${label}</a>`)}</nav>
<span class="dest" title="destination">${opts.destination}</span></header>
<main>${opts.body}</main>
<footer>Tributary dashboard · read-only · rendered ${new Date().toISOString().slice(0, 19).replace('T', ' ')} UTC</footer>
${(opts.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</body></html>`;
}

/** A status word as a coloured badge (its class is the word: succeeded, failed, late, …). */
export function badge(status: string): Html {
  const cls = /^[a-z_]+$/.test(status) ? status : 'unknown';
  return html`<span class="badge ${cls}">${status}</span>`;
}

/** A small figure card. */
export function card(label: string, value: Part, title?: string): Html {
  return html`<div class="card"${title ? html` title="${title}"` : ''}><div class="k">${label}</div><div class="v">${value}</div></div>`;
}

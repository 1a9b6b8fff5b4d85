/**
 * The dashboard's only assets, shipped inside the package as text (no CDN, no build step, no
 * file served from disk): the style sheet and the small script of the overview's live refresh.
 * Every page works without the script.
 */

export const STYLE_CSS = `
:root { --bg:#f7f8fa; --card:#fff; --fg:#1d2330; --muted:#667085; --line:#e3e6ec; --accent:#2563eb;
  --ok:#16a34a; --warn:#d97706; --bad:#dc2626; --run:#7c3aed; --code:#f1f3f7; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif; background:var(--bg); color:var(--fg); }
header { display:flex; gap:18px; align-items:center; padding:10px 24px; background:#111827; color:#e5e7eb; flex-wrap:wrap; }
header a { color:#e5e7eb; text-decoration:none; }
header .brand { font-weight:700; font-size:16px; letter-spacing:.02em; }
header nav { display:flex; gap:4px; }
header nav a { padding:4px 10px; border-radius:6px; }
header nav a.current, header nav a:hover { background:#374151; }
header .dest { margin-left:auto; color:#9ca3af; font-size:12px; font-family:ui-monospace,monospace; }
main { padding:20px 24px 40px; max-width:1280px; margin:0 auto; }
h1 { font-size:20px; margin:0 0 14px; } h2 { font-size:16px; margin:26px 0 10px; }
a { color:var(--accent); } .muted { color:var(--muted); fill:var(--muted); }
.cards { display:grid; grid-template-columns:repeat(auto-fit,minmax(130px,1fr)); gap:12px; margin-bottom:8px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .v { font-size:22px; font-weight:600; margin-top:2px; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px; overflow-x:auto; }
table { border-collapse:collapse; width:100%; background:var(--card); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase; letter-spacing:.03em; background:#fafbfc; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
code, pre, .mono { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12.5px; }
code { background:var(--code); padding:1px 4px; border-radius:4px; }
pre { background:var(--code); padding:10px; border-radius:8px; white-space:pre-wrap; word-break:break-all; margin:4px 0; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; color:#fff; background:var(--muted); }
.badge.ok, .badge.succeeded, .badge.loaded { background:var(--ok); } .badge.warn, .badge.partial, .badge.interrupted, .badge.stale, .badge.late { background:var(--warn); }
.badge.bad, .badge.failed, .badge.crashed { background:var(--bad); } .badge.run, .badge.running { background:var(--run); }
.badge.unknown { background:#9ca3af; }
.error { color:var(--bad); } .warnings li { color:var(--warn); }
.pager { display:flex; gap:12px; margin:12px 0; align-items:center; }
form.filters { display:flex; gap:10px; flex-wrap:wrap; align-items:end; margin-bottom:12px; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
form.filters select, form.filters input { font:inherit; padding:4px 6px; border:1px solid var(--line); border-radius:6px; min-width:150px; background:#fff; }
button, .button { font:inherit; padding:5px 12px; border-radius:6px; border:1px solid var(--accent); background:var(--accent); color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
.button.light { background:#fff; color:var(--accent); }
svg.chart { width:100%; height:auto; display:block; }
svg .grid { stroke:var(--line); } svg .axisline { stroke:#9ca3af; }
svg .axis { font-size:11px; fill:var(--muted); } svg .axis.small { font-size:10px; }
svg .bar { fill:#60a5fa; } svg .bar.ok { fill:#60a5fa; } svg .bar.warn { fill:#fbbf24; } svg .bar.bad { fill:#f87171; } svg .bar.run { fill:#a78bfa; }
svg a:hover .bar { fill:var(--accent); }
svg .durline { fill:none; stroke:#111827; stroke-width:1.5; } svg .dot { fill:#111827; }
svg .legend { font-size:12px; fill:#2563eb; } svg .legend.dur { fill:#111827; } svg .axis.dur { fill:#111827; }
svg.lineage { width:100%; height:auto; min-width:720px; display:block; }
svg.lineage .edge { fill:none; stroke:#9ca3af; stroke-width:1.4; } svg.lineage .arrowhead { fill:#9ca3af; }
svg.lineage .node rect { stroke-width:1.5; }
svg.lineage .node.source rect { fill:#eef2ff; stroke:#6366f1; } svg.lineage .node.table rect { fill:#ecfdf5; stroke:#10b981; }
svg.lineage .node.child rect { fill:#f0fdfa; stroke:#14b8a6; stroke-dasharray:4 2; } svg.lineage .node.model rect { fill:#fff7ed; stroke:#f97316; }
svg.lineage .node:hover rect { stroke-width:3; }
svg.lineage .label { font-size:13px; font-weight:600; fill:#111827; } svg.lineage .label.glob { font-size:12px; font-weight:500; font-family:ui-monospace,monospace; } svg.lineage .detail { font-size:11px; fill:var(--muted); }
.legendrow { display:flex; gap:14px; font-size:12px; color:var(--muted); margin:8px 0; }
.legendrow span::before { content:""; display:inline-block; width:12px; height:12px; border-radius:3px; margin-right:5px; vertical-align:-2px; border:1.5px solid; }
.legendrow .source::before { background:#eef2ff; border-color:#6366f1; } .legendrow .table::before { background:#ecfdf5; border-color:#10b981; }
.legendrow .child::before { background:#f0fdfa; border-color:#14b8a6; } .legendrow .model::before { background:#fff7ed; border-color:#f97316; }
.live { font-size:12px; color:var(--muted); } .live.on::before { content:"● "; color:var(--ok); }
.change.create_table { color:var(--ok); } .change.widen_column { color:var(--warn); } .change.drop_table { color:var(--bad); }
.sub { font-size:12px; font-weight:400; } .card .sub { display:block; line-height:1.3; margin-top:2px; } .mid { font-size:15px; }
footer { text-align:center; color:var(--muted); font-size:12px; padding:12px; }
.two { display:grid; grid-template-columns:1fr 1fr; gap:16px; } @media (max-width: 900px) { .two { grid-template-columns:1fr; } }
`;

/**
 * The overview's live refresh: every few seconds, ask /api/overview for its `version`; when it
 * changed (a run started, committed files, finished), fetch the overview's content again and
 * swap it in. Without this script the page is the same, only not refreshed.
 */
export const LIVE_JS = `(() => {
  const box = document.getElementById('live');
  const mark = document.getElementById('live-mark');
  if (!box) return;
  let version = box.getAttribute('data-version');
  const every = Number(box.getAttribute('data-every') || '4000');
  if (mark) { mark.classList.add('on'); mark.textContent = 'live'; }
  async function tick() {
    try {
      const r = await fetch('/api/overview', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (r.ok) {
        const data = await r.json();
        if (data.version !== version) {
          const page = await fetch('/?partial=1', { credentials: 'same-origin' });
          if (page.ok) {
            box.innerHTML = await page.text();
            version = data.version;
            box.setAttribute('data-version', version);
          }
        }
        if (mark) { mark.classList.add('on'); mark.textContent = 'live · ' + new Date().toLocaleTimeString(); }
      } else if (mark) { mark.classList.remove('on'); mark.textContent = 'not refreshing (HTTP ' + r.status + ')'; }
    } catch (e) {
      if (mark) { mark.classList.remove('on'); mark.textContent = 'not refreshing (server unreachable)'; }
    }
    setTimeout(tick, every);
  }
  setTimeout(tick, every);
})();
`;

import { count, duration, when } from './format.js';
import { type Html, html, seg } from './html.js';

/** One run in the overview's chart (the JSON behind it: /api/chart/runs). */
export interface RunPoint {
  id: number;
  status: string;
  startedAt: string;
  /** Rows inserted plus rows updated. */
  rows: number;
  rejected: number;
  /** null while the run is still going, or when its times do not parse. */
  durationMs: number | null;
}

const W = 960;
const H = 280;
const PAD = { left: 64, right: 64, top: 20, bottom: 44 };

/** Round tick values covering 0..max: 1, 2 or 5 times a power of ten, about `n` of them. */
export function ticks(max: number, n = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) as number;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  if ((out[out.length - 1] as number) < max) out.push(Number((out.length * step).toPrecision(12)));
  return out;
}

const STATUS_CLASS: Record<string, string> = {
  succeeded: 'ok',
  partial: 'warn',
  failed: 'bad',
  crashed: 'bad',
  interrupted: 'warn',
  running: 'run',
};

/**
 * Rows loaded (bars, left axis) and duration (line, right axis) per run, oldest on the left,
 * drawn on the server as SVG: no script, no library, the same picture with JavaScript off.
 * Each bar links to its run. `points`: oldest first.
 */
export function runChart(points: readonly RunPoint[]): Html {
  if (points.length === 0) {
    return html`<svg class="chart" viewBox="0 0 ${W} 80" role="img" aria-label="no runs yet"><text x="${W / 2}" y="44" text-anchor="middle" class="muted">No runs yet: run tributary run.</text></svg>`;
  }
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const rowTicks = ticks(Math.max(...points.map((p) => p.rows)));
  const durs = points.map((p) => p.durationMs).filter((d): d is number => d !== null);
  const durTicks = ticks(Math.max(0, ...durs));
  const rowMax = rowTicks[rowTicks.length - 1] as number;
  const durMax = durTicks[durTicks.length - 1] as number;
  const slot = plotW / points.length;
  const barW = Math.max(1, Math.min(40, slot * 0.7));
  const x = (i: number) => PAD.left + slot * i + slot / 2;
  const yRows = (v: number) => PAD.top + plotH - (v / rowMax) * plotH;
  const yDur = (v: number) => PAD.top + plotH - (v / durMax) * plotH;
  const every = Math.max(1, Math.ceil(points.length / 10));
  const f = (n: number) => n.toFixed(1);

  const grid = rowTicks.map(
    (t) =>
      html`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(yRows(t))}" y2="${f(yRows(t))}"/><text class="axis" x="${PAD.left - 6}" y="${f(yRows(t) + 4)}" text-anchor="end">${compact(t)}</text>`,
  );
  const durAxis = durTicks.map(
    (t) =>
      html`<text class="axis dur" x="${W - PAD.right + 6}" y="${f(yDur(t) + 4)}">${t === 0 ? '0' : duration(t)}</text>`,
  );
  const bars = points.map((p, i) => {
    const top = yRows(p.rows);
    const h = Math.max(p.rows > 0 ? 1 : 0, PAD.top + plotH - top);
    const tip = `Run #${p.id} · ${p.status} · ${when(p.startedAt)}\n${count(p.rows)} rows loaded, ${count(p.rejected)} rejected${p.durationMs === null ? '' : `\ntook ${duration(p.durationMs)}`}`;
    return html`<a href="/runs/${seg(p.id)}"><rect class="bar ${STATUS_CLASS[p.status] ?? ''}" x="${f(x(i) - barW / 2)}" y="${f(PAD.top + plotH - h)}" width="${f(barW)}" height="${f(h)}" data-run="${p.id}"><title>${tip}</title></rect></a>`;
  });
  const line = points
    .map((p, i) => (p.durationMs === null ? null : `${f(x(i))},${f(yDur(p.durationMs))}`))
    .filter((s): s is string => s !== null);
  const dots = points.map((p, i) =>
    p.durationMs === null
      ? ''
      : html`<circle class="dot" cx="${f(x(i))}" cy="${f(yDur(p.durationMs))}" r="3"><title>Run #${p.id} took ${duration(p.durationMs)}</title></circle>`,
  );
  const labels = points.map((p, i) =>
    i % every === 0 || i === points.length - 1
      ? html`<text class="axis" x="${f(x(i))}" y="${H - PAD.bottom + 16}" text-anchor="middle">#${p.id}</text><text class="axis small" x="${f(x(i))}" y="${H - PAD.bottom + 30}" text-anchor="middle">${when(p.startedAt).slice(5, 16)}</text>`
      : '',
  );
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Rows loaded and duration of the last ${points.length} runs">
<g>${grid}</g>
<line class="axisline" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}"/>
<g>${bars}</g>
${line.length > 1 ? html`<polyline class="durline" points="${line.join(' ')}"/>` : ''}
<g>${dots}</g>
<g>${durAxis}</g>
<g>${labels}</g>
<text class="legend" x="${PAD.left}" y="12">■ rows loaded (inserted + updated)</text>
<text class="legend dur" x="${W - PAD.right}" y="12" text-anchor="end">● duration</text>
</svg>`;
}

/** 1500 → 1.5k, 2000000 → 2M. */
function compact(n: number): string {
  if (n >= 1e9) return `${trim(n / 1e9)}G`;
  if (n >= 1e6) return `${trim(n / 1e6)}M`;
  if (n >= 1e3) return `${trim(n / 1e3)}k`;
  return String(n);
}

const trim = (v: number) => String(Number(v.toFixed(1)));

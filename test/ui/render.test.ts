/**
 * The dashboard's pure parts: escaping, the chart, the lineage graph and its layout, freshness,
 * masking and the bind/token rules — plain data in, text or values out.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBind, isLoopback, sameToken } from '../../src/ui/auth.js';
import { type RunPoint, runChart, ticks } from '../../src/ui/chart.js';
import { duration } from '../../src/ui/format.js';
import { freshness } from '../../src/ui/freshness.js';
import { escapeText, Html, html } from '../../src/ui/html.js';
import { layout, lineageGraph, lineageSvg } from '../../src/ui/lineage.js';
import { maskDeep, masker } from '../../src/ui/mask.js';

describe('html', () => {
  it('escapes every interpolated value, keeps markup made by html``', () => {
    const v = `<script>alert("x")</script>&'`;
    expect(html`<p title="${v}">${v}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    expect(html`<b>${html`<i>${'<'}</i>`}</b>`.text).toBe('<b><i>&lt;</i></b>');
    expect(html`${['<a>', html`<br>`, null, undefined, false, 3]}`.text).toBe('&lt;a&gt;<br>3');
  });

  it('an escaped value never holds a tag, an unescaped quote or a character XML forbids (random strings)', () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 1_000_000);
    console.log(`html escaping property: seed ${seed}`);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeText(s);
        expect(out).not.toMatch(/[<>"']/);
        expect(out).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
        expect(out).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/);
        expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('Html is only made on purpose', () => {
    expect(new Html('<b>').text).toBe('<b>');
    expect(html`${{ toString: () => '<b>' } as unknown as string}`.text).toBe('&lt;b&gt;');
  });
});

describe('chart', () => {
  const point = (id: number, rows: number, ms: number | null, status = 'succeeded'): RunPoint => ({
    id,
    status,
    startedAt: `2024-06-0${id}T06:00:00.000Z`,
    rows,
    rejected: 0,
    durationMs: ms,
  });

  it('ticks are round and cover the maximum', () => {
    expect(ticks(0)).toEqual([0, 1]);
    expect(ticks(600)).toEqual([0, 200, 400, 600]);
    expect(ticks(1234)).toEqual([0, 500, 1000, 1500]);
    expect(ticks(0.7)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
  });

  it('a bar per run, linked to it, heights in proportion; the duration line; status colours', () => {
    const svg = runChart([
      point(1, 100, 1000),
      point(2, 50, 3000, 'failed'),
      point(3, 0, null, 'running'),
    ]).text;
    expect(svg.match(/<rect class="bar/g)).toHaveLength(3);
    expect(svg).toContain('<a href="/runs/2"><rect class="bar bad"');
    expect(svg).toContain('class="bar run"');
    const heights = [...svg.matchAll(/data-run="(\d)"|height="([\d.]+)" data-run/g)];
    expect(heights.length).toBeGreaterThan(0);
    const h = (id: number) => Number(new RegExp(`height="([\\d.]+)" data-run="${id}"`).exec(svg)?.[1]);
    expect(h(1)).toBeCloseTo(2 * h(2), 0);
    expect(h(3)).toBe(0);
    expect(svg).toMatch(/<polyline class="durline" points="[\d., ]+"\/>/);
    expect(svg).toContain('took 3.0 s');
  });

  it('says so when there is no run', () => {
    expect(runChart([]).text).toContain('No runs yet');
  });
});

describe('lineage', () => {
  const facts = {
    sources: [
      { index: 0, table: 'orders', files: 'landing/*/orders.csv', format: 'csv' },
      { index: 1, table: 'orders', files: 'landing/*/orders.jsonl' },
      { index: 2, table: 'deliveries', files: 'landing/*/deliveries.jsonl' },
    ],
    tables: ['orders', 'deliveries', 'deliveries__items', 'deliveries__items__tags', 'totals', 'leftover'],
    isChild: (t: string) => t.startsWith('deliveries__'),
    models: [
      { name: 'enriched', materialized: 'view', models: [], tables: ['orders', 'deliveries__items'] },
      { name: 'totals', materialized: 'table', models: ['enriched'], tables: [] },
    ],
  };

  it('sources → tables → child tables → models, with their links', () => {
    const g = lineageGraph(facts);
    const byId = Object.fromEntries(g.nodes.map((n) => [n.id, n]));
    expect(byId['source:0']).toMatchObject({ kind: 'source', href: '/tables/orders#sources', detail: 'csv' });
    expect(byId['table:deliveries__items']).toMatchObject({ kind: 'child' });
    expect(byId['table:leftover']).toMatchObject({ kind: 'table' });
    expect(byId['model:totals']).toMatchObject({ kind: 'model', href: '/tables/totals' });
    expect(byId['table:totals']).toBeUndefined(); // a model's table is the model
    expect(g.edges).toEqual(
      expect.arrayContaining([
        { from: 'source:0', to: 'table:orders' },
        { from: 'source:1', to: 'table:orders' },
        { from: 'table:deliveries', to: 'table:deliveries__items' },
        { from: 'table:deliveries__items', to: 'table:deliveries__items__tags' },
        { from: 'table:orders', to: 'model:enriched' },
        { from: 'table:deliveries__items', to: 'model:enriched' },
        { from: 'model:enriched', to: 'model:totals' },
      ]),
    );
  });

  it('lays nodes out in columns, left to right along every edge, never overlapping', () => {
    const g = lineageGraph(facts);
    const { nodes } = layout(g);
    const at = new Map(nodes.map((n) => [n.id, n]));
    for (const e of g.edges)
      expect((at.get(e.from)?.x ?? 0) < (at.get(e.to)?.x ?? 0), `${e.from} → ${e.to}`).toBe(true);
    for (const a of nodes)
      for (const b of nodes)
        if (a !== b && a.x === b.x) expect(Math.abs(a.y - b.y)).toBeGreaterThanOrEqual(40);
    expect(at.get('model:totals')?.x).toBeGreaterThan(at.get('model:enriched')?.x ?? Infinity);
  });

  it('draws links and escapes names', () => {
    const svg = lineageSvg(
      lineageGraph({
        sources: [{ index: 0, table: 't', files: 'in/<x>&"y".csv' }],
        tables: [],
        isChild: () => false,
        models: [],
      }),
    ).text;
    expect(svg).toContain('<a href="/tables/t#sources" class="node source"');
    expect(svg).toContain('in/&lt;x&gt;&amp;&quot;y&quot;.csv');
    expect(svg).not.toContain('<x>');
  });
});

describe('freshness', () => {
  const day = 86_400_000;
  const t0 = Date.parse('2024-06-01T06:00:00Z');

  it('files of one delivery count once; the usual gap is the median; late past twice it', () => {
    // Four daily deliveries of two files each, a few seconds apart.
    const times = [0, 1, 2, 3].flatMap((d) => [t0 + d * day, t0 + d * day + 5_000]);
    const last = t0 + 3 * day + 5_000;
    expect(freshness('t', times, last + day)).toMatchObject({
      status: 'ok',
      deliveries: 4,
      usualMs: day,
      lastDelivery: last,
    });
    expect(freshness('t', times, last + 2.5 * day).status).toBe('late');
  });

  it('too few deliveries: unknown; none: no last delivery', () => {
    expect(freshness('t', [t0, t0 + day], t0 + 100 * day)).toMatchObject({
      status: 'unknown',
      deliveries: 2,
    });
    expect(freshness('t', [], t0)).toMatchObject({ status: 'unknown', lastDelivery: null });
  });
});

describe('masking', () => {
  it('URL credentials and known secrets, in values and whole bodies, in their escaped and encoded forms', () => {
    const m = masker(['p@ss&word!', undefined, 'ab']);
    expect(m.value('mysql://u:p@ss&word!@h:3306/db')).toBe('mysql://u:***@h:3306/db');
    expect(m.value('postgres://u:other@h/db')).toBe('postgres://u:***@h/db');
    expect(m.value('mysql://u:${TRIBUTARY_DB_PASSWORD}@h/db')).toBe(
      'mysql://u:${TRIBUTARY_DB_PASSWORD}@h/db',
    );
    expect(m.body('x p@ss&amp;word! y p%40ss%26word! z')).toBe('x *** y *** z');
    expect(m.value('ab cd')).toBe('ab cd');
    expect(maskDeep({ a: ['x p@ss&word!'], n: 1, b: { c: 'p@ss&word!' } }, m.value)).toEqual({
      a: ['x ***'],
      n: 1,
      b: { c: '***' },
    });
  });
});

describe('bind and token rules', () => {
  it('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '10.0.0.1', '::ffff:10.0.0.1'])
      expect(isLoopback(h), h).toBe(false);
  });

  it('anything but loopback needs a token of 8 characters or more', () => {
    expect(() => checkBind('127.0.0.1', undefined)).not.toThrow();
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(/not a loopback address.*--token/);
    expect(() => checkBind('0.0.0.0', 'short')).toThrow(/too short/);
    expect(() => checkBind('0.0.0.0', 'long-enough-token')).not.toThrow();
  });

  it('tokens compare whole', () => {
    expect(sameToken('abcdefgh', 'abcdefgh')).toBe(true);
    expect(sameToken('abcdefg', 'abcdefgh')).toBe(false);
    expect(sameToken(undefined, 'abcdefgh')).toBe(false);
  });

  it('durations', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(12_300)).toBe('12 s');
    expect(duration(245_000)).toBe('4 min 05 s');
    expect(duration(86_400_000)).toBe('1 d');
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyLatest,
  type DirtyRow,
  expectedFinal,
  type FileSummary,
  type GenerateSummary,
  generateMarkets,
  type OrderRow,
  parseCents,
  reduceLatest,
  totalsByUserCents,
  type UserRow,
} from '../../examples/markets/generate.js';

const committedDir = fileURLToPath(new URL('../../examples/markets/landing/', import.meta.url));
const tmpRoot = mkdtempSync(join(tmpdir(), 'tributary-markets-'));
const dirA = join(tmpRoot, 'a');
const dirB = join(tmpRoot, 'b');
let summary: GenerateSummary;

beforeAll(() => {
  summary = generateMarkets(dirA);
  generateMarkets(dirB);
});

afterAll(() => {
  rmSync(tmpRoot, { recursive: true, force: true });
});

function listFiles(root: string, sub = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, sub), { withFileTypes: true })) {
    const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** Decompressed text of a generated file. */
function readText(root: string, rel: string): string {
  const bytes = readFileSync(join(root, ...rel.split('/')));
  return (rel.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
}

function csvRows(text: string): string[][] {
  const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

const normalizeHeader = (h: string): string => h.trim().toLowerCase().replace(/\s+/g, '_');
const SQL_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function validTime(s: string): boolean {
  if (!SQL_TIME.test(s) && !ISO_TIME.test(s)) return false;
  const iso = s.length === 19 ? `${s.replace(' ', 'T')}Z` : s;
  const d = new Date(iso);
  return !Number.isNaN(d.getTime()) && `${d.toISOString().slice(0, 19)}Z` === iso;
}

const toSql = (s: string): string => s.replace('T', ' ').replace(/Z$/, '');

describe('examples/markets generator: files', () => {
  it('is deterministic: two runs give byte-identical files', () => {
    const a = listFiles(dirA);
    expect(a).toEqual(listFiles(dirB));
    expect(a.length).toBe(19); // 18 data files + MANIFEST.json
    for (const rel of a) {
      expect(readFileSync(join(dirA, rel)).equals(readFileSync(join(dirB, rel))), rel).toBe(true);
    }
  });

  it('depends on the seed', () => {
    const dir = join(tmpRoot, 'seed');
    generateMarkets(dir, { seed: 7 });
    expect(readText(dir, '2024-06-01/market1/orders.csv')).not.toBe(
      readText(dirA, '2024-06-01/market1/orders.csv'),
    );
  });

  it('committed sample in examples/markets/landing is up to date', () => {
    expect(existsSync(committedDir)).toBe(true);
    const files = listFiles(dirA);
    expect(listFiles(committedDir)).toEqual(files);
    for (const rel of files) {
      // gzip compared decompressed: other zlib builds may compress differently.
      expect(readText(committedDir, rel), rel).toBe(readText(dirA, rel));
    }
  });

  it('has the documented layout, LF endings and a final newline', () => {
    const expected = ['2024-06-01', '2024-06-02', '2024-06-03'].flatMap((d) => [
      `${d}/market1/deliveries.csv`,
      `${d}/market1/orders.csv`,
      `${d}/market1/users.csv`,
      `${d}/market2/deliveries.jsonl`,
      d === '2024-06-03' ? `${d}/market2/orders.jsonl.gz` : `${d}/market2/orders.jsonl`,
      `${d}/market2/users.json`,
    ]);
    expect(listFiles(dirA)).toEqual(['MANIFEST.json', ...expected].sort());
    for (const rel of listFiles(dirA)) {
      const text = readText(dirA, rel);
      expect(text.includes('\r'), rel).toBe(false);
      expect(text.endsWith('\n'), rel).toBe(true);
      expect(Buffer.from(text, 'utf8').equals(Buffer.from(readText(dirA, rel), 'utf8'))).toBe(true);
    }
    expect(readFileSync(join(dirA, '2024-06-03/market2/orders.jsonl.gz')).subarray(0, 2)).toEqual(
      Buffer.from([0x1f, 0x8b]),
    );
  });

  it('writes MANIFEST.json equal to the returned summary', () => {
    expect(JSON.parse(readText(dirA, 'MANIFEST.json'))).toEqual(summary);
    expect(summary.totals.files).toBe(18);
    expect(summary.totals.dirtyRows).toBe(7);
    expect(summary.totals.staleRows).toBe(2);
  });

  it('has the special names, correctly quoted in CSV', () => {
    const m1 = readText(dirA, '2024-06-01/market1/users.csv');
    expect(m1).toContain('"Smith, John ""Johnny"""');
    const names1 = csvRows(m1).map((r) => r[1]);
    expect(names1).toEqual(expect.arrayContaining(['Zoë Müller', 'José García', 'Łukasz Kowalski', '王芳']));
    expect(names1).toContain('Smith, John "Johnny"');
    const names2 = (JSON.parse(readText(dirA, '2024-06-01/market2/users.json')) as UserRow[]).map(
      (u) => u.name,
    );
    expect(names2).toEqual(expect.arrayContaining(['Zoë Chen', 'Kai "Rocket 🚀" Rivera', 'Doe, Jane "JD"']));
  });

  it('adds Coupon Code (market1) and channel (market2) from batch 2 on', () => {
    const header = (rel: string) => readText(dirA, rel).split('\n')[0];
    expect(header('2024-06-01/market1/orders.csv')).toBe(
      'Order ID,User ID,Amount,Currency,Status,Ordered At,Updated At',
    );
    expect(header('2024-06-02/market1/orders.csv')).toBe(
      'Order ID,User ID,Amount,Currency,Status,Ordered At,Updated At,Coupon Code',
    );
    const firstKeys = (rel: string) => Object.keys(JSON.parse(readText(dirA, rel).split('\n')[0]!));
    expect(firstKeys('2024-06-01/market2/orders.jsonl')).not.toContain('channel');
    expect(firstKeys('2024-06-02/market2/orders.jsonl')).toContain('channel');
  });
});

describe('examples/markets generator: dirty rows', () => {
  /** Finds every problem in the generated files with rules of its own, independent of the manifest. */
  function findProblems(
    root: string,
    files: FileSummary[],
  ): Array<Pick<DirtyRow, 'file' | 'record' | 'line' | 'kind'>> {
    const found: Array<Pick<DirtyRow, 'file' | 'record' | 'line' | 'kind'>> = [];
    for (const f of files) {
      const text = readText(root, f.path);
      if (f.format === 'csv') {
        const [header, ...rows] = csvRows(text);
        const cols = header!.map(normalizeHeader);
        rows.forEach((fields, i) => {
          const at = { file: f.path, record: i + 1, line: i + 2 };
          const get = (c: string) => fields[cols.indexOf(c)] ?? '';
          if (fields.length !== cols.length) found.push({ ...at, kind: 'CSV_FIELD_COUNT' });
          else if (get(cols[0]!) === '') found.push({ ...at, kind: 'MISSING_PRIMARY_KEY' });
          else if (cols.includes('amount') && !/^\d+\.\d{2}$/.test(get('amount'))) {
            found.push({ ...at, kind: 'TYPE_MISMATCH' });
          } else if (
            cols.some((c) => c.endsWith('_at') && get(c) !== '' && !validTime(get(c))) ||
            cols.some((c) => c !== 'delivered_at' && c.endsWith('_at') && get(c) === '')
          ) {
            found.push({ ...at, kind: 'TYPE_MISMATCH' });
          }
        });
      } else if (f.format === 'ndjson') {
        const lines = text.split('\n').slice(0, -1);
        lines.forEach((line, i) => {
          const at = { file: f.path, record: i + 1, line: i + 1 };
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            found.push({ ...at, kind: 'JSON_SYNTAX' });
            return;
          }
          if (typeof value !== 'object' || value === null || Array.isArray(value)) {
            found.push({ ...at, kind: 'JSON_NOT_OBJECT' });
          }
        });
      } else {
        const value = JSON.parse(text) as unknown[];
        expect(value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))).toBe(true);
      }
    }
    return found;
  }

  it('lists exactly the dirty rows the files contain, at the stated record and line', () => {
    const manifest = summary.files.flatMap((f) => f.dirty);
    const strip = (d: Pick<DirtyRow, 'file' | 'record' | 'line' | 'kind'>) => ({
      file: d.file,
      record: d.record,
      line: d.line,
      kind: d.kind,
    });
    const key = (d: { file: string; record: number }) => `${d.file}#${String(d.record).padStart(8, '0')}`;
    const sorted = <T extends { file: string; record: number }>(xs: T[]) =>
      [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sorted(findProblems(dirA, summary.files))).toEqual(sorted(manifest.map(strip)));
    for (const d of manifest) {
      expect(readText(dirA, d.file).split('\n')[d.line - 1], `${d.file}:${d.line}`).toBe(d.raw);
    }
  });

  it('has the planned dirty rows only in batches 2 and 3', () => {
    const manifest = summary.files.flatMap((f) => f.dirty);
    expect(manifest.filter((d) => d.file.startsWith('2024-06-01/'))).toEqual([]);
    const kinds = manifest.map((d) => `${d.file} ${d.kind} ${d.column}`).sort();
    expect(kinds).toEqual([
      '2024-06-02/market1/deliveries.csv TYPE_MISMATCH shipped_at',
      '2024-06-02/market1/orders.csv CSV_FIELD_COUNT null',
      '2024-06-02/market1/orders.csv TYPE_MISMATCH amount',
      '2024-06-02/market2/orders.jsonl JSON_SYNTAX null',
      '2024-06-03/market1/orders.csv MISSING_PRIMARY_KEY order_id',
      '2024-06-03/market1/orders.csv TYPE_MISMATCH amount',
      '2024-06-03/market2/orders.jsonl.gz JSON_NOT_OBJECT null',
    ]);
    for (const f of summary.files) expect(f.expectedRejects).toBe(f.dirty.length);
  });

  it('puts the N/A amount at the stated line', () => {
    const na = summary.files.flatMap((f) => f.dirty).find((d) => d.raw.includes('N/A'))!;
    expect(na).toMatchObject({
      file: '2024-06-02/market1/orders.csv',
      kind: 'TYPE_MISMATCH',
      column: 'amount',
    });
    const line = readText(dirA, na.file).split('\n')[na.line - 1]!;
    expect(csvRows(line)[0]![2]).toBe('N/A');
    expect(na.record).toBe(na.line - 1);
    const comma = summary.files.flatMap((f) => f.dirty).find((d) => d.raw.includes('"12,50"'))!;
    expect(csvRows(readText(dirA, comma.file).split('\n')[comma.line - 1]!)[0]![2]).toBe('12,50');
    expect(summary.files.flatMap((f) => f.dirty).some((d) => d.raw.includes('2024-02-30'))).toBe(true);
  });

  it('keeps a constant number of dirty rows at other scales', () => {
    const dir = join(tmpRoot, 'scale2');
    const s2 = generateMarkets(dir, { scale: 2 });
    expect(s2.totals.dirtyRows).toBe(7);
    expect(s2.totals.byTable.orders.rows).toBeGreaterThan(1.9 * summary.totals.byTable.orders.rows);
    expect(findProblems(dir, s2.files).length).toBe(7);
    expect(() => generateMarkets(join(tmpRoot, 'bad'), { scale: 0 })).toThrow(RangeError);
  });
});

describe('examples/markets generator: expected final tables', () => {
  it('applyLatest / reduceLatest: newer replaces the whole row, older and dirty are ignored', () => {
    type R = { updated_at: string; tier: string; email: string | null };
    const events = [
      { key: 'm|1', row: { updated_at: '2024-06-01 10:00:00', tier: 'bronze', email: 'a@x' } },
      { key: 'm|2', row: { updated_at: '2024-06-01 10:00:00', tier: 'gold', email: 'b@x' } },
      { key: 'm|1', row: { updated_at: '2024-06-02 09:00:00', tier: 'silver', email: null } },
      // stale re-send: older than the stored version
      { key: 'm|1', row: { updated_at: '2024-06-01 12:00:00', tier: 'bronze', email: 'old@x' } },
      // dirty: newer, but rejected
      { key: 'm|2', row: { updated_at: '2024-06-03 00:00:00', tier: 'N/A', email: 'bad' }, dirty: true },
    ];
    const table = reduceLatest<R>(events);
    expect([...table.entries()]).toEqual([
      ['m|1', { updated_at: '2024-06-02 09:00:00', tier: 'silver', email: null }],
      ['m|2', { updated_at: '2024-06-01 10:00:00', tier: 'gold', email: 'b@x' }],
    ]);
    const t = new Map<string, R>();
    expect(applyLatest(t, 'k', { updated_at: '2024-06-02 00:00:00', tier: 'a', email: null })).toBe(
      'inserted',
    );
    expect(applyLatest(t, 'k', { updated_at: '2024-06-01 00:00:00', tier: 'b', email: null })).toBe(
      'ignored',
    );
    expect(applyLatest(t, 'k', { updated_at: '2024-06-03 00:00:00', tier: 'c', email: null })).toBe(
      'replaced',
    );
    expect(t.get('k')?.tier).toBe('c');
  });

  it('sums amounts exactly in cents', () => {
    expect(parseCents('12.50')).toBe(1250);
    expect(parseCents('0.07')).toBe(7);
    expect(() => parseCents('12,50')).toThrow();
    expect(() => parseCents('N/A')).toThrow();
    const o = (user_id: number, amount: string): OrderRow => ({
      market: 'market1',
      order_id: 0,
      user_id,
      amount,
      currency: 'EUR',
      status: 'paid',
      ordered_at: '',
      updated_at: '',
      coupon_code: null,
      channel: null,
    });
    const totals = totalsByUserCents([o(1, '0.10'), o(1, '0.20'), o(2, '100.00'), o(1, '12.50')]);
    expect(totals).toEqual(
      new Map([
        ['market1|1', 1280],
        ['market1|2', 10000],
      ]),
    );
  });

  it('ignores the stale user re-sends and never lets a dirty row overwrite a good version', () => {
    const final = expectedFinal();
    expect(final.staleResends).toEqual(summary.staleResends);
    expect(final.staleResends.map((s) => s.key.split('|')[0])).toEqual(['market1', 'market2']);
    for (const s of final.staleResends) {
      expect(s.updated_at < s.winning_updated_at).toBe(true);
      expect(final.users.get(s.key)?.updated_at).toBe(s.winning_updated_at);
    }
    expect(final.rejects).toEqual(summary.files.flatMap((f) => f.dirty));
    for (const d of final.rejects) {
      if (d.key === null) {
        expect(d.kind).toBe('MISSING_PRIMARY_KEY');
        continue;
      }
      if (d.file.includes('deliveries')) {
        expect(final.deliveries.get(d.key), d.key).toBeUndefined(); // a new key never sent again
        continue;
      }
      const row = final.orders.get(d.key);
      if (d.kind === 'CSV_FIELD_COUNT') {
        expect(row, d.key).toBeUndefined(); // a new key never sent again
        continue;
      }
      // An update of an existing order: the earlier good version stays.
      expect(row, d.key).toBeDefined();
      const dirtyUpdatedAt =
        d.kind === 'JSON_SYNTAX'
          ? null
          : d.kind === 'JSON_NOT_OBJECT'
            ? toSql((JSON.parse(d.raw) as string[])[6]!)
            : csvRows(d.raw)[0]![6]!;
      if (dirtyUpdatedAt !== null) expect(row!.updated_at < dirtyUpdatedAt).toBe(true);
      expect(row!.amount).toMatch(/^\d+\.\d{2}$/);
    }
  });

  it('matches the manifest totals and has orphans', () => {
    const final = expectedFinal();
    expect(final.users.size).toBe(summary.final.users);
    expect(final.orders.size).toBe(summary.final.orders);
    expect(final.deliveries.size).toBe(summary.final.deliveries);
    expect(final.orphanOrders.size).toBe(summary.final.orphanOrders);
    expect(final.orphanOrders.size).toBeGreaterThan(0);
    const total = [...final.userTotalsCents.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(summary.final.orderAmountCents);
    for (const key of final.orphanOrders) {
      const o = final.orders.get(key)!;
      expect(final.users.has(`${o.market}|${o.user_id}`)).toBe(false);
    }
  });

  it('equals a fold of the good rows read back from the files', () => {
    // A tiny independent loader: parse each file, drop the manifest's dirty records, fold.
    const dirty = new Set(summary.files.flatMap((f) => f.dirty.map((d) => `${d.file}#${d.record}`)));
    type Loose = Record<string, unknown> & { updated_at: string };
    const events: Record<string, Array<{ key: string; row: Loose }>> = {
      users: [],
      orders: [],
      deliveries: [],
    };
    for (const f of summary.files) {
      const text = readText(dirA, f.path);
      let records: Array<Record<string, unknown>>;
      if (f.format === 'csv') {
        const [header, ...rows] = csvRows(text);
        const cols = header!.map(normalizeHeader);
        records = rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i] === '' ? null : r[i]])));
      } else if (f.format === 'json') {
        records = JSON.parse(text) as Array<Record<string, unknown>>;
      } else {
        records = text
          .split('\n')
          .slice(0, -1)
          .map((l, i) => (dirty.has(`${f.path}#${i + 1}`) ? {} : (JSON.parse(l) as Record<string, unknown>)));
      }
      records.forEach((rec, i) => {
        if (dirty.has(`${f.path}#${i + 1}`)) return;
        const id = f.table === 'users' ? rec.user_id : f.table === 'orders' ? rec.order_id : rec.delivery_id;
        const row: Loose = { ...rec, updated_at: toSql(String(rec.updated_at)) };
        if (f.table === 'orders') row.amount_cents = Math.round(Number(rec.amount) * 100);
        events[f.table]!.push({ key: `${f.market}|${id}`, row });
      });
    }
    const final = expectedFinal();
    const users = reduceLatest(events.users!);
    const orders = reduceLatest(events.orders!);
    const deliveries = reduceLatest(events.deliveries!);
    expect([...users.keys()].sort()).toEqual([...final.users.keys()].sort());
    expect([...orders.keys()].sort()).toEqual([...final.orders.keys()].sort());
    expect([...deliveries.keys()].sort()).toEqual([...final.deliveries.keys()].sort());
    for (const [key, u] of final.users) {
      const got = users.get(key)!;
      expect({ email: got.email, tier: got.loyalty_tier, at: got.updated_at, name: got.name }, key).toEqual({
        email: u.email,
        tier: u.loyalty_tier,
        at: u.updated_at,
        name: u.name,
      });
    }
    for (const [key, o] of final.orders) {
      const got = orders.get(key)!;
      expect(
        { cents: got.amount_cents, status: got.status, at: got.updated_at, user: Number(got.user_id) },
        key,
      ).toEqual({ cents: parseCents(o.amount), status: o.status, at: o.updated_at, user: o.user_id });
      expect(got.coupon_code ?? null, key).toBe(o.coupon_code);
      expect(got.channel ?? null, key).toBe(o.channel);
    }
    for (const [key, d] of final.deliveries) {
      const got = deliveries.get(key)!;
      const deliveredAt = got.delivered_at === null ? null : toSql(String(got.delivered_at));
      expect({ delivered: deliveredAt, at: got.updated_at }, key).toEqual({
        delivered: d.delivered_at,
        at: d.updated_at,
      });
      if (d.market === 'market2') {
        expect(got.address, key).toEqual(d.address);
        expect(got.items, key).toEqual(d.items);
        expect(typeof d.address?.zip).toBe('string');
      }
    }
    expect([...final.deliveries.values()].some((d) => d.address?.zip.startsWith('0'))).toBe(true);
  });
});

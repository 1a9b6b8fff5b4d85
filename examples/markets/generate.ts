/**
 * Deterministic demo dataset for `examples/markets/`.
 *
 * Two markets deliver three dated batches of users, orders and deliveries:
 *
 *   landing/2024-06-0{1,2,3}/market1/{users,orders,deliveries}.csv
 *   landing/2024-06-0{1,2,3}/market2/users.json             (JSON array of objects)
 *   landing/2024-06-0{1,2,3}/market2/{orders,deliveries}.jsonl  (NDJSON)
 *   landing/2024-06-03/market2/orders.jsonl.gz               (batch 3 orders are gzip-compressed)
 *   landing/MANIFEST.json                                    (the GenerateSummary below)
 *
 * Batch 1 is clean and establishes the types. Batches 2 and 3 carry updates (same key, newer
 * `updated_at`), one stale user re-send per market (older `updated_at`, must be ignored), new
 * columns (`Coupon Code` in market1 orders, `channel` in market2 orders) and a fixed, small set of
 * deliberately dirty rows (see DIRTY_PLAN) whose keys never receive a later good version, so the
 * number of rejects is the same at every scale.
 *
 * Everything comes from an inline seeded PRNG (mulberry32): the same seed and scale give
 * byte-identical files. Files are written in chunks (gzip as one member of sync-flushed deflate
 * segments), so memory stays bounded by the generator's per-key state, not by file sizes.
 *
 * `expectedFinal()` replays the same generation without writing and folds the good rows with the
 * merge rules (greater `updated_at` replaces the whole row, older is ignored, dirty rows never
 * count), giving the tables a correct pipeline run must end with.
 *
 * Script: node --import tsx examples/markets/generate.ts [OUT_DIR] [--scale N] [--seed N]
 */
import { closeSync, mkdirSync, openSync, realpathSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import type { RejectCode } from '../../src/core/types.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export const DEFAULT_SEED = 20240601;
export const BATCHES = ['2024-06-01', '2024-06-02', '2024-06-03'] as const;
export const MARKETS = ['market1', 'market2'] as const;

export type Market = (typeof MARKETS)[number];
export type Table = 'users' | 'orders' | 'deliveries';
export type LoyaltyTier = 'bronze' | 'silver' | 'gold';
export type OrderStatus = 'placed' | 'paid' | 'shipped' | 'delivered' | 'cancelled';
export type DirtyKind = Extract<
  RejectCode,
  'TYPE_MISMATCH' | 'CSV_FIELD_COUNT' | 'MISSING_PRIMARY_KEY' | 'JSON_SYNTAX' | 'JSON_NOT_OBJECT'
>;

export interface GenerateOptions {
  /** Multiplies row counts (users, orders); 1 = the committed sample. Default 1. */
  scale?: number;
  /** PRNG seed. Default DEFAULT_SEED. */
  seed?: number;
}

/** A row a correct pipeline must reject. Line and record are 1-based (of the decompressed text). */
export interface DirtyRow {
  /** Path relative to the output directory, with `/`. */
  file: string;
  /** Record number within the file (a CSV header is not a record). */
  record: number;
  /** Line of the file where the record starts. */
  line: number;
  kind: DirtyKind;
  /** Offending column (normalized snake_case name) when the problem is one value. */
  column: string | null;
  /** `market|id` of the row the dirty record claims to be, or null if it has no usable key. */
  key: string | null;
  description: string;
  /** The exact text of the line. */
  raw: string;
}

/** A well-formed re-send with an older `updated_at` than the version already sent: must be ignored. */
export interface StaleRow {
  file: string;
  record: number;
  line: number;
  table: Table;
  key: string;
  /** `updated_at` of the stale row and of the version that must win (`YYYY-MM-DD HH:MM:SS`). */
  updated_at: string;
  winning_updated_at: string;
}

export interface FileSummary {
  path: string;
  batch: string;
  market: Market;
  table: Table;
  format: 'csv' | 'json' | 'ndjson';
  compression: 'gzip' | null;
  /** CSV header as written, or the top-level keys of every JSON object. */
  columns: string[];
  /** Records in the file, dirty ones included. */
  rows: number;
  goodRows: number;
  /** = dirty.length */
  expectedRejects: number;
  dirty: DirtyRow[];
}

export interface GenerateSummary {
  generator: 'tributary-examples-markets';
  version: 1;
  seed: number;
  scale: number;
  batches: string[];
  markets: string[];
  files: FileSummary[];
  staleResends: StaleRow[];
  totals: {
    files: number;
    rows: number;
    goodRows: number;
    dirtyRows: number;
    staleRows: number;
    byTable: Record<Table, { rows: number; dirtyRows: number }>;
  };
  /** Sizes of the expected final tables (both markets together); see expectedFinal(). */
  final: {
    users: number;
    orders: number;
    deliveries: number;
    orphanOrders: number;
    orderAmountCents: number;
  };
}

/** Datetimes in expected rows are UTC `YYYY-MM-DD HH:MM:SS` (JSON files carry `...THH:MM:SSZ`). */
export interface UserRow {
  market: Market;
  user_id: number;
  name: string;
  email: string;
  country: string;
  loyalty_tier: LoyaltyTier;
  signup_date: string;
  updated_at: string;
}

export interface OrderRow {
  market: Market;
  order_id: number;
  user_id: number;
  /** Exact decimal text with 2 decimals, e.g. `12.50`. */
  amount: string;
  currency: string;
  status: OrderStatus;
  ordered_at: string;
  updated_at: string;
  /**
   * market1's `Coupon Code` (a column from batch 2 on): null for most rows, for rows last sent in
   * batch 1, and always for market2.
   */
  coupon_code: string | null;
  /** market2's `channel` (a key from batch 2 on): null for rows last sent in batch 1 and for market1. */
  channel: 'web' | 'app' | null;
}

export interface Item {
  sku: string;
  qty: number;
  /** Unit price as the JSON number it is written as (e.g. 9.9 for `9.90`). */
  price: number;
}

export interface DeliveryRow {
  market: Market;
  delivery_id: number;
  order_id: number;
  carrier: string;
  shipped_at: string;
  delivered_at: string | null;
  updated_at: string;
  /** market2 only. `zip` is a string and may have a leading zero. */
  address?: { city: string; zip: string };
  /** market2 only. */
  items?: Item[];
}

export interface ExpectedFinal {
  /** Keyed by `market|user_id`. */
  users: Map<string, UserRow>;
  /** Keyed by `market|order_id`. */
  orders: Map<string, OrderRow>;
  /** Keyed by `market|delivery_id`. */
  deliveries: Map<string, DeliveryRow>;
  /**
   * `market|user_id` -> sum of the final orders' amounts in integer cents, over every final order
   * whatever its status (GROUP BY semantics: users without orders are absent, orphans present).
   */
  userTotalsCents: Map<string, number>;
  /** `market|order_id` of final orders whose user is not in the final users table. */
  orphanOrders: Set<string>;
  /** Every dirty row, as in the manifest. */
  rejects: DirtyRow[];
  staleResends: StaleRow[];
}

// ---------------------------------------------------------------------------------------------
// Pure merge helpers
// ---------------------------------------------------------------------------------------------

export interface LatestEvent<R extends { updated_at: string }> {
  key: string;
  row: R;
  /** A dirty (rejected) row: never applied. */
  dirty?: boolean;
}

/**
 * Applies one good row with the merge rule: a row whose `updated_at` is greater than (or equal
 * to) the stored one replaces the whole stored row; an older one is ignored. `updated_at` must be
 * in one fixed-width format (compared as text). The generated data never has ties per key.
 */
export function applyLatest<R extends { updated_at: string }>(
  table: Map<string, R>,
  key: string,
  row: R,
): 'inserted' | 'replaced' | 'ignored' {
  const current = table.get(key);
  if (current === undefined) {
    table.set(key, row);
    return 'inserted';
  }
  if (row.updated_at >= current.updated_at) {
    table.set(key, row);
    return 'replaced';
  }
  return 'ignored';
}

/** Folds events in arrival order with applyLatest, skipping dirty ones. */
export function reduceLatest<R extends { updated_at: string }>(
  events: Iterable<LatestEvent<R>>,
): Map<string, R> {
  const table = new Map<string, R>();
  for (const ev of events) {
    if (ev.dirty) continue;
    applyLatest(table, ev.key, ev.row);
  }
  return table;
}

/** `12.50` -> 1250. Throws unless the text is an exact non-negative amount with 2 decimals. */
export function parseCents(amount: string): number {
  const m = /^(\d+)\.(\d{2})$/.exec(amount);
  if (!m) throw new Error(`not an exact 2-decimal amount: ${JSON.stringify(amount)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

/** `market|user_id` -> sum of amounts in integer cents. */
export function totalsByUserCents(orders: Iterable<OrderRow>): Map<string, number> {
  const totals = new Map<string, number>();
  for (const o of orders) {
    const key = `${o.market}|${o.user_id}`;
    totals.set(key, (totals.get(key) ?? 0) + parseCents(o.amount));
  }
  return totals;
}

// ---------------------------------------------------------------------------------------------
// The dirty-row plan (batch index 1 = 2024-06-02, 2 = 2024-06-03)
// ---------------------------------------------------------------------------------------------

export type DirtySpecId =
  | 'amount_na'
  | 'extra_field'
  | 'bad_date'
  | 'amount_comma'
  | 'empty_pk'
  | 'truncated_json'
  | 'json_array';

export const DIRTY_PLAN: ReadonlyArray<{
  id: DirtySpecId;
  market: Market;
  batch: number;
  table: Table;
  kind: DirtyKind;
  description: string;
}> = [
  {
    id: 'amount_na',
    market: 'market1',
    batch: 1,
    table: 'orders',
    kind: 'TYPE_MISMATCH',
    description: 'status update of an existing order with Amount "N/A"; the earlier good version must stay',
  },
  {
    id: 'extra_field',
    market: 'market1',
    batch: 1,
    table: 'orders',
    kind: 'CSV_FIELD_COUNT',
    description: 'new order with one field more than the header; the order id is never sent again',
  },
  {
    id: 'bad_date',
    market: 'market1',
    batch: 1,
    table: 'deliveries',
    kind: 'TYPE_MISMATCH',
    description: 'new delivery with shipped_at on 2024-02-30; never sent again',
  },
  {
    id: 'amount_comma',
    market: 'market1',
    batch: 2,
    table: 'orders',
    kind: 'TYPE_MISMATCH',
    description: 'status update of an existing order with Amount "12,50" (decimal comma, quoted)',
  },
  {
    id: 'empty_pk',
    market: 'market1',
    batch: 2,
    table: 'orders',
    kind: 'MISSING_PRIMARY_KEY',
    description: 'order row with an empty Order ID',
  },
  {
    id: 'truncated_json',
    market: 'market2',
    batch: 1,
    table: 'orders',
    kind: 'JSON_SYNTAX',
    description: 'update of an existing order cut off after "amount": (malformed JSON line)',
  },
  {
    id: 'json_array',
    market: 'market2',
    batch: 2,
    table: 'orders',
    kind: 'JSON_NOT_OBJECT',
    description: 'update of an existing order written as a JSON array instead of an object',
  },
];

// ---------------------------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough for demo data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [value, w] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }
  /** k distinct items, in random order (partial Fisher-Yates on a copy). */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = items.slice();
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (copy.length - i));
      const tmp = copy[i]!;
      copy[i] = copy[j]!;
      copy[j] = tmp;
    }
    return copy.slice(0, n);
  }
}

/** Derives independent 32-bit seeds (one per market) from the user seed. */
function deriveSeed(seed: number, salt: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

const DAY = 86_400;

function epoch(isoNoZone: string): number {
  return Date.parse(`${isoNoZone}Z`) / 1000;
}

/** `YYYY-MM-DD HH:MM:SS` (UTC). */
function sqlTime(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

/** `YYYY-MM-DDTHH:MM:SSZ`. */
function isoTime(t: number): string {
  return `${new Date(t * 1000).toISOString().slice(0, 19)}Z`;
}

function dateOf(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 10);
}

/** Non-negative integer cents -> `12.50`. */
function money(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

function csvLine(fields: readonly string[]): string {
  return fields.map(csvField).join(',');
}

const q = (s: string): string => JSON.stringify(s);

/** Time window of each batch: batch 1 holds a week of history, later ones one day of changes. */
function batchWindow(b: number): { start: number; end: number } {
  if (b === 0) return { start: epoch('2024-05-25T00:00:00'), end: epoch('2024-05-31T23:59:59') };
  const start = epoch('2024-06-01T00:00:00') + (b - 1) * DAY;
  return { start, end: start + DAY - 1 };
}

// ---------------------------------------------------------------------------------------------
// Byte sinks: buffered plain file, streaming single-member gzip
// ---------------------------------------------------------------------------------------------

interface ByteSink {
  write(text: string): void;
  close(): void;
}

function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

class FileSink implements ByteSink {
  private readonly fd: number;
  private parts: string[] = [];
  private pending = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  write(text: string): void {
    this.parts.push(text);
    this.pending += text.length;
    if (this.pending >= 64 * 1024) this.flush();
  }
  private flush(): void {
    if (this.parts.length > 0) writeAll(this.fd, Buffer.from(this.parts.join(''), 'utf8'));
    this.parts = [];
    this.pending = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(buf: Uint8Array, previous: number): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * One gzip member written incrementally and synchronously: each chunk is raw-deflated on its own
 * and sync-flushed (byte aligned, not final), the last one is finished; concatenated they form a
 * valid deflate stream. Header has mtime 0 so the bytes depend only on the content.
 */
class GzipSink implements ByteSink {
  private readonly fd: number;
  private parts: string[] = [];
  private pending = 0;
  private crc = 0;
  private size = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
    writeAll(this.fd, Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0x03]));
  }
  write(text: string): void {
    this.parts.push(text);
    this.pending += text.length;
    if (this.pending >= 256 * 1024) this.flush(false);
  }
  private flush(final: boolean): void {
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    this.crc = crc32(buf, this.crc);
    this.size = (this.size + buf.length) >>> 0;
    const finishFlush = final ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH;
    writeAll(this.fd, deflateRawSync(buf, { level: 9, finishFlush }));
  }
  close(): void {
    this.flush(true);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc, 0);
    trailer.writeUInt32LE(this.size, 4);
    writeAll(this.fd, trailer);
    closeSync(this.fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Record writer: tracks lines/records, collects dirty rows, reports good rows
// ---------------------------------------------------------------------------------------------

type GoodEvent =
  | { table: 'users'; key: string; row: UserRow }
  | { table: 'orders'; key: string; row: OrderRow }
  | { table: 'deliveries'; key: string; row: DeliveryRow };

interface FileSpec {
  path: string;
  batch: string;
  market: Market;
  table: Table;
  format: 'csv' | 'json' | 'ndjson';
  compression: 'gzip' | null;
  columns: string[];
}

class Out {
  private records = 0;
  private linesDone = 0;
  private readonly dirty: DirtyRow[] = [];
  constructor(
    readonly spec: FileSpec,
    private readonly sink: ByteSink | null,
    private readonly onGood: ((ev: GoodEvent) => void) | null,
  ) {
    if (spec.format === 'csv') this.put(`${csvLine(spec.columns)}\n`, 1);
    else if (spec.format === 'json') this.put('[\n', 1);
  }

  private put(text: string, newlines: number): void {
    this.sink?.write(text);
    this.linesDone += newlines;
  }

  private record(text: string): { record: number; line: number } {
    if (/[\r\n]/.test(text)) throw new Error(`record text must be one line: ${text}`);
    this.records++;
    if (this.spec.format === 'json') {
      if (this.records > 1) this.put(',\n', 1);
      const line = this.linesDone + 1;
      this.put(`  ${text}`, 0);
      return { record: this.records, line };
    }
    const line = this.linesDone + 1;
    this.put(`${text}\n`, 1);
    return { record: this.records, line };
  }

  good(text: string, ev: GoodEvent): { record: number; line: number } {
    const pos = this.record(text);
    this.onGood?.(ev);
    return pos;
  }

  bad(text: string, id: DirtySpecId, column: string | null, key: string | null): void {
    const spec = DIRTY_PLAN.find((d) => d.id === id)!;
    const pos = this.record(text);
    this.dirty.push({
      file: this.spec.path,
      record: pos.record,
      line: pos.line,
      kind: spec.kind,
      column,
      key,
      description: spec.description,
      raw: text,
    });
  }

  close(): FileSummary {
    if (this.spec.format === 'json') this.put(this.records > 0 ? '\n]\n' : ']\n', 1);
    this.sink?.close();
    return {
      ...this.spec,
      rows: this.records,
      goodRows: this.records - this.dirty.length,
      expectedRejects: this.dirty.length,
      dirty: this.dirty,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Market profiles and generator state
// ---------------------------------------------------------------------------------------------

interface Profile {
  market: Market;
  countries: string[];
  currency: string;
  carriers: string[];
  specialNames: string[];
}

const PROFILES: Record<Market, Profile> = {
  market1: {
    market: 'market1',
    countries: ['DE', 'FR', 'ES', 'PL', 'IT', 'NL', 'PT'],
    currency: 'EUR',
    carriers: ['DHL', 'DPD', 'GLS', 'UPS', 'PostNL'],
    specialNames: [
      'Zoë Müller',
      'José García',
      'Łukasz Kowalski',
      'Smith, John "Johnny"',
      '王芳',
      'Chloé "Coco 🌸" Laurent',
      'Søren Østergaard',
      'François Lefèvre',
    ],
  },
  market2: {
    market: 'market2',
    countries: ['US', 'CA', 'GB', 'CN', 'MX'],
    currency: 'USD',
    carriers: ['UPS', 'FedEx', 'USPS', 'DHL'],
    specialNames: [
      '王芳',
      'Zoë Chen',
      'José Álvarez',
      'Łukasz Nowak',
      'Doe, Jane "JD"',
      'Kai "Rocket 🚀" Rivera',
      "Renée O'Connor",
      '李娜',
    ],
  },
};

const FIRST_NAMES = `Anna Ben Carla David Elena Felix Greta Hugo Ines Jonas Klara Leon
  Maria Noah Olga Paul Rosa Sven Tara Umar Vera Wim Yara Zeno`.split(/\s+/);
const LAST_NAMES = `Becker Costa Dubois Eriksen Fischer Garcia Hansen Ivanova Jansen Keller Lopez
  Moreau Novak Olsen Petrov Rossi Schmidt Tanaka Vogel Weber Young`.split(/\s+/);
const EMAIL_DOMAINS = ['example.com', 'mail.example.org', 'example.net'];
const TIERS: LoyaltyTier[] = ['bronze', 'silver', 'gold'];
const COUPONS = ['SUMMER10', 'WELCOME5', 'VIP20', 'FREESHIP'];
/** market2 cities with a zip base; several zips start with 0. */
const CITIES: ReadonlyArray<readonly [string, number]> = [
  ['Boston', 2108],
  ['Newark', 7102],
  ['Portland', 4101],
  ['Hartford', 6103],
  ['New York', 10001],
  ['Chicago', 60601],
  ['Austin', 73301],
  ['Seattle', 98101],
];
/** Far above any generated user id (scale is capped), so these users never exist. */
const ORPHAN_USER_BASE = 90_000_000;
const MAX_SCALE = 10_000;

interface UserState {
  user_id: number;
  name: string;
  email: string;
  country: string;
  loyalty_tier: LoyaltyTier;
  signup_date: string;
  updated_at: number;
}

interface OrderState {
  order_id: number;
  user_id: number;
  amount_cents: number;
  status: OrderStatus;
  ordered_at: number;
  updated_at: number;
  coupon_code: string | null;
  channel: 'web' | 'app';
  items: Array<{ sku: string; qty: number; price_cents: number }>;
}

interface DeliveryState {
  delivery_id: number;
  order_id: number;
  carrier: string;
  shipped_at: number;
  delivered_at: number | null;
  updated_at: number;
  city: string;
  zip: string;
  items: OrderState['items'];
}

interface Counts {
  initialUsers: number;
  newUsers: number;
  resentUsers: number;
  orders: number;
  orphans: number;
}

function countsFor(scale: number): Counts {
  const n = (base: number, min: number) => Math.max(min, Math.round(base * scale));
  return {
    initialUsers: n(40, 10),
    newUsers: n(4, 1),
    resentUsers: n(8, 3),
    orders: n(150, 30),
    orphans: n(1, 1),
  };
}

function asciiSlug(name: string): string {
  const slug = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[Łł]/g, 'l')
    .replace(/[Øø]/g, 'o')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '.')
    .replace(/^\.+|\.+$/g, '');
  return slug === '' ? 'user' : slug;
}

const isOpen = (s: OrderStatus): boolean => s === 'placed' || s === 'paid' || s === 'shipped';

type OrderAction = { kind: 'new'; orphan: boolean; dirtyDelivery: boolean } | { kind: 'update'; id: number };

class MarketGen {
  readonly users = new Map<number, UserState>();
  readonly orders = new Map<number, OrderState>();
  readonly deliveries = new Map<number, DeliveryState>();
  private readonly deliveryOfOrder = new Map<number, number>();
  private readonly orderIds: number[] = [];
  /** Orders that got a dirty row: never sent again (so no later good version fixes a reject). */
  private readonly frozen = new Set<number>();
  /** Versions of users before their batch-2 re-send (source of the stale re-send in batch 3). */
  private readonly beforeBatch2 = new Map<number, UserState>();
  private nextUserId = 1;
  private nextOrderId = 1;
  private nextDeliveryId = 1;
  private nextOrphan = 1;

  constructor(
    private readonly p: Profile,
    private readonly rng: Rng,
    private readonly counts: Counts,
    private readonly staleOut: StaleRow[],
  ) {}

  private key(id: number | string): string {
    return `${this.p.market}|${id}`;
  }

  // ----- users ---------------------------------------------------------------------------------

  private userText(u: UserState): string {
    if (this.p.market === 'market1') {
      return csvLine([
        String(u.user_id),
        u.name,
        u.email,
        u.country,
        u.loyalty_tier,
        u.signup_date,
        sqlTime(u.updated_at),
      ]);
    }
    return (
      `{"user_id":${u.user_id},"name":${q(u.name)},"email":${q(u.email)},"country":${q(u.country)},` +
      `"loyalty_tier":${q(u.loyalty_tier)},"signup_date":${q(u.signup_date)},"updated_at":${q(isoTime(u.updated_at))}}`
    );
  }

  private userRow(u: UserState): UserRow {
    return {
      market: this.p.market,
      user_id: u.user_id,
      name: u.name,
      email: u.email,
      country: u.country,
      loyalty_tier: u.loyalty_tier,
      signup_date: u.signup_date,
      updated_at: sqlTime(u.updated_at),
    };
  }

  private writeUser(out: Out, u: UserState): { record: number; line: number } {
    return out.good(this.userText(u), { table: 'users', key: this.key(u.user_id), row: this.userRow(u) });
  }

  private newUser(b: number): UserState {
    const { rng, p } = this;
    const id = this.nextUserId++;
    const name =
      id <= p.specialNames.length
        ? p.specialNames[id - 1]!
        : `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
    const win = batchWindow(b);
    let signupDay: number;
    let updatedAt: number;
    if (b === 0) {
      signupDay = rng.int(epoch('2023-01-01T00:00:00') / DAY, epoch('2024-05-31T00:00:00') / DAY);
      updatedAt = rng.int(signupDay * DAY + 8 * 3600, win.end);
    } else {
      updatedAt = rng.int(win.start, win.end);
      signupDay = Math.floor(updatedAt / DAY);
    }
    return {
      user_id: id,
      name,
      email: `${asciiSlug(name)}.${id}@${EMAIL_DOMAINS[0]}`,
      country: rng.pick(p.countries),
      loyalty_tier: rng.weighted<LoyaltyTier>([
        ['bronze', 6],
        ['silver', 3],
        ['gold', 1],
      ]),
      signup_date: dateOf(signupDay * DAY),
      updated_at: updatedAt,
    };
  }

  usersBatch(b: number, out: Out): void {
    const { rng, counts } = this;
    const win = batchWindow(b);
    type Act = { kind: 'new' } | { kind: 'resend'; id: number } | { kind: 'stale'; id: number };
    const acts: Act[] = [];
    if (b === 0) {
      for (let i = 0; i < counts.initialUsers; i++) acts.push({ kind: 'new' });
    } else {
      let staleId = -1;
      if (b === 2) {
        staleId = rng.pick([...this.beforeBatch2.keys()]);
        acts.push({ kind: 'stale', id: staleId });
      }
      const pool = [...this.users.keys()].filter((id) => id !== staleId);
      for (const id of rng.sample(pool, counts.resentUsers)) acts.push({ kind: 'resend', id });
      for (let i = 0; i < counts.newUsers; i++) acts.push({ kind: 'new' });
      rng.shuffle(acts);
    }

    for (const act of acts) {
      if (act.kind === 'new') {
        const u = this.newUser(b);
        this.users.set(u.user_id, u);
        this.writeUser(out, u);
      } else if (act.kind === 'resend') {
        const old = this.users.get(act.id)!;
        if (b === 1) this.beforeBatch2.set(act.id, old);
        const r = rng.float();
        const changeTier = r < 0.7;
        const changeEmail = r >= 0.5;
        const next: UserState = { ...old, updated_at: rng.int(win.start, win.end) };
        if (changeTier) next.loyalty_tier = rng.pick(TIERS.filter((t) => t !== old.loyalty_tier));
        if (changeEmail) {
          const domain = rng.pick(EMAIL_DOMAINS.filter((d) => !old.email.endsWith(`@${d}`)));
          next.email = `${asciiSlug(old.name)}.${old.user_id}.b${b + 1}@${domain}`;
        }
        this.users.set(act.id, next);
        this.writeUser(out, next);
      } else {
        // Stale re-send: the pre-batch-2 contents with a timestamp between that version and the
        // batch-2 one. Well-formed, so not a reject; the merge rule must ignore it.
        const current = this.users.get(act.id)!;
        const old = this.beforeBatch2.get(act.id)!;
        const stale: UserState = {
          ...old,
          updated_at: Math.floor((old.updated_at + current.updated_at) / 2),
        };
        const pos = this.writeUser(out, stale);
        this.staleOut.push({
          file: out.spec.path,
          record: pos.record,
          line: pos.line,
          table: 'users',
          key: this.key(act.id),
          updated_at: sqlTime(stale.updated_at),
          winning_updated_at: sqlTime(current.updated_at),
        });
      }
    }
  }

  // ----- orders & deliveries ---------------------------------------------------------------------

  static orderColumns(market: Market, batch: number): string[] {
    if (market === 'market1') {
      const cols = ['Order ID', 'User ID', 'Amount', 'Currency', 'Status', 'Ordered At', 'Updated At'];
      return batch >= 1 ? [...cols, 'Coupon Code'] : cols;
    }
    const cols = ['order_id', 'user_id', 'amount', 'currency', 'status', 'ordered_at', 'updated_at'];
    return batch >= 1 ? [...cols, 'channel'] : cols;
  }

  static deliveryColumns(market: Market): string[] {
    const cols = ['delivery_id', 'order_id', 'carrier', 'shipped_at', 'delivered_at', 'updated_at'];
    return market === 'market1' ? cols : [...cols, 'address', 'items'];
  }

  /** CSV fields of an order (market1); `amount` and `id` can be overridden for dirty rows. */
  private orderFields(
    o: OrderState,
    b: number,
    amount = money(o.amount_cents),
    id = String(o.order_id),
  ): string[] {
    const fields = [
      id,
      String(o.user_id),
      amount,
      this.p.currency,
      o.status,
      sqlTime(o.ordered_at),
      sqlTime(o.updated_at),
    ];
    if (b >= 1) fields.push(o.coupon_code ?? '');
    return fields;
  }

  private orderJson(o: OrderState, b: number): string {
    return (
      `{"order_id":${o.order_id},"user_id":${o.user_id},"amount":${money(o.amount_cents)},` +
      `"currency":${q(this.p.currency)},"status":${q(o.status)},"ordered_at":${q(isoTime(o.ordered_at))},` +
      `"updated_at":${q(isoTime(o.updated_at))}${b >= 1 ? `,"channel":${q(o.channel)}` : ''}}`
    );
  }

  private writeOrder(out: Out, o: OrderState, b: number): void {
    const m1 = this.p.market === 'market1';
    const row: OrderRow = {
      market: this.p.market,
      order_id: o.order_id,
      user_id: o.user_id,
      amount: money(o.amount_cents),
      currency: this.p.currency,
      status: o.status,
      ordered_at: sqlTime(o.ordered_at),
      updated_at: sqlTime(o.updated_at),
      coupon_code: m1 && b >= 1 ? o.coupon_code : null,
      channel: !m1 && b >= 1 ? o.channel : null,
    };
    const text = m1 ? csvLine(this.orderFields(o, b)) : this.orderJson(o, b);
    out.good(text, { table: 'orders', key: this.key(o.order_id), row });
  }

  private deliveryText(d: DeliveryState, shippedOverride?: string): string {
    if (this.p.market === 'market1') {
      return csvLine([
        String(d.delivery_id),
        String(d.order_id),
        d.carrier,
        shippedOverride ?? sqlTime(d.shipped_at),
        d.delivered_at === null ? '' : sqlTime(d.delivered_at),
        sqlTime(d.updated_at),
      ]);
    }
    const items = d.items.map((i) => `{"sku":${q(i.sku)},"qty":${i.qty},"price":${money(i.price_cents)}}`);
    return (
      `{"delivery_id":${d.delivery_id},"order_id":${d.order_id},"carrier":${q(d.carrier)},` +
      `"shipped_at":${q(isoTime(d.shipped_at))},` +
      `"delivered_at":${d.delivered_at === null ? 'null' : q(isoTime(d.delivered_at))},` +
      `"updated_at":${q(isoTime(d.updated_at))},"address":{"city":${q(d.city)},"zip":${q(d.zip)}},` +
      `"items":[${items.join(',')}]}`
    );
  }

  private writeDelivery(out: Out, d: DeliveryState): void {
    const row: DeliveryRow = {
      market: this.p.market,
      delivery_id: d.delivery_id,
      order_id: d.order_id,
      carrier: d.carrier,
      shipped_at: sqlTime(d.shipped_at),
      delivered_at: d.delivered_at === null ? null : sqlTime(d.delivered_at),
      updated_at: sqlTime(d.updated_at),
    };
    if (this.p.market === 'market2') {
      row.address = { city: d.city, zip: d.zip };
      row.items = d.items.map((i) => ({ sku: i.sku, qty: i.qty, price: i.price_cents / 100 }));
    }
    out.good(this.deliveryText(d), { table: 'deliveries', key: this.key(d.delivery_id), row });
  }

  /** An order draft (no id consumed, nothing registered). */
  private draftOrder(b: number, userId: number, id: number): OrderState {
    const { rng } = this;
    const win = batchWindow(b);
    const items: OrderState['items'] = [];
    const nItems = rng.int(1, 4);
    for (let i = 0; i < nItems; i++) {
      items.push({
        sku: `SKU-${String(rng.int(1, 9999)).padStart(4, '0')}`,
        qty: rng.int(1, 3),
        price_cents: rng.int(1, 99) * 100 + rng.pick([0, 49, 50, 95, 99]),
      });
    }
    const orderedAt = rng.int(win.start, win.end - 60);
    const maxLag = b === 0 ? 2 * DAY : 6 * 3600;
    return {
      order_id: id,
      user_id: userId,
      amount_cents: items.reduce((s, i) => s + i.qty * i.price_cents, 0),
      status: rng.weighted<OrderStatus>([
        ['placed', 10],
        ['paid', 15],
        ['shipped', 30],
        ['delivered', 37],
        ['cancelled', 8],
      ]),
      ordered_at: orderedAt,
      updated_at: Math.min(win.end, orderedAt + rng.int(60, maxLag)),
      coupon_code: rng.chance(0.12) ? rng.pick(COUPONS) : null,
      channel: rng.chance(0.6) ? 'web' : 'app',
      items,
    };
  }

  private randomUser(): number {
    return this.rng.int(1, this.nextUserId - 1);
  }

  private newDelivery(o: OrderState, shippedAt: number, deliveredAt: number | null): DeliveryState {
    const { rng } = this;
    const [city, zipBase] = rng.pick(CITIES);
    return {
      delivery_id: this.nextDeliveryId++,
      order_id: o.order_id,
      carrier: rng.pick(this.p.carriers),
      shipped_at: shippedAt,
      delivered_at: deliveredAt,
      updated_at: o.updated_at,
      city,
      zip: String(zipBase + rng.int(0, 40)).padStart(5, '0'),
      items: o.items,
    };
  }

  private nextStatus(s: OrderStatus): OrderStatus {
    if (s === 'placed') return this.rng.chance(0.85) ? 'paid' : 'cancelled';
    if (s === 'paid') return this.rng.chance(0.9) ? 'shipped' : 'cancelled';
    if (s === 'shipped') return 'delivered';
    return s;
  }

  ordersBatch(b: number, ordersOut: Out, deliveriesOut: Out): void {
    const { rng, counts } = this;
    const win = batchWindow(b);
    const n = counts.orders;
    const plan = DIRTY_PLAN.filter((d) => d.market === this.p.market && d.batch === b);

    // Dirty rows that claim to update an existing order: pick and freeze their targets first, so
    // no good version of them appears in this batch or any later one.
    let openIds = this.orderIds.filter((id) => !this.frozen.has(id) && isOpen(this.orders.get(id)!.status));
    const dirtyTarget = new Map<DirtySpecId, number>();
    for (const d of plan) {
      if (
        d.id === 'amount_na' ||
        d.id === 'amount_comma' ||
        d.id === 'truncated_json' ||
        d.id === 'json_array'
      ) {
        const pool = openIds.length > 0 ? openIds : this.orderIds.filter((id) => !this.frozen.has(id));
        const id = rng.pick(pool);
        dirtyTarget.set(d.id, id);
        this.frozen.add(id);
        openIds = openIds.filter((x) => x !== id);
      }
    }

    const nUpdates = b === 0 ? 0 : Math.min(Math.round(n * 0.3), openIds.length);
    const acts: OrderAction[] = [];
    for (let i = 0; i < n - nUpdates; i++) acts.push({ kind: 'new', orphan: false, dirtyDelivery: false });
    for (const id of rng.sample(openIds, nUpdates)) acts.push({ kind: 'update', id });
    rng.shuffle(acts);

    const lo = Math.floor(n * 0.2);
    const hi = Math.floor(n * 0.8);
    const newIdx = acts.flatMap((a, i) => (a.kind === 'new' ? [i] : []));
    const middleNew = newIdx.filter((i) => i >= lo && i <= hi);
    if (plan.some((d) => d.id === 'bad_date')) {
      const i = rng.pick(middleNew);
      acts[i] = { kind: 'new', orphan: false, dirtyDelivery: true };
    }
    for (const i of rng.sample(
      newIdx.filter((i) => {
        const a = acts[i]!;
        return a.kind === 'new' && !a.dirtyDelivery;
      }),
      counts.orphans,
    )) {
      acts[i] = { kind: 'new', orphan: true, dirtyDelivery: false };
    }

    // Dirty rows inserted into the orders file before action index `at`.
    const inserts = new Map<number, DirtySpecId>();
    for (const d of plan) {
      if (d.table !== 'orders') continue;
      let at = rng.int(lo, hi);
      while (inserts.has(at)) at = rng.int(lo, hi);
      inserts.set(at, d.id);
    }

    for (let i = 0; i < acts.length; i++) {
      const dirtyId = inserts.get(i);
      if (dirtyId !== undefined) this.writeDirtyOrder(dirtyId, b, ordersOut, dirtyTarget.get(dirtyId));
      const act = acts[i]!;
      if (act.kind === 'new') {
        const userId = act.orphan ? ORPHAN_USER_BASE + this.nextOrphan++ : this.randomUser();
        const o = this.draftOrder(b, userId, this.nextOrderId++);
        if (act.dirtyDelivery) o.status = 'paid';
        this.orders.set(o.order_id, o);
        this.orderIds.push(o.order_id);
        this.writeOrder(ordersOut, o, b);
        if (o.status === 'shipped' || o.status === 'delivered') {
          const shippedAt = rng.int(o.ordered_at, o.updated_at);
          const deliveredAt = o.status === 'delivered' ? rng.int(shippedAt, o.updated_at) : null;
          const d = this.newDelivery(o, shippedAt, deliveredAt);
          this.deliveries.set(d.delivery_id, d);
          this.deliveryOfOrder.set(o.order_id, d.delivery_id);
          this.writeDelivery(deliveriesOut, d);
        }
        if (act.dirtyDelivery) {
          // A delivery for a paid order with an impossible shipped_at; the order is frozen so it
          // never ships and the delivery id is never sent again.
          this.frozen.add(o.order_id);
          const d = this.newDelivery(o, o.updated_at, null);
          const time = sqlTime(o.updated_at).slice(11);
          const text = this.deliveryText(d, `2024-02-30 ${time}`);
          deliveriesOut.bad(text, 'bad_date', 'shipped_at', this.key(d.delivery_id));
        }
      } else {
        const prev = this.orders.get(act.id)!;
        const o: OrderState = {
          ...prev,
          status: this.nextStatus(prev.status),
          updated_at: rng.int(win.start, win.end),
        };
        if (rng.chance(0.15)) {
          o.amount_cents = rng.chance(0.5)
            ? Math.max(100, Math.round(prev.amount_cents * 0.9))
            : prev.amount_cents + 499;
        }
        this.orders.set(o.order_id, o);
        this.writeOrder(ordersOut, o, b);
        const deliveryId = this.deliveryOfOrder.get(o.order_id);
        if (o.status === 'shipped' && deliveryId === undefined) {
          const shippedAt = rng.int(Math.max(win.start, o.updated_at - 7200), o.updated_at);
          const d = this.newDelivery(o, shippedAt, null);
          this.deliveries.set(d.delivery_id, d);
          this.deliveryOfOrder.set(o.order_id, d.delivery_id);
          this.writeDelivery(deliveriesOut, d);
        } else if (o.status === 'delivered' && deliveryId !== undefined) {
          const prevD = this.deliveries.get(deliveryId)!;
          const d: DeliveryState = {
            ...prevD,
            delivered_at: rng.int(Math.max(win.start, o.updated_at - 7200), o.updated_at),
            updated_at: o.updated_at,
          };
          this.deliveries.set(d.delivery_id, d);
          this.writeDelivery(deliveriesOut, d);
        }
      }
    }
  }

  private writeDirtyOrder(id: DirtySpecId, b: number, out: Out, targetId: number | undefined): void {
    const { rng } = this;
    const win = batchWindow(b);
    const fromTarget = (): OrderState => {
      const prev = this.orders.get(targetId!)!;
      // Looks like a legitimate status update (newer updated_at) but must not be applied.
      return { ...prev, status: this.nextStatus(prev.status), updated_at: rng.int(win.start, win.end) };
    };
    switch (id) {
      case 'amount_na': {
        const o = fromTarget();
        out.bad(csvLine(this.orderFields(o, b, 'N/A')), id, 'amount', this.key(o.order_id));
        return;
      }
      case 'amount_comma': {
        const o = fromTarget();
        out.bad(csvLine(this.orderFields(o, b, '12,50')), id, 'amount', this.key(o.order_id));
        return;
      }
      case 'extra_field': {
        const o = this.draftOrder(b, this.randomUser(), this.nextOrderId++);
        out.bad(csvLine([...this.orderFields(o, b), 'gift wrap']), id, null, this.key(o.order_id));
        return;
      }
      case 'empty_pk': {
        const o = this.draftOrder(b, this.randomUser(), 0);
        out.bad(csvLine(this.orderFields(o, b, money(o.amount_cents), '')), id, 'order_id', null);
        return;
      }
      case 'truncated_json': {
        const o = fromTarget();
        const full = this.orderJson(o, b);
        const cut = full.slice(0, full.indexOf('"amount":') + '"amount":'.length);
        out.bad(cut, id, null, this.key(o.order_id));
        return;
      }
      case 'json_array': {
        const o = fromTarget();
        const values = [
          String(o.order_id),
          String(o.user_id),
          money(o.amount_cents),
          q(this.p.currency),
          q(o.status),
          q(isoTime(o.ordered_at)),
          q(isoTime(o.updated_at)),
          q(o.channel),
        ];
        out.bad(`[${values.join(',')}]`, id, null, this.key(o.order_id));
        return;
      }
      case 'bad_date':
        throw new Error('bad_date is written with its order');
    }
  }

  finalStats(): { orphanOrders: number; orderAmountCents: number } {
    let orphanOrders = 0;
    let orderAmountCents = 0;
    for (const o of this.orders.values()) {
      if (!this.users.has(o.user_id)) orphanOrders++;
      orderAmountCents += o.amount_cents;
    }
    return { orphanOrders, orderAmountCents };
  }
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

function checkOptions(options: GenerateOptions): { seed: number; scale: number } {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isFinite(scale) || scale <= 0 || scale > MAX_SCALE) {
    throw new RangeError(`scale must be a number in (0, ${MAX_SCALE}], got ${scale}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return { seed, scale };
}

function fileSpecs(market: Market, b: number): { users: FileSpec; orders: FileSpec; deliveries: FileSpec } {
  const batch = BATCHES[b]!;
  const dir = `${batch}/${market}`;
  const m1 = market === 'market1';
  const gz = !m1 && b === 2;
  const userColumns = ['user_id', 'name', 'email', 'country', 'loyalty_tier', 'signup_date', 'updated_at'];
  return {
    users: {
      path: `${dir}/${m1 ? 'users.csv' : 'users.json'}`,
      batch,
      market,
      table: 'users',
      format: m1 ? 'csv' : 'json',
      compression: null,
      columns: userColumns,
    },
    orders: {
      path: `${dir}/${m1 ? 'orders.csv' : gz ? 'orders.jsonl.gz' : 'orders.jsonl'}`,
      batch,
      market,
      table: 'orders',
      format: m1 ? 'csv' : 'ndjson',
      compression: gz ? 'gzip' : null,
      columns: MarketGen.orderColumns(market, b),
    },
    deliveries: {
      path: `${dir}/${m1 ? 'deliveries.csv' : 'deliveries.jsonl'}`,
      batch,
      market,
      table: 'deliveries',
      format: m1 ? 'csv' : 'ndjson',
      compression: null,
      columns: MarketGen.deliveryColumns(market),
    },
  };
}

function runGenerator(
  options: GenerateOptions,
  openSink: (spec: FileSpec) => ByteSink | null,
  onGood: ((ev: GoodEvent) => void) | null,
): GenerateSummary {
  const { seed, scale } = checkOptions(options);
  const counts = countsFor(scale);
  const stale: StaleRow[] = [];
  const gens = MARKETS.map((m, i) => new MarketGen(PROFILES[m], new Rng(deriveSeed(seed, i)), counts, stale));
  const files: FileSummary[] = [];
  const open = (spec: FileSpec) => new Out(spec, openSink(spec), onGood);

  for (let b = 0; b < BATCHES.length; b++) {
    MARKETS.forEach((market, i) => {
      const gen = gens[i]!;
      const specs = fileSpecs(market, b);
      const users = open(specs.users);
      gen.usersBatch(b, users);
      files.push(users.close());
      const orders = open(specs.orders);
      const deliveries = open(specs.deliveries);
      gen.ordersBatch(b, orders, deliveries);
      files.push(orders.close(), deliveries.close());
    });
  }

  const byTable: GenerateSummary['totals']['byTable'] = {
    users: { rows: 0, dirtyRows: 0 },
    orders: { rows: 0, dirtyRows: 0 },
    deliveries: { rows: 0, dirtyRows: 0 },
  };
  for (const f of files) {
    byTable[f.table].rows += f.rows;
    byTable[f.table].dirtyRows += f.expectedRejects;
  }
  const stats = gens.map((g) => g.finalStats());
  const sum = (f: (i: number) => number) => gens.reduce((s, _g, i) => s + f(i), 0);
  return {
    generator: 'tributary-examples-markets',
    version: 1,
    seed,
    scale,
    batches: [...BATCHES],
    markets: [...MARKETS],
    files,
    staleResends: stale,
    totals: {
      files: files.length,
      rows: files.reduce((s, f) => s + f.rows, 0),
      goodRows: files.reduce((s, f) => s + f.goodRows, 0),
      dirtyRows: files.reduce((s, f) => s + f.expectedRejects, 0),
      staleRows: stale.length,
      byTable,
    },
    final: {
      users: sum((i) => gens[i]!.users.size),
      orders: sum((i) => gens[i]!.orders.size),
      deliveries: sum((i) => gens[i]!.deliveries.size),
      orphanOrders: sum((i) => stats[i]!.orphanOrders),
      orderAmountCents: sum((i) => stats[i]!.orderAmountCents),
    },
  };
}

/**
 * Writes the dataset under `outDir` (created if needed; the generated files are overwritten,
 * nothing else is touched) plus `outDir/MANIFEST.json`, and returns the same summary.
 */
export function generateMarkets(outDir: string, options: GenerateOptions = {}): GenerateSummary {
  const root = resolve(outDir);
  const open: ByteSink[] = [];
  let summary: GenerateSummary;
  try {
    summary = runGenerator(
      options,
      (spec) => {
        const abs = join(root, ...spec.path.split('/'));
        mkdirSync(dirname(abs), { recursive: true });
        const sink = spec.compression === 'gzip' ? new GzipSink(abs) : new FileSink(abs);
        open.push(sink);
        return sink;
      },
      null,
    );
  } catch (err) {
    // Best effort: release descriptors of files left open by the failure.
    for (const sink of open) {
      try {
        sink.close();
      } catch {
        // already closed
      }
    }
    throw err;
  }
  writeFileSync(join(root, 'MANIFEST.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/**
 * The tables a correct pipeline ends with after loading every batch in order, computed without
 * writing files: the same generation is replayed and only its good rows are folded with
 * applyLatest (dirty rows never reach the tables; stale re-sends lose on `updated_at`).
 */
export function expectedFinal(options: GenerateOptions = {}): ExpectedFinal {
  const users = new Map<string, UserRow>();
  const orders = new Map<string, OrderRow>();
  const deliveries = new Map<string, DeliveryRow>();
  const summary = runGenerator(
    options,
    () => null,
    (ev) => {
      if (ev.table === 'users') applyLatest(users, ev.key, ev.row);
      else if (ev.table === 'orders') applyLatest(orders, ev.key, ev.row);
      else applyLatest(deliveries, ev.key, ev.row);
    },
  );
  const orphanOrders = new Set<string>();
  for (const [key, o] of orders) {
    if (!users.has(`${o.market}|${o.user_id}`)) orphanOrders.add(key);
  }
  return {
    users,
    orders,
    deliveries,
    userTotalsCents: totalsByUserCents(orders.values()),
    orphanOrders,
    rejects: summary.files.flatMap((f) => f.dirty),
    staleResends: summary.staleResends,
  };
}

// ---------------------------------------------------------------------------------------------
// Script entry point
// ---------------------------------------------------------------------------------------------

const DEFAULT_OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'landing');

function parseArgs(argv: string[]): { outDir: string; scale: number; seed: number } {
  let outDir = DEFAULT_OUT_DIR;
  let scale = 1;
  let seed = DEFAULT_SEED;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (flag === '--scale' || flag === '--seed') {
      const value = inline ?? argv[++i];
      const num = Number(value);
      if (value === undefined || value === '' || !Number.isFinite(num))
        throw new Error(`${flag} needs a number`);
      if (flag === '--scale') scale = num;
      else seed = num;
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write('usage: generate.ts [OUT_DIR] [--scale N] [--seed N]\n');
      process.exit(0);
    } else if (flag?.startsWith('-')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      outDir = resolve(arg);
    }
  }
  return { outDir, scale, seed };
}

function main(argv: string[]): void {
  const { outDir, scale, seed } = parseArgs(argv);
  const s = generateMarkets(outDir, { scale, seed });
  for (const f of s.files) {
    const rejects = f.expectedRejects > 0 ? `  (${f.expectedRejects} dirty)` : '';
    process.stdout.write(`${f.path.padEnd(40)} ${String(f.rows).padStart(8)} rows${rejects}\n`);
  }
  const t = s.totals;
  process.stdout.write(
    `${t.files} files, ${t.rows} rows, ${t.dirtyRows} dirty, ${t.staleRows} stale re-sends -> ${outDir}\n`,
  );
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}

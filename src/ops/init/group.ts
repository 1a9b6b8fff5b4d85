import { normalizeName, normalizeTableName } from '../../schema/naming.js';
import { captureRegex } from '../../sources/discover.js';

/**
 * `tributary init`'s file grouping: which files feed one table, and the glob that matches
 * them. Pure: it works on relative paths only.
 *
 * - The table comes from the file name without its extension and without a trailing
 *   date, time, part or sequence number: `orders_2024-06-01.csv`, `orders_part002.csv`,
 *   `orders-7.jsonl.gz` and `orders20240601.csv` are all `orders`. A name that is only a
 *   date (`2024-06-01.csv`) takes its folder's name.
 * - A folder level whose name differs between a table's files becomes `*` when the names
 *   are dates or numbers (`2024-06-01/`, `dt=2024-06-01/`), and a `{name}` capture
 *   otherwise (`market1/`, `market2/` → `{market}`): the folder name is kept as a column,
 *   because the same id in two such folders is usually two different records.
 */

export const SUPPORTED = /\.(csv|tsv|json|jsonl|ndjson)(\.gz)?$/i;

export interface FileGroup {
  table: string;
  glob: string;
  /** Names of the `{name}` captures in the glob, in order. */
  captures: string[];
  /** Relative paths of the files, sorted. */
  files: string[];
}

const SEP = '[-_. ]';
const DATE = '\\d{4}[-_]?\\d{2}[-_]?\\d{2}(?:[T_ -]?\\d{2}[-_:]?\\d{2}(?:[-_:]?\\d{2})?)?';
/** Trailing parts of a file name that vary between the files of one table. */
const VARIABLE_SUFFIX = new RegExp(
  `(?:${SEP}+(?:${DATE}|\\d{4}[-_]\\d{2}|part[-_]?\\d+|p\\d+|v\\d+|\\d+)|${DATE}$|part\\d+)$`,
  'i',
);
const DATE_SEGMENT = new RegExp(`^(?:${DATE}|\\d{4}(?:[-_]\\d{2})?|\\d+)$`, 'i');
const HIVE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** `orders_2024-06-01.csv.gz` → `{ stem: 'orders', ext: 'csv.gz' }`; stem `''` when only a date. */
export function splitName(base: string): { stem: string; ext: string; name: string } {
  const m = SUPPORTED.exec(base);
  const ext = m ? m[0].slice(1).toLowerCase() : '';
  const name = m ? base.slice(0, m.index) : base;
  let stem = name;
  for (let prev = ''; prev !== stem; ) {
    prev = stem;
    stem = stem.replace(VARIABLE_SUFFIX, '');
  }
  if (DATE_SEGMENT.test(stem)) stem = '';
  return { stem, ext, name };
}

/** A folder name that is a date, a time or a number (also `key=<date>`): a batch, not a category. */
export function isBatchSegment(segment: string): boolean {
  const hive = HIVE.exec(segment);
  return DATE_SEGMENT.test(hive ? (hive[2] as string) : segment);
}

interface Parsed {
  path: string;
  dirs: string[];
  stem: string;
  /** The file name is all variable (a date): the table comes from its folder. */
  stemFromFolder: boolean;
  name: string;
  ext: string;
}

function parse(path: string): Parsed {
  const parts = path.split('/');
  const base = parts.pop() as string;
  const { stem, ext, name } = splitName(base);
  if (stem !== '' || parts.length === 0)
    return { path, dirs: parts, stem: stem || name, stemFromFolder: false, name, ext };
  return { path, dirs: parts, stem: parts[parts.length - 1] as string, stemFromFolder: true, name, ext };
}

/** Group supported files (relative paths with `/`) into tables and globs, specific globs first. */
export function groupFiles(paths: readonly string[]): FileGroup[] {
  const byKey = new Map<string, Parsed[]>();
  for (const p of [...paths].sort()) {
    if (!SUPPORTED.test(p)) continue;
    const f = parse(p);
    const key = `${normalizeTableName(f.stem)}\u0000${f.stem}\u0000${f.dirs.length}\u0000${f.stemFromFolder}`;
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  const groups = [...byKey.values()].map(toGroup);
  return orderForClaims(groups);
}

function toGroup(files: Parsed[]): FileGroup {
  const first = files[0] as Parsed;
  const captures: string[] = [];
  const dirs = first.dirs.map((_, i) => {
    const values = [...new Set(files.map((f) => f.dirs[i] as string))];
    // One date folder so far is still a batch: tomorrow's folder must match too.
    if (values.length === 1 && !isBatchSegment(values[0] as string)) return literal(values[0] as string);
    const hive = values.map((v) => HIVE.exec(v));
    const hiveKey = hive.every((h) => h && h[1] === hive[0]?.[1]) ? (hive[0]?.[1] as string) : undefined;
    if (values.every(isBatchSegment)) return hiveKey ? `${literal(hiveKey)}=*` : '*';
    const name = unique(
      captureName(hiveKey ? values.map((v) => v.slice(hiveKey.length + 1)) : values, hiveKey),
      captures,
    );
    captures.push(name);
    return hiveKey ? `${literal(hiveKey)}={${name}}` : `{${name}}`;
  });
  const base = first.stemFromFolder
    ? '*'
    : files.every((f) => f.name === first.stem)
      ? literal(first.stem)
      : `${literal(first.stem)}*`;
  const exts = [...new Set(files.map((f) => f.ext))].sort();
  const ext = exts.length === 1 ? `.${exts[0]}` : `.{${exts.join(',')}}`;
  return {
    table: normalizeTableName(first.stem),
    glob: [...dirs, base + ext].join('/'),
    captures,
    files: files.map((f) => f.path),
  };
}

/** The letters the values share at the start (`market1`, `market2` → `market`), else `folder`. */
function captureName(values: readonly string[], hiveKey: string | undefined): string {
  if (hiveKey) return normalizeName(hiveKey) || 'folder';
  let prefix = values[0] ?? '';
  for (const v of values) while (!v.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const name = normalizeName(prefix.replace(/[^A-Za-z]+$/, ''));
  return /^[a-z]/.test(name) ? name : 'folder';
}

function unique(name: string, taken: readonly string[]): string {
  let n = name;
  for (let i = 2; taken.includes(n); i++) n = `${name}_${i}`;
  return n;
}

/** A literal path segment in a glob: glob syntax characters become `?` (any one character). */
function literal(segment: string): string {
  return segment.replace(/[*?[\]{}()!]/g, '?');
}

/**
 * A file belongs to the first source whose glob matches it, so a broad glob
 * (`orders*.csv`) must come after a narrower one it also matches (`orders_items.csv`).
 * Order by table, then move each group ahead of any group that would claim its files.
 */
function orderForClaims(groups: FileGroup[]): FileGroup[] {
  const ordered = [...groups].sort((a, b) => a.table.localeCompare(b.table) || a.glob.localeCompare(b.glob));
  const matchers = new Map(ordered.map((g) => [g, captureRegex(g.glob)]));
  for (let pass = 0; pass < ordered.length; pass++) {
    let moved = false;
    for (let i = 0; i < ordered.length; i++) {
      const g = ordered[i] as FileGroup;
      const thief = ordered.findIndex((o, j) => j < i && g.files.some((f) => matchers.get(o)?.test(f)));
      if (thief >= 0) {
        ordered.splice(i, 1);
        ordered.splice(thief, 0, g);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return ordered;
}

/** Files claimed by a source other than their own group's (still wrong after ordering). */
export function misclaimed(
  groups: readonly FileGroup[],
): Array<{ file: string; owner: string; claimedBy: string }> {
  const matchers = groups.map((g) => ({ g, re: captureRegex(g.glob) }));
  const out: Array<{ file: string; owner: string; claimedBy: string }> = [];
  for (const g of groups) {
    for (const f of g.files) {
      const first = matchers.find((m) => m.re.test(f));
      if (first && first.g !== g) out.push({ file: f, owner: g.glob, claimedBy: first.g.glob });
    }
  }
  return out;
}

import fs from 'node:fs/promises';
import path from 'node:path';
import { glob } from 'tinyglobby';

/** A file found on disk for one source. */
export interface DiscoveredFile {
  /** Path relative to the config folder, with `/` separators: the file's identity in the ledger. */
  path: string;
  abs: string;
  size: number;
  mtimeMs: number;
  /** Values captured by `{name}` segments of the glob. */
  captures: Record<string, string>;
  /**
   * The file's name is not valid UTF-8, so it cannot be named here (paths are text): it is
   * reported as a failed file, never skipped. `path` then shows each byte that is not UTF-8
   * as `%XX`.
   */
  badName?: boolean;
}

const CAPTURE = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Expand a source glob (relative to `baseDir`) into files sorted by path. `{name}` captures
 * one path segment; a `{a,b}` group with a comma stays a glob alternative.
 */
export async function discoverFiles(baseDir: string, pattern: string): Promise<DiscoveredFile[]> {
  const globPattern = pattern.replace(CAPTURE, '*');
  const matcher = captureRegex(pattern);
  const found = await glob(globPattern, {
    cwd: baseDir,
    onlyFiles: true,
    dot: false,
    expandDirectories: false,
  });
  const files = await Promise.all(
    found.map(async (rel): Promise<DiscoveredFile | DiscoveredFile[] | undefined> => {
      const abs = path.resolve(baseDir, rel);
      try {
        const st = await fs.stat(abs);
        const m = matcher.exec(rel);
        return {
          path: rel,
          abs,
          size: st.size,
          mtimeMs: Math.trunc(st.mtimeMs),
          captures: { ...(m?.groups ?? {}) },
        };
      } catch {
        // A name that is not UTF-8 came back with U+FFFD in place of its bytes: no such file.
        if (rel.includes('\uFFFD')) return badNames(baseDir, rel, matcher);
        return undefined; // vanished between listing and stat: the next run will see it again
      }
    }),
  );
  const unique = new Map<string, DiscoveredFile>();
  for (const f of files.flat()) if (f) unique.set(f.path, f);
  return [...unique.values()].sort((a, b) => compare(a.path, b.path));
}

/**
 * The files whose names decode to `rel` (U+FFFD standing for bytes that are not UTF-8), each
 * under a path that shows those bytes as `%XX` — distinct for distinct names. When even the
 * folder cannot be listed by its bytes (a folder name that is not UTF-8), `rel` itself.
 */
async function badNames(baseDir: string, rel: string, matcher: RegExp): Promise<DiscoveredFile[]> {
  const dir = path.dirname(rel);
  const base = path.basename(rel);
  const entry = (p: string): DiscoveredFile => ({
    path: p,
    abs: path.resolve(baseDir, rel),
    size: 0,
    mtimeMs: 0,
    captures: { ...(matcher.exec(rel)?.groups ?? {}) },
    badName: true,
  });
  try {
    const names = await fs.readdir(path.resolve(baseDir, dir), { encoding: 'buffer' });
    const mine = names.filter((n) => n.toString('utf8') === base);
    if (mine.length === 0) return [];
    return mine.map((n) => entry(`${dir === '.' ? '' : `${dir}/`}${escapeBytes(n)}`));
  } catch {
    return [entry(rel)];
  }
}

/** A file name's bytes as text: valid UTF-8 sequences as they are, every other byte as `%XX`. */
export function escapeBytes(name: Buffer): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const b = name[i] as number;
    const len =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    const seq = len > 0 ? name.subarray(i, i + len) : undefined;
    const text = seq && seq.length === len ? seq.toString('utf8') : '\uFFFD';
    if (len > 0 && !text.includes('\uFFFD')) {
      out += text;
      i += len;
    } else {
      out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    }
  }
  return out;
}

/** Names of the `{name}` captures in a pattern, in order. */
export function captureNames(pattern: string): string[] {
  return [...pattern.matchAll(CAPTURE)].map((m) => m[1] as string);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Glob → anchored regex with named groups for the captures (used only to read captures). */
export function captureRegex(pattern: string): RegExp {
  let re = '';
  let i = 0;
  const p = pattern.replace(/^\.\//, '');
  while (i < p.length) {
    const ch = p[i] as string;
    if (ch === '*') {
      if (p[i + 1] === '*') {
        re += '.*';
        i += 2;
        if (p[i] === '/') i++;
        continue;
      }
      re += '[^/]*';
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '{') {
      const end = p.indexOf('}', i);
      const body = end === -1 ? '' : p.slice(i + 1, end);
      if (end !== -1 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(body)) {
        re += `(?<${body}>[^/]+)`;
      } else if (end !== -1) {
        re += `(?:${body.split(',').map(escapeRegex).join('|')})`;
      } else {
        re += escapeRegex(ch);
      }
      if (end !== -1) {
        i = end + 1;
        continue;
      }
    } else if (ch === '[') {
      const end = p.indexOf(']', i);
      if (end !== -1) {
        re += p.slice(i, end + 1);
        i = end + 1;
        continue;
      }
      re += '\\[';
    } else {
      re += escapeRegex(ch);
    }
    i++;
  }
  return new RegExp(`^${re}$`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

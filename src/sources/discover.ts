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
    found.map(async (rel): Promise<DiscoveredFile | undefined> => {
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
        return undefined; // vanished between listing and stat: the next run will see it again
      }
    }),
  );
  return files.filter((f): f is DiscoveredFile => f !== undefined).sort((a, b) => compare(a.path, b.path));
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

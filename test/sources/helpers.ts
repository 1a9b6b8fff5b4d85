/** Temp files and collectors for the reader tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { SourceItem } from '../../src/core/types.js';
import { type ReadOptions, readFile } from '../../src/sources/open.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trib-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Writes `content` to a fresh file named `name` in the test's temp dir and returns its path. */
export function tmpFile(name: string, content: string | Buffer): string {
  const file = path.join(fs.mkdtempSync(path.join(dir, 'f-')), name);
  fs.writeFileSync(file, content);
  return file;
}

/** Every item `readFile` yields, in order. */
export async function readAll(file: string, options: ReadOptions = {}): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const batch of readFile(file, options)) items.push(...batch);
  return items;
}

/** Every item a parser yields for the given chunks, in order. */
export async function collect(batches: AsyncIterable<SourceItem[]>): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const batch of batches) items.push(...batch);
  return items;
}

/** The `data` of the records (problems are left out). */
export function records(items: SourceItem[]): Record<string, unknown>[] {
  return items.flatMap((item) => (item.kind === 'record' ? [item.data] : []));
}

/** Runs `fn`, expecting it to reject, and returns the error. */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

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

/** Every item `readFile` yields, in order (see {@link plain}). */
export async function readAll(file: string, options: ReadOptions = {}): Promise<SourceItem[]> {
  return collect(readFile(file, options));
}

/** Every item a parser yields for the given chunks, in order (see {@link plain}). */
export async function collect(batches: AsyncIterable<SourceItem[]>): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const batch of batches) for (const item of batch) items.push(plain(item));
  return items;
}

/**
 * A record as `{ kind, data, line, record }`, so that tests compare it with `toEqual`
 * whatever its class (a CSV record builds `data` when first read and also holds its
 * `values` and `header`: checked here to agree with `data`).
 */
export function plain(item: SourceItem): SourceItem {
  if (item.kind !== 'record') return item;
  const { data, line, record, values, header } = item;
  if (values !== undefined || header !== undefined) {
    const agree =
      values !== undefined &&
      header !== undefined &&
      Object.isFrozen(header) &&
      values.length === header.length &&
      Object.keys(data).length === header.length &&
      header.every((name, i) => Object.getOwnPropertyDescriptor(data, name)?.value === values[i]);
    if (!agree) throw new Error(`record ${record}: values and header do not agree with data`);
  }
  return { kind: 'record', data, line, record };
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

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { resolveConfigText } from '../../config/resolve.js';
import { messageOf, TributaryError } from '../../core/errors.js';
import { packageInfo } from '../../core/package.js';
import { makeShaper, rawOf } from '../../normalize/shape.js';
import { parseTypeHint } from '../../schema/hints.js';
import { normalizeTableName } from '../../schema/naming.js';
import { readFile } from '../../sources/open.js';
import { type FileGroup, groupFiles, misclaimed, SUPPORTED } from './group.js';
import { decidedOnEveryRow, type FileSample, guessTable } from './guess.js';
import { type Proposal, renderConfig } from './render.js';
import { schemaReference } from './schema-ref.js';

export interface InitOptions {
  /** Folder to look at. */
  folder: string;
  /** Config file to write; globs are relative to its folder. */
  output: string;
  /** Overwrite an existing config file. */
  force?: boolean;
  /** Do not write: return the text only. */
  dryRun?: boolean;
  /** Default: `sqlite:.tributary/<pipeline>.db`. */
  destination?: string;
  /** Default: the config folder's name. */
  pipeline?: string;
  /**
   * Records of each sampled file whose every column is kept (types, hints); default 1,000.
   * Key and cursor candidates are checked on every record, up to {@link KEY_ROWS} a file.
   */
  sampleRows?: number;
  /** Files sampled per group (first and last ones first); default 10. */
  sampleFiles?: number;
}

/** Records of one file read at most to check a key (memory: a few short columns each). */
export const KEY_ROWS = 1_000_000;

export interface ProposedSource {
  table: string;
  files: string;
  fileCount: number;
  primaryKey: string[];
  cursor: string | null;
  columns: Array<{ name: string; type: string | null }>;
  sampledRows: number;
}

export interface InitResult {
  config: string;
  written: boolean;
  text: string;
  /** The JSON Schema the config's first line points editors to (path relative to it, or URL). */
  schema: string;
  pipeline: string;
  destination: string;
  sources: ProposedSource[];
  skipped: Array<{ file: string; reason: string }>;
  ignored: string[];
  /** Files a broader glob would claim first; should stay empty (a bug otherwise). */
  misclaimed: Array<{ file: string; owner: string; claimedBy: string }>;
}

/**
 * `tributary init`: find the CSV/JSON files under a folder, group them into tables, read a
 * sample of each with the run's own readers to guess keys and cursors, and write a
 * commented config — never over an existing file unless `force`. The text is checked with
 * the config loader before it is written.
 */
export async function initPipeline(options: InitOptions): Promise<InitResult> {
  const output = path.resolve(options.output);
  const baseDir = path.dirname(output);
  const folder = path.resolve(options.folder);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) {
    throw new TributaryError('CONFIG_NOT_FOUND', `${folder} is not a folder`);
  }
  const all = await walk(folder);
  const rel = (abs: string) => path.relative(baseDir, abs).split(path.sep).join('/');
  const supported = all.filter((f) => SUPPORTED.test(f)).map(rel);
  const ignored = all.filter((f) => !SUPPORTED.test(f)).map(rel);
  const skipped: InitResult['skipped'] = [];
  const proposals: Proposal[] = [];
  for (const group of groupFiles(supported)) {
    const samples = await sampleGroup(baseDir, group, options, skipped);
    if (samples.length === 0) continue;
    proposals.push({ group, guess: guessTable(group.table, samples) });
  }
  if (proposals.length === 0) {
    throw new TributaryError(
      'CONFIG_NOT_FOUND',
      `no CSV, TSV, JSON or NDJSON file with records under ${folder}${skipped.length ? ` (${skipped.length} unreadable)` : ''}`,
    );
  }
  const pipeline = options.pipeline ?? pipelineName(baseDir);
  const destination = options.destination ?? `sqlite:.tributary/${pipeline}.db`;
  const schema = schemaReference(output, packageInfo());
  const text = renderConfig({
    schema,
    pipeline,
    destination,
    folder: rel(folder),
    proposals,
    skipped,
    ignored,
  });
  // What we write must load: the same validation every command applies.
  resolveConfigText(text, output, { parseType: parseTypeHint, normalizeName: normalizeTableName, env: {} });
  const result: InitResult = {
    config: output,
    written: false,
    text,
    schema,
    pipeline,
    destination,
    sources: proposals.map(describe),
    skipped,
    ignored,
    misclaimed: misclaimed(proposals.map((p) => p.group)),
  };
  if (options.dryRun) return result;
  fs.mkdirSync(baseDir, { recursive: true });
  try {
    fs.writeFileSync(output, text, { flag: options.force ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TributaryError('CONFIG_INVALID', `${output} already exists; pass --force to overwrite it`);
    }
    throw err;
  }
  return { ...result, written: true };
}

function describe(p: Proposal): ProposedSource {
  return {
    table: p.group.table,
    files: p.group.glob,
    fileCount: p.group.files.length,
    primaryKey: p.guess.primaryKey ? [...p.group.captures, p.guess.primaryKey.column] : [],
    cursor: p.guess.cursor?.column ?? null,
    columns: p.guess.columns.map((c) => ({
      name: c.name,
      type: c.type
        ? c.type.kind === 'decimal'
          ? `decimal(${c.type.precision},${c.type.scale})`
          : c.type.kind
        : null,
    })),
    sampledRows: p.guess.rows,
  };
}

/** Files under `dir`, recursively, sorted; hidden folders and node_modules left out. */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(abs)));
    else if (e.isFile()) out.push(abs);
  }
  return out.sort();
}

/** The sampled files of a group: the first and last ones first (formats and columns drift over time). */
function pick(files: readonly string[], n: number): string[] {
  if (files.length <= n) return [...files];
  const half = Math.ceil(n / 2);
  return [...files.slice(0, half), ...files.slice(files.length - (n - half))];
}

async function sampleGroup(
  baseDir: string,
  group: FileGroup,
  options: InitOptions,
  skipped: InitResult['skipped'],
): Promise<FileSample[]> {
  // One shaper per file, as in a run: column names are made unique within a file.
  const shaper = () =>
    makeShaper(
      {
        index: 0,
        table: group.table,
        files: group.glob,
        format: undefined,
        delimiter: undefined,
        primaryKey: [],
        cursor: undefined,
        write: 'append',
        columns: {},
        formats: {},
        rename: {},
        onDeletedFile: 'keep',
        contract: { tables: 'evolve', columns: 'evolve', dataType: 'evolve' },
      },
      {},
      false,
    );
  const samples: FileSample[] = [];
  const full = options.sampleRows ?? 1_000;
  for (const file of pick(group.files, options.sampleFiles ?? 10)) {
    const shape = shaper();
    const rows: Array<Map<string, unknown>> = [];
    const fingerprints: string[] = [];
    let problem: string | undefined;
    let complete = true;
    try {
      read: for await (const batch of readFile(path.resolve(baseDir, file), { batchSize: 1_000 })) {
        for (const item of batch) {
          if (item.kind === 'problem') {
            problem ??= `${item.code}: ${item.message}`;
            continue;
          }
          if (rows.length === KEY_ROWS) {
            complete = false;
            break read;
          }
          const row = shape(item.data).root;
          // Past the first records, only what a key or cursor is decided on: every record.
          if (rows.length >= full) for (const c of row.keys()) if (!decidedOnEveryRow(c)) row.delete(c);
          rows.push(row);
          fingerprints.push(createHash('sha1').update(rawOf(item.data)).digest('base64'));
        }
      }
    } catch (err) {
      problem = messageOf(err).replace(`${path.resolve(baseDir, file)}: `, '');
    }
    if (rows.length === 0) skipped.push({ file, reason: problem ?? 'no records' });
    else samples.push({ file, rows, fingerprints, complete });
  }
  return samples;
}

/** The config folder's name as a pipeline name (letters, digits, `_`, `-`). */
function pipelineName(dir: string): string {
  const name = path
    .basename(dir)
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return name || 'pipeline';
}

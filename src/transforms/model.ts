import path from 'node:path';
import { type DataTest, parseDataTest, testText } from './data-test.js';
import { followedByAlias, lineAt, scanSql } from './scan.js';

/** How a model is kept in the database (docs/transformations.md). */
export type Materialization = 'view' | 'table' | 'incremental';

/** One `{{ ref('name') }}` in a model's SQL. */
export interface ModelRef {
  name: string;
  /** Offsets of the whole `{{ … }}` in the model's SQL (end exclusive). */
  start: number;
  end: number;
  line: number;
  /** An alias follows the reference (`{{ ref('orders') }} AS o`). */
  aliased: boolean;
}

/** A parsed model file: one SELECT, named after its file. */
export interface Model {
  readonly name: string;
  /** Path relative to the config folder, for messages. */
  readonly file: string;
  /** Default `view`. */
  readonly materialized: Materialization;
  /** Columns of the model that identify a row; required for `incremental`. Default none. */
  readonly uniqueKey: readonly string[];
  /** The SQL as written (header comments included), without a trailing `;`. */
  readonly sql: string;
  readonly refs: readonly ModelRef[];
  /** Data tests of its header (`-- @test unique(id)`), in file order. Default none. */
  readonly tests: readonly ModelTest[];
}

/** A `-- @test` line of a model's header. */
export interface ModelTest {
  readonly test: DataTest;
  /** 1-based line of the directive. */
  readonly line: number;
}

const MATERIALIZATIONS: readonly Materialization[] = ['view', 'table', 'incremental'];
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DIRECTIVE = /^\s*--\s*@([A-Za-z_]+)\s*(.*?)\s*$/;
const REF = /^\s*ref\s*\(\s*(['"])([^'"]+)\1\s*\)\s*$/;

/** What a model file yields: a model, or the problems that keep it from being one. */
export interface ParsedModel {
  model?: Model;
  /** Messages starting with `file:line:`; empty when `model` is set. */
  problems: string[];
}

/**
 * Parse one model file. The header is the run of `--` comment lines at the top; in it,
 * `-- @materialized view|table|incremental` and `-- @unique_key a, b` configure the model,
 * `-- @test …` adds a data test (data-test.ts), other comments are free text. Every problem of the file is reported, not just the first.
 */
export function parseModel(file: string, text: string): ParsedModel {
  const problems: string[] = [];
  const at = (line: number, message: string) => problems.push(`${file}:${line}: ${message}`);
  const name = path.basename(file, path.extname(file));
  if (!IDENT.test(name) || name.length > 64 || name.toLowerCase().startsWith('_tributary')) {
    at(
      1,
      `"${name}" cannot name a model: use letters, digits and _ (at most 64, not starting with _tributary)`,
    );
  }
  const header = parseHeader(text, at);
  const scanned = scanSql(text);
  for (const p of scanned.problems) at(p.line, p.message);
  const sql = stripTrailingSemicolon(text, scanned.masked);
  const masked = scanned.masked.slice(0, sql.length);
  checkStatement(masked, at);
  const refs: ModelRef[] = [];
  for (const t of scanned.templates) {
    if (t.end > sql.length) continue;
    const m = REF.exec(t.body);
    if (!m) {
      at(t.line, `{{${t.body}}} is not a reference; the only template is {{ ref('name') }}`);
      continue;
    }
    refs.push({
      name: m[2] as string,
      start: t.start,
      end: t.end,
      line: t.line,
      aliased: followedByAlias(masked, t.end),
    });
  }
  if (header.materialized === 'incremental' && header.uniqueKey.length === 0) {
    at(1, 'an incremental model needs `-- @unique_key col[, col…]` in its header');
  }
  if (header.materialized === 'view' && header.uniqueKey.length > 0) {
    at(1, '@unique_key applies to table and incremental models, not to a view');
  }
  if (problems.length > 0) return { problems };
  return { model: { name, file, ...header, sql, refs }, problems };
}

function parseHeader(
  text: string,
  at: (line: number, message: string) => void,
): { materialized: Materialization; uniqueKey: string[]; tests: ModelTest[] } {
  let materialized: Materialization | undefined;
  let uniqueKey: string[] | undefined;
  const tests: ModelTest[] = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() !== '' && !line.trimStart().startsWith('--')) break;
    const m = DIRECTIVE.exec(line);
    if (!m) continue;
    const [, key, value = ''] = m;
    const n = i + 1;
    if (key === 'materialized') {
      if (materialized !== undefined) at(n, '@materialized is given twice');
      if (!(MATERIALIZATIONS as readonly string[]).includes(value)) {
        at(n, `@materialized: got "${value}", expected ${MATERIALIZATIONS.join(', ')}`);
      } else materialized = value as Materialization;
    } else if (key === 'unique_key') {
      if (uniqueKey !== undefined) at(n, '@unique_key is given twice');
      const cols = value.split(',').map((c) => c.trim());
      const bad = cols.filter((c) => !IDENT.test(c));
      if (bad.length > 0 || cols.length === 0) {
        at(n, `@unique_key: got "${value}", expected column names separated by commas`);
      } else if (new Set(cols).size !== cols.length) {
        at(n, `@unique_key: a column is listed twice in "${value}"`);
      } else uniqueKey = cols;
    } else if (key === 'test') {
      const parsed = parseDataTest(value);
      if (parsed.error !== undefined) {
        at(n, `@test: got "${value}": ${parsed.error}`);
        continue;
      }
      const text = testText(parsed.test);
      const twin = tests.find((t) => testText(t.test) === text);
      if (twin) at(n, `@test ${text} is also on line ${twin.line}`);
      else tests.push({ test: parsed.test, line: n });
    } else {
      at(n, `unknown header @${key}; known: @materialized, @unique_key, @test`);
    }
  }
  return { materialized: materialized ?? 'view', uniqueKey: uniqueKey ?? [], tests };
}

/** The text without trailing blanks and one trailing `;` (found in the masked text). */
function stripTrailingSemicolon(text: string, masked: string): string {
  let end = masked.trimEnd().length;
  if (masked[end - 1] === ';') end--;
  return text.slice(0, end).trimEnd();
}

function checkStatement(masked: string, at: (line: number, message: string) => void): void {
  const first = /\S+/.exec(masked);
  if (!first) {
    at(1, 'the file has no SQL; a model is one SELECT');
    return;
  }
  if (!/^(select|with)\b/i.test(first[0])) {
    at(lineAt(masked, first.index), `a model is one SELECT (or WITH … SELECT); found "${first[0]}"`);
  }
  const semi = masked.indexOf(';');
  if (semi >= 0) at(lineAt(masked, semi), 'one statement per model: remove the ";" and what follows');
}

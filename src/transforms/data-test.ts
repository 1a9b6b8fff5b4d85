/**
 * Data tests (docs/transformations.md, "Data tests"): assertions on the rows of a model or a
 * loaded table, written in a model's header (`-- @test unique(id)`) or in a source's `tests:`
 * list. This module is the pure part: the test's syntax, parsed strictly, and its canonical
 * text. The SQL is in test-sql.ts, the execution in test-run.ts.
 */

/** One data test. Column names are as written (source tests: normalized by the caller). */
export type DataTest =
  /** No two rows share the value of `columns` (rows with a NULL in them are not compared). */
  | { readonly kind: 'unique'; readonly columns: readonly string[] }
  /** No row has a NULL in any of `columns`. */
  | { readonly kind: 'not_null'; readonly columns: readonly string[] }
  /** Every non-NULL value of `column` is one of `values`. */
  | {
      readonly kind: 'accepted_values';
      readonly column: string;
      readonly values: readonly AcceptedValue[];
    }
  /** Every row whose `columns` are all non-NULL has a row of `to` with those values in `toColumns`. */
  | {
      readonly kind: 'relationships';
      readonly columns: readonly string[];
      readonly to: string;
      readonly toColumns: readonly string[];
    };

export const TEST_KINDS = ['unique', 'not_null', 'accepted_values', 'relationships'] as const;

const SYNTAX: Record<DataTest['kind'], string> = {
  unique: 'unique(col[, col…])',
  not_null: 'not_null(col[, col…])',
  accepted_values: "accepted_values(col, 'value'[, 'value'…])",
  relationships: "relationships(col, ref('table'), col) or relationships((a, b), ref('table'), (x, y))",
};

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: 'number'; text: string; at: number }
  | { kind: '(' | ')' | ','; text: string; at: number }
  | { kind: 'end'; text: string; at: number };

/** What a test text parses to: the test, or why it is not one. */
export type ParsedTest = { test: DataTest; error?: undefined } | { test?: undefined; error: string };

/**
 * Parse one test, e.g. `accepted_values(status, 'paid', 'shipped')`. Strict: an unknown test,
 * a missing or extra argument, a column listed twice, anything after the closing parenthesis
 * is an error whose message says what was expected.
 */
export function parseDataTest(text: string): ParsedTest {
  try {
    return { test: new Parser(tokenize(text)).test() };
  } catch (err) {
    if (err instanceof SyntaxProblem) return { error: err.message };
    throw err;
  }
}

/** The canonical text of a test, as `tributary test` lists it: `unique(market, user_id)`. */
export function testText(t: DataTest): string {
  const cols = (c: readonly string[]) => (c.length === 1 ? (c[0] as string) : `(${c.join(', ')})`);
  switch (t.kind) {
    case 'unique':
    case 'not_null':
      return `${t.kind}(${t.columns.join(', ')})`;
    case 'accepted_values':
      return `accepted_values(${[t.column, ...t.values.map(valueText)].join(', ')})`;
    case 'relationships':
      return `relationships(${cols(t.columns)}, ref('${t.to}'), ${cols(t.toColumns)})`;
  }
}

/** The columns of the tested table a test reads (shown first in its sample). */
export function testedColumns(t: DataTest): readonly string[] {
  return t.kind === 'accepted_values' ? [t.column] : t.columns;
}

/** A test with its column names mapped (source tests: names normalized as the loader does). */
export function mapColumns(t: DataTest, f: (column: string) => string): DataTest {
  switch (t.kind) {
    case 'unique':
    case 'not_null':
      return { kind: t.kind, columns: t.columns.map(f) };
    case 'accepted_values':
      return { ...t, column: f(t.column) };
    case 'relationships':
      return { ...t, columns: t.columns.map(f), toColumns: t.toColumns.map(f) };
  }
}

function valueText(v: AcceptedValue): string {
  return typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : v.number;
}

/**
 * A value of `accepted_values`: text, or a number kept as its exact canonical text (never a
 * JS number: 9007199254740993 or 12345678901234567.89 would be rounded and then reported as
 * not accepted though the stored value matches).
 */
export type AcceptedValue = string | { readonly number: string };

/** `007.50` → `7.5`, `-0.0` → `0`: the text of a NUMBER token in the form SqlDialect.exactNumberSql takes. */
export function canonicalNumber(text: string): string {
  const [, sign = '', int = '0', frac = ''] = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text) ?? [];
  const i = int.replace(/^0+(?=\d)/, '');
  const f = frac.replace(/0+$/, '');
  const digits = f === '' ? i : `${i}.${f}`;
  return /^[0.]+$/.test(digits) ? digits : `${sign}${digits}`;
}

class SyntaxProblem extends Error {}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\d+(?:\.\d+)?(?![A-Za-z0-9_.])/y;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: c, text: c, at: i });
      i++;
    } else if (c === "'") {
      let value = '';
      let k = i + 1;
      for (;;) {
        const close = text.indexOf("'", k);
        if (close < 0) throw new SyntaxProblem(`the string starting at column ${i + 1} is never closed`);
        value += text.slice(k, close);
        if (text[close + 1] !== "'") {
          k = close + 1;
          break;
        }
        value += "'";
        k = close + 2;
      }
      out.push({ kind: 'string', text: value, at: i });
      i = k;
    } else {
      NUMBER.lastIndex = i;
      IDENT.lastIndex = i;
      const number = NUMBER.exec(text);
      const ident = number ? null : IDENT.exec(text);
      const m = number ?? ident;
      if (!m) {
        const hint = c === '"' ? ' (values are written in single quotes)' : '';
        throw new SyntaxProblem(`unexpected "${c}" at column ${i + 1}${hint}`);
      }
      out.push({ kind: number ? 'number' : 'ident', text: m[0], at: i });
      i += m[0].length;
    }
  }
  out.push({ kind: 'end', text: '', at: text.length });
  return out;
}

class Parser {
  #pos = 0;
  readonly #tokens: readonly Token[];

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  test(): DataTest {
    const name = this.#peek();
    if (name.kind !== 'ident') {
      throw new SyntaxProblem(`expected a test (${TEST_KINDS.join(', ')}), got ${shown(name)}`);
    }
    const kind = name.text as DataTest['kind'];
    if (!(TEST_KINDS as readonly string[]).includes(kind)) {
      throw new SyntaxProblem(`unknown test ${name.text}; known: ${TEST_KINDS.join(', ')}`);
    }
    this.#pos++;
    this.#expect('(', kind);
    const test = this.#body(kind);
    this.#expect(')', kind);
    const rest = this.#peek();
    if (rest.kind !== 'end') throw new SyntaxProblem(`unexpected ${shown(rest)} after ${kind}(…)`);
    return test;
  }

  #body(kind: DataTest['kind']): DataTest {
    switch (kind) {
      case 'unique':
      case 'not_null':
        return { kind, columns: this.#columns(kind) };
      case 'accepted_values': {
        const column = this.#ident(kind, 'a column name');
        const values: AcceptedValue[] = [];
        do {
          this.#expect(',', kind);
          const v = this.#next();
          if (v.kind === 'string') values.push(v.text);
          else if (v.kind === 'number') values.push({ number: canonicalNumber(v.text) });
          else throw this.#wrong(kind, "a value ('text' or a number)", v);
        } while (this.#peek().kind === ',');
        return { kind, column, values };
      }
      case 'relationships': {
        const columns = this.#columnGroup(kind);
        this.#expect(',', kind);
        const ref = this.#next();
        if (ref.kind !== 'ident' || ref.text !== 'ref') throw this.#wrong(kind, "ref('table')", ref);
        this.#expect('(', kind);
        const to = this.#next();
        if (to.kind !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(to.text)) {
          throw this.#wrong(kind, "a table or model name in quotes, as in ref('users')", to);
        }
        this.#expect(')', kind);
        this.#expect(',', kind);
        const toColumns = this.#columnGroup(kind);
        if (toColumns.length !== columns.length) {
          throw new SyntaxProblem(
            `relationships: ${columns.length} column(s) on the left, ${toColumns.length} in ${to.text}; they pair up one to one`,
          );
        }
        return { kind, columns, to: to.text, toColumns };
      }
    }
  }

  /** `a` or `(a, b)`. */
  #columnGroup(kind: DataTest['kind']): string[] {
    if (this.#peek().kind !== '(') return [this.#ident(kind, 'a column name or (col, col…)')];
    this.#pos++;
    const cols = this.#columns(kind);
    this.#expect(')', kind);
    return cols;
  }

  /** `a, b, c`: at least one, none twice. */
  #columns(kind: DataTest['kind']): string[] {
    const cols = [this.#ident(kind, 'a column name')];
    while (this.#peek().kind === ',') {
      this.#pos++;
      cols.push(this.#ident(kind, 'a column name'));
    }
    const twice = cols.find((c, i) => cols.indexOf(c) !== i);
    if (twice) throw new SyntaxProblem(`${kind}: column ${twice} is listed twice`);
    return cols;
  }

  #ident(kind: DataTest['kind'], what: string): string {
    const t = this.#next();
    if (t.kind !== 'ident') throw this.#wrong(kind, what, t);
    return t.text;
  }

  #expect(k: '(' | ')' | ',', kind: DataTest['kind']): void {
    const t = this.#next();
    if (t.kind !== k) throw this.#wrong(kind, `"${k}"`, t);
  }

  #wrong(kind: DataTest['kind'], what: string, t: Token): SyntaxProblem {
    return new SyntaxProblem(`${kind}: expected ${what}, got ${shown(t)}; the form is ${SYNTAX[kind]}`);
  }

  #peek(): Token {
    return this.#tokens[this.#pos] as Token;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== 'end') this.#pos++;
    return t;
  }
}

function shown(t: Token): string {
  if (t.kind === 'end') return 'the end';
  if (t.kind === 'string') return `'${t.text}' at column ${t.at + 1}`;
  return `"${t.text}" at column ${t.at + 1}`;
}

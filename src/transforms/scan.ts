/**
 * A small SQL lexer for model files: just enough to find `{{ … }}` template expressions and
 * to look at the SQL with comments, string literals and templates blanked out, so the
 * checks on model text (refs, bare table names, one statement) are never fooled by
 * `-- from orders` in a comment or `'a;b'` in a string. Positions are kept: the masked text
 * has the same length as the original, newlines included.
 */

/** One `{{ … }}` expression: offsets in the original text (end exclusive). */
export interface Template {
  start: number;
  end: number;
  /** The text between the braces. */
  body: string;
  /** 1-based line of `{{`. */
  line: number;
}

export interface ScannedSql {
  /**
   * Same length as the input; comments and string contents replaced by spaces, templates by
   * `#` (not blank: a model may end with one).
   */
  masked: string;
  templates: Template[];
  problems: Array<{ line: number; message: string }>;
}

export function scanSql(text: string): ScannedSql {
  const out = text.split('');
  const templates: Template[] = [];
  const problems: ScannedSql['problems'] = [];
  const blank = (from: number, to: number, fill = ' ') => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = fill;
  };
  let i = 0;
  while (i < text.length) {
    const two = text.slice(i, i + 2);
    if (two === '--') {
      const end = indexOrEnd(text, '\n', i);
      blank(i, end);
      i = end;
    } else if (two === '/*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) problems.push({ line: lineAt(text, i), message: 'comment /* is never closed' });
      const end = close < 0 ? text.length : close + 2;
      blank(i, end);
      i = end;
    } else if (two === '{{') {
      const close = text.indexOf('}}', i + 2);
      if (close < 0) {
        problems.push({ line: lineAt(text, i), message: '{{ is never closed with }}' });
        blank(i, text.length);
        break;
      }
      templates.push({ start: i, end: close + 2, body: text.slice(i + 2, close), line: lineAt(text, i) });
      blank(i, close + 2, '#');
      i = close + 2;
    } else if (text[i] === "'") {
      const end = closingQuote(text, i, "'");
      if (end < 0) problems.push({ line: lineAt(text, i), message: 'string literal is never closed' });
      blank(i + 1, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end + 1;
    } else if (text[i] === '"' || text[i] === '`') {
      // Quoted identifiers stay visible: `FROM "orders"` is a table name like `FROM orders`.
      const end = closingQuote(text, i, text[i] as string);
      i = end < 0 ? text.length : end + 1;
    } else {
      i++;
    }
  }
  return { masked: out.join(''), templates, problems };
}

/** 1-based line number of an offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === '\n') line++;
  return line;
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  return at < 0 ? text.length : at;
}

/** Offset of the quote closing the one at `open` (a doubled quote is an escaped one), or -1. */
function closingQuote(text: string, open: number, quote: string): number {
  let k = open + 1;
  for (;;) {
    const at = text.indexOf(quote, k);
    if (at < 0) return -1;
    if (text[at + 1] !== quote) return at;
    k = at + 2;
  }
}

/** SQL words that can follow a table reference and are not an alias. */
const NOT_ALIAS = new Set(
  `WHERE JOIN INNER LEFT RIGHT FULL CROSS NATURAL OUTER ON USING GROUP ORDER HAVING LIMIT OFFSET
   UNION EXCEPT INTERSECT WINDOW STRAIGHT_JOIN FOR LATERAL INDEXED NOT USE FORCE IGNORE PARTITION
   RETURNING WHEN THEN ELSE END AND OR`.split(/\s+/),
);

/**
 * Whether the table reference ending at `end` is followed by an alias (`AS x`, `x`, `"x"`).
 * Looks at the masked text, so comments between the reference and the alias do not matter.
 */
export function followedByAlias(masked: string, end: number): boolean {
  const rest = masked.slice(end).trimStart();
  const m = /^(?:"|`|[A-Za-z_][A-Za-z0-9_$]*)/.exec(rest);
  if (!m) return false;
  if (m[0] === '"' || m[0] === '`') return true;
  return m[0].toUpperCase() === 'AS' || !NOT_ALIAS.has(m[0].toUpperCase());
}

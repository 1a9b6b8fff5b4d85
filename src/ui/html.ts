/**
 * HTML and SVG text built from untrusted values (file names, headers, rejected records, error
 * messages): every value interpolated into `html` is escaped unless it is already {@link Html}
 * made by this module, so a page cannot be broken into by what it shows. The one way markup is
 * made; there is no other.
 */

/** Markup that is safe to put in a page as it is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** What may stand in a `${}` of {@link html}: escaped text, markup, or a list of either. */
export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text as HTML/XML character data or a quoted attribute value: `& < > " '` escaped, and the
 * characters XML 1.0 forbids (C0 controls other than tab and line breaks, lone surrogates,
 * U+FFFE/U+FFFF) shown as U+FFFD, so an inline SVG stays well-formed whatever a value holds.
 */
export function escapeText(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
    .replace(
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '\uFFFD',
    );
}

function render(part: Part): string {
  if (part instanceof Html) return part.text;
  if (part === null || part === undefined || part === false) return '';
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeText(String(part));
}

/** A template of markup: the literal parts as written, every `${value}` escaped. */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Part) + (strings[i + 1] as string);
  return new Html(out);
}

/** A value as markup text (escaped). */
export function text(value: Part): Html {
  return new Html(render(value));
}

/**
 * A URL for an `href`: a path of this server with its query built from `params` (values
 * URL-encoded; empty ones left out). Escaped again when interpolated, as any value.
 */
export function href(
  pathname: string,
  params: Record<string, string | number | undefined | null> = {},
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const qs = q.toString();
  return qs ? `${pathname}?${qs}` : pathname;
}

/** A path segment: the name of a table or a file, URL-encoded. */
export function seg(name: string | number): string {
  return encodeURIComponent(String(name));
}

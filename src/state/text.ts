/**
 * Text as the state tables store it. PostgreSQL's text cannot hold U+0000 (NUL), and the text
 * a reject or a failure keeps is the input's — a CSV line that is not valid CSV, a JSON
 * parser's excerpt of a line, an error quoting a value — so a NUL there would fail the insert,
 * and with it the file (a reject) or the record of the failure. One bad value costs one row,
 * never its file: each NUL is stored as ␀ (U+2400, SYMBOL FOR NULL), the same on every
 * destination, so that a reject reads the same wherever it is stored.
 */

/** What a NUL character is stored as. */
export const NUL_STORED_AS = '\u2400';

/** `text` with each NUL as {@link NUL_STORED_AS}. */
export function storableText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', NUL_STORED_AS) : text;
}

/** `storableText` for a value that may be absent. */
export function storableOrNull(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : storableText(text);
}

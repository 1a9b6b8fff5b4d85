/**
 * How config messages show what the user wrote: a config is untrusted input, so a value or
 * key is quoted, escaped (no line break, control or bidi character reaches the terminal as
 * itself) and cut to a readable length.
 */

/** Characters of a value shown before it is cut. */
export const SHOWN_LENGTH = 60;

/** Controls JSON.stringify leaves as they are (DEL, C1) and bidi overrides, escaped as \uXXXX. */
const UNSAFE = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeUnsafe = (text: string) =>
  text.replace(UNSAFE, (c) => `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`);

/** Text for a message: line breaks, controls and bidi characters escaped (as in JSON), quotes kept. */
export function escapeText(text: string): string {
  return escapeUnsafe(JSON.stringify(text).slice(1, -1).replaceAll('\\"', '"'));
}

/** Every C0 control, DEL, C1 controls, the line and paragraph separators and bidi characters. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Untrusted text shown as data (a file name, a table cell, a raw record): controls, line breaks
 * and bidi characters escaped (`\n`, `\r`, `\t`, else `\u001b`), so none reaches the terminal
 * as itself (ESC would start an escape sequence); everything else, backslashes included, as it
 * is. Unlike {@link escapeText} it leaves escaped text unchanged, so applying it twice (a cell
 * escaped by its command, then by `table()`) shows the same.
 */
export function escapeControls(text: string): string {
  return text.replace(
    CONTROLS,
    (c) => SHORT[c] ?? `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A received value as a message shows it: `nothing` when absent, else as JSON (strings
 * quoted), escaped, and cut after SHOWN_LENGTH characters with `…` (strings: and their length).
 */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    const chars = [...value];
    if (chars.length <= SHOWN_LENGTH) return escapeUnsafe(JSON.stringify(value));
    return `${escapeUnsafe(JSON.stringify(chars.slice(0, SHOWN_LENGTH).join('')))}… (${chars.length} characters)`;
  }
  const json = JSON.stringify(value) ?? String(value);
  const chars = [...json];
  return escapeUnsafe(chars.length <= SHOWN_LENGTH ? json : `${chars.slice(0, SHOWN_LENGTH).join('')}…`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A key path as messages name it: `sources[1].columns.amount`, odd keys quoted (`columns["a b"]`). */
export function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((seg, i) => {
      if (typeof seg === 'number') return `[${seg}]`;
      const name = String(seg);
      if (IDENTIFIER.test(name) && name.length <= SHOWN_LENGTH) return i === 0 ? name : `.${name}`;
      return `[${showValue(name)}]`;
    })
    .join('');
}

/**
 * Values as messages show them (why a value did not fit, a bad hint): strings quoted and
 * cut at 100 characters, objects and arrays named, never dumped. Pure: no I/O.
 */
import { isLosslessNumber } from './numbers.js';

/** A value for a reason: strings quoted and cut to 100 characters. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= 100) return JSON.stringify(value);
    const cut = (value.charCodeAt(99) & 0xfc00) === 0xd800 ? 99 : 100;
    return JSON.stringify(value.slice(0, cut)) + '…';
  }
  if (isLosslessNumber(value)) return cutText(value.value);
  if (Array.isArray(value)) return 'a JSON array';
  if (typeof value === 'object' && value !== null) return 'a JSON object';
  return cutText(String(value));
}

/** Text cut to 100 characters, unquoted (a number's digits, a hint as written). */
export function cutText(text: string): string {
  return text.length <= 100 ? text : text.slice(0, 100) + '…';
}

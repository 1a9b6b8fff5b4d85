import { describe, expect, it } from 'vitest';
import { resolveConfigText } from '../../src/config/resolve.js';

/** `encoding:` a TextDecoder does not know: a config error naming the likely label (src/core/suggest.ts). */
function problem(label: string): string {
  try {
    resolveConfigText(
      `pipeline: p\nsources:\n  - table: t\n    files: "*.csv"\n    encoding: "${label}"\n`,
      'tributary.yaml',
    );
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`encoding ${label} was accepted`);
}

describe('encoding labels', () => {
  it.each([
    ['latin-1', 'latin1'], // a spelling without its separators
    ['UTF_16_LE', 'utf-16le'],
    ['latin9', 'iso-8859-15'], // a name people use that is no WHATWG label
    ['utf16el', 'utf-16le'], // a typo: the closest spelling
    ['windos-1252', 'windows-1252'],
  ])('%s: did you mean %s?', (label, want) => {
    expect(problem(label)).toContain(
      `sources[0].encoding: got "${label}"; not a text encoding TextDecoder knows (did you mean ${want}?)`,
    );
  });

  it('nothing close: no guess, the usual labels listed', () => {
    const message = problem('ebcdic');
    expect(message).toContain(
      'not a text encoding TextDecoder knows; use a WHATWG label such as utf-8, latin1',
    );
    expect(message).not.toContain('did you mean');
  });

  it.each(['utf-8', 'UTF8', 'latin1', 'windows-1252', 'utf-16be', 'shift_jis'])('%s is accepted', (label) => {
    expect(
      resolveConfigText(
        `pipeline: p\nsources:\n  - table: t\n    files: "*.csv"\n    encoding: ${label}\n`,
        'tributary.yaml',
      ).sources[0]?.encoding,
    ).toBeDefined();
  });
});

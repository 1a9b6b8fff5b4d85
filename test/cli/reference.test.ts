import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { cliReference } from '../../src/cli/reference.js';
import { configJsonSchemaText, SCHEMA_FILE } from '../../src/config/json-schema.js';
import { configReference } from '../../src/config/reference.js';

describe('docs/cli.md', () => {
  const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/cli.md'), 'utf8');

  it('is the reference generated from the CLI itself (run `npm run docs:cli` after changing a command)', () => {
    expect(doc).toBe(cliReference());
  });

  it('has a section with exit codes for every command and subcommand', () => {
    const program = buildProgram({ out: () => {}, err: () => {}, isTTY: false }, { code: 0 });
    const names = program.commands.flatMap((c) => [
      c.name(),
      ...c.commands.map((s) => `${c.name()} ${s.name()}`),
    ]);
    expect(names).toEqual(
      expect.arrayContaining(['init', 'doctor', 'run', 'rejects', 'rejects retry', 'reset', 'history']),
    );
    for (const name of names) {
      const section = doc.split(`\n## \`tributary ${name}\`\n`)[1]?.split('\n## ')[0] ?? '';
      expect(section, name).toMatch(/Exit codes:\n\n\| code \| meaning \|/);
      expect(section, name).toMatch(/^\| 2 \| /m);
    }
  });
});

describe('docs/configuration.md', () => {
  it('is the reference generated from the config schema (run `npm run docs:config` after changing a key)', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/configuration.md'), 'utf8');
    expect(doc).toBe(configReference());
  });
});

describe(`${SCHEMA_FILE}`, () => {
  it('is the JSON Schema generated from the config schema (run `npm run docs:config` after changing a key)', () => {
    const shipped = fs.readFileSync(path.resolve(__dirname, '../..', SCHEMA_FILE), 'utf8');
    expect(shipped).toBe(configJsonSchemaText());
  });
});

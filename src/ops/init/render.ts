import type { ColumnType } from '../../core/types.js';
import { formatType } from '../../schema/hints.js';
import type { FileGroup } from './group.js';
import { type Guess, roomy } from './guess.js';

/** One proposed source: its files, glob and what the sample suggests. */
export interface Proposal {
  group: FileGroup;
  guess: Guess;
}

export interface InitText {
  /** The JSON Schema reference of the first line (./schema-ref.ts). */
  schema: string;
  pipeline: string;
  destination: string;
  /** The folder scanned, relative to the config file. */
  folder: string;
  proposals: readonly Proposal[];
  /** Files with no readable record, with why. */
  skipped: ReadonlyArray<{ file: string; reason: string }>;
  /** Files that are not CSV/JSON, by name. */
  ignored: readonly string[];
}

/** The commented `tributary.yaml` that `tributary init` writes. Pure. */
export function renderConfig(input: InitText): string {
  const files = input.proposals.reduce((n, p) => n + p.group.files.length, 0);
  const out = [
    // First, as editors look for it there: keys completed and checked against the schema.
    `# yaml-language-server: $schema=${input.schema}`,
    `# Written by \`tributary init\` from ${input.folder || '.'} (${files} file(s)). The keys below are`,
    '# guesses from a sample of each file: check them, then run `tributary doctor` and `tributary run`.',
    '# Every key is described in docs/configuration.md; globs are relative to this file.',
    `pipeline: ${input.pipeline}`,
    '# An SQLite file, created by the first run. For MySQL/MariaDB instead:',
    '#   destination: mysql://user:${TRIBUTARY_DB_PASSWORD}@host:3306/database',
    `destination: ${JSON.stringify(input.destination)}`,
    '',
    'sources:',
  ];
  for (const p of input.proposals) out.push(...source(p), '');
  if (input.skipped.length > 0) {
    out.push('# Not proposed: no record could be read from these files.');
    for (const s of input.skipped.slice(0, 20)) out.push(comment(`  ${s.file}: ${s.reason}`, ''));
    if (input.skipped.length > 20) out.push(`#   … and ${input.skipped.length - 20} more`);
  }
  if (input.ignored.length > 0) {
    const list = input.ignored.slice(0, 10).join(', ');
    out.push(
      comment(`Ignored (not CSV, TSV, JSON or NDJSON): ${list}${input.ignored.length > 10 ? ', …' : ''}`, ''),
    );
  }
  return `${out.join('\n').trimEnd()}\n`;
}

function source({ group, guess }: Proposal): string[] {
  const lines: string[] = [];
  const n = group.files.length;
  lines.push(comment(`${group.table}: ${n} file(s), e.g. ${group.files[0]}`));
  const cols = guess.columns.map((c) => `${c.name} ${c.type ? formatType(c.type) : '(empty)'}`);
  lines.push(...wrap(`sampled ${guess.rows} row(s): ${cols.join(', ')}`, '  #   '));
  for (const c of group.captures) {
    lines.push(
      ...wrap(
        `{${c}}: this folder level differs between the files; its name is kept in a column \`${c}\`${guess.primaryKey ? ' and is part of the key' : ''}`,
        '  # ',
      ),
    );
  }
  lines.push(`  - table: ${group.table}`, `    files: ${JSON.stringify(group.glob)}`);
  if (guess.primaryKey) {
    const key = [...group.captures, guess.primaryKey.column];
    lines.push(
      `    primary_key: ${key.length === 1 ? key[0] : `[${key.join(', ')}]`}   # ${guess.primaryKey.column}: ${guess.primaryKey.note}`,
    );
    if (guess.cursor) lines.push(`    cursor: ${guess.cursor.column}   # ${guess.cursor.note}`);
  } else {
    lines.push('    # no unique, never-empty id column in the sample: rows are appended (write: append);');
    lines.push('    # set primary_key (and cursor) to merge updates of the same record instead');
  }
  for (const h of guess.hints) {
    lines.push(
      ...wrap(
        `${h.column}: ${h.misfits} of ${h.values} sampled values are not ${formatType(h.type)} (e.g. ${JSON.stringify(h.example.slice(0, 40))}); the hint below rejects such rows instead of turning the column into text`,
        '    # ',
      ),
    );
  }
  if (guess.hints.length > 0) {
    lines.push(
      `    columns: { ${guess.hints.map((h) => `${h.column}: "${formatType(h.type)}"`).join(', ')} }`,
    );
  } else {
    const money = guess.columns.filter((c) => c.type?.kind === 'decimal');
    lines.push(
      money.length > 0
        ? `    # columns: { ${money.map((c) => `${c.name}: "${formatType(roomy(c.type as ColumnType))}"`).join(', ')} }   # fix types: a bad value is then rejected, never widened`
        : '    # columns: { column: type }   # fix a column type (docs/configuration.md, "Type hints")',
    );
  }
  lines.push('    # max_rejects: "5%"   # fail a file whose rows are mostly bad instead of loading a sliver');
  return lines;
}

function comment(text: string, indent = '  '): string {
  return `${indent}# ${text.replace(/[\r\n]+/g, ' ')}`.trimEnd();
}

/** `text` as comment lines of at most ~100 characters, each starting with `prefix`. */
function wrap(text: string, prefix: string): string[] {
  const words = text.replace(/[\r\n]+/g, ' ').split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && prefix.length + line.length + w.length + 1 > 100) {
      lines.push(prefix + line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(prefix + line);
  return lines;
}

import type { z } from 'zod';
import { packageInfo } from '../core/package.js';
import { SCHEMA_FILE } from './json-schema.js';
import { columnOptionsSchema, configSchema, sourceSchema } from './schema.js';

/**
 * The configuration reference, generated from the config schema's descriptions so the
 * docs cannot drift from what is accepted (docs/configuration.md; a test compares them).
 */
export function configReference(): string {
  const section = (title: string, prefix: string, schema: z.ZodObject) =>
    [`## ${title}`, '', ...sectionRows(prefix, schema)].join('\n');
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'A pipeline is one YAML file, `tributary.yaml` by default (`-c FILE` to choose another).',
    'Paths inside it are relative to the file. `${NAME}` and `${NAME:-default}` are replaced',
    'by environment variables in every value; `$${` writes a literal `${`. Unknown keys are',
    'errors, each named with the key it most likely means when there is one the object does not',
    'have yet (`primry_key` (did you mean `primary_key`?)). Every problem is reported at once,',
    'before anything is touched: the keys that',
    'do not fit the schema below and, in the same round, what the keys that do fit get wrong',
    '(a type hint not understood, `merge` without a `primary_key`, a `cursor` without `merge`,',
    'sources of one table that disagree), each with its key and the value received (quoted,',
    'with line breaks and control characters escaped, cut after 60 characters).',
    '',
    section('Top level', '', configSchema as unknown as z.ZodObject),
    '',
    section('Each entry of `sources`', 'sources[].', sourceSchema as unknown as z.ZodObject),
    '',
    '## Type hints',
    '',
    '`bool`/`boolean`, `int`/`integer`/`bigint` (64-bit), `decimal(p,s)`/`numeric(p,s)` (exact),',
    '`date`, `datetime`/`timestamp` (stored as UTC), `text`/`string`/`varchar`, `json`.',
    'A hinted column keeps its type: a value that does not fit rejects its row. `decimal` is',
    'exact on every destination: on SQLite a value of more than 15 significant digits is stored',
    'as its exact text, the rest as numbers (docs/loading.md, "Exact values in SQLite"); the',
    "limits each destination has (a MySQL key column's length, MariaDB's JSON depth) are",
    'checked value by value before writing, and a value past them rejects its row',
    '(`DEST_LIMIT`, docs/loading.md).',
    '',
    '## Column options',
    '',
    'A column of `columns:` is a type hint (`amount: "decimal(12,2)"`) or a mapping of options, for',
    'exports written the way a locale writes numbers and dates:',
    '',
    '```yaml',
    'columns:',
    '  amount: { decimal_separator: ",", thousands_separator: "." }   # 1.234,50 → 1234.50',
    '  fee: { type: "decimal(12,2)", decimal_separator: "," }        # 12,50, hinted',
    '  booked: { date_format: "%d/%m/%Y" }                            # 31/12/2024 → 2024-12-31',
    '  paid_at: { date_format: "%d.%m.%Y %H:%M" }                     # a datetime',
    '```',
    '',
    ...sectionRows('sources[].columns.<name>.', columnOptionsSchema as unknown as z.ZodObject),
    '',
    'A column with a format is read in that format before anything else, so inference and',
    'coercion see the same value: `1.234,50` is the decimal 1234.50 (its digits moved, never',
    'through a float), `31/12/2024` the date 2024-12-31. Without `type`, the type is inferred from',
    'the values read (integer or decimal; date, or datetime when the format has `%H`). A value',
    'not written in the format — `12.50` where the decimal separator is `,`, `2024-12-31` for',
    '`%d/%m/%Y`, `31/02/2024` — rejects its row (`TYPE_MISMATCH`, naming the column and the',
    'format); it never turns the column into text. Grouping is strict: with a thousands',
    'separator, the first group has 1 to 3 digits and every other exactly 3, and `1.5` is not read',
    'where `.` groups thousands (it is ambiguous). Date directives: `%Y` (4 digits), `%y` (2',
    'digits: 69–99 → 1969–1999, 00–68 → 2000–2068, as POSIX strptime), `%m` `%d` `%H` `%M` `%S`',
    '(1 or 2 digits), `%f` (1 to 6 fraction digits), `%z` (`Z`, `+01:00`, `+0100`, `+01`; the',
    'value is stored in UTC), `%%`; any other character must be there as written. Month names',
    'and AM/PM are not read. A format that cannot work is a config error: an unknown directive, no',
    'day, a separator that is both, a number format on a date type (docs/loading.md, "Locale',
    'formats").',
    '',
    '## Encodings',
    '',
    "`encoding:` names a source's text encoding by its WHATWG Encoding Standard label (what",
    '`TextDecoder` takes, case-insensitive): `utf-8` (the default), `latin1` / `iso-8859-1` /',
    '`windows-1252` (one encoding there: windows-1252, whose 0x80–0x9F are €, curly quotes and',
    'dashes), `iso-8859-15`, `windows-1250`, `utf-16le`, `utf-16be`, `shift_jis`, `gbk`, … An',
    'unknown label is a config error. A byte order mark at the start of a file wins over it (the',
    'WHATWG "decode" algorithm): UTF-16 files with one are read without any setting, and a UTF-8',
    'mark is dropped. A file that is not valid text in its encoding fails (`SOURCE_FORMAT`, the',
    'other files load) with the line and byte offset (from 0) of its first bad byte; for UTF-8, the message',
    'names the encoding the bytes look like (docs/loading.md, "Encodings").',
    '',
    '## Destinations',
    '',
    '`destination:` is one of:',
    '',
    '- `sqlite:PATH` \u2014 the embedded default, a file relative to the config file.',
    '- `mysql://user:password@host:3306/db` (or `mariadb://`) \u2014 MySQL 8 / MariaDB 10.6+. Options',
    '  after `?`: `connectionLimit` (concurrent file loads, 1\u201332, default 4), `ssl`',
    '  (`true` | `skip-verify` | `false`), `localInfile` (`false`: never LOAD DATA), `createDatabase`',
    '  (`false`: never create the database), `connectTimeout` (ms, default 10000).',
    '- `postgres://user:password@host:5432/db` (or `postgresql://`) \u2014 PostgreSQL 13+ (15 is the',
    "  reference). Options after `?`: `schema` (the schema of the pipeline's tables and its state",
    '  tables, default `public`, created when missing), `connectionLimit` (concurrent file loads,',
    '  1\u201332, default 4), `ssl` (`true` | `skip-verify` | `false`), `createDatabase` (`false`: never',
    '  create the database; by default it is created, UTF8, when the user may), `connectTimeout`',
    "  (ms, default 10000). Rows load with `COPY \u2026 FROM STDIN` inside each file's transaction, DDL",
    '  runs in that transaction too, and the run lock is a session advisory lock. Every session',
    '  runs with `TimeZone` UTC, `DateStyle` ISO, `standard_conforming_strings` on and',
    '  `client_encoding` UTF8, whatever the server, database or role sets. The database must be',
    '  UTF8: one of another encoding (LATIN1, SQL_ASCII, …) is refused as the destination opens',
    '  (`DEST_CONNECT`), before anything is created or read.',
    '',
    'An unknown option is an error that lists the known ones. Without a password in the URL, the',
    'password comes from `TRIBUTARY_DB_PASSWORD`; it is never printed (descriptions show `***`).',
    '',
    'On PostgreSQL the types are `BIGINT`, `NUMERIC(p,s)`, `DATE`, `TIMESTAMPTZ` (values are UTC,',
    'and read back as `YYYY-MM-DD HH:MM:SS[.f]` like on the other destinations), `TEXT`, `JSONB`',
    "(which orders object keys its own way, as MySQL 8's JSON does) and `BOOLEAN` (read back as",
    'true/false; SQLite and MySQL give 1/0). Identifiers are limited to 63 bytes there: a 64-character',
    "name (a long header's hashed name) is stored as its first 54 bytes, `_` and a hash, and its full",
    'name is kept in a comment on the column or table, so the pipeline and `SELECT "<full name>"`',
    'through Tributary see the full name; SQL written outside Tributary must use the stored one.',
    'A name that fits but has the shape of a stored one (60 to 63 bytes ending in `_` and 8 hex',
    "digits \u2014 a header spelling another column's stored name) is stored shortened the same way,",
    'so no two names ever share a stored one.',
    'A text or JSON value holding a NUL character cannot be stored in PostgreSQL: it rejects its',
    "row (`DEST_LIMIT`, docs/loading.md); a NUL in a reject's raw record is stored as \u2400 (U+2400).",
    '',
    ...editorSection(),
    '## Queue',
    '',
    '`queue: redis://[user:password@]host:6379/0` (or `rediss://` for TLS; `--queue` on the',
    'command line wins) makes `tributary run` hand its files to `tributary worker` processes on',
    'any number of machines, through a BullMQ queue in Redis; the run keeps the lock, the plan',
    'and the models. Not with a SQLite destination. See [distributed.md](distributed.md).',
    '',
  ].join('\n');
}

/** How editors get the JSON Schema (src/config/json-schema.ts) and the reference `init` writes. */
function editorSection(): string[] {
  const { name } = packageInfo();
  return [
    '## Editors: the JSON Schema',
    '',
    `\`${SCHEMA_FILE}\` in the package is the JSON Schema (draft 7) of this file, generated from`,
    'the same schema as this page (`npm run docs:config` writes both; a test fails when either is',
    'stale). Editors that read it complete the keys, show the descriptions above and mark a',
    'misspelt key or a wrong value as you type: VS Code with the YAML extension, Neovim, Helix,',
    'Zed and others through yaml-language-server, and JetBrains IDEs. `tributary init` writes the',
    'line that tells them where it is as the first line of the config, for instance:',
    '',
    '```yaml',
    `# yaml-language-server: $schema=./node_modules/${name}/${SCHEMA_FILE}`,
    '```',
    '',
    'The reference it writes, and why:',
    '',
    '- When the project holding the config has the package installed (`npm i -D ' + name + '`):',
    `  the path from the config's folder (which is what the editor resolves it from) to`,
    `  \`node_modules/${name}/${SCHEMA_FILE}\` — the schema of the version the project runs,`,
    '  offline, and right for everyone who checks out the project.',
    `- When the config is inside a checkout of this repository: the path to its \`${SCHEMA_FILE}\``,
    `  (the example configs have \`../../${SCHEMA_FILE}\`).`,
    '- Else (a global install, or `npx` without installing): the copy published with the',
    `  running version, \`https://cdn.jsdelivr.net/npm/${name}@<version>/${SCHEMA_FILE}\`. A`,
    '  path into a global install would hold on one machine only; the URL resolves once that',
    '  version is on npm.',
    '',
    'For a config written by hand, put one of these lines first (or map the files to the schema',
    'in the editor, e.g. VS Code\'s `"yaml.schemas"` setting). The editor checks values as',
    'written: a `${NAME}` placeholder where a number or a pattern is expected (`max_rejects`,',
    '`pipeline`) is marked there though it loads. What involves several keys (a `cursor` without',
    "`merge`, sources of one table that disagree, a type hint's spelling) only the loader checks:",
    '`tributary doctor` says it.',
    '',
  ];
}

/** A table of an object schema's keys: type, whether required, meaning (its `describe()`). */
function sectionRows(prefix: string, schema: z.ZodObject): string[] {
  const rows = Object.entries(schema.shape).map(([key, field]) => {
    const f = field as z.ZodType;
    return `| \`${prefix}${key}\` | ${typeOf(f)} | ${isOptional(f) ? 'no' : 'yes'} | ${(f.description ?? '').replaceAll('|', '\\|')} |`;
  });
  return ['| key | type | required | meaning |', '|---|---|---|---|', ...rows];
}

function isOptional(f: z.ZodType): boolean {
  return (f as { def: { type: string } }).def.type === 'optional';
}

function typeOf(f: z.ZodType): string {
  const def = (f as unknown as { def: Record<string, unknown> & { type: string } }).def;
  switch (def.type) {
    case 'optional':
      return typeOf(def.innerType as z.ZodType);
    case 'string':
      return 'string';
    case 'enum':
      return Object.values(def.entries as Record<string, string>)
        .map((v) => `\`${v}\``)
        .join(' \\| ');
    case 'array':
      return `list of ${typeOf(def.element as z.ZodType)}`;
    case 'record':
      return `map of ${typeOf(def.valueType as z.ZodType)}`;
    case 'union':
      return (def.options as z.ZodType[]).map(typeOf).join(' or ');
    case 'object':
      return 'object';
    default:
      return def.type;
  }
}

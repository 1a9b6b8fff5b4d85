import { z } from 'zod';
import { DURATION } from './duration.js';

/**
 * What a user writes in `tributary.yaml`. The resolved, canonical form the code reads is
 * `ResolvedConfig` in ./resolve.ts. Every key is documented in docs/configuration.md,
 * which is generated from the `describe()` texts below (`npm run docs:config`).
 */

const nameList = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('One column name or a list of column names (after name normalization).');

const contractMode = z.enum(['evolve', 'freeze', 'discard_row', 'discard_value']);

export const contractSchema = z
  .union([
    contractMode,
    z
      .object({
        tables: contractMode.optional(),
        columns: contractMode.optional(),
        data_type: z.enum(['evolve', 'freeze', 'discard_row', 'discard_value', 'text']).optional(),
      })
      .strict(),
  ])
  .describe(
    'What files may change: one mode for all, or `{ tables, columns, data_type }`, each `evolve` (default), `freeze`, `discard_row` or `discard_value`; `data_type` also `text`. See docs/schema-evolution.md.',
  );

/** A column's options: its type and how its text is written (docs/loading.md, "Locale formats"). */
export const columnOptionsSchema = z
  .object({
    type: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Type hint, as in the short form (`decimal(12,2)`, `date`); without it, the type is inferred.',
      ),
    decimal_separator: z
      .enum(['.', ','])
      .optional()
      .describe('`,` for numbers written `12,50`. Default `.`.'),
    thousands_separator: z
      .enum(['.', ',', ' ', "'"])
      .optional()
      .describe(
        "Separator between groups of three integer digits: `.` (`1.234,50`), `,` (`1,234.50`), a space (also matches U+00A0 and U+202F) or `'` (also matches ’). Default: none.",
      ),
    date_format: z
      .string()
      .min(1)
      .optional()
      .describe(
        'How dates are written, `strftime`-like: `%d/%m/%Y`, `%d.%m.%y %H:%M`. Directives %Y %y %m %d %H %M %S %f %z %%; with %H the values are datetimes.',
      ),
  })
  .strict();

export const sourceSchema = z
  .object({
    table: z.string().min(1).describe('Destination table. Several sources may feed one table.'),
    files: z
      .string()
      .min(1)
      .describe(
        'Glob relative to the config file. `{name}` (no comma inside) captures one path segment into a text column `name`; `{a,b}` is a normal glob alternative.',
      ),
    format: z
      .enum(['csv', 'json', 'ndjson'])
      .optional()
      .describe(
        'File format. Default: from the extension (.csv .tsv .txt .json .jsonl .ndjson, each optionally .gz).',
      ),
    delimiter: z
      .string()
      .length(1)
      .optional()
      .describe('CSV delimiter. Default: detected among `,` `;` tab `|` from the header line.'),
    encoding: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Text encoding of the files, a WHATWG label: `latin1`, `windows-1252`, `iso-8859-15`, `utf-16le`, `utf-16be`, `shift_jis`, … Default `utf-8`. A byte order mark (UTF-8, UTF-16LE, UTF-16BE) wins over it, so UTF-16 files with one need no setting.',
      ),
    records: z
      .string()
      .min(1)
      .optional()
      .describe(
        'JSON files holding one object (not an array, nor one object per line): the dotted path of keys to the array of records inside it (`data`, `result.items`), streamed whatever the size; `.` loads the whole object as one record. Without it, such a file is one record, unless it wraps an array of objects: then it fails and names this option.',
      ),
    primary_key: nameList.optional().describe('Key of the table; required for `write: merge`.'),
    cursor: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Column whose greatest value wins on merge; an incoming row with an older cursor is ignored. A number, date, datetime, text (compared in code point order on every destination) or boolean (true after false) column; not json.',
      ),
    write: z
      .enum(['append', 'merge', 'replace'])
      .optional()
      .describe('Write disposition. Default: `merge` when `primary_key` is set, else `append`.'),
    columns: z
      .record(
        z.string(),
        z.union([z.string(), columnOptionsSchema], {
          error: 'expected a type hint (text such as "decimal(12,2)") or column options (a mapping)',
        }),
      )
      .optional()
      .describe(
        'Per column, a type hint that overrides inference (`{ amount: "decimal(12,2)", zip: text }`), or options: `{ type, decimal_separator, thousands_separator, date_format }` (see "Column options" below), e.g. `{ amount: { decimal_separator: "," }, booked: { date_format: "%d/%m/%Y" } }`.',
      ),
    rename: z
      .record(z.string(), z.string())
      .optional()
      .describe('Header renames `{ "Raw Header": column }`, applied before name normalization.'),
    contract: contractSchema
      .optional()
      .describe('Schema contract of this table; overrides the top-level `contract`.'),
    on_deleted_file: z
      .enum(['keep', 'delete'])
      .optional()
      .describe(
        'What happens to the rows of a file that was loaded and is no longer in the landing folder: `keep` (default) leaves them; `delete` takes them out on the next run, and keys that other current files hold fall back to them (docs/loading.md).',
      ),
    max_rejects: z
      .union([
        z.number().int().min(0),
        z.string().regex(/^\d+(\.\d+)?%$/, 'a whole number of rows, or a percentage such as "5%"'),
      ])
      .optional()
      .describe(
        'Fail a file instead of loading it when more of its records are rejected than this: a count (`0`: any reject fails the file) or a percentage of its records (`"5%"`). The failed file loads nothing, is marked failed with the reason, and is retried next run. Default: no limit.',
      ),
    tests: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Data tests of this source's table, run by `tributary test` and `run --test`: `unique(col[, col…])`, `not_null(col[, col…])`, `accepted_values(col, 'a', 'b')`, `relationships(col, ref('users'), user_id)` (column lists in parentheses for a compound key). Column names as in the files (normalized like the loader's). See docs/transformations.md, \"Data tests\".",
      ),
    expect_every: z
      .string()
      .regex(DURATION, 'a duration such as "30m", "6h", "2d" or "1h30m" (units s, m, h, d, w)')
      .optional()
      .describe(
        'Freshness: a new file is expected at least this often (`30m`, `6h`, `24h`, `2d`, `1h30m`). `tributary status` shows the source as late when the newest of its files a run has recorded was modified longer ago than this (or none was), and `tributary status --check` then exits 5 (docs/operations.md, "Freshness"). Default: no expectation.',
      ),
  })
  .strict();

export const configSchema = z
  .object({
    pipeline: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (1-64 characters)')
      .describe('Pipeline name; one run per pipeline at a time.'),
    destination: z
      .string()
      .min(1)
      .optional()
      .describe(
        '`sqlite:PATH` (relative to the config file), `mysql://user:password@host:3306/db` or `postgres://user:password@host:5432/db` (`?schema=NAME`, default `public`). Default: `sqlite:.tributary/<pipeline>.db`.',
      ),
    contract: contractSchema
      .optional()
      .describe('Default schema contract of every table. Default: `evolve`.'),
    queue: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Redis URL of a queue (`redis://[user:password@]host:6379/0`, `rediss://…` for TLS): `run` then has its files loaded by `tributary worker` processes on any machine (docs/distributed.md). Same as `run --queue`. Not with a SQLite destination.',
      ),
    sources: z.array(sourceSchema).min(1).describe('Where the files come from and which table each feeds.'),
    models: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Folder of SQL models run after each load (docs/transformations.md), relative to the config file. Default: `models`.',
      ),
  })
  .strict();

export type UserConfig = z.infer<typeof configSchema>;
export type UserSource = z.infer<typeof sourceSchema>;
export type UserColumnOptions = z.infer<typeof columnOptionsSchema>;

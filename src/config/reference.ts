import type { z } from 'zod';
import { configSchema, sourceSchema } from './schema.js';

/**
 * The configuration reference, generated from the config schema's descriptions so the
 * docs cannot drift from what is accepted (docs/configuration.md; a test compares them).
 */
export function configReference(): string {
  const section = (title: string, prefix: string, schema: z.ZodObject) => {
    const rows = Object.entries(schema.shape).map(([key, field]) => {
      const f = field as z.ZodType;
      return `| \`${prefix}${key}\` | ${typeOf(f)} | ${isOptional(f) ? 'no' : 'yes'} | ${(f.description ?? '').replaceAll('|', '\\|')} |`;
    });
    return [`## ${title}`, '', '| key | type | required | meaning |', '|---|---|---|---|', ...rows].join(
      '\n',
    );
  };
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'A pipeline is one YAML file, `tributary.yaml` by default (`-c FILE` to choose another).',
    'Paths inside it are relative to the file. `${NAME}` and `${NAME:-default}` are replaced',
    'by environment variables in every value; `$${` writes a literal `${`. Unknown keys are',
    'errors, and every problem is reported at once, before anything is touched: the keys that',
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
    'A hinted column keeps its type: a value that does not fit rejects its row.',
    '',
  ].join('\n');
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
      return 'map of string';
    case 'union':
      return (def.options as z.ZodType[]).map(typeOf).join(' or ');
    case 'object':
      return 'object';
    default:
      return def.type;
  }
}

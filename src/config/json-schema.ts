import path from 'node:path';
import { z } from 'zod';
import { packageInfo } from '../core/package.js';
import { configSchema } from './schema.js';

/** Where the package keeps the JSON Schema of `tributary.yaml`, relative to its folder. */
export const SCHEMA_FILE = 'schema/tributary.schema.json';

/**
 * The JSON Schema of `tributary.yaml`, generated from the zod schema that validates it
 * (src/config/schema.ts) so that editors complete and check the same keys the loader
 * accepts, with the same descriptions as docs/configuration.md. Draft 7: what
 * yaml-language-server (VS Code's YAML extension, and the editors that embed it) and
 * JetBrains IDEs read in full. Unknown keys are errors, as in the loader.
 */
export function configJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema, { target: 'draft-7', io: 'input' }) as Record<
    string,
    unknown
  >;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    title: 'tributary.yaml',
    description:
      'A Tributary pipeline: where the files come from, which table each feeds, and the destination. Every key is described in docs/configuration.md. `${NAME}` values are replaced by environment variables when the file is loaded, so an editor checks them as written.',
    ...rest,
  };
}

/** The schema file's text, as `npm run docs:config` writes it (a test compares them). */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** The schema file shipped in this package (absolute path). */
export function schemaPath(): string {
  return path.join(packageInfo().root, SCHEMA_FILE);
}

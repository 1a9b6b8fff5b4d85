// Writes docs/configuration.md and schema/tributary.schema.json from the config schema:
// `npm run docs:config`.
import fs from 'node:fs';
import { configJsonSchemaText } from '../src/config/json-schema.js';
import { configReference } from '../src/config/reference.js';

fs.writeFileSync(new URL('../docs/configuration.md', import.meta.url), configReference());
fs.mkdirSync(new URL('../schema/', import.meta.url), { recursive: true });
fs.writeFileSync(new URL('../schema/tributary.schema.json', import.meta.url), configJsonSchemaText());

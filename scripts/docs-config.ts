// Writes docs/configuration.md from the config schema: `npm run docs:config`.
import fs from 'node:fs';
import { configReference } from '../src/config/reference.js';

fs.writeFileSync(new URL('../docs/configuration.md', import.meta.url), configReference());

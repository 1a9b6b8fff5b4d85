// Writes docs/cli.md from the commander program: `npm run docs:cli`.
import fs from 'node:fs';
import { cliReference } from '../src/cli/reference.js';

fs.writeFileSync(new URL('../docs/cli.md', import.meta.url), cliReference());

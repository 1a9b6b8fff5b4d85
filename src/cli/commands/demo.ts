import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { listRejects } from '../../state/rejects.js';
import { readConfig, withDestination } from '../context.js';
import { codeFor } from '../exit.js';
import type { Io } from '../io.js';
import { table } from '../render.js';
import { runCommand } from './run.js';
import { topUsersText } from './transform.js';

/** examples/markets in the installed package (dist/cli/commands → ../../../examples). */
export const DEMO_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../examples/markets',
);

export function registerDemo(program: Command, io: Io, state: { code: number }): void {
  program
    .command('demo')
    .description(
      'Run the demo pipeline (examples/markets) into an embedded SQLite file and show what it loaded.',
    )
    .option('--fresh', 'delete the demo database first')
    // The default is shown as the package-relative path: the absolute one differs per
    // install, and docs/cli.md is generated from this help.
    .option('-c, --config <file>', 'demo config (default: examples/markets/tributary.yaml of this package)')
    .addHelpText('after', '\nExamples:\n  npm start\n  tributary demo --fresh')
    .action(async (flags: { fresh?: boolean; config?: string }) => {
      const file = flags.config ?? path.join(DEMO_DIR, 'tributary.yaml');
      const config = readConfig(file);
      if (flags.fresh && config.destination.kind === 'sqlite') {
        for (const suffix of ['', '-wal', '-shm'])
          fs.rmSync(config.destination.path + suffix, { force: true });
      }
      io.out(`Tributary demo: ${path.relative(process.cwd(), config.file) || config.file}\n`);
      const summary = await runCommand({ config: file, quiet: true }, io);
      state.code = codeFor(summary);
      await withDestination(config, async (dest) => {
        const catalog = await dest.readCatalog();
        const rows: Array<[string, number, string]> = [];
        for (const t of catalog.values()) {
          const [r] = await dest.query<{ n: number }>(
            `SELECT count(*) AS n FROM ${dest.dialect.quote(t.name)}`,
          );
          rows.push([t.name, Number(r?.n ?? 0), t.columns.map((c) => c.name).join(', ')]);
        }
        io.out(`\nTables in ${dest.description}:\n${table(['table', 'rows', 'columns'], rows)}`);
        const rejects = await listRejects(dest, config.pipeline, { limit: 20 });
        if (rejects.length > 0) {
          io.out(
            `\nRejected rows (kept with their reason, never dropped):\n${table(
              ['file', 'line', 'reason', 'message'],
              rejects.map((r) => [r.file, r.line, r.code, r.message]),
            )}`,
          );
        }
        if (catalog.has('user_totals')) {
          io.out(
            `\nTop users by total (model user_totals, kept up to date incrementally):\n${await topUsersText(dest, dest.dialect)}`,
          );
        }
      });
      io.out(
        `\nNext: run \`npm start\` again (nothing new is loaded), or explore with\n  npx tributary status -c ${path.relative(process.cwd(), config.file)}\n  npx tributary rejects -c ${path.relative(process.cwd(), config.file)}`,
      );
    });
}

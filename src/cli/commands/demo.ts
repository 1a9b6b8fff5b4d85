import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { deleteDemoDatabase, demoReport, type TopUser } from '../../ops/demo.js';
import { readConfig, withDestination } from '../context.js';
import { codeFor } from '../exit.js';
import type { Io } from '../io.js';
import { table } from '../render.js';
import { runCommand } from './run.js';

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
      if (flags.fresh) deleteDemoDatabase(config);
      io.out(`Tributary demo: ${path.relative(process.cwd(), config.file) || config.file}\n`);
      const summary = await runCommand({ config: file, quiet: true, test: true }, io);
      state.code = codeFor(summary);
      const { description, report } = await withDestination(config, async (dest) => ({
        description: dest.description,
        report: await demoReport(config, dest),
      }));
      io.out(
        `\nTables in ${description}:\n${table(
          ['table', 'rows', 'columns'],
          report.tables.map((t) => [t.table, t.rows, t.columns.join(', ')]),
        )}`,
      );
      if (report.rejects.length > 0) {
        io.out(
          `\nRejected rows (kept with their reason, never dropped):\n${table(
            ['file', 'line', 'reason', 'message'],
            report.rejects.map((r) => [r.file, r.line, r.code, r.message]),
          )}`,
        );
      }
      if (report.topUsers) {
        io.out(
          `\nTop users by total (model user_totals, kept up to date incrementally):\n${topUsersText(report.topUsers)}`,
        );
      }
      io.out(
        `\nNext: run \`npm start\` again (nothing new is loaded), or explore with\n  npx tributary status -c ${path.relative(process.cwd(), config.file)}\n  npx tributary rejects -c ${path.relative(process.cwd(), config.file)}`,
      );
    });
}

/** The demo's closing table: the top users by total, from the `user_totals` model. */
function topUsersText(users: readonly TopUser[]): string {
  return table(
    ['market', 'user', 'name', 'orders', 'total'],
    users.map((u) => [u.market, u.userId, u.userName ?? '(unknown user)', u.orders, u.total.toFixed(2)]),
  );
}

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { TopUser } from '../../ops/demo.js';
import { codeFor } from '../exit.js';
import type { Io } from '../io.js';
import { table } from '../render.js';
import { runCommand } from './run.js';

/** examples/markets in the installed package (dist/cli/commands → ../../../examples). */
export const DEMO_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../examples/markets',
);

/** Where `tributary demo` copies the demo to, in the current folder. */
export const DEMO_COPY = 'tributary-demo';

/** The command to suggest: from a clone of the repository `npx tributary`, installed `tributary`. */
const TOOL = DEMO_DIR.split(path.sep).includes('node_modules') ? 'tributary' : 'npx tributary';

export function registerDemo(program: Command, io: Io, state: { code: number }): void {
  program
    .command('demo')
    .description(
      `Copy the demo pipeline (two markets' files, its config and SQL models) into ./${DEMO_COPY}, load it into an embedded SQLite file there and show what it loaded; run again, it loads nothing new.`,
    )
    .option('--fresh', 'delete the demo database first')
    .option(
      '-c, --config <file>',
      `run this demo config where it is instead of the copy in ./${DEMO_COPY} (npm start: examples/markets/tributary.yaml)`,
    )
    .addHelpText(
      'after',
      `\nExamples:\n  tributary demo\n  tributary demo --fresh\n  npm start   (in a clone of the repository)`,
    )
    .action(async (flags: { fresh?: boolean; config?: string }) => {
      const [{ readConfig, withDestination }, { copyDemo, deleteDemoDatabase, demoReport }] =
        await Promise.all([import('../context.js'), import('../../ops/demo.js')]);
      let file = flags.config;
      if (file === undefined) {
        const copy = copyDemo(DEMO_DIR, path.resolve(DEMO_COPY));
        if (copy.copied)
          io.out(`Copied the demo pipeline into ${DEMO_COPY}/ (config, landing files, models).`);
        file = copy.config;
      }
      const config = readConfig(file);
      if (flags.fresh) deleteDemoDatabase(config);
      const shown = path.relative(process.cwd(), config.file) || config.file;
      io.out(`Tributary demo: ${shown}\n`);
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
        `\nNext: run it again (nothing new is loaded), or explore with\n  ${TOOL} status -c ${shown}\n  ${TOOL} rejects -c ${shown}\n  ${TOOL} ui -c ${shown}        (a dashboard in the browser)`,
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

import type { Command } from 'commander';
import { confirmReset, resetText } from '../confirm.js';
import { EXIT } from '../exit.js';
import { configOption, type Io } from '../io.js';

export function registerReset(program: Command, io: Io, state: { code: number }): void {
  program
    .command('reset')
    .description(
      "Forget a table so the next run rebuilds it from the files on disk: its rows, its files' ledger entries and its rejects go, in one transaction.",
    )
    .addOption(configOption())
    .requiredOption('--table <name>', 'the table to reset')
    .option('-y, --yes', 'do not ask for confirmation (needed when there is no terminal)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
The schema, the run history and the schema history stay. Rows whose files are no longer on
disk do not come back: the confirmation lists those files.

Examples:
  tributary reset --table orders
  tributary reset --table orders --yes && tributary run`,
    )
    .action(async (flags: { config: string; table: string; yes?: boolean; json?: boolean }) => {
      const [{ readConfig, withDestination }, { planReset, resetPipelineTables, tablesNamed }] =
        await Promise.all([import('../context.js'), import('../../ops/reset.js')]);
      const config = readConfig(flags.config);
      const tables = tablesNamed(config, flags.table);
      await withDestination(config, async (dest) => {
        const plan = await planReset(config, dest, tables);
        if (!(await confirmReset(io, plan, flags.yes, 'reset'))) {
          io.err('tributary: not confirmed; nothing was changed');
          state.code = EXIT.usage;
          return;
        }
        await resetPipelineTables(config, dest, tables);
        io.log?.logger.info({ tables, files: plan.map((p) => p.files) }, `reset ${tables.join(', ')}`);
        io.out(
          flags.json
            ? JSON.stringify({ reset: plan }, null, 2)
            : `${resetText(plan)}\nThe next \`tributary run\` loads ${plan.length === 1 ? 'its' : 'their'} files again.`,
        );
      });
    });
}

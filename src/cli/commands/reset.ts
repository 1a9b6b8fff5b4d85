import type { Command } from 'commander';
import type { ResolvedConfig } from '../../config/resolve.js';
import { checkTables, planReset, resetPipelineTables, type TableReset } from '../../ops/reset.js';
import { normalizeTableName } from '../../schema/naming.js';
import { confirm } from '../confirm.js';
import { readConfig, withDestination } from '../context.js';
import { EXIT } from '../exit.js';
import { configOption, type Io } from '../main.js';

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
      const config = readConfig(flags.config);
      const tables = [normalizeTableName(flags.table)];
      checkTables(config, tables);
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

/** The tables `--table` names (normalized, checked against the config), or all of them. */
export function tablesToRefresh(config: ResolvedConfig, table: string | undefined): string[] {
  if (table === undefined) return [...new Set(config.sources.map((s) => s.table))];
  const tables = [normalizeTableName(table)];
  checkTables(config, tables);
  return tables;
}

/** Say what a reset throws away (files no longer on disk first) and ask, unless `--yes`. */
export async function confirmReset(
  io: Io,
  plan: readonly TableReset[],
  yes: boolean | undefined,
  what: string,
): Promise<boolean> {
  if (!yes && io.prompt) io.err(resetText(plan, true));
  const names = plan.map((p) => p.table).join(', ');
  const gone = plan.reduce((n, p) => n + p.missingFiles.length, 0);
  return confirm(
    io,
    `${what} ${names}${gone > 0 ? `, losing the rows of ${gone} file(s) no longer on disk` : ''}?`,
    yes,
  );
}

function resetText(plan: readonly TableReset[], future = false): string {
  const lines: string[] = [];
  for (const p of plan) {
    const children = p.childTables.map((c) => `${c.table} (${c.rows})`).join(', ');
    const verb = (done: string) => (future ? `will be ${done}` : done);
    lines.push(
      `${p.table}: ${p.rows} row(s)${children ? ` and child tables ${children}` : ''} ${verb('deleted')}; ${p.files} file(s) ${verb('forgotten')}.`,
    );
    if (p.missingFiles.length > 0) {
      const list = p.missingFiles.slice(0, 5).join(', ');
      lines.push(
        `  ${p.missingFiles.length} of them are no longer on disk, so their rows cannot come back: ${list}${p.missingFiles.length > 5 ? ', …' : ''}`,
      );
    }
  }
  return lines.join('\n');
}

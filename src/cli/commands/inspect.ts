import type { Command } from 'commander';
import { runHistory } from '../../ops/history.js';
import { schemaHistory, tableColumns } from '../../ops/schema.js';
import { pipelineStatus } from '../../ops/status.js';
import type { RunSummary } from '../../runner/events.js';
import { readConfig, withDestination } from '../context.js';
import { EXIT } from '../exit.js';
import { configOption, type Io, wholeNumber } from '../io.js';
import { duration, modelCounts, table } from '../render.js';
import { runReport } from '../run-report.js';

interface Flags {
  config: string;
  json?: boolean;
}

const int = wholeNumber();

/** Read-only commands: status, history, schema (rejects: ./rejects.ts). Each has --json. */
export function registerInspect(program: Command, io: Io, state: { code: number }): void {
  const print = (flags: Flags, data: unknown, text: () => string) =>
    io.out(flags.json ? JSON.stringify(data, null, 2) : text());

  program
    .command('status')
    .description('Tables with row counts, and the last run.')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExample:\n  tributary status -c examples/markets/tributary.yaml --json')
    .action(async (flags: Flags) => {
      const config = readConfig(flags.config);
      const data = await withDestination(config, (dest) => pipelineStatus(config, dest));
      print(flags, data, () => {
        const last = data.lastRun;
        const lines = [`Pipeline ${data.pipeline} → ${data.destination}`, ''];
        lines.push(
          data.tables.length
            ? table(
                ['table', 'rows', 'columns', 'primary key'],
                data.tables.map((t) => [t.table, t.rows, t.columns, t.primaryKey.join(', ')]),
              )
            : 'No tables yet: run `tributary run`.',
        );
        lines.push(
          '',
          last
            ? `Last run: #${last.id} ${last.status}, started ${last.startedAt}, ${last.filesLoaded} file(s) loaded, ${last.rowsRejected} row(s) rejected`
            : 'No runs yet.',
        );
        return lines.join('\n');
      });
    });

  program
    .command('history')
    .description('Past runs with their counts and durations.')
    .addOption(configOption())
    .option('--run <id>', 'show one run in full', int)
    .option('--limit <n>', 'how many runs', int, 20)
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  tributary history\n  tributary history --run 3 --json')
    .action(async (flags: Flags & { run?: number; limit: number }) => {
      const config = readConfig(flags.config);
      const runs = await withDestination(config, (dest) =>
        runHistory(config, dest, { limit: flags.limit, id: flags.run }),
      );
      if (flags.run !== undefined && runs.length === 0) {
        io.err(`tributary: no run ${flags.run} for pipeline ${config.pipeline}`);
        state.code = EXIT.usage;
        return;
      }
      print(flags, flags.run !== undefined ? runs[0] : runs, () =>
        flags.run !== undefined && runs[0]
          ? runReport(runs[0])
          : runs.length === 0
            ? 'No runs yet.'
            : table(
                [
                  'run',
                  'status',
                  'started',
                  'took',
                  'files',
                  'skipped',
                  'failed',
                  'inserted',
                  'updated',
                  'rejected',
                  'models',
                ],
                runs.map((r) => [
                  r.id,
                  r.status,
                  r.startedAt,
                  r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '',
                  r.filesLoaded,
                  r.filesSkipped,
                  r.filesFailed,
                  r.rowsInserted,
                  r.rowsUpdated,
                  r.rowsRejected,
                  modelCounts(modelsOf(r.summary)),
                ]),
              ) + (flags.run !== undefined && runs[0]?.error ? `\n\nError: ${runs[0].error}` : ''),
      );
    });

  program
    .command('schema [table]')
    .description('Columns and types of the tables (or one table); --history for its changes.')
    .addOption(configOption())
    .option('--history', 'the schema changes recorded for the table(s)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  tributary schema\n  tributary schema orders --history')
    .action(async (name: string | undefined, flags: Flags & { history?: boolean }) => {
      const config = readConfig(flags.config);
      if (flags.history) {
        const h = await withDestination(config, (dest) => schemaHistory(config, dest, name));
        print(flags, h, () =>
          h.length === 0
            ? 'No schema changes recorded.'
            : table(
                ['run', 'when', 'table', 'change', 'column', 'from', 'to', 'file'],
                h.map((e) => [
                  e.runId,
                  e.at,
                  e.table,
                  e.change,
                  e.column ?? '',
                  e.oldType ?? '',
                  e.newType ?? '',
                  e.file ?? '',
                ]),
              ),
        );
        return;
      }
      const data = await withDestination(config, (dest) => tableColumns(dest, name));
      if (name && data.length === 0) {
        io.err(`tributary: no table ${name}`);
        state.code = EXIT.usage;
        return;
      }
      print(flags, data, () =>
        data
          .map(
            (t) =>
              `${t.table}${t.primaryKey.length ? ` (key: ${t.primaryKey.join(', ')})` : ''}\n${table(
                ['column', 'type'],
                t.columns.map((c) => [c.name, c.type]),
              )}`,
          )
          .join('\n\n'),
      );
    });
}

/** The model results stored in a run's summary (none for runs from before models existed). */
function modelsOf(summary: unknown): NonNullable<RunSummary['models']> {
  return (summary as RunSummary | null)?.models ?? [];
}

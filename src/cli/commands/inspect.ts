import type { Command } from 'commander';
import { isNoopRun, type RunRecord, runHistory } from '../../ops/history.js';
import { schemaHistory, tableColumns } from '../../ops/schema.js';
import { pipelineStatus } from '../../ops/status.js';
import type { RunSummary } from '../../runner/events.js';
import { readConfig, withDestination } from '../context.js';
import { EXIT } from '../exit.js';
import { configOption, type Io, outStyle, wholeNumber } from '../io.js';
import { ago, duration, modelCounts, nonZero, paintModelCounts, table } from '../render.js';
import { runReport } from '../run-report.js';
import type { Style } from '../style.js';

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
      const st = outStyle(io);
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
            ? `Last run: #${last.id} ${st.status(last.status)}, started ${last.startedAt} (${ago(last.startedAt)}), ${last.filesLoaded} file(s) loaded, ${st.count(last.rowsRejected, st.warn)} row(s) rejected`
            : 'No runs yet.',
        );
        return lines.join('\n');
      });
    });

  program
    .command('history')
    .description(
      'Past runs with their counts and durations, newest first; runs that loaded and changed nothing are hidden unless --all.',
    )
    .addOption(configOption())
    .option('--run <id>', 'show one run in full', int)
    .option('--limit <n>', 'how many runs to list (hidden ones do not count)', int, 20)
    .option(
      '--all',
      'also the runs that loaded nothing and changed nothing (a scheduled `run` with no new file)',
    )
    .option('--json', 'machine-readable output (every run, each with `noop`: true for such a run)')
    .addHelpText(
      'after',
      `
The "started" column says how long ago each run started ("5 min ago", "2 h ago", "3 d ago");
--json and --run give the times themselves.

Examples:
  tributary history
  tributary history --all --limit 50
  tributary history --run 3 --json`,
    )
    .action(async (flags: Flags & { run?: number; limit: number; all?: boolean }) => {
      const config = readConfig(flags.config);
      // --json lists every run, as before: a script sees each with its `noop` flag.
      const all = flags.all === true || flags.json === true;
      const { runs, hidden } = await withDestination(config, (dest) =>
        runHistory(config, dest, { limit: flags.limit, id: flags.run, all }),
      );
      if (flags.run !== undefined && runs.length === 0) {
        io.err(`tributary: no run ${flags.run} for pipeline ${config.pipeline}`);
        state.code = EXIT.usage;
        return;
      }
      const st = outStyle(io);
      if (flags.run !== undefined && runs[0]) {
        const run = runs[0];
        print(flags, run, () => runReport(run, st));
        return;
      }
      print(
        flags,
        runs.map((r) => ({ ...r, noop: isNoopRun(r) })),
        () => historyText(runs, hidden, st),
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

/** The runs as a table, with how many no-op runs were hidden and how to see them. */
function historyText(runs: RunRecord[], hidden: number, st: Style): string {
  const seeAll = '`tributary history --all` lists them.';
  if (runs.length === 0) {
    return hidden === 0
      ? 'No runs yet.'
      : `The ${hidden} run(s) so far loaded nothing and changed nothing; ${seeAll}`;
  }
  const note = st.dim(`${hidden} run(s) that loaded nothing and changed nothing hidden; ${seeAll}`);
  const now = Date.now();
  const text = table(
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
      ago(r.startedAt, now),
      r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : '',
      r.filesLoaded,
      r.filesSkipped,
      r.filesFailed,
      r.rowsInserted,
      r.rowsUpdated,
      r.rowsRejected,
      modelCounts(modelsOf(r.summary)),
    ]),
    {
      status: st.status,
      failed: nonZero(st.bad),
      rejected: nonZero(st.warn),
      models: paintModelCounts(st),
    },
  );
  return hidden === 0 ? text : `${text}\n\n${note}`;
}

/** The model results stored in a run's summary (none for runs from before models existed). */
function modelsOf(summary: unknown): NonNullable<RunSummary['models']> {
  return (summary as RunSummary | null)?.models ?? [];
}

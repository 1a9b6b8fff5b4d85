import type { Command } from 'commander';
import { formatDuration } from '../../config/duration.js';
import { escapeControls } from '../../config/quote.js';
import type { SourceFreshness } from '../../ops/freshness.js';
import type { RunRecord } from '../../ops/history.js';
import type { StatusReport } from '../../ops/status.js';
import type { RunSummary } from '../../runner/events.js';
import { clockNow } from '../clock.js';
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
    .description('Tables with row counts, the last run, and which sources are late (`expect_every`).')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .option(
      '--check',
      `exit ${EXIT.late} when a source with \`expect_every\` is late, listing it on stderr; 0 otherwise (for cron and monitoring)`,
    )
    .addHelpText(
      'after',
      `
A source with \`expect_every: 24h\` is late when the newest of its files a run has recorded
was modified longer ago than that, or when none was (docs/operations.md, "Freshness").
TRIBUTARY_NOW=2024-06-02T08:00:00Z judges it at that time instead of the clock's (the tests
use it; it also tells what a check would say then).

Examples:
  tributary status -c examples/markets/tributary.yaml --json
  tributary status --check || echo "a source is late"`,
    )
    .action(async (flags: Flags & { check?: boolean }) => {
      const [{ readConfig, withDestination }, { pipelineStatus }] = await Promise.all([
        import('../context.js'),
        import('../../ops/status.js'),
      ]);
      const config = readConfig(flags.config);
      const now = clockNow();
      const data = await withDestination(config, (dest) => pipelineStatus(config, dest, now));
      print(flags, data, () => statusText(data, outStyle(io)));
      if (!flags.check) return;
      const late = data.freshness.filter((f) => f.late);
      if (late.length > 0) {
        io.err(
          `tributary: ${late.length} source(s) late:\n${late.map((f) => `  ${freshnessLine(f)}`).join('\n')}`,
        );
        state.code = EXIT.late;
      } else if (data.freshness.length === 0) {
        io.err('tributary: no source has `expect_every`: none can be late');
      }
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
      const [{ readConfig, withDestination }, { isNoopRun, runHistory }] = await Promise.all([
        import('../context.js'),
        import('../../ops/history.js'),
      ]);
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
      const [{ readConfig, withDestination }, { schemaHistory, tableColumns }] = await Promise.all([
        import('../context.js'),
        import('../../ops/schema.js'),
      ]);
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

function statusText(data: StatusReport, st: Style): string {
  const last = data.lastRun;
  const now = Date.parse(data.now);
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
      ? `Last run: #${last.id} ${st.status(last.status)}, started ${last.startedAt} (${ago(last.startedAt, now)}), ${last.filesLoaded} file(s) loaded, ${st.count(last.rowsRejected, st.warn)} row(s) rejected`
      : 'No runs yet.',
  );
  if (data.freshness.length > 0) {
    const late = data.freshness.filter((f) => f.late).length;
    lines.push(
      '',
      `Freshness at ${data.now}: ${late === 0 ? st.ok('no source is late') : st.bad(`${late} source(s) LATE`)}`,
      table(
        ['source', 'expected every', 'newest file', 'modified', 'age', 'state'],
        data.freshness.map((f) => [
          `${f.table} ← ${f.files}`,
          f.expectEvery,
          f.newestFile ?? '(none recorded)',
          f.modifiedAt ?? '',
          f.ageMs === null ? '' : f.ageMs < 0 ? 'after now' : formatDuration(f.ageMs),
          f.late ? 'LATE' : 'ok',
        ]),
        { state: (cell) => (cell.trim() === 'LATE' ? st.bad(cell) : st.ok(cell)) },
      ),
    );
  }
  return lines.join('\n');
}

/**
 * `sources[0] (orders ← in/*.csv): newest file in/a.csv modified 1d 2h ago, expected every
 * 24h`, escaped: the file name is untrusted.
 */
function freshnessLine(f: SourceFreshness): string {
  const what =
    f.ageMs === null
      ? 'no file recorded yet'
      : `newest file ${f.newestFile} modified ${formatDuration(f.ageMs)} ago`;
  return escapeControls(
    `sources[${f.source}] (${f.table} ← ${f.files}): ${what}, expected every ${f.expectEvery}`,
  );
}

/** The model results stored in a run's summary (none for runs from before models existed). */
function modelsOf(summary: unknown): NonNullable<RunSummary['models']> {
  return (summary as RunSummary | null)?.models ?? [];
}

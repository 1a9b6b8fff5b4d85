import type { Command } from 'commander';
import type { RunEvent, RunSummary } from '../../runner/events.js';
import { codeFor } from '../exit.js';
import { configOption, errStyle, type Io, outStyle, selectOption, wholeNumber } from '../io.js';
import { duration, eventLine, modelsTable, table } from '../render.js';
import type { Style } from '../style.js';

interface Flags {
  config: string;
  json?: boolean;
  quiet?: boolean;
  fullRefresh?: boolean;
  wait?: number;
  select?: string[];
}

/** `tributary transform [MODEL…]` and `tributary models`. */
export function registerTransform(program: Command, io: Io, state: { code: number }): void {
  program
    .command('transform [models...]')
    .description('Run the SQL models (models/*.sql) without loading files; recorded as a run.')
    .addOption(configOption())
    .addOption(selectOption('models to run'))
    .option(
      '--full-refresh',
      'rebuild the named or selected models (all when none is named or selected) from scratch',
    )
    .option('--wait <seconds>', 'wait this long for another run of the pipeline to finish', wholeNumber(), 0)
    .option('--json', 'print events and the summary as JSON lines on stdout')
    .option('-q, --quiet', 'print only the summary')
    .addHelpText(
      'after',
      `
Named models run with the models upstream of them (\`transform m\` is \`--select +m\`);
--select runs exactly the models it selects. Each model runs only if a table it reads
changed since its last build (or its SQL did), unless --full-refresh. A failing model
stops the models downstream of it, not the others. See docs/transformations.md.

Examples:
  tributary transform                          bring every model up to date
  tributary transform user_totals --full-refresh
  tributary transform --select orders+         the models that read orders, directly or not
  tributary transform --select "+user_totals deliveries_enriched"
  tributary transform --json | jq 'select(.type == "model_finished")'`,
    )
    .action(async (names: string[], flags: Flags) => {
      const summary = await transformCommand(names, flags, io);
      state.code = codeFor(summary);
    });

  program
    .command('models')
    .description(
      "List the SQL models as a graph: materialization, key, what each reads, tests, last build; --sql shows one model's SQL.",
    )
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .option(
      '--sql <model>',
      "print the model's SELECT as it runs on the configured destination: each {{ ref() }} replaced by the table's quoted name in its dialect",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  tributary models\n  tributary models --json\n  tributary models --sql user_totals',
    )
    .action(async (flags: { config: string; json?: boolean; sql?: string }) => {
      const [{ readConfig, withDestination }, { listModels, modelSql }] = await Promise.all([
        import('../context.js'),
        import('../../ops/models.js'),
      ]);
      const config = readConfig(flags.config);
      if (flags.sql !== undefined) {
        const name = flags.sql;
        const sql = await withDestination(config, (dest) => modelSql(config, dest, name));
        io.out(flags.json ? JSON.stringify({ model: name, sql }, null, 2) : sql);
        return;
      }
      const data = await withDestination(config, (dest) => listModels(config, dest));
      if (flags.json) {
        io.out(JSON.stringify(data, null, 2));
        return;
      }
      if (data.length === 0) {
        io.out(`No models in ${config.models}.`);
        return;
      }
      io.out(
        table(
          ['model', 'materialized', 'unique key', 'depends on', 'tests', 'last built', 'rows'],
          data.map((d) => [
            d.name,
            d.materialized,
            d.uniqueKey?.join(', '),
            [...d.dependsOn.models, ...d.dependsOn.tables].join(', '),
            d.tests.length,
            d.lastBuild ? `run ${d.lastBuild.runId}` : 'never',
            d.lastBuild?.rows ?? '',
          ]),
        ),
      );
    });
}

/** Run the models as a run of their own (lock, run record, history), with Ctrl-C handling. */
async function transformCommand(names: string[], flags: Flags, io: Io): Promise<RunSummary> {
  const [{ readConfig, withDestination }, { runPipeline }] = await Promise.all([
    import('../context.js'),
    import('../../runner/run.js'),
  ]);
  const config = readConfig(flags.config);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    io.err(`tributary: ${sig}: finishing the current model, then stopping`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const emit = (e: RunEvent) => {
    if (flags.json) io.out(JSON.stringify(e));
    else if (!flags.quiet) {
      const line = eventLine(e, errStyle(io));
      if (line) io.err(line);
    }
  };
  try {
    const wait = flags.wait ?? 0;
    const summary = await withDestination(config, (dest) =>
      runPipeline(config, dest, {
        load: false,
        transform: {
          select: names,
          selectors: flags.select ?? [],
          fullRefresh: flags.fullRefresh ?? false,
        },
        trigger: `transform${names.length ? ` ${names.join(' ')}` : ''}${flags.select?.length ? ` --select ${flags.select.join(' ')}` : ''}${flags.fullRefresh ? ' --full-refresh' : ''}`,
        waitSeconds: wait,
        signal: controller.signal,
        emit,
      }),
    );
    if (!flags.json) io.out(transformText(summary, outStyle(io)));
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function transformText(s: RunSummary, st: Style): string {
  const head = `Run ${s.runId} of ${s.pipeline} (${s.trigger}): ${st.status(s.status)} in ${duration(s.durationMs)}.`;
  const models = s.models ?? [];
  const lines = [head, '', models.length > 0 ? modelsTable(models, st) : 'Every model is up to date.'];
  for (const m of models) if (m.error) lines.push(`  ${m.name}: ${st.bad(m.error)}`);
  if (s.error) lines.push('', `${st.bad('Run error:')} ${s.error}`);
  return lines.join('\n');
}

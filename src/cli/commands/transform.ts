import type { Command } from 'commander';
import { listModels } from '../../ops/models.js';
import type { RunEvent, RunSummary } from '../../runner/events.js';
import { runPipeline } from '../../runner/run.js';
import { readConfig, withDestination } from '../context.js';
import { codeFor } from '../exit.js';
import { configOption, type Io, wholeNumber } from '../io.js';
import { duration, eventLine, modelsTable, table } from '../render.js';

interface Flags {
  config: string;
  json?: boolean;
  quiet?: boolean;
  fullRefresh?: boolean;
  wait?: number;
}

/** `tributary transform [MODEL…]` and `tributary models`. */
export function registerTransform(program: Command, io: Io, state: { code: number }): void {
  program
    .command('transform [models...]')
    .description('Run the SQL models (models/*.sql) without loading files; recorded as a run.')
    .addOption(configOption())
    .option('--full-refresh', 'rebuild the named models (all when none is named) from scratch')
    .option('--wait <seconds>', 'wait this long for another run of the pipeline to finish', wholeNumber(), 0)
    .option('--json', 'print events and the summary as JSON lines on stdout')
    .option('-q, --quiet', 'print only the summary')
    .addHelpText(
      'after',
      `
Named models run with the models upstream of them; each model runs only if a table it
reads changed since its last build (or its SQL did), unless --full-refresh. A failing
model stops the models downstream of it, not the others. See docs/transformations.md.

Examples:
  tributary transform                          bring every model up to date
  tributary transform user_totals --full-refresh
  tributary transform --json | jq 'select(.type == "model_finished")'`,
    )
    .action(async (names: string[], flags: Flags) => {
      const summary = await transformCommand(names, flags, io);
      state.code = codeFor(summary);
    });

  program
    .command('models')
    .description('List the SQL models as a graph: materialization, key, what each reads, last build.')
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  tributary models\n  tributary models --json')
    .action(async (flags: { config: string; json?: boolean }) => {
      const config = readConfig(flags.config);
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
          ['model', 'materialized', 'unique key', 'depends on', 'last built', 'rows'],
          data.map((d) => [
            d.name,
            d.materialized,
            d.uniqueKey?.join(', '),
            [...d.dependsOn.models, ...d.dependsOn.tables].join(', '),
            d.lastBuild ? `run ${d.lastBuild.runId}` : 'never',
            d.lastBuild?.rows ?? '',
          ]),
        ),
      );
    });
}

/** Run the models as a run of their own (lock, run record, history), with Ctrl-C handling. */
async function transformCommand(names: string[], flags: Flags, io: Io): Promise<RunSummary> {
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
      const line = eventLine(e);
      if (line) io.err(line);
    }
  };
  try {
    const wait = flags.wait ?? 0;
    const summary = await withDestination(config, (dest) =>
      runPipeline(config, dest, {
        load: false,
        transform: { select: names, fullRefresh: flags.fullRefresh ?? false },
        trigger: `transform${names.length ? ` ${names.join(' ')}` : ''}${flags.fullRefresh ? ' --full-refresh' : ''}`,
        waitSeconds: wait,
        signal: controller.signal,
        emit,
      }),
    );
    if (!flags.json) io.out(transformText(summary));
    return summary;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function transformText(s: RunSummary): string {
  const head = `Run ${s.runId} of ${s.pipeline} (${s.trigger}): ${s.status} in ${duration(s.durationMs)}.`;
  const models = s.models ?? [];
  const lines = [head, '', models.length > 0 ? modelsTable(models) : 'Every model is up to date.'];
  for (const m of models) if (m.error) lines.push(`  ${m.name}: ${m.error}`);
  if (s.error) lines.push('', `Run error: ${s.error}`);
  return lines.join('\n');
}

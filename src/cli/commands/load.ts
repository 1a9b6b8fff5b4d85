import path from 'node:path';
import { type Command, Option } from 'commander';
import type { WriteDisposition } from '../../core/types.js';
import { LOAD_PIPELINE } from '../../ops/load-pipeline.js';
import { codeFor, EXIT } from '../exit.js';
import { type Io, wholeNumber } from '../io.js';
import { previewText } from '../render.js';
import { rememberSecret, rememberUrlSecret } from '../secrets.js';

interface LoadFlags {
  into: string;
  key?: string;
  disposition?: WriteDisposition;
  destination?: string;
  pipeline?: string;
  wait?: number;
  workers?: number;
  json?: boolean;
  quiet?: boolean;
  dryRun?: boolean;
}

/** `tributary load FILE… --into TABLE`: a one-off load without a config file (src/ops/load.ts). */
export function registerLoad(program: Command, io: Io, state: { code: number }): void {
  program
    .command('load')
    .description(
      'Load files into a table without a config file: one-off, through the same loader as `run`, remembered in the destination (loading the same files again is a no-op).',
    )
    .argument('<files...>', 'files or globs, relative to the current folder (quote globs: "landing/*.csv")')
    .requiredOption('--into <table>', 'the table to load into')
    .option('--key <columns>', 'primary key: a column, or columns separated by commas (then: merge by key)')
    .addOption(
      new Option(
        '--disposition <write>',
        'write disposition (default: merge with --key, else append; docs/loading.md)',
      ).choices(['merge', 'append', 'replace']),
    )
    .option(
      '--destination <url>',
      `sqlite:PATH, mysql://… or postgres://… (default: sqlite:.tributary/<pipeline>.db in the current folder, i.e. .tributary/${LOAD_PIPELINE}.db)`,
    )
    .option(
      '--pipeline <name>',
      `the pipeline its files and runs are recorded under in the destination (default: ${LOAD_PIPELINE})`,
    )
    .option('--wait <seconds>', 'wait this long for another run of the pipeline to finish', wholeNumber(), 0)
    .option(
      '--workers <n>',
      'worker threads that parse files (default: one per core; 0: none)',
      wholeNumber(64),
    )
    .option('--json', 'print events and the summary as JSON lines on stdout')
    .option('-q, --quiet', 'print only the summary')
    .option('--dry-run', 'say what it would load and change, and change nothing')
    .addHelpText(
      'after',
      `
The same as a tributary.yaml in the current folder with one source per FILE feeding TABLE,
run with \`tributary run\`: the types inferred, each file loaded in one transaction with its
rejects, the files recorded in the destination's ledger under the pipeline (\`load\`), so a
second load of the same files loads nothing and a changed file replaces its rows. The files
earlier loads put in TABLE count too (held, in path order): an older file loaded after a newer
one does not win over it. No models run. To keep loading a folder, write a config instead: \`tributary init FOLDER\`.

Examples:
  tributary load orders.csv --into orders --key id     into .tributary/load.db
  tributary load "exports/*.ndjson" --into events
  tributary load prices.csv --into prices --disposition replace --destination mysql://root@127.0.0.1/shop`,
    )
    .action(async (files: string[], flags: LoadFlags) => {
      if (flags.destination !== undefined) rememberUrlSecret(flags.destination);
      const [{ withDestination }, load_, { previewRun }, { describeDestination }, { runConfig }] =
        await Promise.all([
          import('../context.js'),
          import('../../ops/load.js'),
          import('../../runner/preview.js'),
          import('../../config/destination.js'),
          import('./run.js'),
        ]);
      const { checkLoadFiles, heldFiles, loadSelection, oneOffConfig } = load_;
      const load = {
        files,
        into: flags.into,
        ...(flags.key !== undefined ? { key: [flags.key] } : {}),
        ...(flags.disposition !== undefined ? { disposition: flags.disposition } : {}),
        ...(flags.destination !== undefined ? { destination: flags.destination } : {}),
        ...(flags.pipeline !== undefined ? { pipeline: flags.pipeline } : {}),
        cwd: process.cwd(),
      };
      const given = oneOffConfig(load);
      if ('password' in given.destination) rememberSecret(given.destination.password);
      await checkLoadFiles(given);
      // The files earlier loads put in the table are its files too: held, in path order.
      const table = (given.sources[0] as { table: string }).table;
      const held = await withDestination(given, (dest) => heldFiles(dest, given, table), { readOnly: true });
      const config = held.length === 0 ? given : oneOffConfig({ ...load, held });
      const select = loadSelection(config, given.sources.length);
      const d = config.destination;
      const where = `${d.kind === 'sqlite' ? `sqlite:${path.relative(process.cwd(), d.path)}` : describeDestination(d)} (pipeline ${config.pipeline})`;
      if (flags.dryRun) {
        const preview = await withDestination(config, (dest) => previewRun(config, dest, { select }), {
          readOnly: true,
        });
        io.out(flags.json ? JSON.stringify(preview, null, 2) : previewText(preview));
        state.code = preview.files.some((f) => f.action === 'fail') ? EXIT.partial : EXIT.ok;
        return;
      }
      const summary = await runConfig(config, flags, io, { models: false, select });
      if (!flags.json) io.out(`Destination: ${where}.`);
      state.code = codeFor(summary);
    });
}

import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../exit.js';
import type { Io } from '../io.js';
import { table } from '../render.js';

interface InitFlags {
  config: string;
  destination?: string;
  pipeline?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export function registerInit(program: Command, io: Io, state: { code: number }): void {
  program
    .command('init [folder]')
    .description(
      'Look at a folder of CSV/JSON files and write a commented tributary.yaml: one source per table, with primary keys and cursors guessed from a sample.',
    )
    .option('-c, --config <file>', 'config file to write; globs are relative to its folder', 'tributary.yaml')
    .option(
      '--destination <url>',
      'destination to write into the config (default: sqlite:.tributary/<pipeline>.db)',
    )
    .option('--pipeline <name>', "pipeline name (default: the config folder's name)")
    .option('--force', 'overwrite an existing config file')
    .option('--dry-run', 'print the config instead of writing it')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Files are grouped into tables by name: orders.csv, orders_2024-06-01.csv and orders_part002.csv
feed one table "orders"; dated folders (2024-06-01/) become *, other folders that differ
between files (market1/, market2/) become a {name} column that is part of the key.

Examples:
  tributary init landing                    writes ./tributary.yaml for the files under landing/
  tributary init landing --dry-run          prints it instead
  tributary init data -c pipelines/shop.yaml --destination mysql://etl@db:3306/shop`,
    )
    .action(async (folder: string | undefined, flags: InitFlags) => {
      const { initPipeline } = await import('../../ops/init/index.js');
      const result = await initPipeline({
        folder: folder ?? '.',
        output: flags.config,
        force: flags.force,
        dryRun: flags.dryRun,
        destination: flags.destination,
        pipeline: flags.pipeline,
      });
      io.log?.logger.debug(
        { config: result.config, sources: result.sources.length },
        'init proposed the sources',
      );
      if (flags.json) {
        const { text: _text, ...data } = result;
        io.out(JSON.stringify(data, null, 2));
        return;
      }
      if (flags.dryRun) {
        io.out(result.text);
        return;
      }
      const rel = path.relative(process.cwd(), result.config) || result.config;
      const files = result.sources.reduce((n, s) => n + s.fileCount, 0);
      const lines = [
        `Wrote ${rel}: ${result.sources.length} source(s) from ${files} file(s).`,
        '',
        table(
          ['table', 'files', 'glob', 'primary key', 'cursor'],
          result.sources.map((s) => [
            s.table,
            s.fileCount,
            s.files,
            s.primaryKey.join(', ') || '(append)',
            s.cursor ?? '',
          ]),
        ),
      ];
      if (result.skipped.length > 0) {
        lines.push('', 'Left out (no record could be read):');
        for (const s of result.skipped) lines.push(`  ${s.file}: ${s.reason}`);
      }
      lines.push(
        '',
        `Next: review ${rel}, then \`tributary doctor -c ${rel}\` and \`tributary run -c ${rel}\`.`,
      );
      io.out(lines.join('\n'));
      state.code = EXIT.ok;
    });
}

import type { Command } from 'commander';
import { testsCode } from '../exit.js';
import { configOption, type Io, selectOption, wholeNumber } from '../io.js';
import { testsText } from '../tests-report.js';

interface Flags {
  config: string;
  select?: string[];
  json?: boolean;
  sample?: number;
}

/** `tributary test`: the data tests of the models and tables (docs/transformations.md). */
export function registerDataTests(program: Command, io: Io, state: { code: number }): void {
  program
    .command('test')
    .description(
      'Run the data tests (`-- @test` in models, `tests:` of sources): each passes or fails with a sample of the offending rows; exit 1 on a failure.',
    )
    .addOption(configOption())
    .addOption(selectOption('whose tests to run'))
    .option('--sample <n>', 'offending rows shown per failed test', wholeNumber(1000), 5)
    .option('--json', 'print the results as one JSON document (every column of the sample rows)')
    .addHelpText(
      'after',
      `
Tests: unique(col[, col…]), not_null(col[, col…]), accepted_values(col, 'a', 'b'),
relationships(col, ref('users'), user_id) — in a model's header (\`-- @test unique(id)\`)
or in a source's \`tests:\` list. Queries only, on a read-only connection: no lock, no run
recorded, nothing created (\`run --test\` runs them at the end of a run). A test of a table not loaded yet or a model not built yet is skipped.
See docs/transformations.md, "Data tests".

Examples:
  tributary test                               every test
  tributary test --select user_totals          the tests of one model
  tributary test --select +user_totals         …and of everything it reads
  tributary test --select orders+ --json`,
    )
    .action(async (flags: Flags) => {
      const [{ readConfig, withDestination }, { runTests }] = await Promise.all([
        import('../context.js'),
        import('../../ops/tests.js'),
      ]);
      const config = readConfig(flags.config);
      const results = await withDestination(
        config,
        (dest) => runTests(config, dest, { select: flags.select ?? [], sampleSize: flags.sample ?? 5 }),
        { readOnly: true },
      );
      io.out(flags.json ? JSON.stringify(results, null, 2) : testsText(results));
      state.code = testsCode(results);
    });
}

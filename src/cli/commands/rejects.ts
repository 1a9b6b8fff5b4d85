import type { Command } from 'commander';
import { escapeControls as safe } from '../../config/quote.js';
import { TributaryError } from '../../core/errors.js';
import { exportRejectsFile, fixFor, type RejectGroup, rejectGroups, rejectRows } from '../../ops/rejects.js';
import type { RetryReport } from '../../ops/retry/index.js';
import { EXIT } from '../exit.js';
import { configOption, type Io, outStyle, wholeNumber } from '../io.js';
import { logEvent } from '../log.js';
import { nonZero, table } from '../render.js';
import type { Style } from '../style.js';

interface ListFlags {
  config: string;
  table?: string;
  run?: number;
  limit: number;
  examples: number;
  resolved?: boolean;
  json?: boolean;
  export?: string;
}

const int = wholeNumber();

/** `tributary rejects` (grouped by reason, `--json` rows, `--export`) and `tributary rejects retry`. */
export function registerRejects(program: Command, io: Io, state: { code: number }): void {
  const rejects = program
    .command('rejects')
    .description('Rows that did not load, grouped by table and reason with examples and the fix for each.')
    .addOption(configOption())
    .option('--table <name>', 'only this table')
    .option('--run <id>', 'only rejects of this run', int)
    .option('--resolved', 'include rejects already resolved by `rejects retry`')
    .option('--examples <n>', 'examples shown per group', int, 3)
    .option('--limit <n>', 'with --json: at most this many rows', int, 100)
    .option('--json', 'the rejected rows as JSON (file, line, reason, column, message, raw record)')
    .option('--export <file>', 'write every matching reject to a CSV file')
    .addHelpText(
      'after',
      `
Examples:
  tributary rejects                          grouped by reason, with examples and fixes
  tributary rejects --table orders --json    the rows, for scripts
  tributary rejects --export rejects.csv     all of them, for a spreadsheet or the sender
  tributary rejects retry                    re-process them after fixing the config`,
    )
    .action(async (flags: ListFlags) => {
      const { readConfig, withDestination } = await import('../context.js');
      const config = readConfig(flags.config);
      const filter = { table: flags.table, runId: flags.run, includeResolved: flags.resolved };
      await withDestination(config, async (dest) => {
        if (flags.export) {
          const n = await exportRejectsFile(dest, config.pipeline, filter, flags.export);
          io.out(
            flags.json
              ? JSON.stringify({ file: flags.export, rows: n })
              : `Wrote ${n} rejected row(s) to ${flags.export}.`,
          );
          return;
        }
        if (flags.json) {
          const rows = await rejectRows(dest, config.pipeline, { ...filter, limit: flags.limit });
          io.out(JSON.stringify(rows, null, 2));
          return;
        }
        const groups = await rejectGroups(dest, config.pipeline, { ...filter, examples: flags.examples });
        io.out(groupsText(groups, flags.resolved === true, outStyle(io)));
      });
      state.code = EXIT.ok;
    });

  rejects
    .command('retry')
    .description(
      'Re-process the stored rejects under the current config (after adding a type hint, a rename or a contract): rows that now pass are loaded and their rejects marked resolved; the others stay.',
    )
    .addHelpText(
      'after',
      `
Takes -c, --table and --json (the options of \`rejects\`, before or after "retry").
Rows are merged by the table's rules (a cursor decides which version wins), in one
transaction per file with their rejects. Rejects of lines that could not be parsed
(CSV_FIELD_COUNT, JSON_SYNTAX, ...) need a corrected file instead.

Examples:
  tributary rejects retry
  tributary rejects retry --table orders --json`,
    )
    .action(async () => {
      // Commander gives options of `rejects` to it wherever they stand, so retry reads them there.
      const flags = rejects.opts<ListFlags>();
      const misplaced = ['export', 'run', 'resolved'].filter(
        (k) => flags[k as keyof ListFlags] !== undefined,
      );
      if (misplaced.length > 0) {
        throw new TributaryError('CONFIG_INVALID', `rejects retry does not take --${misplaced.join(', --')}`);
      }
      const [{ readConfig, withDestination }, { retryRejects }] = await Promise.all([
        import('../context.js'),
        import('../../ops/retry/index.js'),
      ]);
      const config = readConfig(flags.config);
      const report = await withDestination(config, (dest) =>
        retryRejects(config, dest, {
          table: flags.table,
          emit: (e) => {
            if (io.log) logEvent(io.log, e);
          },
        }),
      );
      const status = report.summary?.status;
      state.code =
        status === 'partial'
          ? EXIT.partial
          : status === 'failed'
            ? EXIT.failed
            : status === 'interrupted'
              ? EXIT.interrupted
              : EXIT.ok;
      io.out(flags.json ? JSON.stringify(report, null, 2) : retryText(report, outStyle(io)));
    });
}

function groupsText(groups: RejectGroup[], resolved: boolean, st: Style): string {
  if (groups.length === 0) return st.ok(resolved ? 'No rejected rows.' : 'No unresolved rejected rows.');
  const total = groups.reduce((n, g) => n + g.count, 0);
  const out = [
    `${st.warn(String(total))} rejected row(s)${resolved ? '' : ' waiting'}, in ${groups.length} group(s) by table, reason and column:`,
  ];
  for (const g of groups) {
    out.push(
      '',
      `${st.bold(safe(g.table))}  ${st.warn(g.code)}${g.column ? `  ${safe(g.column)}` : ''}  × ${st.warn(String(g.count))}  (${g.files} file${g.files === 1 ? '' : 's'})`,
    );
    for (const e of g.examples) {
      out.push(
        `  ${safe(e.file)}:${e.line}  ${safe(e.message)}${e.resolvedRunId !== null ? `  ${st.ok(`(resolved by run ${e.resolvedRunId})`)}` : ''}`,
      );
      out.push(`      ${st.dim(cut(e.raw, 120))}`);
    }
    if (g.count > g.examples.length) out.push(`  … ${g.count - g.examples.length} more`);
    out.push(`  ${st.bold('fix:')} ${fixFor(g.code)}`);
  }
  out.push(
    '',
    'All of them: `tributary rejects --export rejects.csv`; after fixing the config: `tributary rejects retry`.',
  );
  return out.join('\n');
}

function retryText(r: RetryReport, st: Style): string {
  if (r.considered === 0) return 'No unresolved rejected rows: nothing to retry.';
  const notRetried = r.notRetried.reduce((n, x) => n + x.count, 0);
  const out = [
    r.runId === null
      ? `${r.considered} rejected row(s) looked at; none can pass by a config change alone.`
      : `Rejects retry (run ${r.runId}): ${r.considered} rejected row(s) looked at.`,
    `  loaded now       ${st.count(r.resolved, st.ok)}   (their rejects are marked resolved)`,
    `  still rejected   ${st.count(r.stillRejected, st.warn)}   (with the reason they fail for now: \`tributary rejects\`)`,
    `  not retried      ${notRetried}`,
  ];
  for (const n of r.notRetried) out.push(`    ${safe(n.table)} × ${n.count}: ${safe(n.reason)}`);
  if (r.files.length > 0) {
    out.push(
      '',
      table(
        ['file', 'table', 'loaded', 'still rejected', 'error'],
        r.files.map((f) => [
          f.file,
          f.table,
          f.resolved,
          f.stillRejected + f.kept,
          f.error ? `${f.error.code}: ${f.error.message}` : '',
        ]),
        { loaded: nonZero(st.ok), 'still rejected': nonZero(st.warn), error: st.bad },
      ),
    );
  }
  const changes = r.summary?.schemaChanges ?? [];
  if (changes.length > 0) {
    out.push('', 'Schema changes:');
    for (const c of changes)
      out.push(`  ${c.kind} ${c.table}${c.column ? `.${c.column}` : ''}${c.to ? ` ${c.to}` : ''}`);
  }
  return out.join('\n');
}

/** A raw record on one line: whitespace runs as one space, controls escaped (it is untrusted), cut at `n`. */
function cut(text: string, n: number): string {
  const flat = safe(text.replace(/\s+/g, ' '));
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

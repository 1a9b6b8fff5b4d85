import type { Command } from 'commander';
import { EXIT } from './exit.js';
import { buildProgram } from './main.js';

/**
 * Exit codes per command, beyond the common ones (2: bad usage or config, 4: destination
 * unreachable or an error stopped the command). A command missing here gets only those.
 */
const EXIT_CODES: Record<string, ReadonlyArray<readonly [number, string]>> = {
  init: [
    [EXIT.ok, 'the config was written (or printed with `--dry-run`)'],
    [EXIT.usage, 'the config file exists (pass `--force`), or no CSV/JSON file with records was found'],
  ],
  run: [
    [EXIT.ok, 'success — rejected rows are reported, not a failure (`--dry-run`: no file would fail)'],
    [
      EXIT.partial,
      'the run finished but some files or models failed; they are retried on the next run (`--dry-run`: a file would fail; `--test`: or a data test failed)',
    ],
    [
      EXIT.usage,
      'bad usage or invalid config, an unknown `--table` or a `--source` matching no source (the closest one is named), or `--full-refresh` not confirmed; nothing was touched',
    ],
    [EXIT.locked, 'another run of the same pipeline holds the lock'],
    [EXIT.failed, 'the run failed (destination unreachable, or an error stopped it)'],
    [EXIT.interrupted, 'interrupted (SIGINT/SIGTERM); the file in progress was rolled back'],
  ],
  rejects: [[EXIT.ok, 'listed or exported (rejected rows are not a failure)']],
  'rejects retry': [
    [EXIT.ok, 'done; some rows may still be rejected (see the report)'],
    [EXIT.partial, "some files' retries failed (e.g. a schema conflict); their rejects are unchanged"],
    [EXIT.locked, 'a run of the pipeline holds the lock'],
    [EXIT.interrupted, 'interrupted; the file in progress was rolled back'],
  ],
  reset: [
    [EXIT.ok, 'the table was reset; the next run reloads it'],
    [
      EXIT.usage,
      'unknown table, not confirmed, or no terminal to ask on and no `--yes`; nothing was changed',
    ],
    [EXIT.locked, 'a run of the pipeline holds the lock'],
  ],
  doctor: [
    [EXIT.ok, 'no check failed (warnings allowed)'],
    [EXIT.partial, 'at least one check failed; each FAIL line says how to fix it'],
  ],
  transform: [
    [EXIT.ok, 'every model that needed it ran (or none needed to)'],
    [EXIT.partial, 'some models failed; the models downstream of them were skipped; retried next time'],
    [
      EXIT.usage,
      'no model of that name, a `--select` that names nothing (the closest name is given), or the models have problems (all listed); nothing was run',
    ],
    [EXIT.locked, 'a run of the pipeline holds the lock'],
    [EXIT.interrupted, 'interrupted between two models'],
  ],
  test: [
    [EXIT.ok, 'every test passed (or was skipped: its table is not loaded, or its model not built, yet)'],
    [EXIT.partial, 'a test failed (its offending rows are sampled) or its query failed'],
    [
      EXIT.usage,
      'the models or tests have problems (all listed), or a `--select` names nothing (with the closest name); no test ran',
    ],
  ],
  models: [
    [
      EXIT.usage,
      'the models have problems (cycles, references to nothing…), all listed; `--sql`: no model of that name (the closest is named)',
    ],
  ],
  status: [
    [EXIT.ok, 'the status was shown; with `--check`: no source is late'],
    [EXIT.usage, 'bad usage or invalid config, or `TRIBUTARY_NOW` is not a date-time'],
    [
      EXIT.late,
      '`--check`: a source with `expect_every` is late — its newest recorded file is older than that, or it has none (the late sources are listed)',
    ],
  ],
  load: [
    [EXIT.ok, 'loaded (rejected rows are reported, not a failure), or nothing new to load'],
    [EXIT.partial, 'some files failed; they are tried again by the next `load` of them'],
    [
      EXIT.usage,
      'bad usage (no `--into`, `--disposition merge` without `--key`, a bad destination URL); nothing was touched',
    ],
    [EXIT.locked, 'another run of the same pipeline holds the lock'],
    [EXIT.interrupted, 'interrupted (SIGINT/SIGTERM); the file in progress was rolled back'],
  ],
  history: [[EXIT.usage, '`--run N`: no such run']],
  schema: [[EXIT.usage, 'no such table']],
  demo: [
    [EXIT.ok, 'the demo loaded'],
    [EXIT.partial, 'some demo files failed'],
  ],
  ui: [
    [EXIT.ok, 'stopped by SIGINT/SIGTERM'],
    [
      EXIT.usage,
      'a --host that is not loopback without --token, a token shorter than 8 characters, the port in use, or an invalid config',
    ],
  ],
  worker: [
    [EXIT.ok, 'stopped by SIGINT/SIGTERM after finishing its files'],
    [
      EXIT.usage,
      'no queue given, a queue URL that is not redis:// or rediss://, a SQLite destination, or an invalid config',
    ],
    [EXIT.failed, 'Redis or the database unreachable at start, or an error stopped it'],
    [
      EXIT.interrupted,
      'stopped by a second SIGINT/SIGTERM; its files in progress rolled back and go to another worker',
    ],
  ],
};

const COMMON: ReadonlyArray<readonly [number, string]> = [
  [EXIT.usage, 'bad usage or invalid config; nothing was touched'],
  [EXIT.failed, 'the destination is unreachable, or an error stopped the command'],
];

/**
 * docs/cli.md, generated from the commander program itself (every command, option and
 * help text as `--help` prints it), so the reference cannot drift from the CLI: a test
 * compares the file with this output (`npm run docs:cli` rewrites it).
 */
export function cliReference(): string {
  let captured = '';
  const io = {
    out: (t: string) => {
      captured += `${t}\n`;
    },
    err: () => {},
    isTTY: false,
  };
  const program = buildProgram(io, { code: 0 });
  const help = (cmd: Command) => {
    captured = '';
    cmd.configureHelp({ showGlobalOptions: true, helpWidth: 100 });
    cmd.outputHelp();
    return captured.trimEnd();
  };
  const out = [
    '# CLI reference',
    '',
    '<!-- Generated from the commander program (src/cli/) by `npm run docs:cli`; do not edit by hand. -->',
    '',
    'Every command takes `-c/--config FILE` (default `./tributary.yaml`; `init` writes it) and',
    '`--help`. `--log-level` (`trace` … `silent`, default `info`) and `--log-format` (`pretty` or',
    '`json`) go before or after any command, or in `TRIBUTARY_LOG_LEVEL` / `TRIBUTARY_LOG_FORMAT`:',
    'logs go to stderr, results to stdout. Passwords and URL credentials are masked in both.',
    '',
    'A usage error — an unknown command or option, a missing or invalid value, an extra',
    'argument — is one line on stderr: what is wrong, the closest command or option when there',
    'is one, and the help to read; the exit code is 2.',
    '',
    '```',
    "tributary: unknown option '--ful-refresh' (did you mean `--full-refresh`?); see `tributary run --help`",
    '```',
    '',
    'An unknown command asked for its help (`tributary wrker --help`) is such an error too. When',
    'stdout is a pipe closed early (`tributary --help | head -3`), the rest of the output is',
    'dropped quietly: the command finishes its work and exits with its own code (a run still',
    'loads everything).',
    '',
    'On a terminal, status words (`succeeded`, `partial`, `failed`, `ok`, `WARN`, `FAIL`), counts',
    'worth a look (failed files, rejected rows) and warnings are coloured, on stdout and stderr',
    'alike; through a pipe or into a file they are not. `NO_COLOR=1` turns colours off, and',
    '`FORCE_COLOR=1` turns them on even through a pipe (`FORCE_COLOR=0`: off; `FORCE_COLOR` wins',
    'over `NO_COLOR`, as in Node). `--json` output never has colours.',
    '',
    '## Commands',
    '',
    '| command | what it does |',
    '|---|---|',
  ];
  const commands = walk(program);
  for (const { path, cmd } of commands) {
    out.push(`| [\`tributary ${path}\`](#${anchor(path)}) | ${cmd.description().replaceAll('|', '\\|')} |`);
  }
  out.push('', '## `tributary`', '', '```', help(program), '```');
  for (const { path, cmd } of commands) {
    out.push('', `## \`tributary ${path}\``, '', '```', help(cmd), '```', '', 'Exit codes:', '');
    out.push('| code | meaning |', '|---|---|');
    const own = EXIT_CODES[path] ?? [];
    const codes = [...own, ...COMMON.filter(([c]) => !own.some(([o]) => o === c))].sort(
      (a, b) => a[0] - b[0],
    );
    for (const [code, meaning] of codes) out.push(`| ${code} | ${meaning} |`);
  }
  return `${out.join('\n')}\n`;
}

/** Every command below the program, depth first, named by its path (`rejects retry`). */
function walk(cmd: Command, prefix = ''): Array<{ path: string; cmd: Command }> {
  const out: Array<{ path: string; cmd: Command }> = [];
  for (const c of cmd.commands) {
    if (c.name() === 'help') continue;
    const path = `${prefix}${c.name()}`;
    out.push({ path, cmd: c }, ...walk(c, `${path} `));
  }
  return out;
}

function anchor(path: string): string {
  return `tributary-${path.replaceAll(' ', '-')}`;
}

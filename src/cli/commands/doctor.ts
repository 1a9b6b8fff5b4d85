import type { Command } from 'commander';
import type { Check } from '../../ops/doctor/index.js';
import { EXIT } from '../exit.js';
import { configOption, type Io, outStyle } from '../io.js';

const MARK: Record<Check['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

export function registerDoctor(program: Command, io: Io, state: { code: number }): void {
  program
    .command('doctor')
    .description(
      'Check the config, the files, the destination (reachable, version, privileges, local_infile), free disk, past runs and table keys; print each problem with its fix.',
    )
    .addOption(configOption())
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Exit code 0 when nothing failed (warnings allowed), 1 when a check failed. The privileges
check creates, alters and drops a scratch table _tributary_doctor_probe; on MySQL the
database is created when missing, as a run would.

Examples:
  tributary doctor
  tributary doctor -c pipelines/shop.yaml --json | jq '.checks[] | select(.status != "ok")'`,
    )
    .action(async (flags: { config: string; json?: boolean }) => {
      const [{ readConfig }, { runDoctor }] = await Promise.all([
        import('../context.js'),
        import('../../ops/doctor/index.js'),
      ]);
      const report = await runDoctor(flags.config, () => readConfig(flags.config), {
        onCheck: (c) => {
          const level = c.status === 'fail' ? 'error' : c.status === 'warn' ? 'warn' : 'debug';
          io.log?.logger[level]({ check: c.name, status: c.status }, `${c.name}: ${c.message}`);
        },
      });
      state.code = report.ok ? EXIT.ok : EXIT.partial;
      if (flags.json) {
        io.out(JSON.stringify(report, null, 2));
        return;
      }
      const st = outStyle(io);
      const width = Math.max(...report.checks.map((c) => c.name.length));
      const lines = [`Tributary doctor: ${report.config}`, ''];
      for (const c of report.checks) {
        const mark = MARK[c.status];
        const painted = c.status === 'skip' ? st.dim(mark) : st.status(mark);
        lines.push(`  ${painted}${' '.repeat(4 - mark.length)}  ${c.name.padEnd(width)}  ${c.message}`);
        if (c.fix) lines.push(`  ${''.padEnd(4)}  ${''.padEnd(width)}  ${st.bold('fix:')} ${c.fix}`);
      }
      const failed = report.checks.filter((c) => c.status === 'fail').length;
      const warned = report.checks.filter((c) => c.status === 'warn').length;
      lines.push(
        '',
        failed === 0 && warned === 0
          ? st.ok('All checks passed.')
          : `${st.count(failed, st.bad)} problem(s), ${st.count(warned, st.warn)} warning(s)${failed > 0 ? ': fix the FAIL lines, then run `tributary doctor` again' : ''}.`,
      );
      io.out(lines.join('\n'));
    });
}

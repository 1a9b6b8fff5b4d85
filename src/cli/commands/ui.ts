import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../ui/defaults.js';
import { EXIT } from '../exit.js';
import { configOption, type Io } from '../io.js';
import { redact, rememberSecret } from '../secrets.js';

interface UiFlags {
  config: string;
  port: number;
  host: string;
  token?: string;
}

function port(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65_535)
    throw new InvalidArgumentError('expected a port from 0 to 65535');
  return n;
}

/** `tributary ui`: the read-only web dashboard (src/ui/), until SIGINT or SIGTERM. */
export function registerUi(program: Command, io: Io, state: { code: number }): void {
  program
    .command('ui')
    .description(
      'Serve a read-only web dashboard of the pipeline: runs, tables and their schema history, rejects, lineage.',
    )
    .addOption(configOption())
    .option('--port <n>', 'port to listen on (0: any free port)', port, DEFAULT_PORT)
    .option(
      '--host <address>',
      'address to bind; anything but a loopback address needs --token',
      DEFAULT_HOST,
    )
    .option(
      '--token <token>',
      'a secret every request must carry (the Authorization: Bearer header, or the cookie that opening a page with ?token= sets); default: $TRIBUTARY_UI_TOKEN',
    )
    .addHelpText(
      'after',
      `
It reads the state tables and the catalog, never writes, never takes the run lock, and works
while a run is in progress. It opens no browser: open the address it prints.

Examples:
  tributary ui -c examples/markets/tributary.yaml
  TRIBUTARY_UI_TOKEN=$(openssl rand -hex 16) tributary ui --host 0.0.0.0 --port 8080`,
    )
    .action(async (flags: UiFlags) => {
      const [{ readConfig }, { startUi }] = await Promise.all([
        import('../context.js'),
        import('../../ui/index.js'),
      ]);
      const config = readConfig(flags.config);
      const token = flags.token ?? (process.env.TRIBUTARY_UI_TOKEN || undefined);
      rememberSecret(token);
      const server = await startUi({
        config,
        host: flags.host,
        port: flags.port,
        ...(token ? { token } : {}),
        redact,
      });
      io.out(`Tributary dashboard of pipeline ${config.pipeline} (read-only): ${server.url}`);
      if (token)
        io.out('Open it once as that address with ?token=<your token>: a cookie keeps it for the session.');
      io.out('Stop it with Ctrl+C.');
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      io.err('tributary: dashboard stopped');
      state.code = EXIT.ok;
    });
}

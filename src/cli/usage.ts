import { Command, type HelpContext } from 'commander';
import { escapeText } from '../config/quote.js';
import { closest } from '../core/suggest.js';

/**
 * The root command. Asked for its own help after a command name it does not know
 * (`tributary wrker --help`, `tributary help wrker`), it reports the unknown command, a usage
 * error, where commander would print the program's help and exit 0: a typo would pass for a
 * command that has no help of its own.
 */
export class Program extends Command {
  override outputHelp(context?: HelpContext): void;
  /** @deprecated commander's own: a callback that changes the help text. */
  override outputHelp(cb: (str: string) => string): void;
  override outputHelp(context?: HelpContext | ((str: string) => string)): void {
    const [first, second] = this.args;
    const name = first === 'help' ? second : first;
    if (name !== undefined && !name.startsWith('-') && !this.commands.some((c) => names(c).includes(name))) {
      this.error(`error: unknown command '${name}'`, { code: 'commander.unknownCommand' });
    }
    super.outputHelp(context as HelpContext);
  }
}

/**
 * Every usage error of the program and its commands as one line: what is wrong, the closest
 * known option or command when there is one, and the help to read — not the whole help,
 * which pushes the one line that matters off the screen (git, cargo and npm say it this way).
 * Call once all commands are registered.
 */
export function oneLineUsageErrors(program: Command): void {
  for (const cmd of [program, ...descendants(program)]) {
    // Our own suggestion below, phrased once for both options and commands.
    cmd.showSuggestionAfterError(false);
    cmd.configureOutput({ outputError: (text, write) => write(usageLine(cmd, text)) });
  }
}

function usageLine(cmd: Command, text: string): string {
  const message = text
    .trim()
    .replace(/^error: /, '')
    .replace(/\.$/, '');
  const guess = suggestion(cmd, message);
  // The arguments are untrusted: no control or bidi character reaches the terminal as itself.
  return `tributary: ${escapeText(message)}${guess ? ` (did you mean \`${guess}\`?)` : ''}; see \`${commandPath(cmd)} --help\`\n`;
}

/** The closest known option or command to the one an error message names. */
function suggestion(cmd: Command, message: string): string | undefined {
  const option = /^unknown option '(.*)'$/.exec(message)?.[1];
  if (option !== undefined) {
    if (!option.startsWith('-') || /^-[^-]$/.test(option)) return undefined; // a short flag: no guess
    const flags = lineage(cmd).flatMap((c) =>
      c
        .createHelp()
        .visibleOptions(c)
        .flatMap((o) => (o.long ? [o.long] : [])),
    );
    // `-full-refresh` (one dash) is `--full-refresh` mistyped too.
    return closest(option.startsWith('--') ? option : `-${option}`, flags);
  }
  const command = /^unknown command '(.*)'$/.exec(message)?.[1];
  if (command !== undefined) return closest(command, subcommandNames(cmd));
  // `tributary rejects retyr`: an excess argument of a command that also has subcommands.
  if (message.startsWith('too many arguments') && cmd.commands.length > 0) {
    const extra = cmd.args[cmd.registeredArguments.length];
    return extra === undefined ? undefined : closest(extra, subcommandNames(cmd));
  }
  return undefined;
}

const names = (c: Command) => [c.name(), ...c.aliases()];

const subcommandNames = (cmd: Command) => cmd.createHelp().visibleCommands(cmd).flatMap(names);

function descendants(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...descendants(c)]);
}

/** The command and its parents, nearest first. */
function lineage(cmd: Command): Command[] {
  const out: Command[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) out.push(c);
  return out;
}

function commandPath(cmd: Command): string {
  return lineage(cmd)
    .reverse()
    .map((c) => c.name())
    .join(' ');
}

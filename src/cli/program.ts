import { Command, CommanderError, Option } from 'commander';
import { checkCommand, CHECK_EXIT } from './commands/check.ts';
import { groupsCommand } from './commands/groups.ts';
import { hostsCommand } from './commands/hosts.ts';
import { maintenanceCommand } from './commands/maintenance.ts';
import { monitoringCommands } from './commands/monitoring.ts';
import { tokensCommand } from './commands/tokens.ts';
import { inventoryCommands } from './commands/inventory.ts';
import { DEFAULT_URL } from './context.ts';
import { CliError, EXIT } from './errors.ts';
import { OUTPUTS } from './output.ts';

const SERVER_HELP = `
Running Vigil (these use the database, not the API; configuration from the environment, see docs/configuration.md):
  vigil start                     all roles: API and scheduler here, the worker in a child process (also: npm start)
  vigil api | scheduler | worker  one role; roles combine: vigil api scheduler
  vigil token create --name N --scope S   bootstrap token straight into the database (= vigil tokens create --database)
  vigil rekey                     re-seal every stored secret under VIGIL_SECRET_KEY (old key in VIGIL_SECRET_KEY_PREVIOUS)
Every role applies the pending database migrations when it starts (one at a time, under a lock).

Exit codes: 0 done, 1 Vigil refused or failed the request (or was unreachable), 2 bad flags, arguments or file.
vigil check: 0 HEALTHY, 1 DEGRADED, 2 CRITICAL or DOWN, 3 unknown or error.`;

export function buildProgram(): Command {
  const program = new Command('vigil')
    .description('Command line for Vigil: talks to a running Vigil over its HTTP API')
    .addOption(new Option('--url <url>', 'Vigil API base URL').env('VIGIL_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'API token (prefer the env variable: flags show in ps)').env('VIGIL_TOKEN'))
    .addOption(new Option('-o, --output <format>', 'table for people, json for scripts').choices(OUTPUTS).default('table'))
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', SERVER_HELP);
  const commands = [hostsCommand(), ...monitoringCommands(), groupsCommand(), tokensCommand(), maintenanceCommand(), checkCommand(), ...inventoryCommands()];
  for (const cmd of commands) program.addCommand(cmd);
  // Every (sub)command reports usage errors as exceptions: we choose the exit code.
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the command line; returns the exit code. */
export async function runCli(args: string[]): Promise<number> {
  const program = buildProgram();
  try {
    process.exitCode = EXIT.ok;
    await program.parseAsync(args, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    const isCheck = args.includes('check') && args.indexOf('check') === args.findIndex((a) => !a.startsWith('-') && !isFlagValue(args, a));
    if (err instanceof CommanderError) {
      // help and --version end "with an error" of code 0
      if (err.exitCode === 0) return EXIT.ok;
      return isCheck ? CHECK_EXIT.UNKNOWN : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`vigil: ${err.message}\n`);
      return isCheck ? CHECK_EXIT.UNKNOWN : err.exitCode;
    }
    process.stderr.write(`vigil: ${err instanceof Error ? err.message : String(err)}\n`);
    return isCheck ? CHECK_EXIT.UNKNOWN : EXIT.failure;
  }
}

/** True when `a` is the value of a global flag (`--url X`), not a command name. */
function isFlagValue(args: string[], a: string): boolean {
  const i = args.indexOf(a);
  return i > 0 && ['--url', '--token', '-o', '--output'].includes(args[i - 1]!);
}

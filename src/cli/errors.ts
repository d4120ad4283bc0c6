/**
 * Exit codes of the `vigil` command line (documented in docs/cli.md). `vigil check` has its own,
 * the Nagios plugin convention: see check-command.ts.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Vigil refused or failed the request, or could not be reached. */
  failure: 1,
  /** Bad flags, arguments or input file: nothing was sent. */
  usage: 2,
} as const;

/** An expected failure: main prints the message (no stack) and exits with the code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

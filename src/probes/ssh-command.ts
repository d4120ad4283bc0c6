import type { Client, ClientChannel } from 'ssh2';
import { describeError } from './errors.ts';

/** Most stdout kept from a command, in bytes; the rest is read and dropped so the channel never stalls. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

/** How a remote command ended. */
export interface CommandOutcome {
  /** Exit status, or null when the command died of a signal or the server sent no status. */
  exitCode: number | null;
  /** Signal name (e.g. 'SIGKILL') when the command was killed by one. */
  exitSignal: string | null;
  /** Stdout, at most MAX_OUTPUT_BYTES. */
  output: Buffer;
}

/** The server would not run the command (channel or exec request refused). */
export interface CommandRefused {
  refused: string;
}

/** Runs `command` on an authenticated connection and waits for its channel to close. */
export function runRemoteCommand(client: Client, command: string): Promise<CommandOutcome | CommandRefused> {
  return new Promise((resolve) => {
    const refuse = (err: unknown) => resolve({ refused: `server would not run the command: ${describeError(err)}` });
    try {
      client.exec(command, (err, channel) => (err ? refuse(err) : collectOutcome(channel, resolve)));
    } catch (err) {
      // ssh2 throws 'Not connected' when the socket closed between login and now.
      refuse(err);
    }
  });
}

function collectOutcome(channel: ClientChannel, resolve: (outcome: CommandOutcome) => void): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let exitCode: number | null = null;
  let exitSignal: string | null = null;
  channel.on('data', (chunk: Buffer) => {
    if (kept >= MAX_OUTPUT_BYTES) return;
    const slice = chunk.subarray(0, MAX_OUTPUT_BYTES - kept);
    chunks.push(slice);
    kept += slice.length;
  });
  // Unread stderr would fill the channel window and stall the command.
  channel.stderr.resume();
  channel.on('exit', (code: number | null, signal?: string) => {
    exitCode = code;
    exitSignal = signal ?? null;
  });
  channel.once('close', () => resolve({ exitCode, exitSignal, output: Buffer.concat(chunks) }));
}

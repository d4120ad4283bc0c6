/**
 * Reads a host's SSH items in one session: each distinct command runs once, in order, and every
 * item reading it parses its output. The server, port, credential and pinned host key are those of
 * the host's ssh probe.
 */
import { openSshConnection } from '../probes/ssh-connection.ts';
import { runRemoteCommand } from '../probes/ssh-command.ts';
import { resolveSshAuth } from '../probes/ssh.ts';
import type { ResolvedCredential } from '../probes/types.ts';
import type { AssignedItem, Sample, SshItem } from './items.ts';
import { parseOutput } from './parse-output.ts';
import type { CollectOutcome } from './snmp-collect.ts';

export interface SshServerSettings {
  port: number;
  credentialId: string;
  /** The probe's pinned key, else the one trusted on first use; null when none yet. */
  hostKeySha256: string | null;
}

export async function collectSshItems(
  address: string,
  server: SshServerSettings,
  credential: ResolvedCredential | undefined,
  items: AssignedItem[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<CollectOutcome> {
  const auth = resolveSshAuth(credential);
  if (typeof auth === 'string') return { samples: [], errors: [auth] };
  // Never log in to a server whose key no check has vouched for: the probe trusts on first use.
  if (server.hostKeySha256 === null) return { samples: [], errors: ['SSH items wait for the ssh probe to record the host key first'] };
  const connection = openSshConnection({ host: address, port: server.port, auth, expectedHostKeySha256: server.hostKeySha256, timeoutMs, signal });
  const outcome: CollectOutcome = { samples: [], errors: [] };
  // Messages come from servers and ssh2: never let a password or key reach history or logs.
  const redact = redactor([auth.password, auth.passphrase, auth.privateKey]);
  const scrubbed = (o: CollectOutcome): CollectOutcome => ({ ...o, errors: o.errors.map(redact) });
  try {
    const failure = await connection.ready;
    if (failure) return scrubbed({ samples: [], errors: [`SSH values: ${failure.message}`] });
    for (const [command, readers] of byCommand(items)) {
      const ran = await Promise.race([runRemoteCommand(connection.client, command), connection.lost]);
      if ('errorType' in ran || 'refused' in ran) {
        outcome.errors.push(`${command}: ${'refused' in ran ? ran.refused : ran.message}`);
        if ('errorType' in ran) break;
        continue;
      }
      if (ran.exitCode !== 0) {
        outcome.errors.push(`${command}: exited with status ${ran.exitCode ?? ran.exitSignal}`);
        continue;
      }
      // Redacted before parsing: a parse error quotes the output (JSON-escaped, clipped), and a key_value row is labelled by it.
      const text = redact(ran.output.toString('utf8'));
      for (const assigned of readers) readItem(assigned, text, outcome);
    }
    return scrubbed(outcome);
  } finally {
    connection.close();
  }
}

function readItem(assigned: AssignedItem, text: string, outcome: CollectOutcome): void {
  const item = assigned.item as SshItem;
  const parsed = parseOutput(text, item.parser);
  if (typeof parsed === 'string') return void outcome.errors.push(`${item.name}: ${parsed}`);
  for (const { row, value } of parsed) {
    const sample: Sample = { template: assigned.template, item: item.name, unit: item.unit, kind: item.kind, row, value: value * item.scale };
    outcome.samples.push(sample);
  }
}

/** Replaces each secret (4 characters or more), as written and JSON-escaped, with [redacted]. */
function redactor(candidates: (string | undefined)[]): (text: string) => string {
  const forms = candidates.filter((s): s is string => s !== undefined && s.length >= 4).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  const secrets = [...new Set(forms)].sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text);
}

function byCommand(items: AssignedItem[]): Map<string, AssignedItem[]> {
  const commands = new Map<string, AssignedItem[]>();
  for (const assigned of items) {
    const { command } = assigned.item as SshItem;
    commands.set(command, [...(commands.get(command) ?? []), assigned]);
  }
  return commands;
}

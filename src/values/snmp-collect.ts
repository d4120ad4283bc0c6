/**
 * Reads a host's SNMP items: one GET for every scalar OID, one GETBULK walk per table item (its
 * column beside its label column). The agent, version, port and credential are those of the
 * host's first snmp or snmp-table probe, so a host's SNMP settings live in one place.
 */
import { isVarbindError, Version } from 'net-snmp';
import type { Session, SessionOptions, Varbind } from 'net-snmp';
import { closeQuietly, openSession, resolveAuth, resolveTarget, secretsOf } from '../probes/snmp.ts';
import { toSnmpValue } from '../probes/snmp-values.ts';
import { walkTable } from '../probes/snmp-walk.ts';
import type { ResolvedCredential } from '../probes/types.ts';
import { coerceError } from '../lib/errors.ts';
import type { AssignedItem, Sample, SnmpItem } from './items.ts';
import { toNumber } from './samples.ts';

/** The agent to read: taken from the host's SNMP probe. */
export interface SnmpAgentSettings {
  version: '1' | '2c' | '3';
  port: number;
  credentialId: string;
}

export interface CollectOutcome {
  samples: Sample[];
  /** Items that could not be read, each with why (never a secret). */
  errors: string[];
}

const MAX_REPETITIONS = 20;

/** Reads every SNMP item within `signal`; a dead or odd agent gives errors, never a throw. */
export async function collectSnmpItems(
  address: string,
  agent: SnmpAgentSettings,
  credential: ResolvedCredential | undefined,
  items: AssignedItem[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<CollectOutcome> {
  const auth = resolveAuth(agent.version, credential);
  if (typeof auth === 'string') return { samples: [], errors: [auth] };
  let session: Session | undefined;
  // Closing the session on abort frees the socket; the race makes sure this function returns even
  // if net-snmp never calls back for the requests the close cut short.
  let onAbort: () => void = () => {};
  const aborted = new Promise<CollectOutcome>((resolve) => {
    onAbort = () => {
      closeQuietly(session);
      resolve({ samples: [], errors: [`SNMP values not read within ${timeoutMs} ms`] });
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const read = async (): Promise<CollectOutcome> => {
      const { ip, transport } = await resolveTarget(address);
      const options: SessionOptions = { port: agent.port, retries: 0, timeout: Math.max(1, timeoutMs), transport, version: Version[agent.version] };
      session = openSession(ip, options, auth);
      session.on('error', () => closeQuietly(session));
      const outcome: CollectOutcome = { samples: [], errors: [] };
      const scalars = items.filter((a) => (a.item as SnmpItem).oid !== undefined);
      if (scalars.length > 0) await readScalars(session, scalars, outcome);
      for (const assigned of items.filter((a) => (a.item as SnmpItem).column !== undefined)) {
        if (signal.aborted) break;
        await readColumn(session, agent, assigned, outcome);
      }
      return outcome;
    };
    return scrubbed(await Promise.race([read(), aborted]), secretsOf(credential));
  } catch (err) {
    return scrubbed({ samples: [], errors: [`SNMP values: ${describe(err)}`] }, secretsOf(credential));
  } finally {
    signal.removeEventListener('abort', onAbort);
    closeQuietly(session);
  }
}

async function readScalars(session: Session, scalars: AssignedItem[], outcome: CollectOutcome): Promise<void> {
  const oids = scalars.map((a) => (a.item as SnmpItem).oid!);
  let varbinds: Varbind[];
  try {
    varbinds = await new Promise<Varbind[]>((resolve, reject) => session.get(oids, (err, vbs) => (err ? reject(err) : resolve(vbs ?? []))));
  } catch (err) {
    outcome.errors.push(`SNMP GET of ${oids.length} item(s): ${describe(err)}`);
    return;
  }
  scalars.forEach((assigned, i) => {
    const varbind = varbinds[i];
    const item = assigned.item as SnmpItem;
    if (!varbind || isVarbindError(varbind)) return void outcome.errors.push(`${item.name}: agent has no value for ${item.oid}`);
    const value = toNumber(toSnmpValue(varbind).value);
    if (value === null) return void outcome.errors.push(`${item.name}: ${item.oid} is not a number`);
    outcome.samples.push(sampleOf(assigned, null, value));
  });
}

async function readColumn(session: Session, agent: SnmpAgentSettings, assigned: AssignedItem, outcome: CollectOutcome): Promise<void> {
  const item = assigned.item as SnmpItem;
  const columns = item.label_column ? [item.column!, item.label_column] : [item.column!];
  try {
    const walk = await walkTable(session, { columns, maxRows: item.max_rows, maxRepetitions: MAX_REPETITIONS, version: agent.version });
    if (walk.truncated) outcome.errors.push(`${item.name}: table has more than ${item.max_rows} rows; the first ${item.max_rows} were read`);
    for (const [index, row] of walk.rows) {
      const value = toNumber(row[0]?.value);
      if (value === null) continue;
      const label = item.label_column ? row[1]?.value : undefined;
      outcome.samples.push(sampleOf(assigned, label === undefined || label === null || label === '' ? index : String(label), value));
    }
  } catch (err) {
    outcome.errors.push(`${item.name}: walking ${item.column}: ${describe(err)}`);
  }
}

function sampleOf(assigned: AssignedItem, row: string | null, raw: number): Sample {
  const { item } = assigned;
  return { template: assigned.template, item: item.name, unit: item.unit, kind: item.kind, row, value: raw * item.scale };
}

function describe(err: unknown): string {
  const error = coerceError(err);
  return error.name === 'RequestTimedOutError' ? 'no answer from the agent' : error.message;
}

/**
 * net-snmp quotes communities in some messages, and an agent may serve one as a row label (as
 * snmpCommunityTable does): never let one reach history, the host's latest values, the TSDB's
 * labels or logs.
 */
function scrubbed(outcome: CollectOutcome, secrets: string[]): CollectOutcome {
  const live = secrets.filter(Boolean);
  const scrub = (text: string) => live.reduce((t, s) => t.split(s).join('***'), text);
  return { ...outcome, samples: outcome.samples.map((s) => (s.row === null ? s : { ...s, row: scrub(s.row) })), errors: outcome.errors.map(scrub) };
}

/** sysObjectID.0: the vendor and model an agent says it is. */
export const SYS_OBJECT_ID_OID = '1.3.6.1.2.1.1.2.0';

/** Reads the agent's sysObjectID, or why it could not (never a secret). */
export async function readSysObjectId(address: string, agent: SnmpAgentSettings, credential: ResolvedCredential | undefined, timeoutMs: number): Promise<{ oid: string } | { error: string }> {
  const auth = resolveAuth(agent.version, credential);
  if (typeof auth === 'string') return { error: auth };
  let session: Session | undefined;
  try {
    const { ip, transport } = await resolveTarget(address);
    session = openSession(ip, { port: agent.port, retries: 0, timeout: Math.max(1, timeoutMs), transport, version: Version[agent.version] }, auth);
    session.on('error', () => closeQuietly(session));
    const varbinds = await new Promise<Varbind[]>((resolve, reject) => session!.get([SYS_OBJECT_ID_OID], (err, vbs) => (err ? reject(err) : resolve(vbs ?? []))));
    const value = varbinds[0] && !isVarbindError(varbinds[0]) ? toSnmpValue(varbinds[0]).value : null;
    return typeof value === 'string' && /^[0-2](\.\d+)+$/.test(value) ? { oid: value } : { error: 'agent has no sysObjectID' };
  } catch (err) {
    return { error: scrubbed({ samples: [], errors: [`reading sysObjectID: ${describe(err)}`] }, secretsOf(credential)).errors[0]! };
  } finally {
    closeQuietly(session);
  }
}

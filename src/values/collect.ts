/**
 * Collects a host's items after its probes, within what is left of the check's time, and folds
 * them into the check result: samples (with counter rates) for the time-series database, the
 * latest values for the host, and a `threshold` failure when a value breaches its threshold.
 */
import { probeConfigSchema, type ProbeConfig } from '../probes/index.ts';
import type { ProbeResult, ResolvedCredential } from '../probes/types.ts';
import { CredentialUnavailableError } from '../probes/types.ts';
import { coerceError } from '../lib/errors.ts';
import type { AssignedItem, Sample } from './items.ts';
import { breachMessage, findBreaches, thresholdsOf, withRates, type LatestValues } from './samples.ts';
import { collectSnmpItems, type CollectOutcome, type SnmpAgentSettings } from './snmp-collect.ts';
import { collectSshItems } from './ssh-collect.ts';
import { collectHttpItems } from './http-collect.ts';
import { observedHostKey } from '../machine/check-outcome.ts';

/** Most samples a history row keeps (a 1000-port switch would otherwise put 1000 in every row). */
const HISTORY_SAMPLES = 100;
/** Most samples one check keeps (latest values, remote write). */
export const MAX_SAMPLES_PER_CHECK = 10_000;

export interface ValuesInput {
  address: string;
  /** The host's probe configs as stored (the SNMP items use the first SNMP probe's agent settings). */
  probes: unknown[];
  items: AssignedItem[];
  previous: LatestValues | null;
  /** The SSH host key trusted on first use (hosts.ssh_host_key_sha256), before this check. */
  sshHostKeySha256: string | null;
  resolveCredential?: (id: string) => Promise<ResolvedCredential | undefined>;
  timeoutMs: number;
  now: () => Date;
}

export interface CollectedValues {
  samples: Sample[];
  latest: LatestValues;
  /** The check result with the values' summary in detail.values, failed when a threshold is breached. */
  result: ProbeResult;
}

/** Collects every item and judges thresholds; never throws for what a target does. */
export async function collectValues(input: ValuesInput, result: ProbeResult): Promise<CollectedValues> {
  const errors: string[] = [];
  const raw: Sample[] = [];
  const snmpItems = input.items.filter((a) => a.item.source === 'snmp');
  if (snmpItems.length > 0) {
    const agent = snmpAgentOf(input.probes);
    if (!agent) errors.push('SNMP items need an snmp or snmp-table probe on the host (its version, port and credential are used)');
    else {
      const outcome = await readSnmp(input, agent, snmpItems);
      raw.push(...outcome.samples);
      errors.push(...outcome.errors);
    }
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), input.timeoutMs);
  try {
    for (const outcome of await Promise.all([readSsh(input, result, controller.signal), readHttp(input, result, controller.signal)])) {
      raw.push(...outcome.samples);
      errors.push(...outcome.errors);
    }
  } finally {
    clearTimeout(timer);
  }
  // A template of many big tables would otherwise put an unbounded row on the host and in the buffer.
  if (raw.length > MAX_SAMPLES_PER_CHECK) {
    errors.push(`${raw.length} samples read; only the first ${MAX_SAMPLES_PER_CHECK} are kept`);
    raw.length = MAX_SAMPLES_PER_CHECK;
  }
  const now = input.now();
  const samples = withRates(raw, input.previous, now);
  const breaches = findBreaches(samples, thresholdsOf(input.items));
  // History keeps the values too (without a TSDB they are the only record), bounded per check.
  const detail = { ...result.detail, values: { samples_total: samples.length, samples: samples.slice(0, HISTORY_SAMPLES), errors, breaches } };
  const judged: ProbeResult =
    result.success && breaches.length > 0
      ? { ...result, success: false, errorType: 'threshold', errorMessage: breachMessage(breaches), detail }
      : { ...result, detail };
  return { samples, latest: { collected_at: now.toISOString(), samples }, result: judged };
}

/** The first snmp or snmp-table probe's agent settings (composite members included). */
export function snmpAgentOf(stored: unknown[]): SnmpAgentSettings | null {
  for (const raw of stored) {
    const parsed = probeConfigSchema.safeParse(raw);
    if (!parsed.success) continue;
    const found = agentIn(parsed.data);
    if (found) return found;
  }
  return null;
}

function agentIn(probe: ProbeConfig): SnmpAgentSettings | null {
  if (probe.type === 'snmp' || probe.type === 'snmp-table') return { version: probe.version, port: probe.port, credentialId: probe.credential_id };
  if (probe.type !== 'composite') return null;
  for (const member of probe.probes as ProbeConfig[]) {
    const found = agentIn(member);
    if (found) return found;
  }
  return null;
}

/** The first probe of `type` (composite members included). */
function firstProbe<T extends ProbeConfig['type']>(stored: unknown[], type: T): Extract<ProbeConfig, { type: T }> | null {
  const visit = (probe: ProbeConfig): ProbeConfig | null => {
    if (probe.type === type) return probe;
    if (probe.type === 'composite') for (const m of probe.probes as ProbeConfig[]) if (visit(m)) return visit(m);
    return null;
  };
  for (const raw of stored) {
    const parsed = probeConfigSchema.safeParse(raw);
    const found = parsed.success ? visit(parsed.data) : null;
    if (found) return found as Extract<ProbeConfig, { type: T }>;
  }
  return null;
}

async function credentialFor(input: ValuesInput, id: string): Promise<ResolvedCredential | undefined | { error: string }> {
  try {
    return await input.resolveCredential?.(id);
  } catch (err) {
    return { error: err instanceof CredentialUnavailableError ? err.message : `credential could not be looked up: ${coerceError(err).message}` };
  }
}

async function readSsh(input: ValuesInput, result: ProbeResult, signal: AbortSignal): Promise<CollectOutcome> {
  const items = input.items.filter((a) => a.item.source === 'ssh');
  if (items.length === 0) return { samples: [], errors: [] };
  const probe = firstProbe(input.probes, 'ssh');
  if (!probe) return { samples: [], errors: ['SSH items need an ssh probe on the host (its port and credential are used)'] };
  const credential = await credentialFor(input, probe.credential_id);
  if (credential && 'error' in credential) return { samples: [], errors: [credential.error] };
  const hostKeySha256 = probe.host_key_sha256 ?? input.sshHostKeySha256 ?? observedHostKey(result);
  return collectSshItems(input.address, { port: probe.port, credentialId: probe.credential_id, hostKeySha256 }, credential, items, signal, input.timeoutMs);
}

async function readHttp(input: ValuesInput, result: ProbeResult, signal: AbortSignal): Promise<CollectOutcome> {
  const items = input.items.filter((a) => a.item.source === 'http');
  if (items.length === 0) return { samples: [], errors: [] };
  return collectHttpItems(result, firstProbe(input.probes, 'http')?.url ?? null, items, signal);
}

async function readSnmp(input: ValuesInput, agent: SnmpAgentSettings, items: AssignedItem[]): Promise<{ samples: Sample[]; errors: string[] }> {
  let credential: ResolvedCredential | undefined;
  try {
    credential = await input.resolveCredential?.(agent.credentialId);
  } catch (err) {
    const why = err instanceof CredentialUnavailableError ? err.message : `credential could not be looked up: ${coerceError(err).message}`;
    return { samples: [], errors: [why] };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), input.timeoutMs);
  try {
    return await collectSnmpItems(input.address, agent, credential, items, controller.signal, input.timeoutMs);
  } finally {
    clearTimeout(timer);
  }
}

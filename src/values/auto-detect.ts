/**
 * Vendor auto-detect (seed 001): a host that asked for it has its templates chosen by its SNMP
 * sysObjectID at the first check that reaches its agent. The assignment and the end of the wait
 * commit together, in the one transaction this file opens.
 */
import type { Pool } from '../db/pool.ts';
import { completeAutoDetect, templatesFittingSysObjectId } from '../db/queries/value-templates.ts';
import { withTransaction } from '../db/transaction.ts';
import { coerceError } from '../lib/errors.ts';
import type { ResolvedCredential } from '../probes/types.ts';
import { CredentialUnavailableError } from '../probes/types.ts';
import { snmpAgentOf } from './collect.ts';
import { readSysObjectId } from './snmp-collect.ts';

export interface AutoDetectOutcome {
  /** Templates assigned now (their items are collected in this same check). */
  templates: { name: string; items: unknown[] }[];
  /** What happened, for the check's detail.values.auto_detect. */
  detail: { sys_object_id?: string; templates?: string[]; error?: string };
}

export async function autoDetectTemplates(
  pool: Pool,
  host: { id: string; address: string; probes: unknown[] },
  resolveCredential: ((id: string) => Promise<ResolvedCredential | undefined>) | undefined,
  timeoutMs: number,
): Promise<AutoDetectOutcome> {
  const agent = snmpAgentOf(host.probes);
  if (!agent) return { templates: [], detail: { error: 'auto-detect needs an snmp or snmp-table probe on the host' } };
  let credential: ResolvedCredential | undefined;
  try {
    credential = await resolveCredential?.(agent.credentialId);
  } catch (err) {
    return { templates: [], detail: { error: err instanceof CredentialUnavailableError ? err.message : `credential could not be looked up: ${coerceError(err).message}` } };
  }
  const read = await readSysObjectId(host.address, agent, credential, timeoutMs);
  // Not reached yet: the host keeps waiting and the next check tries again.
  if ('error' in read) return { templates: [], detail: { error: read.error } };
  const fitting = await templatesFittingSysObjectId(pool, read.oid);
  // Reached: the wait ends even when no template fits (the answer will not change by asking again).
  await withTransaction(pool, (tx) => completeAutoDetect(tx, host.id, fitting.map((t) => t.id)));
  return { templates: fitting.map((t) => ({ name: t.name, items: t.items })), detail: { sys_object_id: read.oid, templates: fitting.map((t) => t.name) } };
}

import type { Config } from '../config/config.ts';
import { applyPolicySchedules, lockHostsForReschedule, type HostToReschedule, type PolicySchedule, type RescheduleScope } from '../db/queries/policies.ts';
import type { Pool, Queryable } from '../db/pool.ts';
import { withTransaction } from '../db/transaction.ts';
import { badRequest, type FieldError } from '../lib/errors.ts';
import { firstCheckDelayMs, nextCheckDelayMs } from '../machine/schedule.ts';
import { effectivePolicyOf, type PolicySource } from './resolve.ts';
import type { FieldPath } from './fields.ts';
import { validatePolicyValues } from './validate.ts';

/**
 * A host's priority and schedule under its effective policy: the interval of its current state
 * (with its usual per-host jitter) and its offset in the first-check spread. Pure.
 */
export function policySchedule(config: Config, host: HostToReschedule): PolicySchedule {
  const { policy } = effectivePolicyOf(config, host);
  return {
    id: host.id,
    priority: policy.states[host.monitoring_state].priority,
    intervalMs: nextCheckDelayMs(host.id, host.monitoring_state, config, policy),
    spreadMs: firstCheckDelayMs(host.id, config),
  };
}

/**
 * The problems of hosts whose effective policy a change would make invalid (e.g. a host's own
 * timeout override no longer shorter than its policy's new, shorter interval), naming the host.
 */
export function hostPolicyProblems(config: Config, hosts: HostToReschedule[], fieldOf: FieldNamer = hostField, limit = 20): FieldError[] {
  const errors: FieldError[] = [];
  for (const host of hosts) {
    const { values, sources } = effectivePolicyOf(config, host);
    // Every level but the fleet defaults is the caller's to fix.
    const problems = validatePolicyValues(values, limitsOf(config), '', (path) => sources[path].level !== 'defaults');
    errors.push(...problems.map((e) => ({ ...e, field: fieldOf(host, e.field as FieldPath, sources[e.field as FieldPath]) })));
    if (errors.length >= limit) break;
  }
  return errors.slice(0, limit);
}

/** Names an invalid effective field of a host in an error. */
export type FieldNamer = (host: HostToReschedule, path: FieldPath, source: PolicySource) => string;
/** `hosts.<name>.<path>`: for changes that touch many hosts (a policy, a group). */
export const hostField: FieldNamer = (host, path) => `hosts.${host.name}.${path}`;
/** For one host's own request: its override, else the policy the value came from. */
export const requestField: FieldNamer = (_host, path, source) =>
  source.level === 'host' ? `body.policy_overrides.${path}` : source.level === 'host_policy' ? `body.policy_id (policy ${source.policy}: ${path})` : `body.group (policy ${'policy' in source ? source.policy : ''}: ${path})`;

export const limitsOf = (config: Config) => ({ minIntervalSeconds: config.policies.minIntervalSeconds, maxCheckTimeoutMs: config.worker.checkTimeoutMs });

/**
 * After a policy, an assignment or an override changed (in the caller's transaction, before it
 * commits): locks the hosts it touches, refuses the change if any host's effective policy became
 * invalid, and writes each host's new priority and next check time. Returns how many hosts.
 */
export async function rescheduleHosts(tx: Queryable, config: Config, scope: RescheduleScope, opts: { validate?: boolean; fieldOf?: FieldNamer } = {}): Promise<number> {
  const hosts = await lockHostsForReschedule(tx, scope);
  const problems = opts.validate === false ? [] : hostPolicyProblems(config, hosts, opts.fieldOf);
  if (problems.length > 0) throw badRequest('the change would give hosts an invalid effective policy', problems);
  await applyPolicySchedules(tx, hosts.map((h) => policySchedule(config, h)));
  return hosts.length;
}

/**
 * Reschedules hosts just written by a unit of work that committed already (the bulk host import,
 * whose fields were validated one by one before): its own transaction, no validation to refuse.
 */
export async function rescheduleHostsNow(pool: Pool, config: Config, hostIds: string[]): Promise<number> {
  if (hostIds.length === 0) return 0;
  return withTransaction(pool, (tx) => rescheduleHosts(tx, config, { hostIds }, { validate: false }));
}

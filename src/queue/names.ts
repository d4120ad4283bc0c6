import type { Config } from '../config/config.ts';
import type { CheckedBy } from '../machine/check-outcome.ts';
import type { HostState } from '../machine/states.ts';

/** pg-boss queues Vigil uses. */
export const QUEUES = {
  /** One job = one check of one host: HEALTHY and DEGRADED hosts, and every JIT check. */
  checks: 'vigil-checks',
  /**
   * Checks of CRITICAL and DOWN hosts, which tend to run into timeouts: their own lane with its
   * own worker slots, so a mass outage cannot delay everyone else's checks (Zabbix keeps separate
   * pollers for unreachable hosts for the same reason).
   */
  failingChecks: 'vigil-checks-failing',
  /** Retention on a cron (history partitions: created ahead, dropped past the retention). */
  retention: 'vigil-retention',
  /**
   * Check jobs pg-boss gave up on (retries exhausted, worker gone): pg-boss moves them here, and
   * the worker role clears their host's lease and reschedules it (src/queue/check-not-run.ts).
   */
  checksNotRun: 'vigil-checks-not-run',
  /** One job = one webhook delivery (all its attempts); its own worker slots, apart from checks. */
  webhooks: 'vigil-webhooks',
  /** One job = one notification (all its attempts); its own worker slots, one per channel at a time. */
  notifications: 'vigil-notifications',
} as const;

export const CHECK_QUEUES = [QUEUES.checks, QUEUES.failingChecks] as const;

/** One host a check job checks, with the time it was due (scheduled checks). */
export interface JobHost {
  host_id: string;
  /** ISO time the host was due; the schedule lag is measured from it. */
  due_at?: string;
}

/**
 * Payload of a check job. A JIT job (and a scheduled job queued before jobs carried several
 * hosts) names one host in `host_id`; a scheduled job lists its hosts in `hosts`, earliest due
 * first, and `due_at` is the earliest (what the queue's oldest-due gauge reads).
 */
export interface CheckJobData {
  host_id?: string;
  checked_by: CheckedBy;
  due_at?: string;
  hosts?: JobHost[];
}

/** The hosts a check job checks, whichever shape its payload has. */
export function hostsOfJob(data: CheckJobData): JobHost[] {
  if (data.hosts) return data.hosts;
  return data.host_id === undefined ? [] : [{ host_id: data.host_id, ...(data.due_at ? { due_at: data.due_at } : {}) }];
}

/** Payload of a webhook delivery job: the row in webhook_deliveries it sends. */
export interface WebhookJobData {
  delivery_id: string;
}

/** Payload of a notification job: the row in notification_deliveries it sends. */
export interface NotificationJobData {
  delivery_id: string;
}

/** The queue the retention job ran on before it was named for what it does; unscheduled at start. */
export const RETIRED_RETENTION_QUEUE = 'vigil-maintenance';

export const PGBOSS_SCHEMA = 'pgboss';

/** The queue a scheduled check of a host in `state` goes to. */
export function queueForState(state: HostState, config: Config): string {
  return config.worker.failingShare > 0 && (state === 'CRITICAL' || state === 'DOWN') ? QUEUES.failingChecks : QUEUES.checks;
}

/**
 * pg-boss limits a group's concurrent jobs by the job's tier, looked up in a map sent with every
 * fetch. Keeping the map small, limits above 64 are rounded down to the nearest of a few steps
 * (never up, so a group never gets more than it asked for).
 */
const TIER_STEPS = [...Array.from({ length: 64 }, (_, i) => i + 1), 80, 100, 128, 160, 200, 256, 320, 400, 512, 640, 800, 1000];
export const GROUP_TIERS: Record<string, number> = Object.fromEntries(TIER_STEPS.map((n) => [String(n), n]));

export function groupTier(limit: number): string {
  return String(TIER_STEPS.filter((n) => n <= limit).pop() ?? 1);
}

/** The pg-boss `group` option of a check job for a host in `group` with that limit. */
export function jobGroup(group: string | null, limit: number): { group?: { id: string; tier: string } } {
  return group === null ? {} : { group: { id: group, tier: groupTier(limit) } };
}

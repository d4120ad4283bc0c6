import type { CheckedBy, CheckOutcome } from '../../machine/check-outcome.ts';
import type { Queryable } from '../pool.ts';
import type { HostRow } from './hosts.ts';
import type { HostPolicyFacts } from '../../policies/resolve.ts';
import { POLICY_COLUMNS, POLICY_JOINS } from './policies.ts';

/** Channel on which a committed check result is announced, payload = job id. */
export const CHECK_DONE_CHANNEL = 'vigil_check_done';

/** Channel that wakes workers when checks were queued; payload = the queue's name, then ' jit' for a JIT check. */
export const CHECKS_QUEUED_CHANNEL = 'vigil_checks_queued';

/** The host row as the record transaction locks it, with its group's maintenance flag and what its effective policy is made of. */
export interface LockedHost extends HostRow, HostPolicyFacts {
  group_maintenance: boolean;
}

/**
 * Locks the hosts of a batch of checks for the caller's transaction, in id order, so concurrent
 * batches cannot deadlock. A deleted host is simply absent from the map. NO KEY UPDATE, the lock
 * the batch's UPDATE takes anyway: it lets foreign-key checks through (a JIT request's mark, a
 * history row of another batch), which FOR UPDATE would make wait for the whole batch.
 */
export async function lockHostsForRecord(tx: Queryable, hostIds: string[]): Promise<Map<string, LockedHost>> {
  const { rows } = await tx.query<LockedHost>(
    `SELECT h.*, COALESCE(g.maintenance, false) AS group_maintenance, ${POLICY_COLUMNS}
       FROM hosts h LEFT JOIN host_groups g ON g.name = h."group" ${POLICY_JOINS}
      WHERE h.id = ANY($1::uuid[]) ORDER BY h.id FOR NO KEY UPDATE OF h`,
    [hostIds],
  );
  return new Map(rows.map((h) => [h.id, h]));
}

/** A check's outcome, for the host it belongs to and the job that ran it. */
export type CheckWrite = CheckOutcome & { hostId: string; jobId: string; checkedBy: CheckedBy };

/**
 * Writes each check's outcome to its host row in one statement: the machine, the counters, the
 * last result, and the next check time — computed from the transaction's now(), the database's
 * clock, which every process shares. The job's lease (or JIT mark) is released.
 */
export async function updateCheckedHosts(tx: Queryable, writes: CheckWrite[]): Promise<void> {
  const records = writes.map((o) => ({
    id: o.hostId, machine_snapshot: o.machineSnapshot, state: o.state, failures: o.consecutiveFailures, successes: o.consecutiveSuccesses,
    priority: o.priority, next_delay_ms: o.nextCheckDelayMs, changed: o.changed, check_time: o.checkTime.toISOString(),
    success: o.success, response_time_ms: o.responseTimeMs, error_type: o.errorType, error_message: o.errorMessage, job_id: o.jobId,
    ssh_host_key_sha256: o.sshHostKeySha256, flap_changes: o.flap.changes, flap_percent: o.flap.percent, flapping: o.flap.flapping,
  }));
  await tx.query(
    `UPDATE hosts h SET
        machine_snapshot = r.machine_snapshot, monitoring_state = r.state, consecutive_failures = r.failures,
        consecutive_successes = r.successes, check_priority = r.priority,
        next_check_time = CASE WHEN r.next_delay_ms IS NULL THEN h.next_check_time ELSE now() + r.next_delay_ms * interval '1 millisecond' END,
        last_state_change = CASE WHEN r.changed THEN r.check_time ELSE h.last_state_change END,
        last_check = r.check_time, last_success = r.success, last_response_time_ms = r.response_time_ms,
        last_error_type = r.error_type, last_error_message = r.error_message,
        lease_job_id = CASE WHEN h.lease_job_id = r.job_id THEN NULL ELSE h.lease_job_id END,
        ssh_host_key_sha256 = COALESCE(h.ssh_host_key_sha256, r.ssh_host_key_sha256),
        flap_changes = r.flap_changes, flap_percent = r.flap_percent, flapping = r.flapping,
        state_version = h.state_version + 1, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, machine_snapshot jsonb, state text, failures int, successes int, priority int,
            next_delay_ms double precision, changed boolean, check_time timestamptz, success boolean, response_time_ms double precision,
            error_type text, error_message text, job_id uuid, ssh_host_key_sha256 text,
            flap_changes text, flap_percent double precision, flapping boolean)
      WHERE h.id = r.id`,
    [JSON.stringify(records)],
  );
}

/** Inserts the checks' history rows (one per host); returns each row's id by host id. */
export async function insertCheckHistory(tx: Queryable, writes: CheckWrite[]): Promise<Map<string, string>> {
  const records = writes.map((o) => ({
    host_id: o.hostId, check_time: o.checkTime.toISOString(), monitoring_state: o.state, previous_state: o.previousState,
    response_time_ms: o.responseTimeMs, success: o.success, error_message: o.errorMessage, error_type: o.errorType,
    checked_by: o.checkedBy, job_id: o.jobId, detail: o.detail, schedule_lag_ms: o.scheduleLagMs, probe_type: o.probeType,
    in_maintenance: o.inMaintenance,
  }));
  const { rows } = await tx.query<{ id: string; host_id: string }>(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success,
                                          error_message, error_type, checked_by, job_id, detail, schedule_lag_ms, probe_type, in_maintenance)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(host_id uuid, check_time timestamptz, monitoring_state text, previous_state text,
            response_time_ms double precision, success boolean, error_message text, error_type text, checked_by text, job_id uuid,
            detail jsonb, schedule_lag_ms double precision, probe_type text, in_maintenance boolean)
     RETURNING id, host_id`,
    [JSON.stringify(records)],
  );
  return new Map(rows.map((r) => [r.host_id, r.id]));
}

/**
 * Of these attempts of check jobs, the ids of those still running at that attempt: what a result
 * is fenced to when its job carries other hosts and is not completed yet. pg-boss moves a job
 * whose worker stopped beating back to retry (a new attempt), so a stale worker's result is
 * dropped; the host's row lock, taken first, orders it against the retry's own record. The ids
 * are named in the WHERE clause too, so the lookup is by pg-boss's primary key (name, id): joined
 * only, it read every job of the queue (2.4 ms a batch in the bench; 0.3 ms by key).
 */
export async function heldJobAttempts(tx: Queryable, queue: string, attempts: { id: string; retryCount: number }[]): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT j.id FROM pgboss.job j JOIN unnest($2::uuid[], $3::int[]) AS a(id, retry_count) ON a.id = j.id AND a.retry_count = j.retry_count
      WHERE j.name = $1 AND j.id = ANY ($2::uuid[]) AND j.state = 'active'`,
    [queue, attempts.map((a) => a.id), attempts.map((a) => a.retryCount)],
  );
  return rows.map((r) => r.id);
}

/** Wakes the API requests waiting for these jobs' results (wait=true) when the transaction commits. */
export async function notifyChecksDone(tx: Queryable, jobIds: string[]): Promise<void> {
  if (jobIds.length > 0) await tx.query(`SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id`, [CHECK_DONE_CHANNEL, jobIds]);
}

/** Wakes the workers of `queue` when the caller's transaction commits; a JIT check is fetched even by a busy worker. */
export async function announceQueuedChecks(tx: Queryable, queue: string, kind: 'scheduled' | 'jit' = 'scheduled'): Promise<void> {
  await tx.query(`SELECT pg_notify($1, $2)`, [CHECKS_QUEUED_CHANNEL, kind === 'jit' ? `${queue} jit` : queue]);
}

/**
 * Releases the lease (or JIT mark) a job held on its host after pg-boss gave up on the job, and
 * schedules the host's next check `delayMs` from now (database time). Returns the host's name,
 * group and state, or undefined when the host is gone or the job held nothing any more.
 */
export async function releaseAbandonedCheck(
  tx: Queryable,
  hostId: string,
  jobId: string,
  delayMs: number,
): Promise<{ name: string; group: string | null; state: HostRow['monitoring_state'] } | undefined> {
  const { rows } = await tx.query<{ name: string; group: string | null; state: HostRow['monitoring_state'] }>(
    `WITH jit AS (DELETE FROM host_jit_checks WHERE host_id = $1 AND job_id = $2 RETURNING host_id)
     UPDATE hosts SET
        next_check_time = CASE WHEN lease_job_id = $2 THEN now() + $3 * interval '1 millisecond' ELSE next_check_time END,
        lease_job_id = CASE WHEN lease_job_id = $2 THEN NULL ELSE lease_job_id END,
        updated_at = now(), state_version = state_version + 1
      WHERE id = $1 AND (lease_job_id = $2 OR EXISTS (SELECT 1 FROM jit))
      RETURNING name, "group", monitoring_state AS state`,
    [hostId, jobId, delayMs],
  );
  return rows[0];
}

import type { HostState } from '../../config/config.ts';
import type { Client, Pool } from '../pool.ts';
import { withTransaction } from '../transaction.ts';
import type { HostRow } from './hosts.ts';

/** Channel on which a committed check result is announced, payload = job id. */
export const CHECK_DONE_CHANNEL = 'vigil_check_done';

export type CheckedBy = 'scheduler' | 'jit';

/** What the worker decided from the locked host row and the probe result. */
export interface CheckOutcome {
  machineSnapshot: unknown;
  state: HostState;
  previousState: HostState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  changed: boolean;
  priority: number;
  /** Next scheduled check; null leaves next_check_time alone (a scheduled check is still pending). */
  nextCheckTime: Date | null;
  checkTime: Date;
  success: boolean;
  responseTimeMs: number;
  errorType: string | null;
  errorMessage: string | null;
  detail: Record<string, unknown>;
  /** SSH host key to record when none is recorded yet (trust on first use); null for none. */
  sshHostKeySha256: string | null;
  scheduleLagMs: number | null;
  /** The host's probe types joined with '+', e.g. 'tcp+ssh'. */
  probeType: string;
  inMaintenance: boolean;
}

/** The host row as the check transaction locks it, with its group's maintenance flag. */
export interface LockedHost extends HostRow {
  group_maintenance: boolean;
}

export type RecordResult =
  | { recorded: true; historyId: string; outcome: CheckOutcome }
  | { recorded: false; reason: 'host_deleted' | 'stale_lease' };

/**
 * Applies one check in one transaction: lock the host row, let `decide` compute the outcome from
 * the row as it is now (not as it was when the probe started), update the host, insert the history
 * row and announce the job's completion. A scheduled check whose lease was taken over by a newer
 * job is dropped, so every due time is checked once.
 */
export async function recordCheck(
  pool: Pool,
  job: { hostId: string; jobId: string; checkedBy: CheckedBy },
  decide: (host: LockedHost) => CheckOutcome,
  /** Runs last in the same transaction (events, incidents). */
  effects?: (tx: Client, host: LockedHost, outcome: CheckOutcome, historyId: string) => Promise<void>,
): Promise<RecordResult> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<LockedHost>(
      `SELECT h.*, COALESCE(g.maintenance, false) AS group_maintenance
         FROM hosts h LEFT JOIN host_groups g ON g.name = h."group"
        WHERE h.id = $1 FOR UPDATE OF h`,
      [job.hostId],
    );
    const host = rows[0];
    if (!host) return { recorded: false, reason: 'host_deleted' } as const;
    if (job.checkedBy === 'scheduler' && host.lease_job_id !== job.jobId) return { recorded: false, reason: 'stale_lease' } as const;
    const o = decide(host);
    await client.query(
      `UPDATE hosts SET
          machine_snapshot = $2, monitoring_state = $3, consecutive_failures = $4, consecutive_successes = $5,
          check_priority = $6, next_check_time = COALESCE($7, next_check_time),
          last_state_change = CASE WHEN $8 THEN $9 ELSE last_state_change END,
          last_check = $9, last_success = $10, last_response_time_ms = $11, last_error_type = $12, last_error_message = $13,
          lease_job_id = CASE WHEN lease_job_id = $14 THEN NULL ELSE lease_job_id END,
          jit_job_id = CASE WHEN jit_job_id = $14 THEN NULL ELSE jit_job_id END,
          ssh_host_key_sha256 = COALESCE(ssh_host_key_sha256, $15),
          state_version = state_version + 1, updated_at = now()
        WHERE id = $1`,
      [host.id, o.machineSnapshot, o.state, o.consecutiveFailures, o.consecutiveSuccesses, o.priority, o.nextCheckTime,
        o.changed, o.checkTime, o.success, o.responseTimeMs, o.errorType, o.errorMessage, job.jobId, o.sshHostKeySha256],
    );
    const history = await client.query<{ id: string }>(
      `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms,
                                            success, error_message, error_type, checked_by, job_id, detail,
                                            schedule_lag_ms, probe_type, in_maintenance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
      [host.id, o.checkTime, o.state, o.previousState, o.responseTimeMs, o.success, o.errorMessage, o.errorType,
        job.checkedBy, job.jobId, o.detail, o.scheduleLagMs, o.probeType, o.inMaintenance],
    );
    await client.query(`SELECT pg_notify($1, $2)`, [CHECK_DONE_CHANNEL, job.jobId]);
    await effects?.(client, host, o, history.rows[0]!.id);
    return { recorded: true, historyId: history.rows[0]!.id, outcome: o } as const;
  });
}

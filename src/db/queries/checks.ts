import type { HostState } from '../../config/config.ts';
import type { Client, Pool, Queryable } from '../pool.ts';
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
  /** claim_lost: the job is no longer this worker's (pg-boss retried it elsewhere after missed heartbeats). */
  | { recorded: false; reason: 'host_deleted' | 'stale_lease' | 'claim_lost' };

/** One finished check to record; `job` carries whatever the caller needs back (queue, attempt). */
export interface CheckToRecord {
  hostId: string;
  jobId: string;
  checkedBy: CheckedBy;
}

/** A check that was recorded in this batch, for the effects hook. */
export interface RecordedCheck<C extends CheckToRecord = CheckToRecord> {
  check: C;
  host: LockedHost;
  outcome: CheckOutcome;
  historyId: string;
}

export interface RecordHooks<C extends CheckToRecord> {
  /** Computes a check's outcome from the host row as it is now, locked (not as it was when the probe started). */
  decide: (host: LockedHost, check: C) => CheckOutcome;
  /** Runs in the same transaction once the hosts and history are written (events, incidents). */
  effects?: (tx: Client, recorded: RecordedCheck<C>[]) => Promise<void>;
  /**
   * Settles the checks' jobs in the same transaction, before anything is written, and returns the
   * job ids it settled: a job it could not settle is no longer this worker's, and its check is
   * dropped, so a result and its job's completion commit together or not at all.
   */
  settle: (tx: Client, checks: C[]) => Promise<Set<string>>;
}

/**
 * Records a batch of finished checks in one transaction: lock the hosts (in id order, so
 * concurrent batches cannot deadlock), decide each outcome, update the hosts and insert the
 * history rows with one statement each, announce JIT results to their waiters, then the effects.
 * The jobs are settled first in the same transaction (see `settle`). A scheduled check whose lease was taken over by a newer job is dropped,
 * so every due time is checked once. Each host may appear at most once per batch.
 */
export async function recordChecks<C extends CheckToRecord>(pool: Pool, checks: C[], hooks: RecordHooks<C>): Promise<RecordResult[]> {
  if (new Set(checks.map((c) => c.hostId)).size !== checks.length) throw new Error('recordChecks: a host appears twice in one batch');
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<LockedHost>(
      `SELECT h.*, COALESCE(g.maintenance, false) AS group_maintenance
         FROM hosts h LEFT JOIN host_groups g ON g.name = h."group"
        WHERE h.id = ANY($1::uuid[]) ORDER BY h.id FOR UPDATE OF h`,
      [checks.map((c) => c.hostId)],
    );
    const hosts = new Map(rows.map((h) => [h.id, h]));
    const settled = await hooks.settle(client, checks);
    const results: RecordResult[] = [];
    const toWrite: { check: C; host: LockedHost; outcome: CheckOutcome; index: number }[] = [];
    checks.forEach((check, index) => {
      const host = hosts.get(check.hostId);
      if (!settled.has(check.jobId)) results[index] = { recorded: false, reason: 'claim_lost' };
      else if (!host) results[index] = { recorded: false, reason: 'host_deleted' };
      else if (check.checkedBy === 'scheduler' && host.lease_job_id !== check.jobId) results[index] = { recorded: false, reason: 'stale_lease' };
      else toWrite.push({ check, host, outcome: hooks.decide(host, check), index });
    });
    const recorded: RecordedCheck<C>[] = [];
    if (toWrite.length > 0) {
      await updateHosts(client, toWrite.map((w) => ({ ...w.outcome, hostId: w.host.id, jobId: w.check.jobId })));
      const ids = await insertHistory(client, toWrite.map((w) => ({ ...w.outcome, hostId: w.host.id, jobId: w.check.jobId, checkedBy: w.check.checkedBy })));
      for (const w of toWrite) {
        const historyId = ids.get(w.check.jobId)!;
        results[w.index] = { recorded: true, historyId, outcome: w.outcome };
        recorded.push({ check: w.check, host: w.host, outcome: w.outcome, historyId });
      }
      // Only JIT callers wait for a result (the API's wait=true); scheduled checks need no announcement.
      const jit = toWrite.filter((w) => w.check.checkedBy === 'jit').map((w) => w.check.jobId);
      if (jit.length > 0) await client.query(`SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id`, [CHECK_DONE_CHANNEL, jit]);
      await hooks.effects?.(client, recorded);
    }
    return results;
  });
}

type HostWrite = CheckOutcome & { hostId: string; jobId: string };

async function updateHosts(client: Client, writes: HostWrite[]): Promise<void> {
  const records = writes.map((o) => ({
    id: o.hostId, machine_snapshot: o.machineSnapshot, state: o.state, failures: o.consecutiveFailures, successes: o.consecutiveSuccesses,
    priority: o.priority, next_check_time: o.nextCheckTime?.toISOString() ?? null, changed: o.changed, check_time: o.checkTime.toISOString(),
    success: o.success, response_time_ms: o.responseTimeMs, error_type: o.errorType, error_message: o.errorMessage, job_id: o.jobId,
    ssh_host_key_sha256: o.sshHostKeySha256,
  }));
  await client.query(
    `UPDATE hosts h SET
        machine_snapshot = r.machine_snapshot, monitoring_state = r.state, consecutive_failures = r.failures,
        consecutive_successes = r.successes, check_priority = r.priority, next_check_time = COALESCE(r.next_check_time, h.next_check_time),
        last_state_change = CASE WHEN r.changed THEN r.check_time ELSE h.last_state_change END,
        last_check = r.check_time, last_success = r.success, last_response_time_ms = r.response_time_ms,
        last_error_type = r.error_type, last_error_message = r.error_message,
        lease_job_id = CASE WHEN h.lease_job_id = r.job_id THEN NULL ELSE h.lease_job_id END,
        jit_job_id = CASE WHEN h.jit_job_id = r.job_id THEN NULL ELSE h.jit_job_id END,
        ssh_host_key_sha256 = COALESCE(h.ssh_host_key_sha256, r.ssh_host_key_sha256),
        state_version = h.state_version + 1, updated_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, machine_snapshot jsonb, state text, failures int, successes int, priority int,
            next_check_time timestamptz, changed boolean, check_time timestamptz, success boolean, response_time_ms double precision,
            error_type text, error_message text, job_id uuid, ssh_host_key_sha256 text)
      WHERE h.id = r.id`,
    [JSON.stringify(records)],
  );
}

/** Inserts the history rows; returns each row's id by job id. */
async function insertHistory(client: Client, writes: (HostWrite & { checkedBy: CheckedBy })[]): Promise<Map<string, string>> {
  const records = writes.map((o) => ({
    host_id: o.hostId, check_time: o.checkTime.toISOString(), monitoring_state: o.state, previous_state: o.previousState,
    response_time_ms: o.responseTimeMs, success: o.success, error_message: o.errorMessage, error_type: o.errorType,
    checked_by: o.checkedBy, job_id: o.jobId, detail: o.detail, schedule_lag_ms: o.scheduleLagMs, probe_type: o.probeType,
    in_maintenance: o.inMaintenance,
  }));
  const { rows } = await client.query<{ id: string; job_id: string }>(
    `INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms, success,
                                          error_message, error_type, checked_by, job_id, detail, schedule_lag_ms, probe_type, in_maintenance)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(host_id uuid, check_time timestamptz, monitoring_state text, previous_state text,
            response_time_ms double precision, success boolean, error_message text, error_type text, checked_by text, job_id uuid,
            detail jsonb, schedule_lag_ms double precision, probe_type text, in_maintenance boolean)
     RETURNING id, job_id`,
    [JSON.stringify(records)],
  );
  return new Map(rows.map((r) => [r.job_id, r.id]));
}

/** Channel that wakes workers when checks were queued; payload = the queue's name, then ' jit' for a JIT check. */
export const CHECKS_QUEUED_CHANNEL = 'vigil_checks_queued';

/** Wakes the workers of `queue` when the caller's transaction commits; a JIT check is fetched even by a busy worker. */
export async function announceQueuedChecks(tx: Queryable, queue: string, kind: 'scheduled' | 'jit' = 'scheduled'): Promise<void> {
  await tx.query(`SELECT pg_notify($1, $2)`, [CHECKS_QUEUED_CHANNEL, kind === 'jit' ? `${queue} jit` : queue]);
}

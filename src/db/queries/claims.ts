import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

/** A host the producer has claimed for one scheduled check. */
export interface ClaimedHost {
  host_id: string;
  /** The job id the host's lease is held by; a new job must be created with exactly this id. */
  job_id: string;
  /**
   * True when the host's earlier job is still queued or running: the lease was extended and that
   * job still counts as the host's check, so no new job is created.
   */
  renewed: boolean;
  priority: number;
  state: HostState;
  /** When the host was due: the check's schedule lag is measured from here. */
  due_at: Date;
  group: string | null;
  /** Concurrent checks allowed in the host's group (the group's setting or the default). */
  group_limit: number;
}

export interface ClaimOptions {
  batchSize: number;
  leaseSeconds: number;
  groupDefaultLimit: number;
  /** The pg-boss queues a host's check job may be on (its lanes). */
  checkQueues: readonly string[];
}

/**
 * Claims up to `batchSize` due hosts for the caller's transaction (which must create the new jobs
 * before it commits, so a crash keeps both the leases and the jobs or neither). Each claimed host's
 * next_check_time moves forward by the lease, so no other producer claims it again; the worker
 * that records the check sets the real next time.
 *
 * A host whose lease ran out while its job is still queued or running keeps that job: the lease is
 * only extended (renewed). Superseding it instead would starve the host whenever the queue's wait
 * outgrows the lease — every job dropped as stale before it runs — exactly when a mass outage
 * fills the failing lane. The job's state is read from pg-boss's table by its primary key
 * (name, id), one probe per host that holds a lease.
 *
 * New job ids grow with time (migration 0100), so pg-boss, which ranks a group's candidates by id,
 * hands a group's slot to the job that has waited longest.
 *
 * SKIP LOCKED lets racing producers take disjoint sets instead of waiting on each other. Hosts in
 * maintenance (their own, their group's, or a scheduled window's) are not claimed; the partial
 * index hosts_due_idx leaves out the first and the last. Policies change nothing here: the next
 * check time and priority are stored on the row (a policy change writes them).
 * EXPLAIN ANALYZE at 100,000 hosts (5,000 in windows, 4,312 due, batch 500): Bitmap Index Scan on
 * hosts_due_idx (next_check_time <= now()) -> Hash Anti Join host_groups -> top-N Sort -> LockRows,
 * then the update by hosts_pkey; 147 ms on a shared 2-core machine. The bench's scale pass prints
 * the same plan at each size (bench/scale-pass.ts captures this statement).
 */
export async function claimDueHosts(tx: Queryable, opts: ClaimOptions): Promise<ClaimedHost[]> {
  const { rows } = await tx.query<ClaimedHost>(
    `WITH due AS (
       SELECT h.id, h.next_check_time,
              h.lease_job_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM pgboss.job j
                 WHERE j.name = ANY ($4::text[]) AND j.id = h.lease_job_id AND j.state IN ('created', 'retry', 'active')
              ) AS renewed
         FROM hosts h
        WHERE h.enabled AND NOT h.maintenance AND h.maintenance_window_id IS NULL AND h.next_check_time <= now()
          AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.name = h."group" AND g.maintenance)
        ORDER BY h.check_priority DESC, h.next_check_time
        LIMIT $1
        FOR UPDATE OF h SKIP LOCKED
     )
     UPDATE hosts h
        SET next_check_time = now() + make_interval(secs => $2),
            lease_job_id = CASE WHEN due.renewed THEN h.lease_job_id ELSE vigil_time_ordered_uuid() END
       FROM due
      WHERE h.id = due.id
     RETURNING h.id AS host_id, h.lease_job_id AS job_id, due.renewed, h.check_priority AS priority, h.monitoring_state AS state,
               due.next_check_time AS due_at, h."group",
               COALESCE((SELECT g.max_concurrent_checks FROM host_groups g WHERE g.name = h."group"), $3) AS group_limit`,
    [opts.batchSize, opts.leaseSeconds, opts.groupDefaultLimit, opts.checkQueues],
  );
  return rows;
}

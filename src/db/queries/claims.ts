import type { HostState } from '../../machine/states.ts';
import type { Queryable } from '../pool.ts';

/** A due host the producer has locked for one scheduled check (before its lease is written). */
export interface DueHost {
  host_id: string;
  /**
   * True when the host's earlier job is still queued or running: the lease is only extended and
   * that job still counts as the host's check, so no new job is created.
   */
  renewed: boolean;
  /** The job id of the lease a renewed host keeps. */
  lease_job_id: string | null;
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
  groupDefaultLimit: number;
  /** The pg-boss queues a host's check job may be on (its lanes). */
  checkQueues: readonly string[];
}

/**
 * Locks up to `batchSize` due hosts for the caller's transaction, which then writes their leases
 * (leaseDueHosts) and creates their jobs before it commits, so a crash keeps the leases and the
 * jobs or neither.
 *
 * A host whose lease ran out while its job is still queued or running keeps that job: the lease is
 * only extended (renewed). Superseding it instead would starve the host whenever the queue's wait
 * outgrows the lease — every job dropped as stale before it runs — exactly when a mass outage
 * fills the failing lane. The job's state is read from pg-boss's table by its primary key
 * (name, id), one probe per host that holds a lease.
 *
 * SKIP LOCKED lets racing producers take disjoint sets instead of waiting on each other. Hosts in
 * maintenance (their own, their group's, or a scheduled window's) are not claimed; the partial
 * index hosts_due_idx leaves out the first and the last. Policies change nothing here: the next
 * check time and priority are stored on the row (a policy change writes them).
 * EXPLAIN ANALYZE at 100,000 hosts (5,000 in windows, 4,312 due, batch 500): Bitmap Index Scan on
 * hosts_due_idx (next_check_time <= now()) -> Hash Anti Join host_groups -> top-N Sort -> LockRows;
 * 147 ms on a shared 2-core machine. The bench's scale pass prints the same plan at each size
 * (bench/scale-pass.ts captures this statement).
 */
export async function lockDueHosts(tx: Queryable, opts: ClaimOptions): Promise<DueHost[]> {
  const { rows } = await tx.query<DueHost>(
    `SELECT h.id AS host_id, h.lease_job_id, h.check_priority AS priority, h.monitoring_state AS state,
            h.next_check_time AS due_at, h."group",
            COALESCE((SELECT g.max_concurrent_checks FROM host_groups g WHERE g.name = h."group"), $2) AS group_limit,
            h.lease_job_id IS NOT NULL AND EXISTS (
              SELECT 1 FROM pgboss.job j
               WHERE j.name = ANY ($3::text[]) AND j.id = h.lease_job_id AND j.state IN ('created', 'retry', 'active')
            ) AS renewed
       FROM hosts h
      WHERE h.enabled AND NOT h.maintenance AND h.maintenance_window_id IS NULL AND h.next_check_time <= now()
        AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.name = h."group" AND g.maintenance)
      ORDER BY h.check_priority DESC, h.next_check_time
      LIMIT $1
      FOR NO KEY UPDATE OF h SKIP LOCKED`,
    [opts.batchSize, opts.groupDefaultLimit, opts.checkQueues],
  );
  return rows;
}

/** A locked due host's lease: `job` is the index of the new job that will check it, null for a renewed lease. */
export interface LeaseRequest {
  hostId: string;
  job: number | null;
}

/**
 * Writes the leases of hosts locked by lockDueHosts in the same transaction: each host's
 * next_check_time moves forward by the lease, so no producer claims it again (the worker that
 * records the check sets the real next time), and each new job gets its id, which every host
 * it carries is leased to. Renewed hosts keep their job. Returns the new jobs' ids by index.
 *
 * Job ids grow with time (migration 0100), so pg-boss, which ranks a group's candidates by id,
 * hands a group's slot to the job that has waited longest.
 */
export async function leaseDueHosts(tx: Queryable, leases: LeaseRequest[], jobCount: number, leaseSeconds: number): Promise<string[]> {
  if (leases.length === 0) return [];
  const { rows } = await tx.query<{ n: number; id: string }>(
    `WITH jobs AS MATERIALIZED (SELECT n, vigil_time_ordered_uuid() AS id FROM generate_series(0, $3::int - 1) AS n),
     leased AS (
       UPDATE hosts h
          SET next_check_time = now() + make_interval(secs => $4), lease_job_id = COALESCE(jobs.id, h.lease_job_id)
         FROM unnest($1::uuid[], $2::int[]) AS c(id, job) LEFT JOIN jobs ON jobs.n = c.job
        WHERE h.id = c.id
     )
     SELECT n, id FROM jobs ORDER BY n`,
    [leases.map((l) => l.hostId), leases.map((l) => l.job), jobCount, leaseSeconds],
  );
  return rows.map((r) => r.id);
}

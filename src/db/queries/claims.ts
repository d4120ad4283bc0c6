import type { HostState } from '../../config/config.ts';
import type { Client, Pool } from '../pool.ts';
import { withTransaction } from '../transaction.ts';

/** A host the producer has claimed for one scheduled check. */
export interface ClaimedHost {
  host_id: string;
  /** The job id the host's lease is held by; the job must be created with exactly this id. */
  job_id: string;
  priority: number;
  state: HostState;
  /** When the host was due: the check's schedule lag is measured from here. */
  due_at: Date;
  group: string | null;
  /** Concurrent checks allowed in the host's group (the group's setting or the default). */
  group_limit: number;
}

/**
 * Claims up to `batchSize` due hosts and lets `enqueue` create their jobs in the same transaction,
 * so a crash either keeps both the leases and the jobs or neither. Each claimed host's
 * next_check_time moves forward by the lease, so no other producer claims it again; the worker
 * that finishes the check sets the real next time. SKIP LOCKED lets racing producers take
 * disjoint sets instead of waiting on each other. Hosts in maintenance (their own or their
 * group's) are not claimed.
 */
export async function claimDueHosts(
  pool: Pool,
  opts: { batchSize: number; leaseSeconds: number; groupDefaultLimit: number },
  enqueue: (client: Client, hosts: ClaimedHost[]) => Promise<void>,
): Promise<ClaimedHost[]> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ClaimedHost>(
      `WITH due AS (
         SELECT h.id, h.next_check_time FROM hosts h
          WHERE h.enabled AND NOT h.maintenance AND h.next_check_time <= now()
            AND NOT EXISTS (SELECT 1 FROM host_groups g WHERE g.name = h."group" AND g.maintenance)
          ORDER BY h.check_priority DESC, h.next_check_time
          LIMIT $1
          FOR UPDATE OF h SKIP LOCKED
       )
       UPDATE hosts h
          SET next_check_time = now() + make_interval(secs => $2), lease_job_id = gen_random_uuid()
         FROM due
        WHERE h.id = due.id
       RETURNING h.id AS host_id, h.lease_job_id AS job_id, h.check_priority AS priority, h.monitoring_state AS state,
                 due.next_check_time AS due_at, h."group",
                 COALESCE((SELECT g.max_concurrent_checks FROM host_groups g WHERE g.name = h."group"), $3) AS group_limit`,
      [opts.batchSize, opts.leaseSeconds, opts.groupDefaultLimit],
    );
    if (rows.length > 0) await enqueue(client, rows);
    return rows;
  });
}

import type { Client, Pool } from '../pool.ts';
import { withTransaction } from '../transaction.ts';

/** A host the producer has claimed for one scheduled check. */
export interface ClaimedHost {
  host_id: string;
  /** The job id the host's lease is held by; the job must be created with exactly this id. */
  job_id: string;
  priority: number;
  /** When the host was due: the check's schedule lag is measured from here. */
  due_at: Date;
  group: string | null;
}

/**
 * Claims up to `batchSize` due hosts and lets `enqueue` create their jobs in the same transaction,
 * so a crash either keeps both the leases and the jobs or neither. Each claimed host's
 * next_check_time moves forward by the lease, so no other producer claims it again; the worker
 * that finishes the check sets the real next time. SKIP LOCKED lets racing producers take
 * disjoint sets instead of waiting on each other.
 */
export async function claimDueHosts(
  pool: Pool,
  opts: { batchSize: number; leaseSeconds: number },
  enqueue: (client: Client, hosts: ClaimedHost[]) => Promise<void>,
): Promise<ClaimedHost[]> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<ClaimedHost>(
      `WITH due AS (
         SELECT id, next_check_time FROM hosts
          WHERE enabled AND next_check_time <= now()
          ORDER BY check_priority DESC, next_check_time
          LIMIT $1
          FOR UPDATE SKIP LOCKED
       )
       UPDATE hosts h
          SET next_check_time = now() + make_interval(secs => $2), lease_job_id = gen_random_uuid()
         FROM due
        WHERE h.id = due.id
       RETURNING h.id AS host_id, h.lease_job_id AS job_id, h.check_priority AS priority,
                 due.next_check_time AS due_at, h."group"`,
      [opts.batchSize, opts.leaseSeconds],
    );
    if (rows.length > 0) await enqueue(client, rows);
    return rows;
  });
}

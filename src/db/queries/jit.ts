import type { Queryable } from '../pool.ts';
import type { HostRow } from './hosts.ts';

/** The advisory lock class of JIT requests (with the host id's hash): "vjit". */
const JIT_LOCK_CLASS = 0x76_6a_69_74;

/**
 * A host as a JIT request sees it, with the job of its pending JIT check (if it has one), and an id
 * for a new job should it need one (ids grow with time, so a group's oldest job is fetched first:
 * migration 0100).
 */
export type JitHost = HostRow & { jit_job_id: string | null; new_job_id: string };

/**
 * Makes JIT requests for one host take turns, for the caller's transaction, then reads the host and
 * its JIT mark; undefined for an unknown host. The turn is an advisory lock, not the host's row
 * lock: a request never waits for a worker recording a batch that holds the host. (Two hosts whose
 * ids hash alike only share turns.) The read is a statement after the lock, so it sees what the
 * request before it committed.
 */
export async function lockHostForJit(tx: Queryable, hostId: string): Promise<JitHost | undefined> {
  await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [JIT_LOCK_CLASS, hostId]);
  const { rows } = await tx.query<JitHost>(
    `SELECT h.*, j.job_id AS jit_job_id, vigil_time_ordered_uuid() AS new_job_id
       FROM hosts h LEFT JOIN host_jit_checks j ON j.host_id = h.id WHERE h.id = $1`,
    [hostId],
  );
  return rows[0];
}

/** Names the job of the host's one outstanding JIT check. */
export async function setJitJob(tx: Queryable, hostId: string, jobId: string): Promise<void> {
  await tx.query(
    `INSERT INTO host_jit_checks (host_id, job_id) VALUES ($1, $2) ON CONFLICT (host_id) DO UPDATE SET job_id = EXCLUDED.job_id`,
    [hostId, jobId],
  );
}

/** Clears the JIT marks these jobs held (a mark a newer JIT request replaced stays). */
export async function clearJitJobs(tx: Queryable, marks: { hostId: string; jobId: string }[]): Promise<void> {
  if (marks.length === 0) return;
  await tx.query(
    `DELETE FROM host_jit_checks j USING unnest($1::uuid[], $2::uuid[]) AS m(host_id, job_id)
      WHERE j.host_id = m.host_id AND j.job_id = m.job_id`,
    [marks.map((m) => m.hostId), marks.map((m) => m.jobId)],
  );
}
